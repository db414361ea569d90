/**
 * The linear part of a stitched map's global transform from the content within its fields (issue 19).
 * A stitched map is one shared linear part (the SEM's calibration: scale and rotation, the same in
 * every field) and a free translation per field (the stage's stitching error). The whole-map
 * similarity and the fields' layout (mosaic-layout.ts) read the scale and rotation from where the
 * fields sit, so stitching errors bias them (the 4 x 4 mosaic of bench register-distorted: the
 * similarity 1.44 % off in scale, the layout of 16 fields' shifts reads it to ±0.6 %). Here they come
 * from each field's own pixels instead: each field's pixels are scaled and rotated about the field's
 * own centre by one shared (s, w), each field's translation climbed again for it (from its measured
 * shift), and (s, w) climbs the correlation ratio summed over all the fields' pixels (each field
 * with its own class means). A stitching error moves a field, not its content's scale, so it cannot
 * bias this. On the 4 x 4 mosaic (true -1.44 %) it reads -1.55 %, jackknife se 0.30 %.
 * Measured, not kept: the translations held at the measured shifts (-0.25 %: a field's content
 * couples its translation with the scale about its centre); the fields' pixels up to their edge
 * (FIELD_INSET_PX 0: about half the error, -0.75 %, with the translations held at the truth).
 * mosaic-layout.ts takes it with the layout's estimate, measures the fields again under the new
 * global transform (refine-fields.ts), and alternates the two steps.
 */
import { composeAffine2, type Affine2 } from '../coords';
import type { MovingImage } from './moving-image';
import { partPixels } from './patch-shift';
import type { MeasuredField } from './refine-fields';
import type { FieldRect, Slab } from './types';

/** largest scale or rotation change climbed (each, per px) */
export const SHARED_LINEAR_MAX = 0.03;

/**
 * A field's pixels within this many EDS pixels of its edge are left out: scaled or moved, they
 * would sample the neighbouring field's labels (another stitching error) through the bilinear
 * weights, and pull the linear part back towards the similarity. (The same inset of 1-3 px in the
 * fields' own translation pass, refine-fields.ts, did not pay: 4 x 4 seed 20 0.269 -> 0.47-0.52 voxel
 * with the stop-28 layout.)
 */
export const FIELD_INSET_PX = 2;

/** One field's slab pixels: grey, and their EDS position under the field's translation, relative to the field's centre. */
export interface FieldPixels { g: Float32Array; x: Float32Array; y: Float32Array; cu: number; cv: number }

const centreOf = (f: FieldRect): [number, number] => [f.u0 + (f.width - 1) / 2, f.v0 + (f.height - 1) / 2];
/** G moved by d in EDS pixels: EDS pixel p goes where G takes p + d. */
const shifted = (G: Affine2, d: [number, number]): Affine2 => [G[0], G[1], G[2] + G[0] * d[0] + G[1] * d[1], G[3], G[4], G[5] + G[3] * d[0] + G[4] * d[1]];

/** The fields' slab pixels under G, each field at its own shift. */
export function fieldPixelSets(slab: Slab, G: Affine2, fields: (FieldRect & { shiftPx: [number, number] })[], insetPx = FIELD_INSET_PX): FieldPixels[] {
  return fields.map((f) => {
    const k = Math.min(insetPx, Math.floor(Math.min(f.width, f.height) / 4));
    const { g, pu, pv } = partPixels(slab, shifted(G, f.shiftPx), { u0: f.u0 + k, v0: f.v0 + k, width: f.width - 2 * k, height: f.height - 2 * k });
    const [cu, cv] = centreOf(f);
    return { g: Float32Array.from(g), x: Float32Array.from(pu, (u) => u - cu), y: Float32Array.from(pv, (v) => v - cv), cu, cv };
  });
}

/** The 2 x 2 linear part [a, b; c, d] = I + [s, -w; w, s] (a similarity's scale and rotation change). */
export const linearOf = (s: number, w: number): [number, number, number, number] => [1 + s, -w, w, 1 + s];

