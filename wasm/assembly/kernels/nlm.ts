// The approximate non-local mean feature (see lib/features/plan.ts).

// exp(x) for x <= 0, f32x4 (Cephes polynomial, relative error ~2e-7)
// @ts-ignore: decorator
@inline
function expNeg4(x: v128): v128 {
  x = f32x4.max(x, f32x4.splat(-87.0));
  const n = f32x4.nearest(f32x4.mul(x, f32x4.splat(1.4426950408889634)));
  let r = f32x4.sub(x, f32x4.mul(n, f32x4.splat(0.693359375)));
  r = f32x4.add(r, f32x4.mul(n, f32x4.splat(2.12194440e-4)));
  let p = f32x4.splat(1.9875691500e-4);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201e-1));
  p = f32x4.add(f32x4.mul(f32x4.mul(p, r), r), f32x4.add(r, f32x4.splat(1.0)));
  const e = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  return f32x4.mul(p, e);
}

/**
 * Approximate non-local mean (see lib/features/plan.ts): P has shape (pZ, pY, pX) with the inner
 * box at offset (mz, my, mx); V (inner shape) is the bandwidth V + eps; `offs` holds nOff
 * (dz, dy, dx) i32 triples in voxels and `logw` the log spatial weights (f32).
 * Output column f of the voxel-major output.
 */
export function nlm(
  P: usize, pY: i32, pX: i32, mz: i32, my: i32, mx: i32,
  V: usize, iz: i32, iy: i32, ix: i32,
  offs: usize, logw: usize, nOff: i32,
  tmpW: usize, tmpS: usize,
  out: usize, nF: i32, f: i32, bias: f32,
): void {
  const step: usize = <usize>nF << 2;
  let o: usize = out + (<usize>f << 2);
  for (let z = 0; z < iz; z++) {
    for (let y = 0; y < iy; y++) {
      const crow: usize = P + ((<usize>((z + mz) * pY + y + my) * <usize>pX + <usize>mx) << 2);
      const vrow: usize = V + ((<usize>(z * iy + y) * <usize>ix) << 2);
      // accumulate weights and sums for this row in tmpW / tmpS
      for (let x = 0; x < ix; x++) {
        store<f32>(tmpW + (<usize>x << 2), 0);
        store<f32>(tmpS + (<usize>x << 2), 0);
      }
      for (let k = 0; k < nOff; k++) {
        const dz = load<i32>(offs + (<usize>(3 * k) << 2));
        const dy = load<i32>(offs + (<usize>(3 * k + 1) << 2));
        const dx = load<i32>(offs + (<usize>(3 * k + 2) << 2));
        const lw = f32x4.splat(load<f32>(logw + (<usize>k << 2)));
        const qrow: usize = crow + ((<usize>(dz * pY * pX + dy * pX + dx)) << 2);
        let x = 0;
        for (; x + 4 <= ix; x += 4) {
          const xo: usize = <usize>x << 2;
          const pc = v128.load(crow + xo);
          const pq = v128.load(qrow + xo);
          const d = f32x4.sub(pq, pc);
          const arg = f32x4.sub(lw, f32x4.div(f32x4.mul(d, d), v128.load(vrow + xo)));
          const wgt = expNeg4(arg);
          v128.store(tmpW + xo, f32x4.add(v128.load(tmpW + xo), wgt));
          v128.store(tmpS + xo, f32x4.add(v128.load(tmpS + xo), f32x4.mul(wgt, pq)));
        }
        for (; x < ix; x++) {
          const xo: usize = <usize>x << 2;
          const pc = load<f32>(crow + xo);
          const pq = load<f32>(qrow + xo);
          const d = pq - pc;
          const arg: f32 = load<f32>(logw + (<usize>k << 2)) - (d * d) / load<f32>(vrow + xo);
          const wgt = f32x4.extract_lane(expNeg4(f32x4.splat(arg)), 0);
          store<f32>(tmpW + xo, load<f32>(tmpW + xo) + wgt);
          store<f32>(tmpS + xo, load<f32>(tmpS + xo) + wgt * pq);
        }
      }
      for (let x = 0; x < ix; x++) {
        const xo: usize = <usize>x << 2;
        store<f32>(o, load<f32>(tmpS + xo) / load<f32>(tmpW + xo) + bias);
        o += step;
      }
    }
  }
}
