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
    let eu = inv[0] * su0 + inv[1] * v + inv[2], ev = inv[3] * su0 + inv[4] * v + inv[5];
    for (let u = su0; u <= su1; u++, eu += inv[0], ev += inv[3]) {
      const g = slabGrey[v * sw + u];
      if (g !== g || eu < -0.5 || ev < -0.5 || eu > W - 0.5 || ev > H - 0.5) continue;
      if (slabMask && !slabMask[v * sw + u]) continue;
      const cu = Math.min(W - 1, Math.max(0, eu)), cv = Math.min(H - 1, Math.max(0, ev));
      const iu = Math.min(W - 2, Math.floor(cu)), iv = Math.min(H - 2, Math.floor(cv));
      const fu = cu - iu, fv = cv - iv;
      const i0 = iv * W + iu;
      for (let c = 0; c < 4; c++) {
        const k = lab[i0 + (c & 1) + (c >> 1) * W], w = (c & 1 ? fu : 1 - fu) * (c >> 1 ? fv : 1 - fv);
        if (k >= K || w === 0) continue;
        n[k] += w; s[k] += w * g; q[k] += w * g * g;
      }
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
