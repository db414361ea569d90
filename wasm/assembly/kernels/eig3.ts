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
  for (; i0 + 4 <= n; i0 += 4) {
    const q4: usize = <usize>i0 << 2;
    const lo = invariants2(INV, h00 + q4, h01 + q4, h02 + q4, h11 + q4, h12 + q4, h22 + q4, s00, s01, s02, s11, s12, s22);
    const hi = invariants2(INV + 64, h00 + q4 + 8, h01 + q4 + 8, h02 + q4 + 8, h11 + q4 + 8, h12 + q4 + 8, h22 + q4 + 8, s00, s01, s02, s11, s12, s22);
    // lanes 0, 1 from the first pair, 2, 3 from the second: q, p, r, u
    const q = v128.shuffle<f32>(f32x4.demote_f64x2_zero(load<v128>(lo)), f32x4.demote_f64x2_zero(load<v128>(hi)), 0, 1, 4, 5);
    const p = v128.shuffle<f32>(f32x4.demote_f64x2_zero(load<v128>(lo, 16)), f32x4.demote_f64x2_zero(load<v128>(hi, 16)), 0, 1, 4, 5);
    const r = v128.shuffle<f32>(f32x4.demote_f64x2_zero(load<v128>(lo, 32)), f32x4.demote_f64x2_zero(load<v128>(hi, 32)), 0, 1, 4, 5);
    const u = v128.shuffle<f32>(f32x4.demote_f64x2_zero(load<v128>(lo, 48)), f32x4.demote_f64x2_zero(load<v128>(hi, 48)), 0, 1, 4, 5);
    const phi = f32x4.mul(acos4(r, u), f32x4.splat(<f32>third));
    const pp = f32x4.mul(phi, phi);
    let c = f32x4.splat(<f32>(-1.0 / 3628800));
    c = f32x4.add(f32x4.mul(c, pp), f32x4.splat(<f32>(1.0 / 40320)));
    c = f32x4.add(f32x4.mul(c, pp), f32x4.splat(<f32>(-1.0 / 720)));
    c = f32x4.add(f32x4.mul(c, pp), f32x4.splat(<f32>(1.0 / 24)));
    c = f32x4.add(f32x4.mul(c, pp), f32x4.splat(-0.5));
    c = f32x4.add(f32x4.mul(c, pp), f32x4.splat(1.0));
    let sn = f32x4.splat(<f32>(-1.0 / 39916800));
    sn = f32x4.add(f32x4.mul(sn, pp), f32x4.splat(<f32>(1.0 / 362880)));
    sn = f32x4.add(f32x4.mul(sn, pp), f32x4.splat(<f32>(-1.0 / 5040)));
    sn = f32x4.add(f32x4.mul(sn, pp), f32x4.splat(<f32>(1.0 / 120)));
    sn = f32x4.add(f32x4.mul(sn, pp), f32x4.splat(<f32>(-1.0 / 6)));
    sn = f32x4.add(f32x4.mul(sn, pp), f32x4.splat(1.0));
    sn = f32x4.mul(sn, phi);
    const tp = f32x4.add(p, p);
    const hc = f32x4.mul(f32x4.splat(-0.5), c);
    const ss = f32x4.mul(f32x4.splat(<f32>0.8660254037844386), sn);
    // p == 0 in f32 (all eigenvalues equal to f32 precision): q, whatever phi is
    const flat = f32x4.eq(p, f32x4.splat(0));
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
  dst: usize, h00: usize, h01: usize, h02: usize, h11: usize, h12: usize, h22: usize,
  s00: f64, s01: f64, s02: f64, s11: f64, s12: f64, s22: f64,
): usize {
  const a00 = f64x2.mul(f64x2.promote_low_f32x4(v128.load64_zero(h00)), f64x2.splat(s00));
  const a01 = f64x2.mul(f64x2.promote_low_f32x4(v128.load64_zero(h01)), f64x2.splat(s01));
  const a02 = f64x2.mul(f64x2.promote_low_f32x4(v128.load64_zero(h02)), f64x2.splat(s02));
  const a11 = f64x2.mul(f64x2.promote_low_f32x4(v128.load64_zero(h11)), f64x2.splat(s11));
  const a12 = f64x2.mul(f64x2.promote_low_f32x4(v128.load64_zero(h12)), f64x2.splat(s12));
  const a22 = f64x2.mul(f64x2.promote_low_f32x4(v128.load64_zero(h22)), f64x2.splat(s22));
  const one = f64x2.splat(1.0);
  const p1 = f64x2.add(f64x2.add(f64x2.mul(a01, a01), f64x2.mul(a02, a02)), f64x2.mul(a12, a12));
  const q = f64x2.mul(f64x2.add(f64x2.add(a00, a11), a22), f64x2.splat(1.0 / 3.0));
  const b00 = f64x2.sub(a00, q), b11 = f64x2.sub(a11, q), b22 = f64x2.sub(a22, q);
  const p2 = f64x2.add(f64x2.add(f64x2.add(f64x2.mul(b00, b00), f64x2.mul(b11, b11)), f64x2.mul(b22, b22)), f64x2.mul(f64x2.splat(2.0), p1));
  const p = f64x2.sqrt(f64x2.mul(f64x2.max(p2, f64x2.splat(1e-300)), f64x2.splat(1.0 / 6.0)));
  // det(B / p) = det(B) / p^3
  const det = f64x2.add(
    f64x2.sub(
      f64x2.mul(b00, f64x2.sub(f64x2.mul(b11, b22), f64x2.mul(a12, a12))),
      f64x2.mul(a01, f64x2.sub(f64x2.mul(a01, b22), f64x2.mul(a12, a02))),
    ),
    f64x2.mul(a02, f64x2.sub(f64x2.mul(a01, a12), f64x2.mul(b11, a02))),
  );
  const r = f64x2.min(f64x2.max(f64x2.div(f64x2.mul(det, f64x2.splat(0.5)), f64x2.mul(p, f64x2.mul(p, p))), f64x2.splat(-1.0)), one);
  const u = f64x2.mul(f64x2.sub(one, f64x2.abs(r)), f64x2.splat(0.5));
  // p2 <= 1e-300: p underflows to 0 in f32, which marks the matrix as flat
  store<v128>(dst, q);
  store<v128>(dst, p, 16);
  store<v128>(dst, r, 32);
  store<v128>(dst, u, 48);
  return dst;
}

