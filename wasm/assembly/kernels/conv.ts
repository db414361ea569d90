// Separable filter passes of the feature bank: Gaussian (derivative) correlation and np.gradient.
// Arrays are float32, z-major, in linear memory (byte offsets managed by lib/features/kernels-wasm.ts).

/**
 * 1D correlation along `axis` with cropping on every axis:
 *   dst[z][y][x] = sum_{k=-r..r} w[k + r] * src[z + oz + k dz][y + oy + k dy][x + ox + k dx]
 * where (dz, dy, dx) is the unit step of `axis`. `parity` 1: w symmetric, -1: antisymmetric
 * (centre weight 0), 0: general. Vectorised along x (f32x4, 4 accumulators). `bias` (if not 0) is
 * added to every output value after its sum.
 */
export function conv(
  src: usize, sY: i32, sX: i32,
  dst: usize, dZ: i32, dY: i32, dX: i32,
  oz: i32, oy: i32, ox: i32,
  axis: i32, w: usize, r: i32, parity: i32, bias: f32,
): void {
  const st: usize = <usize>(axis == 0 ? sY * sX : axis == 1 ? sX : 1) << 2;
  const vb = f32x4.splat(bias);
  for (let z = 0; z < dZ; z++) {
    for (let y = 0; y < dY; y++) {
      convRow(src, sY, sX, dst, dY, dX, z, y, oz, oy, ox, st, axis, w, r, parity);
      if (bias != 0) {
        // + bias on the row just written (in L1): what addc did as a pass of its own over the
        // image (the centring offset's share of an order-2 derivative), the same additions
        const drow: usize = dst + ((<usize>(z * dY + y) * <usize>dX) << 2);
        let x = 0;
        for (; x + 4 <= dX; x += 4) v128.store(drow + (<usize>x << 2), f32x4.add(v128.load(drow + (<usize>x << 2)), vb));
        for (; x < dX; x++) store<f32>(drow + (<usize>x << 2), load<f32>(drow + (<usize>x << 2)) + bias);
      }
    }
  }
}

// @ts-ignore: decorator
@inline
function convRow(
  src: usize, sY: i32, sX: i32, dst: usize, dY: i32, dX: i32, z: i32, y: i32,
  oz: i32, oy: i32, ox: i32, st: usize, axis: i32, w: usize, r: i32, parity: i32,
): void {
  const vwc = v128.load32_splat(w + (<usize>r << 2));
  const srow: usize = src + ((<usize>((z + oz) * sY + y + oy) * <usize>sX + <usize>ox) << 2);
  const drow: usize = dst + ((<usize>(z * dY + y) * <usize>dX) << 2);
  let x = 0;
  if (axis == 0 && parity != 0 && dX >= 16) {
    // along z (a plane apart per tap): accumulate whole rows tap pair by tap pair (sequential
    // reads, the row in L1). Along y the 16-voxel register blocks below are faster (measured).
    const n4 = dX & ~3;
    if (parity > 0) {
      for (let i = 0; i < n4; i += 4) v128.store(drow + (<usize>i << 2), f32x4.mul(vwc, v128.load(srow + (<usize>i << 2))));
    } else {
      for (let i = 0; i < n4; i += 4) v128.store(drow + (<usize>i << 2), f32x4.splat(0));
    }
    let pp: usize = srow + st;
    let pm: usize = srow - st;
    for (let k = 1; k <= r; k++) {
      const wk = v128.load32_splat(w + (<usize>(r + k) << 2));
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
        const wk = v128.load32_splat(w + (<usize>k << 2));
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
        const wk = v128.load32_splat(w + (<usize>(r + k) << 2));
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
      a0 = f32x4.add(a0, f32x4.mul(v128.load32_splat(w + (<usize>k << 2)), v128.load(p)));
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
