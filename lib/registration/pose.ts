/**
 * A similarity pose of the EDS map on the slab: slab = t + cT + s * R(theta) * Mx * (eds - cE),
 * where Mx mirrors u when `mirrored`, cE is the map centre and cT a reference point on the slab.
 * Also the direct (non-FFT) correlation-ratio score of a pose, used for the fine search.
 */
import type { Affine2 } from '../coords';
import type { MovingImage } from './moving-image';

export interface Pose {
  thetaDeg: number;
  mirrored: boolean;
  scale: number;
  /** slab position of the map centre */
  cx: number;
  cy: number;
}

export function poseToAffine(p: Pose, mw: number, mh: number): Affine2 {
  const t = (p.thetaDeg * Math.PI) / 180, c = Math.cos(t) * p.scale, s = Math.sin(t) * p.scale;
  const m = p.mirrored ? -1 : 1;
  const a = c * m, b = -s, d = s * m, e = c;
  const ex = (mw - 1) / 2, ey = (mh - 1) / 2;
  return [a, b, p.cx - a * ex - b * ey, d, e, p.cy - d * ex - e * ey];
}

/** One bilinear share w of slab grey g to class k (skipped for unclassified pixels and zero weights). */
function add(n: Float64Array, s: Float64Array, q: Float64Array, K: number, k: number, w: number, g: number): void {
  if (k >= K || w === 0) return;
  n[k] += w; s[k] += w * g; q[k] += w * g * g;
}

/** Slab columns [lo, hi] of a row whose map coordinate a*u + b can lie in [-0.5, size - 0.5], with a pixel of margin. */
function spanLo(a: number, b: number, size: number): number {
  if (a === 0) return b < -0.5 || b > size - 0.5 ? Infinity : -Infinity;
  return Math.floor(Math.min((-0.5 - b) / a, (size - 0.5 - b) / a)) - 1;
}
function spanHi(a: number, b: number, size: number): number {
  if (a === 0) return b < -0.5 || b > size - 0.5 ? -Infinity : Infinity;
  return Math.ceil(Math.max((-0.5 - b) / a, (size - 0.5 - b) / a)) + 1;
}

/**
 * The slab columns [lo, hi] of row v (within [0, sw - 1]) that can land on a W x H map under the
 * slab -> EDS affine inv, with a pixel of margin: the pixels outside are not visited (lo > hi when none).
 */
export function rowSpan(inv: Affine2, v: number, W: number, H: number, sw: number): [number, number] {
  const bu = inv[1] * v + inv[2], bv = inv[4] * v + inv[5];
  return [Math.max(0, spanLo(inv[0], bu, W), spanLo(inv[3], bv, H)), Math.min(sw - 1, spanHi(inv[0], bu, W), spanHi(inv[3], bv, H))];
}

/**
 * eta^2 of slab grey given EDS class over the slab pixels that land inside the map. Each slab
 * pixel is shared between the classes of its 4 nearest EDS pixels by bilinear weights, so the
 * score varies smoothly with the pose (nearest-neighbour lookup makes it piecewise constant and
 * stalls the hill climb of coarse-align.ts). slabGrey holds NaN outside the volume. Returns the
 * overlap in slab pixels. `slabMask` (optional, one byte per slab pixel) keeps only its non-zero
 * pixels: a fixed set (held-out halves of the map), which a pose cannot choose.
 */
export function scoreAffine(slabGrey: Float32Array, sw: number, sh: number, mov: MovingImage, inv: Affine2, slabMask?: Uint8Array): { score: number; overlap: number } {
  const K = mov.classes, W = mov.width, H = mov.height, lab = mov.labels;
  const n = new Float64Array(K), s = new Float64Array(K), q = new Float64Array(K);
  // only the slab rows/columns under the map's footprint (the forward map of its corners)
  const det = inv[0] * inv[4] - inv[1] * inv[3];
  const fa = inv[4] / det, fb = -inv[1] / det, fd = -inv[3] / det, fe = inv[0] / det;
  const fc = -(fa * inv[2] + fb * inv[5]), ff = -(fd * inv[2] + fe * inv[5]);
  let u0 = Infinity, u1 = -Infinity, v0 = Infinity, v1 = -Infinity;
  for (const [eu, ev] of [[-0.5, -0.5], [W - 0.5, -0.5], [-0.5, H - 0.5], [W - 0.5, H - 0.5]]) {
    const x = fa * eu + fb * ev + fc, y = fd * eu + fe * ev + ff;
    u0 = Math.min(u0, x); u1 = Math.max(u1, x); v0 = Math.min(v0, y); v1 = Math.max(v1, y);
  }
  const su0 = Math.max(0, Math.floor(u0) - 1), su1 = Math.min(sw - 1, Math.ceil(u1) + 1);
  const sv0 = Math.max(0, Math.floor(v0) - 1), sv1 = Math.min(sh - 1, Math.ceil(v1) + 1);
  for (let v = sv0; v <= sv1; v++) {
    // the columns of this row that can land on the map (a pixel of margin; the test below decides)
    const [lo, hi] = rowSpan(inv, v, W, H, sw);
    const ua = Math.max(su0, lo), ub = Math.min(su1, hi);
    let eu = inv[0] * ua + inv[1] * v + inv[2], ev = inv[3] * ua + inv[4] * v + inv[5];
    for (let u = ua; u <= ub; u++, eu += inv[0], ev += inv[3]) {
      const g = slabGrey[v * sw + u];
      if (g !== g || eu < -0.5 || ev < -0.5 || eu > W - 0.5 || ev > H - 0.5) continue;
      if (slabMask && !slabMask[v * sw + u]) continue;
      const cu = Math.min(W - 1, Math.max(0, eu)), cv = Math.min(H - 1, Math.max(0, ev));
      const iu = Math.min(W - 2, Math.floor(cu)), iv = Math.min(H - 2, Math.floor(cv));
      const fu = cu - iu, fv = cv - iv;
      const i0 = iv * W + iu;
      const k0 = lab[i0], k1 = lab[i0 + 1], k2 = lab[i0 + W], k3 = lab[i0 + W + 1];
      if (k0 === k1 && k0 === k2 && k0 === k3) {
        // inside a grain (most pixels): the four weights, which sum to 1, go to one class
        if (k0 < K) { n[k0] += 1; s[k0] += g; q[k0] += g * g; }
        continue;
      }
      add(n, s, q, K, k0, (1 - fu) * (1 - fv), g);
      add(n, s, q, K, k1, fu * (1 - fv), g);
      add(n, s, q, K, k2, (1 - fu) * fv, g);
      add(n, s, q, K, k3, fu * fv, g);
    }
  }
  let N = 0, S = 0, Q = 0, within = 0;
  for (let k = 0; k < K; k++) {
    N += n[k]; S += s[k]; Q += q[k];
    if (n[k] > 0) within += q[k] - (s[k] * s[k]) / n[k];
  }
  const total = Q - (S * S) / N;
  return { score: N > 0 && total > 0 ? 1 - within / total : 0, overlap: N };
}
