// AssemblyScript kernels of the 3D feature bank (compiled by wasm/build.mjs with SIMD).
// All arrays are float32, z-major, in linear memory; pointers are byte offsets managed by the
// caller (lib/features/kernels-wasm.ts). No allocation happens here.

/** First free byte after the module's static data. */
export function heapBase(): usize {
  return __heap_base;
}

/**
 * 1D correlation along `axis` with cropping on every axis:
 *   dst[z][y][x] = sum_{k=-r..r} w[k + r] * src[z + oz + k dz][y + oy + k dy][x + ox + k dx]
 * where (dz, dy, dx) is the unit step of `axis`. `parity` 1: w symmetric, -1: antisymmetric
 * (centre weight 0), 0: general. Vectorised along x (f32x4, 4 accumulators).
 */
export function conv(
  src: usize, sY: i32, sX: i32,
  dst: usize, dZ: i32, dY: i32, dX: i32,
  oz: i32, oy: i32, ox: i32,
  axis: i32, w: usize, r: i32, parity: i32,
): void {
  const st: usize = <usize>(axis == 0 ? sY * sX : axis == 1 ? sX : 1) << 2;
  const wc: f32 = load<f32>(w + (<usize>r << 2));
  const vwc = f32x4.splat(wc);
  for (let z = 0; z < dZ; z++) {
    for (let y = 0; y < dY; y++) {
      const srow: usize = src + ((<usize>((z + oz) * sY + y + oy) * <usize>sX + <usize>ox) << 2);
      const drow: usize = dst + ((<usize>(z * dY + y) * <usize>dX) << 2);
      let x = 0;
      if (axis != 2 && parity != 0 && dX >= 16) {
        // strided axis: accumulate whole rows tap pair by tap pair (sequential reads, row in L1)
        const n4 = dX & ~3;
        if (parity > 0) {
          for (let i = 0; i < n4; i += 4) v128.store(drow + (<usize>i << 2), f32x4.mul(vwc, v128.load(srow + (<usize>i << 2))));
        } else {
          for (let i = 0; i < n4; i += 4) v128.store(drow + (<usize>i << 2), f32x4.splat(0));
        }
        let pp: usize = srow + st;
        let pm: usize = srow - st;
        for (let k = 1; k <= r; k++) {
          const wk = f32x4.splat(load<f32>(w + (<usize>(r + k) << 2)));
          if (parity > 0) {
            for (let i = 0; i < n4; i += 4) {
              const o: usize = <usize>i << 2;
              v128.store(drow + o, f32x4.add(v128.load(drow + o), f32x4.mul(wk, f32x4.add(v128.load(pp + o), v128.load(pm + o)))));
            }
          } else {
            for (let i = 0; i < n4; i += 4) {
              const o: usize = <usize>i << 2;
              v128.store(drow + o, f32x4.add(v128.load(drow + o), f32x4.mul(wk, f32x4.sub(v128.load(pp + o), v128.load(pm + o)))));
            }
          }
          pp += st;
          pm -= st;
        }
        x = n4;
      }
      for (; x + 16 <= dX; x += 16) {
        const c: usize = srow + (<usize>x << 2);
        let a0 = f32x4.splat(0);
        let a1 = f32x4.splat(0);
        let a2 = f32x4.splat(0);
        let a3 = f32x4.splat(0);
        if (parity == 0) {
          let p: usize = c - <usize>r * st;
          for (let k = 0; k <= 2 * r; k++) {
            const wk = f32x4.splat(load<f32>(w + (<usize>k << 2)));
            a0 = f32x4.add(a0, f32x4.mul(wk, v128.load(p)));
            a1 = f32x4.add(a1, f32x4.mul(wk, v128.load(p, 16)));
            a2 = f32x4.add(a2, f32x4.mul(wk, v128.load(p, 32)));
            a3 = f32x4.add(a3, f32x4.mul(wk, v128.load(p, 48)));
            p += st;
          }
        } else {
          if (parity > 0) {
            a0 = f32x4.mul(vwc, v128.load(c));
            a1 = f32x4.mul(vwc, v128.load(c, 16));
            a2 = f32x4.mul(vwc, v128.load(c, 32));
            a3 = f32x4.mul(vwc, v128.load(c, 48));
          }
          let pp: usize = c + st;
          let pm: usize = c - st;
          for (let k = 1; k <= r; k++) {
            const wk = f32x4.splat(load<f32>(w + (<usize>(r + k) << 2)));
            if (parity > 0) {
              a0 = f32x4.add(a0, f32x4.mul(wk, f32x4.add(v128.load(pp), v128.load(pm))));
              a1 = f32x4.add(a1, f32x4.mul(wk, f32x4.add(v128.load(pp, 16), v128.load(pm, 16))));
              a2 = f32x4.add(a2, f32x4.mul(wk, f32x4.add(v128.load(pp, 32), v128.load(pm, 32))));
              a3 = f32x4.add(a3, f32x4.mul(wk, f32x4.add(v128.load(pp, 48), v128.load(pm, 48))));
            } else {
              a0 = f32x4.add(a0, f32x4.mul(wk, f32x4.sub(v128.load(pp), v128.load(pm))));
              a1 = f32x4.add(a1, f32x4.mul(wk, f32x4.sub(v128.load(pp, 16), v128.load(pm, 16))));
              a2 = f32x4.add(a2, f32x4.mul(wk, f32x4.sub(v128.load(pp, 32), v128.load(pm, 32))));
              a3 = f32x4.add(a3, f32x4.mul(wk, f32x4.sub(v128.load(pp, 48), v128.load(pm, 48))));
            }
            pp += st;
            pm -= st;
          }
        }
        const d: usize = drow + (<usize>x << 2);
        v128.store(d, a0);
        v128.store(d, a1, 16);
        v128.store(d, a2, 32);
        v128.store(d, a3, 48);
      }
      for (; x + 4 <= dX; x += 4) {
        const c: usize = srow + (<usize>x << 2);
        let a0 = f32x4.splat(0);
        let p: usize = c - <usize>r * st;
        for (let k = 0; k <= 2 * r; k++) {
          a0 = f32x4.add(a0, f32x4.mul(f32x4.splat(load<f32>(w + (<usize>k << 2))), v128.load(p)));
          p += st;
        }
        v128.store(drow + (<usize>x << 2), a0);
      }
      for (; x < dX; x++) {
        const c: usize = srow + (<usize>x << 2);
        let a: f32 = 0;
        let p: usize = c - <usize>r * st;
        for (let k = 0; k <= 2 * r; k++) {
          a += load<f32>(w + (<usize>k << 2)) * load<f32>(p);
          p += st;
        }
        store<f32>(drow + (<usize>x << 2), a);
      }
    }
  }
}

