// Fused MLP inference (dense -> ReLU -> ... -> dense -> softmax) on feature-major (planar) rows,
// with the weights of the trained TF.js model (packed by lib/classify/fused-mlp.ts). Included by
// features.ts so that it shares the feature kernels' memory: the features of a brick go straight
// from their planes into the network, with no copy into rows or tensors.
//
// Voxels are processed in tiles of TILE; every activation of a tile lives in a small
// feature-major scratch ([units][TILE] f32, in L1). Lanes of a f32x4 are 4 voxels; a dense layer
// accumulates 4 output units x 8 voxels at a time (8 vector accumulators), weight by weight.
//
// Built twice by wasm/build.mjs: features.wasm (SIMD) and features-relaxed.wasm (SIMD + relaxed
// SIMD), where the dense layers' multiply-adds are relaxed_madd: one fused multiply-add (FMA)
// instruction on CPUs that have it instead of a multiply and an add. The network's loop is bound
// by the instructions it issues, so that is ~0.8x its CPU time (measured); the sums differ from the
// unfused ones at float32 rounding (probabilities within 1e-6 of the SIMD build on a trained model,
// 2e-6 with random weights).

const TILE: i32 = 64;

/** acc + w x: fused (one rounding) in the relaxed-SIMD build where the CPU has FMA, else mul then add. */
// @ts-ignore: decorator
@inline function madd(w: v128, x: v128, acc: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(w, x, acc);
  return f32x4.add(acc, f32x4.mul(w, x));
}
const TB: usize = <usize>TILE << 2; // bytes of one unit's row in a tile

// Vector constants, each 4 times, loaded from memory where they are used: V8 (11.x) rebuilds a
// constant splat where it is used (2-3 instructions; one load here). Byte offsets F_*: 0, 1, -1,
// exp4's constants (-87, log2 e, 1/2, ln 2 high and low, its polynomial), then the i32 127.
const F_ZERO = 0, F_ONE = 16, F_MONE = 32, F_EXP = 48;
const KF = memory.data<f32>([
  0, 0, 0, 0, 1, 1, 1, 1, -1, -1, -1, -1,
  -87.0, -87.0, -87.0, -87.0,
  <f32>1.44269504088896341, <f32>1.44269504088896341, <f32>1.44269504088896341, <f32>1.44269504088896341,
  0.5, 0.5, 0.5, 0.5,
  0.693359375, 0.693359375, 0.693359375, 0.693359375,
  <f32>-2.12194440e-4, <f32>-2.12194440e-4, <f32>-2.12194440e-4, <f32>-2.12194440e-4,
  <f32>1.9875691500e-4, <f32>1.9875691500e-4, <f32>1.9875691500e-4, <f32>1.9875691500e-4,
  <f32>1.3981999507e-3, <f32>1.3981999507e-3, <f32>1.3981999507e-3, <f32>1.3981999507e-3,
  <f32>8.3334519073e-3, <f32>8.3334519073e-3, <f32>8.3334519073e-3, <f32>8.3334519073e-3,
  <f32>4.1665795894e-2, <f32>4.1665795894e-2, <f32>4.1665795894e-2, <f32>4.1665795894e-2,
  <f32>1.6666665459e-1, <f32>1.6666665459e-1, <f32>1.6666665459e-1, <f32>1.6666665459e-1,
  <f32>5.0000001201e-1, <f32>5.0000001201e-1, <f32>5.0000001201e-1, <f32>5.0000001201e-1,
], 16);
const KI = memory.data<i32>([127, 127, 127, 127], 16);
// round(255 p) of quantise4 in f64: 255, 1/2
const KD = memory.data<f64>([255.0, 255.0, 0.5, 0.5], 16);

/**
 * out[h][v] = act(b[h] + sum_f w[f][h] in[f][v]) for h < outPad (a multiple of 4), v < nv (a
 * multiple of 8). Packed weights: for each block of 4 units, inDim groups of 4 (w[f][h..h+3]), each
 * weight stored as the f32x4 of itself (plain vector loads instead of load-and-splat: 6-9 % less
 * time for the network, measured).
 */