/**
 * acos(r) in f32x4 with u = (1 - |r|) / 2 given at full relative precision (musl's acosf
 * polynomial R(z) for asin: p / q of degrees 3 / 1; |r| <= 0.5: pi/2 - (r + r R(r^2)); else from
 * s = sqrt(u): 2 (s + s R(u)), or pi minus that for r < 0).
 */
// @ts-ignore: decorator
@inline
function acos4(r: v128, u: v128): v128 {
  const small = f32x4.le(f32x4.abs(r), f32x4.splat(0.5));
  const z = v128.bitselect(f32x4.mul(r, r), u, small);
  let pz = f32x4.splat(<f32>-8.6563630030e-03);
  pz = f32x4.add(f32x4.mul(pz, z), f32x4.splat(<f32>-4.2743422091e-02));
  pz = f32x4.add(f32x4.mul(pz, z), f32x4.splat(<f32>1.6666586697e-01));
  pz = f32x4.mul(pz, z);
  const qz = f32x4.add(f32x4.mul(z, f32x4.splat(<f32>-7.0662963390e-01)), f32x4.splat(1.0));
  const R = f32x4.div(pz, qz);
  const b1 = f32x4.sub(f32x4.splat(<f32>1.5707963267948966), f32x4.add(r, f32x4.mul(r, R)));
  const s = f32x4.sqrt(u);
  const t = f32x4.mul(f32x4.splat(2.0), f32x4.add(s, f32x4.mul(s, R)));
  const b2 = v128.bitselect(t, f32x4.sub(f32x4.splat(<f32>3.141592653589793), t), f32x4.gt(r, f32x4.splat(0)));
  return v128.bitselect(b1, b2, small);
}