/**
 * np.gradient along `axis` (unit spacing, edge_order 1) with cropping like conv: central
 * differences, one-sided at source index lo (forward) and hi (backward) along the axis.
 */
export function npgrad(
  src: usize, sY: i32, sX: i32,
  dst: usize, dZ: i32, dY: i32, dX: i32,
  oz: i32, oy: i32, ox: i32,
  axis: i32, lo: i32, hi: i32,
): void {
  const st: usize = <usize>(axis == 0 ? sY * sX : axis == 1 ? sX : 1) << 2;
  const half = f32x4.splat(0.5);
  for (let z = 0; z < dZ; z++) {
    for (let y = 0; y < dY; y++) {
      const srow: usize = src + ((<usize>((z + oz) * sY + y + oy) * <usize>sX + <usize>ox) << 2);
      const drow: usize = dst + ((<usize>(z * dY + y) * <usize>dX) << 2);
      const ia = axis == 0 ? z + oz : axis == 1 ? y + oy : -1;
      if (axis != 2 && (ia == lo || ia == hi)) {
        for (let x = 0; x < dX; x++) {
          const c: usize = srow + (<usize>x << 2);
          const v: f32 = ia == lo ? load<f32>(c + st) - load<f32>(c) : load<f32>(c) - load<f32>(c - st);
          store<f32>(drow + (<usize>x << 2), v);
        }
        continue;
      }
      let x = 0;
      if (axis != 2) {
        for (; x + 4 <= dX; x += 4) {
          const c: usize = srow + (<usize>x << 2);
          v128.store(drow + (<usize>x << 2), f32x4.mul(half, f32x4.sub(v128.load(c + st), v128.load(c - st))));
        }
      }
      for (; x < dX; x++) {
        const c: usize = srow + (<usize>x << 2);
        const ix = x + ox;
        let v: f32;
        if (axis == 2 && ix == lo) v = load<f32>(c + 4) - load<f32>(c);
        else if (axis == 2 && ix == hi) v = load<f32>(c) - load<f32>(c - 4);
        else v = (load<f32>(c + st) - load<f32>(c - st)) * 0.5;
        store<f32>(drow + (<usize>x << 2), v);
      }
    }
  }
}