function dense(inp: usize, inDim: i32, out: usize, outPad: i32, w: usize, b: usize, relu: bool, nv: i32): void {
  const zero = f32x4.splat(0);
  for (let h = 0; h < outPad; h += 4) {
    const wb: usize = w + ((<usize>h * <usize>inDim) << 4);
    const bv0 = v128.load32_splat(b + (<usize>h << 2));
    const bv1 = v128.load32_splat(b + (<usize>h << 2) + 4);
    const bv2 = v128.load32_splat(b + (<usize>h << 2) + 8);
    const bv3 = v128.load32_splat(b + (<usize>h << 2) + 12);
    const o0: usize = out + <usize>h * TB;
    for (let v = 0; v < nv; v += 8) {
      let a00 = bv0, a01 = bv0, a10 = bv1, a11 = bv1, a20 = bv2, a21 = bv2, a30 = bv3, a31 = bv3;
      let xp: usize = inp + (<usize>v << 2);
      let wp: usize = wb;
      for (let f = 0; f < inDim; f++) {
        const x0 = v128.load(xp);
        const x1 = v128.load(xp, 16);
        const w0 = v128.load(wp);
        const w1 = v128.load(wp, 16);
        const w2 = v128.load(wp, 32);
        const w3 = v128.load(wp, 48);
        a00 = madd(w0, x0, a00);
        a01 = madd(w0, x1, a01);
        a10 = madd(w1, x0, a10);
        a11 = madd(w1, x1, a11);
        a20 = madd(w2, x0, a20);
        a21 = madd(w2, x1, a21);
        a30 = madd(w3, x0, a30);
        a31 = madd(w3, x1, a31);
        xp += TB;
        wp += 64;
      }
      if (relu) {
        // pmax (a < 0 ? 0 : a): one maxps, where V8 builds max (NaN- and -0-exact) from ~8
        // instructions; the same values but -0 for -0, which every later step treats as 0
        a00 = f32x4.pmax(a00, zero); a01 = f32x4.pmax(a01, zero);
        a10 = f32x4.pmax(a10, zero); a11 = f32x4.pmax(a11, zero);
        a20 = f32x4.pmax(a20, zero); a21 = f32x4.pmax(a21, zero);
        a30 = f32x4.pmax(a30, zero); a31 = f32x4.pmax(a31, zero);
      }
      const o: usize = o0 + (<usize>v << 2);
      v128.store(o, a00); v128.store(o, a01, 16);
      v128.store(o + TB, a10); v128.store(o + TB, a11, 16);
      v128.store(o + 2 * TB, a20); v128.store(o + 2 * TB, a21, 16);
      v128.store(o + 3 * TB, a30); v128.store(o + 3 * TB, a31, 16);
    }
  }
}

/** round(255 clamp(p, 0, 1)) of 4 lanes (in f64, as the scalar code: exact round half up), as 4 bytes. */
// @ts-ignore: decorator
@inline function quantise4(p: v128): i32 {
  // min(1, max(0, p)) as pmin / pmax (one instruction each; the same for every p, NaN stays NaN)
  const c = f32x4.pmin(f32x4.pmax(p, v128.load(KF, F_ZERO)), v128.load(KF, F_ONE));
  const k = v128.load(KD), h = v128.load(KD, 16);
  const lo = i32x4.trunc_sat_f64x2_u_zero(f64x2.floor(f64x2.add(f64x2.mul(k, f64x2.promote_low_f32x4(c)), h)));
  const hi = i32x4.trunc_sat_f64x2_u_zero(f64x2.floor(f64x2.add(f64x2.mul(k, f64x2.promote_low_f32x4(i32x4.shuffle(c, c, 2, 3, 2, 3))), h)));
  const q = i32x4.shuffle(lo, hi, 0, 1, 4, 5);
  return i32x4.extract_lane(i8x16.narrow_i16x8_u(i16x8.narrow_i32x4_u(q, q), v128.load(KF, F_ZERO)), 0);
}

