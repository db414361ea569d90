/**
 * A generative whole-map criterion for the affine's final polish (issue 19, stop 32): the EDS map
 * rendered into the scan's grey values at the candidate pose and compared with the slab by least
 * squares.
 *
 * - Each class's share of every EDS pixel is blurred by the scan's in-plane point spread (a
 *   Gaussian of sigma slab pixels, converted to EDS pixels at G's scale) by normalised convolution
 *   over the classified pixels (unclassified speckle, boundary defects and pixels off the sample are
 *   filled from their classified neighbours; the shares sum to 1 wherever they are defined).
 * - At a pose m, every slab pixel under the map (a mask given) is predicted as sum_k mu_k B_k(m^-1 x)
 *   with the per-class greys mu fitted in closed form by least squares over the overlap; the score
 *   is the share of the slab's grey variance that the rendering explains (R^2; the correlation ratio
 *   is the same quantity with unblurred shares), times the registration's overlap damping.
 * - sigma is measured on the slab: the one whose rendering explains it best at G.
 */
import { invertAffine2, type Affine2 } from '../coords';
import { blurNormalised } from './blurred-map';
import type { MovingImage } from './moving-image';
import { rowSpan } from './pose';
import { overlapPenalty } from './ratio-search';
import { solveLinear } from './solve-linear';
import type { Slab } from './types';

/** Candidate in-plane point-spread sigmas, slab pixels (the synthetic scans' PSF is 0.8 voxel). */
export const GENERATIVE_SIGMAS = [0.4, 0.6, 0.8, 1.0, 1.2, 1.5];

/** The class shares of the map blurred by sigma EDS pixels, one image per class (NaN where undefined). */
export function blurredShares(mov: MovingImage, sigmaEds: number): Float32Array[] {
  const n = mov.width * mov.height, out: Float32Array[] = [];
  for (let k = 0; k < mov.classes; k++) {
    const I = new Float32Array(n);
    for (let i = 0; i < n; i++) { const l = mov.labels[i]; I[i] = l === k ? 1 : l < mov.classes ? 0 : NaN; }
    out.push(sigmaEds > 0.05 ? blurNormalised(I, mov.width, mov.height, sigmaEds) : I);
  }
  return out;
}

export interface GenerativeFit {
  /** R^2 of the rendering (not damped) */
  r2: number;
  /** slab pixels compared */
  n: number;
  /** the fitted per-class greys */
  mu: number[];
}

/** R^2 of the rendering B (blurredShares) against the slab under the EDS -> slab affine m, over the mask's pixels. */
export function renderFit(slab: Slab, B: Float32Array[], mw: number, mh: number, m: Affine2, mask?: Uint8Array): GenerativeFit {
  const K = B.length, inv = invertAffine2(m), sw = slab.width;
  const A = new Float64Array(K * K), y = new Float64Array(K), b = new Float64Array(K);
  let n = 0, sg = 0, gg = 0;
  for (let v = 0; v < slab.height; v++) {
    const [lo, hi] = rowSpan(inv, v, mw, mh, sw);
    for (let u = lo; u <= hi; u++) {
      const g = slab.data[v * sw + u];
      if (g !== g || (mask && !mask[v * sw + u])) continue;
      const eu = inv[0] * u + inv[1] * v + inv[2], ev = inv[3] * u + inv[4] * v + inv[5];
      if (eu < 0 || ev < 0 || eu > mw - 1 || ev > mh - 1) continue;
      const iu = Math.min(mw - 2, Math.floor(eu)), iv = Math.min(mh - 2, Math.floor(ev)), fu = eu - iu, fv = ev - iv, i0 = iv * mw + iu;
      const w0 = (1 - fu) * (1 - fv), w1 = fu * (1 - fv), w2 = (1 - fu) * fv, w3 = fu * fv;
      let ok = true;
      for (let k = 0; k < K && ok; k++) {
        const Bk = B[k];
        const p = w0 * Bk[i0] + w1 * Bk[i0 + 1] + w2 * Bk[i0 + mw] + w3 * Bk[i0 + mw + 1];
        if (p !== p) ok = false;
        b[k] = p;
      }
      if (!ok) continue;
      n++; sg += g; gg += g * g;
      for (let i = 0; i < K; i++) {
        const bi = b[i];
        if (bi === 0) continue;
        y[i] += bi * g;
        for (let j = i; j < K; j++) A[i * K + j] += bi * b[j];
      }
    }
  }
  if (n < 16) return { r2: 0, n, mu: [] };
  // classes absent from the overlap: a tiny ridge keeps the solve defined (their mu do not matter)
  let tr = 0;
  for (let i = 0; i < K; i++) tr += A[i * K + i];
  const M = Array.from({ length: K }, (_, i) => Array.from({ length: K }, (_, j) => (i <= j ? A[i * K + j] : A[j * K + i]) + (i === j ? 1e-9 * tr : 0)));
  const mu = solveLinear(M, Array.from(y), 1e-300);
  if (!mu) return { r2: 0, n, mu: [] };
  let explained = 0;
  for (let i = 0; i < K; i++) explained += mu[i] * y[i];
  const tss = gg - (sg * sg) / n, rss = gg - explained;
  return { r2: tss > 0 ? 1 - rss / tss : 0, n, mu };
}

export interface GenerativeScore {
  score: (m: Affine2) => number;
  /** the point spread used, slab pixels */
  sigma: number;
  /** R^2 at G for each sigma tried */
  tried: { sigma: number; r2: number }[];
}

/**
 * The generative criterion on `slab` (already the surface slab the caller chose), the mask's pixels;
 * the damping at G's overlap as the registration's criterion (poseScore). sigma measured unless given.
 */
export function generativeScore(slab: Slab, mov: MovingImage, G: Affine2, mask?: Uint8Array, sigmaSlab?: number, extra?: Float32Array): GenerativeScore {
  const mw = mov.width, mh = mov.height;
  const scale = Math.sqrt(Math.abs(G[0] * G[4] - G[1] * G[3]));
  const tried: { sigma: number; r2: number }[] = [];
  let best = { sigma: sigmaSlab ?? GENERATIVE_SIGMAS[0], B: [] as Float32Array[], r2: -Infinity };
  for (const s of sigmaSlab === undefined ? GENERATIVE_SIGMAS : [sigmaSlab]) {
    const B = blurredShares(mov, s / scale);
    if (extra) B.push(blurNormalised(Float32Array.from(extra, (x, i) => (mov.labels[i] < mov.classes ? x : NaN)), mw, mh, s / scale));
    const r2 = renderFit(slab, B, mw, mh, G, mask).r2;
    tried.push({ sigma: s, r2 });
    if (r2 > best.r2) best = { sigma: s, B, r2 };
  }
  const B = best.B, expected = renderFit(slab, B, mw, mh, G, mask).n;
  return {
    score: (m) => {
      const f = renderFit(slab, B, mw, mh, m, mask);
      return f.r2 * overlapPenalty(f.n, expected);
    },
    sigma: best.sigma,
    tried,
  };
}