/** dst[i] = f32(src[i]) * scale for u16 (bytes = 2) or u8 (bytes = 1) sources */
export function fromInt(src: usize, bytes: i32, dst: usize, n: i32, scale: f32): void {
  const vs = f32x4.splat(scale);
  let i = 0;
  if (bytes == 2) {
    for (; i + 4 <= n; i += 4) {
      const v = i32x4.extend_low_i16x8_u(v128.load64_zero(src + (<usize>i << 1)));
      v128.store(dst + (<usize>i << 2), f32x4.mul(f32x4.convert_i32x4_s(v), vs));
    }
    for (; i < n; i++) store<f32>(dst + (<usize>i << 2), <f32>load<u16>(src + (<usize>i << 1)) * scale);
  } else {
    for (; i < n; i++) store<f32>(dst + (<usize>i << 2), <f32>load<u8>(src + <usize>i) * scale);
  }
}

/** a[i] *= s (in place) */
export function scale(a: usize, s: f32, n: i32): void {
  const vs = f32x4.splat(s);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o: usize = <usize>i << 2;
    v128.store(a + o, f32x4.mul(v128.load(a + o), vs));
  }
  for (; i < n; i++) {
    const o: usize = <usize>i << 2;
    store<f32>(a + o, load<f32>(a + o) * s);
  }
}

/** a[i] += c (in place) */
export function addc(a: usize, c: f32, n: i32): void {
  const vc = f32x4.splat(c);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o: usize = <usize>i << 2;
    v128.store(a + o, f32x4.add(v128.load(a + o), vc));
  }
  for (; i < n; i++) {
    const o: usize = <usize>i << 2;
    store<f32>(a + o, load<f32>(a + o) + c);
  }
}

/** dst[i] = a[i] * b[i] * s (n values) */
export function mul(a: usize, b: usize, dst: usize, n: i32, s: f32): void {
  const vs = f32x4.splat(s);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o: usize = <usize>i << 2;
    v128.store(dst + o, f32x4.mul(vs, f32x4.mul(v128.load(a + o), v128.load(b + o))));
  }
  for (; i < n; i++) {
    const o: usize = <usize>i << 2;
    store<f32>(dst + o, s * load<f32>(a + o) * load<f32>(b + o));
  }
}

/** dst[i] = (a[i] - c)^2 */
export function sqdiff(a: usize, c: f32, dst: usize, n: i32): void {
  const vc = f32x4.splat(c);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o: usize = <usize>i << 2;
    const d = f32x4.sub(v128.load(a + o), vc);
    v128.store(dst + o, f32x4.mul(d, d));
  }
  for (; i < n; i++) {
    const o: usize = <usize>i << 2;
    const d = load<f32>(a + o) - c;
    store<f32>(dst + o, d * d);
  }
}