/** The outputs of the 4 voxels at lane v of the tile's probabilities L (voxel index i of the outputs). */
function outputs4(L: usize, nClasses: i32, v: i32, i0: i32, lut: usize, labels: usize, probsU8: usize, stride: i32, unc: usize): void {
  const i: usize = <usize>i0;
  const o: usize = <usize>v << 2;
  const zero = v128.load(KF, F_ZERO);
  let p1 = v128.load(KF, F_MONE), p2 = zero, lab = zero;
  for (let k = 0; k < nClasses; k++) {
    const p = v128.load(L + <usize>k * TB + o);
    if (probsU8) store<i32>(probsU8 + <usize>k * <usize>stride + i, quantise4(p));
    // if (p > p1) { p2 = p1 < 0 ? 0 : p1; p1 = p; b1 = k } else if (p > p2) p2 = p
    const gt = f32x4.gt(p, p1);
    const p1z = v128.bitselect(zero, p1, f32x4.lt(p1, zero));
    p2 = v128.bitselect(p1z, v128.bitselect(p, p2, f32x4.gt(p, p2)), gt);
    p1 = v128.bitselect(p, p1, gt);
    lab = v128.bitselect(i32x4.splat(<i32>load<u8>(lut + <usize>k)), lab, gt);
  }
  if (labels) store<i32>(labels + i, i32x4.extract_lane(i8x16.narrow_i16x8_u(i16x8.narrow_i32x4_u(lab, lab), zero), 0));
  if (unc) store<i32>(unc + i, quantise4(f32x4.sub(v128.load(KF, F_ONE), f32x4.sub(p1, p2))));
}

/** e^x for x <= 0 (Cephes expf: range reduction by ln 2, degree-6 polynomial; ~1 ulp). */
// @ts-ignore: decorator
@inline function exp4(x: v128): v128 {
  x = f32x4.pmax(x, v128.load(KF, F_EXP));
  const fx = f32x4.floor(f32x4.add(f32x4.mul(x, v128.load(KF, F_EXP + 16)), v128.load(KF, F_EXP + 32)));
  x = f32x4.sub(x, f32x4.mul(fx, v128.load(KF, F_EXP + 48)));
  x = f32x4.sub(x, f32x4.mul(fx, v128.load(KF, F_EXP + 64)));
  let y = v128.load(KF, F_EXP + 80);
  y = f32x4.add(f32x4.mul(y, x), v128.load(KF, F_EXP + 96));
  y = f32x4.add(f32x4.mul(y, x), v128.load(KF, F_EXP + 112));
  y = f32x4.add(f32x4.mul(y, x), v128.load(KF, F_EXP + 128));
  y = f32x4.add(f32x4.mul(y, x), v128.load(KF, F_EXP + 144));
  y = f32x4.add(f32x4.mul(y, x), v128.load(KF, F_EXP + 160));
  y = f32x4.add(f32x4.add(f32x4.mul(f32x4.mul(y, x), x), x), v128.load(KF, F_ONE));
  const pow2n = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(fx), v128.load(KI)), 23);
  return f32x4.mul(y, pow2n);
}

/**
 * Class probabilities of voxels [v0, v0 + count) of feature planes `planar` (feature f of voxel v
 * at planar + 4 (f n + v)), through the network described at `net`: nLayers records of 5 i32
 * (inDim, outPad, activation 0 linear / 1 relu / 2 softmax (last layer only), weights ptr, bias
 * ptr). Inputs are standardised first: (x - mean[f]) / std[f]. `scratch` holds 2 tiles of
 * maxUnits x TILE f32 plus one of nF x TILE. Outputs (0 = not wanted), voxel v at index v - v0:
 *   labels (u8): lut[argmax], probsU8 (u8, class k at + k * stride): round(255 p),
 *   unc (u8): round(255 (1 - (p1 - p2))), probsF32 (f32, voxel-major rows of nClasses).
 */
