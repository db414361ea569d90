// Element-wise kernels of the feature bank (conversion, scaling, products, feature columns).

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
  let i = 0;
  if (nF == 1) {
    // a feature plane (contiguous): 4 voxels at a time, the same operations in the same order
    const va4 = f32x4.splat(sa), vb4 = f32x4.splat(sb), vc4 = f32x4.splat(sc), vbias = f32x4.splat(bias);
    const zero = f32x4.splat(0);
    for (; i + 4 <= n; i += 4) {
      const q: usize = <usize>i << 2;
      const va = v128.load(a + q);
      const vb = sb != 0 ? v128.load(b + q) : zero;
      const vc = sc != 0 ? v128.load(c + q) : zero;
      let v: v128;
      if (mode == 1) {
        v = f32x4.sqrt(f32x4.add(f32x4.add(f32x4.mul(f32x4.mul(va4, va), va), f32x4.mul(f32x4.mul(vb4, vb), vb)), f32x4.mul(f32x4.mul(vc4, vc), vc)));
      } else {
        v = f32x4.add(f32x4.add(f32x4.add(f32x4.mul(va4, va), f32x4.mul(vb4, vb)), f32x4.mul(vc4, vc)), vbias);
      }
      v128.store(o, v);
      o += 16;
    }
  }
  for (; i < n; i++) {
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