/**
 * dst[i] = max(m2[i] - (m[i] - c)^2, 0) + eps: local variance from the local mean m of I and the
 * local mean m2 of (I - c)^2 (c: an offset near the data, against float32 cancellation).
 */
export function variance(m: usize, m2: usize, dst: usize, n: i32, eps: f32, c: f32): void {
  for (let i = 0; i < n; i++) {
    const o: usize = <usize>i << 2;
    const a: f32 = load<f32>(m + o) - c;
    store<f32>(dst + o, max<f32>(load<f32>(m2 + o) - a * a, 0) + eps);
  }
}

/**
 * Writes one feature column of the voxel-major output: out[v * nF + f] =
 * sa * a[v] + sb * b[v] + sc * c[v] (pass sb = sc = 0 and any pointer to skip), then
 * mode 1: sqrt of (sa a^2 + sb b^2 + sc c^2) instead.
 */
export function column(a: usize, b: usize, c: usize, sa: f32, sb: f32, sc: f32, mode: i32, n: i32, out: usize, nF: i32, f: i32, bias: f32): void {
  let o: usize = out + (<usize>f << 2);
  const step: usize = <usize>nF << 2;
  for (let i = 0; i < n; i++) {
    const q: usize = <usize>i << 2;
    const va: f32 = load<f32>(a + q);
    const vb: f32 = sb != 0 ? load<f32>(b + q) : 0;
    const vc: f32 = sc != 0 ? load<f32>(c + q) : 0;
    let v: f32;
    if (mode == 1) v = sqrt<f32>(sa * va * va + sb * vb * vb + sc * vc * vc);
    else v = sa * va + sb * vb + sc * vc + bias;
    store<f32>(o, v);
    o += step;
  }
}

/** Copy the inner box (offset oz, oy, ox) of a (sZ, sY, sX) array into column f of the output. */
export function columnBox(src: usize, sY: i32, sX: i32, oz: i32, oy: i32, ox: i32, iz: i32, iy: i32, ix: i32, out: usize, nF: i32, f: i32, bias: f32): void {
  let o: usize = out + (<usize>f << 2);
  const step: usize = <usize>nF << 2;
  for (let z = 0; z < iz; z++) {
    for (let y = 0; y < iy; y++) {
      const row: usize = src + ((<usize>((z + oz) * sY + y + oy) * <usize>sX + <usize>ox) << 2);
      for (let x = 0; x < ix; x++) {
        store<f32>(o, load<f32>(row + (<usize>x << 2)) + bias);
        o += step;
      }
    }
  }
}

/**
 * Eigenvalues (decreasing) of the symmetric matrices [h00 h01 h02; . h11 h12; . . h22] * scale
 * (per element scales s00..s22), written to out0, out1, out2 (n values each). Closed form in f64.
 */