/** Within-class sum of squares (and the weight N) of one field's pixels at EDS position c_f + Ainv (p - c_f) - delta. */
export function fieldWithin(f: FieldPixels, L: { labels: Uint8Array; classes: number }, W: number, H: number, Ai: [number, number, number, number], du: number, dv: number, acc: Float64Array[]): [number, number] {
  const K = L.classes;
  const [n, s, q] = acc;
  n.fill(0); s.fill(0); q.fill(0);
  const ou = f.cu - du, ov = f.cv - dv;
  for (let i = 0; i < f.g.length; i++) {
    const eu = Math.min(W - 1, Math.max(0, ou + Ai[0] * f.x[i] + Ai[1] * f.y[i])), ev = Math.min(H - 1, Math.max(0, ov + Ai[2] * f.x[i] + Ai[3] * f.y[i]));
    const iu = Math.min(W - 2, Math.floor(eu)), iv = Math.min(H - 2, Math.floor(ev));
    const fu = eu - iu, fv = ev - iv, j0 = iv * W + iu, x = f.g[i];
    for (let c = 0; c < 4; c++) {
      const k = L.labels[j0 + (c & 1) + (c >> 1) * W], w = (c & 1 ? fu : 1 - fu) * (c >> 1 ? fv : 1 - fv);
      if (k >= K || w === 0) continue;
      n[k] += w; s[k] += w * x; q[k] += w * x * x;
    }
  }
  let within = 0, N = 0;
  for (let k = 0; k < K; k++) if (n[k] > 0) { N += n[k]; within += q[k] - (s[k] * s[k]) / n[k]; }
  return [within, N];
}

const inverse = (A: [number, number, number, number]): [number, number, number, number] => {
  const det = A[0] * A[3] - A[1] * A[2];
  return [A[3] / det, -A[1] / det, -A[2] / det, A[0] / det];
};

/** One field's best within-class sum of squares (and weight N) at the linear part A^-1, its translation climbed from 0 (up to 1.5 px). */
function fieldProfile(f: FieldPixels, L: { labels: Uint8Array; classes: number }, W: number, H: number, Ai: [number, number, number, number], acc: Float64Array[]): [number, number] {
  const at = (du: number, dv: number): [number, number, number] => { const [a, b] = fieldWithin(f, L, W, H, Ai, du, dv, acc); return [b >= 0.5 * f.g.length ? a / b : Infinity, a, b]; };
  let d: [number, number] = [0, 0], best = at(0, 0);
  for (const step of [0.12, 0.06, 0.03]) {
    let improved = true;
    while (improved) {
      improved = false;
      for (const [ku, kv] of [[1, 0], [-1, 0], [0, 1], [0, -1]]) {
        const q: [number, number] = [d[0] + ku * step, d[1] + kv * step];
        if (Math.hypot(q[0], q[1]) > 1.5) continue;
        const c = at(q[0], q[1]);
        if (c[0] < best[0]) { best = c; d = q; improved = true; }
      }
    }
  }
  return [best[1], best[2]];
}

/**
 * 1 - eta^2 summed over the fields (each with its own class means), as a mean squared misfit: every
 * field's pixels at EDS position c_f + A^-1 (p - c_f) - delta_f, where p is the pixel's EDS position
 * under the field's own translation, A the shared linear part and delta_f the field's translation
 * climbed again at this A: the profile of the criterion over the linear part, every field at its
 * best translation for it. (A field's content couples its translation with the scale about its
 * centre: on the 4 x 4 mosaic of bench register-distorted, translations held from the similarity
 * pulled the linear part back to it, -0.25 % against a true -1.44 %; profiled, -1.5 %.)
 * `perField` receives each field's within-class sum over the total weight.
 */
export function sharedLinearCost(sets: FieldPixels[], L: { labels: Uint8Array; classes: number }, W: number, H: number, A: [number, number, number, number], perField?: number[]): number {
  const Ai = inverse(A);
  const acc = [new Float64Array(L.classes), new Float64Array(L.classes), new Float64Array(L.classes)];
  let within = 0, N = 0, total = 0;
  const w = sets.map((f) => {
    total += f.g.length;
    const [a, b] = fieldProfile(f, L, W, H, Ai, acc);
    within += a; N += b;
    return a;
  });
  if (perField) w.forEach((a, i) => (perField[i] = a / N));
  return N >= 0.5 * total && N > 0 ? within / N : Infinity;
}

/** The shared (s, w) that minimises sharedLinearCost: a shrinking-step climb from (0, 0). */
export function climbSharedLinear(sets: FieldPixels[], L: { labels: Uint8Array; classes: number }, W: number, H: number): { s: number; w: number; cost0: number; cost: number } {
  const cost = (p: [number, number]) => sharedLinearCost(sets, L, W, H, linearOf(p[0], p[1]));
  let best: [number, number] = [0, 0];
  const cost0 = cost(best);
  let bestCost = cost0;
  for (const step of [0.004, 0.002, 0.001, 0.0005, 0.00025]) {
    let improved = true;
    while (improved) {
      improved = false;
      for (const [ks, kw] of [[1, 0], [-1, 0], [0, 1], [0, -1]]) {
        const q: [number, number] = [best[0] + ks * step, best[1] + kw * step];
        if (Math.abs(q[0]) > SHARED_LINEAR_MAX || Math.abs(q[1]) > SHARED_LINEAR_MAX) continue;
        const c = cost(q);
        if (c < bestCost) { best = q; bestCost = c; improved = true; }
      }
    }
  }
  return { s: best[0], w: best[1], cost0, cost: bestCost };
}