export function mlpPredict(
  planar: usize, n: i32, nF: i32, v0: i32, count: i32,
  mean: usize, std: usize, net: usize, nLayers: i32, maxUnits: i32, nClasses: i32, scratch: usize,
  lut: usize, labels: usize, probsU8: usize, stride: i32, unc: usize, probsF32: usize,
): void {
  const bufA: usize = scratch;
  const bufB: usize = scratch + <usize>maxUnits * TB;
  const bufX: usize = bufB + <usize>maxUnits * TB;
  for (let t0 = 0; t0 < count; t0 += TILE) {
    const cnt = min(TILE, count - t0);
    const nv = (cnt + 7) & ~7;
    const base = v0 + t0;
    // standardised inputs of the tile (lanes past the end: 0)
    for (let f = 0; f < nF; f++) {
      const src: usize = planar + ((<usize>f * <usize>n + <usize>base) << 2);
      const dst: usize = bufX + <usize>f * TB;
      const m = load<f32>(mean + (<usize>f << 2));
      const s = load<f32>(std + (<usize>f << 2));
      const mv = f32x4.splat(m), sv = f32x4.splat(s);
      let v = 0;
      for (; v + 4 <= cnt; v += 4) v128.store(dst + (<usize>v << 2), f32x4.div(f32x4.sub(v128.load(src + (<usize>v << 2)), mv), sv));
      for (; v < cnt; v++) store<f32>(dst + (<usize>v << 2), (load<f32>(src + (<usize>v << 2)) - m) / s);
      for (; v < nv; v++) store<f32>(dst + (<usize>v << 2), 0);
    }
    let inp: usize = bufX;
    let out: usize = bufA;
    let outPad = 0, act = 0;
    for (let l = 0; l < nLayers; l++) {
      const d: usize = net + <usize>l * 20;
      const inDim = load<i32>(d);
      outPad = load<i32>(d, 4);
      act = load<i32>(d, 8);
      dense(inp, inDim, out, outPad, <usize>load<i32>(d, 12), <usize>load<i32>(d, 16), act == 1, nv);
      inp = out;
      out = out == bufA ? bufB : bufA;
    }
    // inp: the last layer's outputs (logits); softmax over the nClasses real units, 4 voxels at once
    const L: usize = inp;
    if (act == 2) {
      for (let v = 0; v < nv; v += 4) {
        const o: usize = <usize>v << 2;
        let m = v128.load(L + o);
        for (let k = 1; k < nClasses; k++) m = f32x4.pmax(m, v128.load(L + <usize>k * TB + o));
        let s = v128.load(KF, F_ZERO);
        for (let k = 0; k < nClasses; k++) {
          const e = exp4(f32x4.sub(v128.load(L + <usize>k * TB + o), m));
          v128.store(L + <usize>k * TB + o, e);
          s = f32x4.add(s, e);
        }
        for (let k = 0; k < nClasses; k++) v128.store(L + <usize>k * TB + o, f32x4.div(v128.load(L + <usize>k * TB + o), s));
      }
    }
    // per voxel: arg max (first of equals), the two largest, quantised outputs; 4 voxels at a
    // time (the same operations lane by lane as the scalar loop below, which does the rest)
    const cnt4 = probsF32 ? 0 : cnt & ~3;
    for (let v = 0; v < cnt4; v += 4) outputs4(L, nClasses, v, t0 + v, lut, labels, probsU8, stride, unc);
    for (let v = cnt4; v < cnt; v++) {
      const i: usize = <usize>(t0 + v);
      let b1 = 0;
      let p1: f32 = -1, p2: f32 = 0;
      for (let k = 0; k < nClasses; k++) {
        const p = load<f32>(L + <usize>k * TB + (<usize>v << 2));
        if (probsF32) store<f32>(probsF32 + ((i * <usize>nClasses + <usize>k) << 2), p);
        if (probsU8) store<u8>(probsU8 + <usize>k * <usize>stride + i, <u8>floor(255.0 * <f64>min<f32>(1, max<f32>(0, p)) + 0.5));
        if (p > p1) {
          p2 = p1 < 0 ? 0 : p1;
          p1 = p;
          b1 = k;
        } else if (p > p2) p2 = p;
      }
      if (labels) store<u8>(labels + i, load<u8>(lut + <usize>b1));
      if (unc) store<u8>(unc + i, <u8>floor(255.0 * <f64>min<f32>(1, max<f32>(0, 1 - (p1 - p2))) + 0.5));
    }
  }
}