export function eig3(
  h00: usize, h01: usize, h02: usize, h11: usize, h12: usize, h22: usize,
  s00: f64, s01: f64, s02: f64, s11: f64, s12: f64, s22: f64,
  n: i32, out0: usize, out1: usize, out2: usize,
): void {
  const third: f64 = 1.0 / 3.0;
  const twoPiThird: f64 = 2.0943951023931957;
  let i0 = 0;
  // two voxels at a time in f64x2 (same formulas as the scalar tail below)
  const vs00 = f64x2.splat(s00), vs01 = f64x2.splat(s01), vs02 = f64x2.splat(s02);
  const vs11 = f64x2.splat(s11), vs12 = f64x2.splat(s12), vs22 = f64x2.splat(s22);
  const v3 = f64x2.splat(third), one = f64x2.splat(1.0), two = f64x2.splat(2.0), half = f64x2.splat(0.5);
  const tiny = f64x2.splat(1e-300), sixth = f64x2.splat(1.0 / 6.0);
  for (; i0 + 2 <= n; i0 += 2) {
    const q4: usize = <usize>i0 << 2;
    const a00 = f64x2.mul(f64x2.promote_low_f32x4(v128.load64_zero(h00 + q4)), vs00);
    const a01 = f64x2.mul(f64x2.promote_low_f32x4(v128.load64_zero(h01 + q4)), vs01);
    const a02 = f64x2.mul(f64x2.promote_low_f32x4(v128.load64_zero(h02 + q4)), vs02);
    const a11 = f64x2.mul(f64x2.promote_low_f32x4(v128.load64_zero(h11 + q4)), vs11);
    const a12 = f64x2.mul(f64x2.promote_low_f32x4(v128.load64_zero(h12 + q4)), vs12);
    const a22 = f64x2.mul(f64x2.promote_low_f32x4(v128.load64_zero(h22 + q4)), vs22);
    const p1 = f64x2.add(f64x2.add(f64x2.mul(a01, a01), f64x2.mul(a02, a02)), f64x2.mul(a12, a12));
    const q = f64x2.mul(f64x2.add(f64x2.add(a00, a11), a22), v3);
    const b00 = f64x2.sub(a00, q), b11 = f64x2.sub(a11, q), b22 = f64x2.sub(a22, q);
    const p2 = f64x2.add(f64x2.add(f64x2.add(f64x2.mul(b00, b00), f64x2.mul(b11, b11)), f64x2.mul(b22, b22)), f64x2.mul(two, p1));
    const flat = f64x2.le(p2, tiny);
    const p = f64x2.sqrt(f64x2.mul(f64x2.max(p2, tiny), sixth));
    const ip = f64x2.div(one, p);
    const c00 = f64x2.mul(b00, ip), c11 = f64x2.mul(b11, ip), c22 = f64x2.mul(b22, ip);
    const c01 = f64x2.mul(a01, ip), c02 = f64x2.mul(a02, ip), c12 = f64x2.mul(a12, ip);
    const det = f64x2.add(
      f64x2.sub(
        f64x2.mul(c00, f64x2.sub(f64x2.mul(c11, c22), f64x2.mul(c12, c12))),
        f64x2.mul(c01, f64x2.sub(f64x2.mul(c01, c22), f64x2.mul(c12, c02))),
      ),
      f64x2.mul(c02, f64x2.sub(f64x2.mul(c01, c12), f64x2.mul(c11, c02))),
    );
    const r = f64x2.min(f64x2.max(f64x2.mul(det, half), f64x2.splat(-1.0)), one);
    const phi = f64x2.mul(acos2(r), v3);
    const pp = f64x2.mul(phi, phi);
    let c = f64x2.splat(1.0 / 479001600);
    c = f64x2.add(f64x2.mul(c, pp), f64x2.splat(-1.0 / 3628800));
    c = f64x2.add(f64x2.mul(c, pp), f64x2.splat(1.0 / 40320));
    c = f64x2.add(f64x2.mul(c, pp), f64x2.splat(-1.0 / 720));
    c = f64x2.add(f64x2.mul(c, pp), f64x2.splat(1.0 / 24));
    c = f64x2.add(f64x2.mul(c, pp), f64x2.splat(-0.5));
    c = f64x2.add(f64x2.mul(c, pp), one);
    let sn = f64x2.splat(1.0 / 6227020800);
    sn = f64x2.add(f64x2.mul(sn, pp), f64x2.splat(-1.0 / 39916800));
    sn = f64x2.add(f64x2.mul(sn, pp), f64x2.splat(1.0 / 362880));
    sn = f64x2.add(f64x2.mul(sn, pp), f64x2.splat(-1.0 / 5040));
    sn = f64x2.add(f64x2.mul(sn, pp), f64x2.splat(1.0 / 120));
    sn = f64x2.add(f64x2.mul(sn, pp), f64x2.splat(-1.0 / 6));
    sn = f64x2.add(f64x2.mul(sn, pp), one);
    sn = f64x2.mul(sn, phi);
    const tp = f64x2.mul(two, p);
    const hc = f64x2.mul(f64x2.splat(-0.5), c);
    const ss = f64x2.mul(f64x2.splat(0.8660254037844386), sn);
    const e1 = v128.bitselect(q, f64x2.add(q, f64x2.mul(tp, c)), flat);
    const e2 = v128.bitselect(q, f64x2.add(q, f64x2.mul(tp, f64x2.add(hc, ss))), flat);
    const e3 = v128.bitselect(q, f64x2.add(q, f64x2.mul(tp, f64x2.sub(hc, ss))), flat);
    v128.store64_lane(out0 + q4, f32x4.demote_f64x2_zero(e1), 0);
    v128.store64_lane(out1 + q4, f32x4.demote_f64x2_zero(e2), 0);
    v128.store64_lane(out2 + q4, f32x4.demote_f64x2_zero(e3), 0);
  }
  for (let i = i0; i < n; i++) {
    const q4: usize = <usize>i << 2;
    const a00: f64 = <f64>load<f32>(h00 + q4) * s00;
    const a01: f64 = <f64>load<f32>(h01 + q4) * s01;
    const a02: f64 = <f64>load<f32>(h02 + q4) * s02;
    const a11: f64 = <f64>load<f32>(h11 + q4) * s11;
    const a12: f64 = <f64>load<f32>(h12 + q4) * s12;
    const a22: f64 = <f64>load<f32>(h22 + q4) * s22;
    const p1 = a01 * a01 + a02 * a02 + a12 * a12;
    const q = (a00 + a11 + a22) * third;
    let e1: f64, e2: f64, e3: f64;
    const b00 = a00 - q;
    const b11 = a11 - q;
    const b22 = a22 - q;
    const p2 = b00 * b00 + b11 * b11 + b22 * b22 + 2 * p1;
    if (p2 <= 1e-300) {
      e1 = q;
      e2 = q;
      e3 = q;
    } else {
      const p = Math.sqrt(p2 / 6);
      const ip = 1 / p;
      const c00 = b00 * ip, c11 = b11 * ip, c22 = b22 * ip;
      const c01 = a01 * ip, c02 = a02 * ip, c12 = a12 * ip;
      const det = c00 * (c11 * c22 - c12 * c12) - c01 * (c01 * c22 - c12 * c02) + c02 * (c01 * c12 - c11 * c02);
      let r = det * 0.5;
      r = r < -1 ? -1 : r > 1 ? 1 : r;
      // phi = acos(r) / 3 in [0, pi/3]; eigenvalues q + 2p cos(phi + 2 pi k / 3), already ordered
      const phi = acosFast(r) * third;
      const p2f = phi * phi;
      // Taylor series on [0, pi/3]: truncation error < 1e-11
      const c = 1 + p2f * (-0.5 + p2f * (1.0 / 24 + p2f * (-1.0 / 720 + p2f * (1.0 / 40320 + p2f * (-1.0 / 3628800 + p2f * (1.0 / 479001600))))));
      const sn = phi * (1 + p2f * (-1.0 / 6 + p2f * (1.0 / 120 + p2f * (-1.0 / 5040 + p2f * (1.0 / 362880 + p2f * (-1.0 / 39916800 + p2f * (1.0 / 6227020800)))))));
      const tp = 2 * p;
      e1 = q + tp * c;
      e2 = q + tp * (-0.5 * c + 0.8660254037844386 * sn);
      e3 = q + tp * (-0.5 * c - 0.8660254037844386 * sn);
    }
    store<f32>(out0 + q4, <f32>e1);
    store<f32>(out1 + q4, <f32>e2);
    store<f32>(out2 + q4, <f32>e3);
  }
}