/** step of the stencil that reads each field's gradient and curvature about the climbed (s, w) */
export const STENCIL_STEP = 0.004;

/**
 * Standard error of the climbed (s, w) (each), by the jackknife over the fields: each field's own
 * gradient g_i and curvature H_i of the criterion at the optimum (a 3 x 3 stencil of STENCIL_STEP),
 * and the optimum without field i, theta + (H - H_i)^-1 g_i (one Newton step). Infinity when the
 * summed curvature is not positive.
 */
export function jackknifeSe(sets: FieldPixels[], L: { labels: Uint8Array; classes: number }, W: number, H: number, at: [number, number]): number {
  const h = STENCIL_STEP, n = sets.length;
  const c: number[][][] = [];
  for (let i = -1; i <= 1; i++) {
    c.push([]);
    for (let j = -1; j <= 1; j++) {
      const per: number[] = new Array(n).fill(0);
      sharedLinearCost(sets, L, W, H, linearOf(at[0] + i * h, at[1] + j * h), per);
      c[i + 1].push(per);
    }
  }
  const g = sets.map((_, k) => [(c[2][1][k] - c[0][1][k]) / (2 * h), (c[1][2][k] - c[1][0][k]) / (2 * h)]);
  const Hs = sets.map((_, k) => [
    (c[2][1][k] + c[0][1][k] - 2 * c[1][1][k]) / (h * h),
    (c[2][2][k] - c[2][0][k] - c[0][2][k] + c[0][0][k]) / (4 * h * h),
    (c[1][2][k] + c[1][0][k] - 2 * c[1][1][k]) / (h * h),
  ]);
  const T = Hs.reduce((a, x) => [a[0] + x[0], a[1] + x[1], a[2] + x[2]], [0, 0, 0]);
  const th = sets.map((_, k) => {
    const a = T[0] - Hs[k][0], b = T[1] - Hs[k][1], d = T[2] - Hs[k][2], det = a * d - b * b;
    if (!(a > 0 && det > 0)) return [NaN, NaN];
    return [(d * g[k][0] - b * g[k][1]) / det, (-b * g[k][0] + a * g[k][1]) / det];
  });
  if (th.some((t) => !Number.isFinite(t[0]) || !Number.isFinite(t[1]))) return Infinity;
  const m = [th.reduce((a, t) => a + t[0], 0) / n, th.reduce((a, t) => a + t[1], 0) / n];
  const v = th.reduce((a, t) => a + (t[0] - m[0]) ** 2 + (t[1] - m[1]) ** 2, 0) * ((n - 1) / n) / 2;
  return Math.sqrt(v);
}

/** G with the shared linear part A about `c` (EDS px): EDS pixel p goes where G takes c + A (p - c). */
export function withLinear(G: Affine2, A: [number, number, number, number], c: [number, number]): Affine2 {
  return composeAffine2(G, [A[0], A[1], c[0] - A[0] * c[0] - A[1] * c[1], A[2], A[3], c[1] - A[2] * c[0] - A[3] * c[1]]);
}

/** The shared linear part's estimate from the fields' content under G: (s, w), its jackknife standard error, the fields used. */
export interface SharedLinearEstimate { s: number; w: number; se: number; n: number }

/**
 * The shared (s, w) climbed from G with each field's translation profiled (sharedLinearCost), over
 * the fields that moved on their own match or stayed on a distinct match near 0 (not the fields
 * not placed, ambiguous, or placed by their neighbours: their translation is unknown); null with
 * fewer than 3 such fields. `slab` with its edge ring already left out (erodeSlabEdge).
 */
export function estimateSharedLinear(slab: Slab, mov: MovingImage, G: Affine2, measured: MeasuredField[], minOverlap = 0.3): SharedLinearEstimate | null {
  const use = measured.filter((f) => !f.unplaced && !f.ambiguous && f.overlap >= minOverlap && f.placedBy !== 'neighbours');
  if (use.length < 3) return null;
  const sets = fieldPixelSets(slab, G, use);
  const c = climbSharedLinear(sets, mov, mov.width, mov.height);
  return { s: c.s, w: c.w, se: jackknifeSe(sets, mov, mov.width, mov.height, [c.s, c.w]), n: use.length };
}
