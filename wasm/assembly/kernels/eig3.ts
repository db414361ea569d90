// Eigenvalues of symmetric 3x3 matrices (Hessian and structure tensor features).

/**
 * Eigenvalues (decreasing) of the symmetric matrices [h00 h01 h02; . h11 h12; . . h22] * scale
 * (per element scales s00..s22), written to out0, out1, out2 (n values each). Closed form: the
 * invariants in f64, the angle and its cosines in f32 (see below). Error against the exact values:
 * ~1e-7 of max(|eigenvalue|) (kernels test: < 1e-6 on 1007 matrices incl. repeated eigenvalues).
 */
export function eig3(
  h00: usize, h01: usize, h02: usize, h11: usize, h12: usize, h22: usize,
  s00: f64, s01: f64, s02: f64, s11: f64, s12: f64, s22: f64,
  n: i32, out0: usize, out1: usize, out2: usize,
): void {
  const third: f64 = 1.0 / 3.0;
  let i0 = 0;
  // four voxels at a time: the invariants (mean q, deviation p, r = det(B / p) / 2 and
  // u = (1 - |r|) / 2) in f64x2, two voxels by two, where their cancellations are; then
  // phi = acos(r) / 3 and the eigenvalues in f32x4. acos near |r| = 1 is taken from u, computed in
  // f64, so the f32 step keeps its relative precision where two eigenvalues (nearly) coincide.
  // every splat (scales and constants) made once, before the loop: V8 (11.x) rebuilds a splat
  // where it is used (2 instructions each, 26 of ~330 per 4 voxels before this); and min / max as
  // pmin / pmax (one minpd / maxpd instead of V8's ~8-instruction NaN- and -0-exact sequence;
  // equal results for every non-NaN input, and NaN stays NaN in these argument orders)
  const S = SPLATS;
  v128.store(S, f64x2.splat(s00)); v128.store(S, f64x2.splat(s01), 16); v128.store(S, f64x2.splat(s02), 32);
  v128.store(S, f64x2.splat(s11), 48); v128.store(S, f64x2.splat(s12), 64); v128.store(S, f64x2.splat(s22), 80);
  for (; i0 + 4 <= n; i0 += 4) {
    const q4: usize = <usize>i0 << 2;
    const lo = invariants2(INV, h00 + q4, h01 + q4, h02 + q4, h11 + q4, h12 + q4, h22 + q4, S);
    const hi = invariants2(INV + 64, h00 + q4 + 8, h01 + q4 + 8, h02 + q4 + 8, h11 + q4 + 8, h12 + q4 + 8, h22 + q4 + 8, S);
    // lanes 0, 1 from the first pair, 2, 3 from the second: q, p, r, u
    const q = v128.shuffle<f32>(f32x4.demote_f64x2_zero(load<v128>(lo)), f32x4.demote_f64x2_zero(load<v128>(hi)), 0, 1, 4, 5);
    const p = v128.shuffle<f32>(f32x4.demote_f64x2_zero(load<v128>(lo, 16)), f32x4.demote_f64x2_zero(load<v128>(hi, 16)), 0, 1, 4, 5);
    const r = v128.shuffle<f32>(f32x4.demote_f64x2_zero(load<v128>(lo, 32)), f32x4.demote_f64x2_zero(load<v128>(hi, 32)), 0, 1, 4, 5);
    const u = v128.shuffle<f32>(f32x4.demote_f64x2_zero(load<v128>(lo, 48)), f32x4.demote_f64x2_zero(load<v128>(hi, 48)), 0, 1, 4, 5);
    const phi = f32x4.mul(acos4(r, u), v128.load(K32, C_THIRD));
    const pp = f32x4.mul(phi, phi);
    let c = v128.load(K32, C_COS);
    c = f32x4.add(f32x4.mul(c, pp), v128.load(K32, C_COS + 16));
    c = f32x4.add(f32x4.mul(c, pp), v128.load(K32, C_COS + 32));
    c = f32x4.add(f32x4.mul(c, pp), v128.load(K32, C_COS + 48));
    c = f32x4.add(f32x4.mul(c, pp), v128.load(K32, C_COS + 64));
    c = f32x4.add(f32x4.mul(c, pp), v128.load(K32, C_COS + 80));
    let sn = v128.load(K32, C_SIN);
    sn = f32x4.add(f32x4.mul(sn, pp), v128.load(K32, C_SIN + 16));
    sn = f32x4.add(f32x4.mul(sn, pp), v128.load(K32, C_SIN + 32));
    sn = f32x4.add(f32x4.mul(sn, pp), v128.load(K32, C_SIN + 48));
    sn = f32x4.add(f32x4.mul(sn, pp), v128.load(K32, C_SIN + 64));
    sn = f32x4.add(f32x4.mul(sn, pp), v128.load(K32, C_SIN + 80));
    sn = f32x4.mul(sn, phi);
    const tp = f32x4.add(p, p);
    const hc = f32x4.mul(v128.load(K32, C_MHALF), c);
    const ss = f32x4.mul(v128.load(K32, C_SQRT3H), sn);
    // p == 0 in f32 (all eigenvalues equal to f32 precision): q, whatever phi is
    const flat = f32x4.eq(p, v128.load(K32, C_ZERO));
    v128.store(out0 + q4, v128.bitselect(q, f32x4.add(q, f32x4.mul(tp, c)), flat));
    v128.store(out1 + q4, v128.bitselect(q, f32x4.add(q, f32x4.mul(tp, f32x4.add(hc, ss))), flat));
    v128.store(out2 + q4, v128.bitselect(q, f32x4.add(q, f32x4.mul(tp, f32x4.sub(hc, ss))), flat));
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

// scratch of invariants2: q, p, r, u (f64x2 each) of two pairs of voxels
const INV = memory.data(128, 16);

/**
 * The invariants of two matrices (voxels at the given element pointers, f32): q = trace / 3,
 * p = sqrt(|A - q I|^2 / 6), r = det((A - q I) / p) / 2 clamped to [-1, 1], u = (1 - |r|) / 2,
 * in f64, stored as four f64x2 at dst (returned).
 */
// @ts-ignore: decorator
@inline
function invariants2(
  dst: usize, h00: usize, h01: usize, h02: usize, h11: usize, h12: usize, h22: usize, S: usize,
): usize {
  const a00 = f64x2.mul(f64x2.promote_low_f32x4(v128.load64_zero(h00)), v128.load(S));
  const a01 = f64x2.mul(f64x2.promote_low_f32x4(v128.load64_zero(h01)), v128.load(S, 16));
  const a02 = f64x2.mul(f64x2.promote_low_f32x4(v128.load64_zero(h02)), v128.load(S, 32));
  const a11 = f64x2.mul(f64x2.promote_low_f32x4(v128.load64_zero(h11)), v128.load(S, 48));
  const a12 = f64x2.mul(f64x2.promote_low_f32x4(v128.load64_zero(h12)), v128.load(S, 64));
  const a22 = f64x2.mul(f64x2.promote_low_f32x4(v128.load64_zero(h22)), v128.load(S, 80));
  const one = v128.load(K64);
  const p1 = f64x2.add(f64x2.add(f64x2.mul(a01, a01), f64x2.mul(a02, a02)), f64x2.mul(a12, a12));
  const q = f64x2.mul(f64x2.add(f64x2.add(a00, a11), a22), v128.load(K64, 16));
  const b00 = f64x2.sub(a00, q), b11 = f64x2.sub(a11, q), b22 = f64x2.sub(a22, q);
  const p2 = f64x2.add(f64x2.add(f64x2.add(f64x2.mul(b00, b00), f64x2.mul(b11, b11)), f64x2.mul(b22, b22)), f64x2.mul(v128.load(K64, 32), p1));
  const p = f64x2.sqrt(f64x2.mul(f64x2.pmax(p2, v128.load(K64, 48)), v128.load(K64, 64)));
  // det(B / p) = det(B) / p^3
  const det = f64x2.add(
    f64x2.sub(
      f64x2.mul(b00, f64x2.sub(f64x2.mul(b11, b22), f64x2.mul(a12, a12))),
      f64x2.mul(a01, f64x2.sub(f64x2.mul(a01, b22), f64x2.mul(a12, a02))),
    ),
    f64x2.mul(a02, f64x2.sub(f64x2.mul(a01, a12), f64x2.mul(b11, a02))),
  );
  const r = f64x2.pmin(f64x2.pmax(f64x2.div(f64x2.mul(det, v128.load(K64, 80)), f64x2.mul(p, f64x2.mul(p, p))), v128.load(K64, 96)), one);
  // |r| as r with the sign bit cleared (f64x2.abs, without V8 building its mask every time)
  const u = f64x2.mul(f64x2.sub(one, v128.andnot(r, v128.load(K64, 112))), v128.load(K64, 80));
  // p2 <= 1e-300: p underflows to 0 in f32, which marks the matrix as flat
  store<v128>(dst, q);
  store<v128>(dst, p, 16);
  store<v128>(dst, r, 32);
  store<v128>(dst, u, 48);
  return dst;
}

// f64x2 constants of invariants2: 1, 1/3, 2, 1e-300, 1/6, 0.5, -1, the sign bit
const K64 = memory.data<f64>([1.0, 1.0, 1.0 / 3.0, 1.0 / 3.0, 2.0, 2.0, 1e-300, 1e-300, 1.0 / 6.0, 1.0 / 6.0, 0.5, 0.5, -1.0, -1.0, -0.0, -0.0], 16);
// f32x4 constants of eig3's loop and acos4, each 4 times (loaded, not splatted: see eig3), at the
// byte offsets C_*: the cosine and sine series (highest order first), musl's asin coefficients
// p2, p1, p0, q1, then 1/3, -1/2, sqrt(3)/2, 0, 1/2, 1, pi/2, 2, pi and the sign bit
const C_COS = 0, C_SIN = 96, C_ASIN = 192, C_THIRD = 256, C_MHALF = 272, C_SQRT3H = 288, C_ZERO = 304;
const C_HALF = 320, C_ONE = 336, C_PI2 = 352, C_TWO = 368, C_PI = 384, C_SIGN = 400;
const K32 = memory.data<f32>([
  <f32>(-1.0 / 3628800), <f32>(-1.0 / 3628800), <f32>(-1.0 / 3628800), <f32>(-1.0 / 3628800), <f32>(1.0 / 40320), <f32>(1.0 / 40320), <f32>(1.0 / 40320), <f32>(1.0 / 40320),
  <f32>(-1.0 / 720), <f32>(-1.0 / 720), <f32>(-1.0 / 720), <f32>(-1.0 / 720), <f32>(1.0 / 24), <f32>(1.0 / 24), <f32>(1.0 / 24), <f32>(1.0 / 24),
  -0.5, -0.5, -0.5, -0.5, 1.0, 1.0, 1.0, 1.0,
  <f32>(-1.0 / 39916800), <f32>(-1.0 / 39916800), <f32>(-1.0 / 39916800), <f32>(-1.0 / 39916800), <f32>(1.0 / 362880), <f32>(1.0 / 362880), <f32>(1.0 / 362880), <f32>(1.0 / 362880),
  <f32>(-1.0 / 5040), <f32>(-1.0 / 5040), <f32>(-1.0 / 5040), <f32>(-1.0 / 5040), <f32>(1.0 / 120), <f32>(1.0 / 120), <f32>(1.0 / 120), <f32>(1.0 / 120),
  <f32>(-1.0 / 6), <f32>(-1.0 / 6), <f32>(-1.0 / 6), <f32>(-1.0 / 6), 1.0, 1.0, 1.0, 1.0,
  <f32>-8.6563630030e-03, <f32>-8.6563630030e-03, <f32>-8.6563630030e-03, <f32>-8.6563630030e-03, <f32>-4.2743422091e-02, <f32>-4.2743422091e-02, <f32>-4.2743422091e-02, <f32>-4.2743422091e-02,
  <f32>1.6666586697e-01, <f32>1.6666586697e-01, <f32>1.6666586697e-01, <f32>1.6666586697e-01, <f32>-7.0662963390e-01, <f32>-7.0662963390e-01, <f32>-7.0662963390e-01, <f32>-7.0662963390e-01,
  <f32>(1.0 / 3.0), <f32>(1.0 / 3.0), <f32>(1.0 / 3.0), <f32>(1.0 / 3.0), -0.5, -0.5, -0.5, -0.5,
  <f32>0.8660254037844386, <f32>0.8660254037844386, <f32>0.8660254037844386, <f32>0.8660254037844386, 0, 0, 0, 0,
  0.5, 0.5, 0.5, 0.5, 1.0, 1.0, 1.0, 1.0,
  <f32>1.5707963267948966, <f32>1.5707963267948966, <f32>1.5707963267948966, <f32>1.5707963267948966, 2.0, 2.0, 2.0, 2.0,
  <f32>3.141592653589793, <f32>3.141592653589793, <f32>3.141592653589793, <f32>3.141592653589793, -0.0, -0.0, -0.0, -0.0,
], 16);
// the six scales as f64x2 (set by eig3 before its loop)
const SPLATS = memory.data(96, 16);

/**
 * acos(r) in f32x4 with u = (1 - |r|) / 2 given at full relative precision (musl's acosf
 * polynomial R(z) for asin: p / q of degrees 3 / 1; |r| <= 0.5: pi/2 - (r + r R(r^2)); else from
 * s = sqrt(u): 2 (s + s R(u)), or pi minus that for r < 0).
 */
// @ts-ignore: decorator
@inline
function acos4(r: v128, u: v128): v128 {
  const small = f32x4.le(v128.andnot(r, v128.load(K32, C_SIGN)), v128.load(K32, C_HALF));
  const z = v128.bitselect(f32x4.mul(r, r), u, small);
  let pz = v128.load(K32, C_ASIN);
  pz = f32x4.add(f32x4.mul(pz, z), v128.load(K32, C_ASIN + 16));
  pz = f32x4.add(f32x4.mul(pz, z), v128.load(K32, C_ASIN + 32));
  pz = f32x4.mul(pz, z);
  const qz = f32x4.add(f32x4.mul(z, v128.load(K32, C_ASIN + 48)), v128.load(K32, C_ONE));
  const R = f32x4.div(pz, qz);
  const b1 = f32x4.sub(v128.load(K32, C_PI2), f32x4.add(r, f32x4.mul(r, R)));
  const s = f32x4.sqrt(u);
  const t = f32x4.mul(v128.load(K32, C_TWO), f32x4.add(s, f32x4.mul(s, R)));
  const b2 = v128.bitselect(t, f32x4.sub(v128.load(K32, C_PI), t), f32x4.gt(r, v128.load(K32, C_ZERO)));
  return v128.bitselect(b1, b2, small);
}