// acos on [-1, 1] (fdlibm's rational approximation of asin, ~1e-15)
// @ts-ignore: decorator
@inline
function asinR(z: f64): f64 {
  const p = z * (1.66666666666666657415e-01 + z * (-3.25565818622400915405e-01 + z * (2.01212532134862925881e-01 +
    z * (-4.00555345006794114027e-02 + z * (7.91534994289814532176e-04 + z * 3.47933107596021167570e-05)))));
  const q = 1.0 + z * (-2.40339491173441421878e+00 + z * (2.02094576023350569471e+00 + z * (-6.88283971605453293030e-01 + z * 7.70381505559019352791e-02)));
  return p / q;
}

// @ts-ignore: decorator
@inline
function acosFast(x: f64): f64 {
  const a = abs<f64>(x);
  if (a <= 0.5) return 1.5707963267948966 - (x + x * asinR(x * x));
  const z = (1 - a) * 0.5;
  const s = Math.sqrt(z);
  const t = 2 * (s + s * asinR(z));
  return x > 0 ? t : 3.141592653589793 - t;
}

// f64x2 versions of asinR / acosFast
// @ts-ignore: decorator
@inline
function asinR2(z: v128): v128 {
  let p = f64x2.splat(3.47933107596021167570e-05);
  p = f64x2.add(f64x2.mul(p, z), f64x2.splat(7.91534994289814532176e-04));
  p = f64x2.add(f64x2.mul(p, z), f64x2.splat(-4.00555345006794114027e-02));
  p = f64x2.add(f64x2.mul(p, z), f64x2.splat(2.01212532134862925881e-01));
  p = f64x2.add(f64x2.mul(p, z), f64x2.splat(-3.25565818622400915405e-01));
  p = f64x2.add(f64x2.mul(p, z), f64x2.splat(1.66666666666666657415e-01));
  p = f64x2.mul(p, z);
  let q = f64x2.splat(7.70381505559019352791e-02);
  q = f64x2.add(f64x2.mul(q, z), f64x2.splat(-6.88283971605453293030e-01));
  q = f64x2.add(f64x2.mul(q, z), f64x2.splat(2.02094576023350569471e+00));
  q = f64x2.add(f64x2.mul(q, z), f64x2.splat(-2.40339491173441421878e+00));
  q = f64x2.add(f64x2.mul(q, z), f64x2.splat(1.0));
  return f64x2.div(p, q);
}

// @ts-ignore: decorator
@inline
function acos2(x: v128): v128 {
  const a = f64x2.abs(x);
  const small = f64x2.le(a, f64x2.splat(0.5));
  const b1 = f64x2.sub(f64x2.splat(1.5707963267948966), f64x2.add(x, f64x2.mul(x, asinR2(f64x2.mul(x, x)))));
  const z = f64x2.mul(f64x2.sub(f64x2.splat(1.0), a), f64x2.splat(0.5));
  const s = f64x2.sqrt(z);
  const t = f64x2.mul(f64x2.splat(2.0), f64x2.add(s, f64x2.mul(s, asinR2(z))));
  const b2 = v128.bitselect(t, f64x2.sub(f64x2.splat(3.141592653589793), t), f64x2.gt(x, f64x2.splat(0.0)));
  return v128.bitselect(b1, b2, small);
}

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

/**
 * Voxel-major rows of voxels [v0, v0 + count) from feature-major planes (feature f at
 * planar + 4 f n): dst[(v - v0) * nF + f] = planar[f * n + v].
 */
export function interleave(planar: usize, n: i32, nF: i32, v0: i32, count: i32, dst: usize): void {
  const step: usize = <usize>nF << 2;
  for (let f = 0; f < nF; f++) {
    let src: usize = planar + ((<usize>f * <usize>n + <usize>v0) << 2);
    let o: usize = dst + (<usize>f << 2);
    for (let v = 0; v < count; v++) {
      store<f32>(o, load<f32>(src));
      src += 4;
      o += step;
    }
  }
}

export { mlpPredict } from './kernels/mlp';
