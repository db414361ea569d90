/**
 * Automatic model choice after the similarity stage (issue 19). Real EDS maps carry beam-scan
 * shear, anisotropic scale and, for stitched mosaics, per-field offsets that a similarity cannot
 * absorb. The map is cut into patches (~24 voxels) and each patch's local shift under the
 * similarity is measured (patch-shift.ts): they give the residual map, the least-squares start of
 * the affine, a leave-one-out residual of the similarity and affine fits (reported) and an F test
 * of the affine's two extra parameters against the patch-shift noise (estimated from the affine
 * fit's own residual). The affine is polished by a hill climb of the registration's own criterion
 * (overlap-damped correlation ratio) at a held area (affine-climb.ts): the similarity's, moved by
 * the patch shifts' own area change shrunk by its precision (heldArea, AREA_PRIOR), and kept only
 * when it is supported: the patch shifts need it (F >= 4) and the whole map agrees (a gain), or the
 * whole-map gain alone is large (a bar that falls as 1/sqrt of the map's pixels above 70 x 70,
 * wholeGainBar); and it stretches the map by less than ±10 % (no degenerate scale).
 * A kept affine then gets its own area and polish (affine-polish.ts: no prior there; the slab
 * extrapolated to the surface, the criterion's basin centre).
 * On a stitched map whose field layout is known, the field shifts (refine-fields.ts) are measured
 * first, so they do not pass for an affine; the patch residuals decide there.
 *
 * What limits 51-64 px maps (measured, issue 19: 1 % shear at 40 %, +-1 % and +2/-1 % stretch at
 * 45-50 % coverage stay 0.22-0.36 voxel): not the surface (the best 2D affine on the found slab is
 * 0.002-0.028 voxel from the truth) and not the climb (climbs started at the true transform end
 * 0.1-0.3 voxel away). Every criterion tried has its optimum that far off on these maps: the
 * correlation ratio with bilinear or 3x3-supersampled nearest classes, mutual information (16, 32,
 * 64 bins; it scores the truth above the climbed poses, but its own climb ends 0.2-0.5 off), least
 * squares against the class-mean map blurred like the CT (Gauss-Newton, free area and grey gain:
 * 0.13-0.35), slabs 0.5-1 voxel deeper, averaged or extrapolated to the surface, and patch shifts
 * fitted by least squares (0.14-0.76). Patch shifts by the correlation ratio separate rigid from
 * distorted maps better (rigid F 0.1-3.7 on 11 maps, none of SSD's 28.8) but took the 3D IoU case
 * of bench register-distorted from -0.011 to -0.024; a free area on an area-neutral overlap damping
 * (poseScore's damping penalises shrinking only) did not find the 1-2 % area changes either.
 */
import { composeAffine2, invertAffine2, type Affine2 } from '../coords';
import { throwIfAborted } from '../errors';
import { climbAffine, withDeterminant } from './affine-climb';
import { polishKeptAffine } from './affine-polish';
import type { MovingImage } from './moving-image';
import { measurePartShift, patchGrid, predictedGrey, type PartShift } from './patch-shift';
import { solveAugmented } from './solve-linear';
import type { ModelChoice, ResidualMap, Slab } from './types';
import { nextUnit } from './yield-unit';

/** A patch's measured shift (EDS pixels) at its centre (EDS pixels, relative to the map centre). */
export interface PatchShift { x: number; y: number; d: [number, number]; w: [number, number] }

type Kind = 'translation' | 'similarity' | 'affine';

/** Design rows of one patch for each component of d: d = X * params. */
function rows(kind: Kind, x: number, y: number): [number[], number[]] {
  if (kind === 'translation') return [[1, 0], [0, 1]];
  if (kind === 'similarity') return [[1, 0, x, -y], [0, 1, y, x]];
  return [[1, x, y, 0, 0, 0], [0, 0, 0, 1, x, y]];
}

/** Weighted least squares by normal equations and Gaussian elimination; null when singular. */
function solve(kind: Kind, pts: PatchShift[]): number[] | null {
  const k = kind === 'translation' ? 2 : kind === 'similarity' ? 4 : 6;
  const A = Array.from({ length: k }, () => new Float64Array(k + 1));
  for (const p of pts) {
    const [ru, rv] = rows(kind, p.x, p.y);
    for (const [r, t, w] of [[ru, p.d[0], p.w[0]], [rv, p.d[1], p.w[1]]] as const) {
      for (let i = 0; i < k; i++) {
        for (let j = 0; j < k; j++) A[i][j] += w * r[i] * r[j];
        A[i][k] += w * r[i] * t;
      }
    }
  }
  return solveAugmented(A, 1e-9);
}

const predict = (kind: Kind, q: number[], x: number, y: number): [number, number] => {
  const [ru, rv] = rows(kind, x, y);
  return [ru.reduce((s, r, i) => s + r * q[i], 0), rv.reduce((s, r, i) => s + r * q[i], 0)];
};

/**
 * Leave-one-out residual (EDS pixels) of a model of the patch shifts, RMS weighted by each patch's
 * precision; null with too few patches.
 */
export function heldOutRms(kind: Kind, pts: PatchShift[]): number | null {
  const need = kind === 'translation' ? 3 : kind === 'similarity' ? 5 : 7;
  if (pts.length < need) return null;
  let s = 0, W = 0;
  for (let i = 0; i < pts.length; i++) {
    const q = solve(kind, pts.filter((_, j) => j !== i));
    if (!q) return null;
    const [pu, pv] = predict(kind, q, pts[i].x, pts[i].y);
    s += pts[i].w[0] * (pts[i].d[0] - pu) ** 2 + pts[i].w[1] * (pts[i].d[1] - pv) ** 2;
    W += pts[i].w[0] + pts[i].w[1];
  }
  return W > 0 ? Math.sqrt((2 * s) / W) : null;
}

/** Weighted residual sum of squares of a model of the patch shifts; null when it cannot be fitted. */
function rss(kind: Kind, pts: PatchShift[]): number | null {
  const q = solve(kind, pts);
  if (!q) return null;
  let s = 0;
  for (const p of pts) {
    const [pu, pv] = predict(kind, q, p.x, p.y);
    s += p.w[0] * (p.d[0] - pu) ** 2 + p.w[1] * (p.d[1] - pv) ** 2;
  }
  return s;
}

/**
 * F statistic of the affine's two extra parameters against the similarity on the patch shifts:
 * (drop of the weighted residual per extra parameter) / (affine residual per degree of freedom),
 * so the patch-shift noise is estimated from the data; null with fewer than 8 patches.
 */
export function patchF(pts: PatchShift[]): number | null {
  if (pts.length < 8) return null;
  const s = rss('similarity', pts), a = rss('affine', pts);
  if (s === null || a === null) return null;
  return ((s - a) / 2) / (Math.max(a, 1e-12) / (2 * pts.length - 6));
}

/**
 * Patches whose shift disagrees with an affine fit of the others by more than 3 of its standard
 * deviations (and 1 px) are dropped: a patch on one grain can lock onto the wrong boundary.
 */
function dropOutliers(pts: PatchShift[]): PatchShift[] {
  let keep = pts;
  for (let round = 0; round < 3 && keep.length >= 8; round++) {
    const q = solve('affine', keep);
    if (!q) break;
    const next = keep.filter((p) => {
      const [pu, pv] = predict('affine', q, p.x, p.y);
      const ru = p.d[0] - pu, rv = p.d[1] - pv;
      return Math.hypot(ru, rv) < 1 || ru * ru * p.w[0] + rv * rv * p.w[1] < 18;
    });
    if (next.length === keep.length) break;
    keep = next;
  }
  return keep;
}

/** The correction C(p) = p + d(p) as an EDS -> EDS affine, for a model fitted about the centre (cu, cv). */
function correctionAffine(kind: Kind, q: number[], cu: number, cv: number): Affine2 {
  const [t0, t1] = predict(kind, q, 0, 0);
  const [ax, ay] = predict(kind, q, 1, 0), [bx, by] = predict(kind, q, 0, 1);
  const m: Affine2 = [1 + ax - t0, bx - t0, 0, ay - t1, 1 + by - t1, 0];
  m[2] = cu + t0 - m[0] * cu - m[1] * cv;
  m[5] = cv + t1 - m[3] * cu - m[4] * cv;
  return m;
}

/** Singular values of a 2x2 linear part. */
export function singularValues(m: Affine2): [number, number] {
  const [a, b, , c, d] = m;
  const s1 = a * a + b * b + c * c + d * d, s2 = Math.sqrt((a * a + b * b - c * c - d * d) ** 2 + 4 * (a * c + b * d) ** 2);
  return [Math.sqrt((s1 + s2) / 2), Math.sqrt(Math.max(0, (s1 - s2) / 2))];
}

/** search range of a patch's shift, EDS pixels: wider ranges found spurious matches on one-grain patches */
const MAX_SHIFT = 2.5;

export interface PatchMeasure {
  pts: PatchShift[];
  grid: ReturnType<typeof patchGrid>;
  /**
   * per patch, its whole shift under G (field shift included); null where it had too little overlap
   * or no reliable match (a shift at the edge of the search, or a standard deviation over 0.5 px:
   * a patch inside one grain has nothing to align)
   */
  shifts: (PartShift | null)[];
  P: Float32Array;
}

/**
 * Patch shifts under the pose G (EDS pixels), patches of ~24 voxels. With `fieldShift`, each patch
 * is measured under G moved by its field's shift, and `pts` hold what is left after it.
 */
export function measurePatches(slab: Slab, mov: MovingImage, G: Affine2, signal?: AbortSignal, fieldShift?: (u: number, v: number) => [number, number]): PatchMeasure {
  const scale = Math.sqrt(Math.abs(G[0] * G[4] - G[1] * G[3]));
  // ~24 voxels (16 gave a noise floor of 0.6 voxel on a registration 0.05 voxel off, 24 gave 0.35),
  // but at least 4 x 4 patches on a small map (the affine's least-squares start needs 7 or more)
  const grid = patchGrid(mov.width, mov.height, Math.max(6, Math.min(Math.round(24 / scale), Math.floor(Math.min(mov.width, mov.height) / 4))));
  const P = predictedGrey(slab, mov, G);
  const cu = (mov.width - 1) / 2, cv = (mov.height - 1) / 2;
  const pts: PatchShift[] = [];
  const shifts = grid.boxes.map((b) => {
    throwIfAborted(signal);
    const x = b.u0 + (b.width - 1) / 2, y = b.v0 + (b.height - 1) / 2;
    const f = fieldShift?.(x, y) ?? [0, 0];
    const Gf = composeAffine2(G, [1, 0, f[0], 0, 1, f[1]]);
    const s = measurePartShift(slab, P, mov.width, mov.height, Gf, b, { maxShift: MAX_SHIFT });
    // a shift at the edge of the search is a patch that found no match
    if (!s || Math.hypot(s.shift[0], s.shift[1]) >= MAX_SHIFT - 0.25 || Math.min(...s.weight) < 4) return null;
    pts.push({ x: x - cu, y: y - cv, d: s.shift, w: s.weight });
    return { ...s, shift: [s.shift[0] + f[0], s.shift[1] + f[1]] as [number, number] };
  });
  return { pts: dropOutliers(pts), grid, shifts, P };
}

/**
 * Residual map of a model: each patch's measured shift minus the model's correction at the patch
 * centre (both relative to the similarity G the shifts were measured under), in voxels.
 */
export function residualMap(m: PatchMeasure, G: Affine2, model: Affine2, scale: number, fieldShift?: (u: number, v: number) => [number, number]): ResidualMap {
  const C = composeAffine2(invertAffine2(G), model);
  const misfitVox = m.shifts.map((s, i) => {
    if (!s) return null;
    const b = m.grid.boxes[i];
    const u = b.u0 + (b.width - 1) / 2, v = b.v0 + (b.height - 1) / 2;
    const f = fieldShift?.(u, v) ?? [0, 0];
    const du = C[0] * (u + f[0]) + C[1] * (v + f[1]) + C[2] - u, dv = C[3] * (u + f[0]) + C[4] * (v + f[1]) + C[5] - v;
    return Math.hypot(s.shift[0] - du, s.shift[1] - dv) * scale;
  });
  return { cols: m.grid.cols, rows: m.grid.rows, patchPx: m.grid.patchPx, misfitVox };
}

/** The registration's whole-map criterion (overlap-damped eta^2, higher is better), on the pixels of a mask when given. */
export type ScoreOn = (slabMask?: Uint8Array, ref?: Affine2) => (m: Affine2) => number;

/**
 * Evidence an affine must bring. Measured on the synthetic sandstone (24 x 128 x 128, 40-100 %
 * coverage, 8 rigid and 10 distorted maps): the patch shifts' F statistic of the two extra
 * parameters was 0.1-3.1 on rigid maps and 4.6-69 on maps with 1-3 % shear or stretch that the
 * affine fits better, except where the similarity's free scale took most of a one-axis stretch;
 * the whole-map eta^2 gain of the area-keeping affine was 0.0007-0.0083 on rigid maps and
 * 0.018-0.084 on 2-3 % distortions. The checkerboard split-half gain (fit on one half, score on the
 * other) rejected two distorted maps the affine fits better (3 % shear and 3 % stretch at 40 %
 * coverage: halves of a 51-pixel map hold too little), so it is reported, not required.
 */
const F_MIN = 4, F_GAIN = 0.003, WHOLE_GAIN = 0.02;

/**
 * The whole-map gain bar, scaled by the gain's noise: WHOLE_GAIN on maps up to 70 x 70 pixels, then
 * WHOLE_GAIN_PX / sqrt(pixels) (a gain is a mean over the map's pixels, its scatter between poses
 * falls as 1/sqrt(N)). Measured (issue 19, docs/registration-models.md "affine keep decision"): the
 * whole-map gain times sqrt(map pixels) read 0.02-1.04 on 20 rigid maps (51-183 px, 40-100 %
 * coverage; the highest, 1.04, on a 183 px map at 100 %) and 1.98 on the held-out 1 % stretch at
 * 100 % coverage (seed 38), which the F test (3.1) missed; 1.4 lies between. Up to 70 x 70 pixels
 * the bar is today's WHOLE_GAIN (1.4 / 64 = 0.022), so small maps are judged as before.
 */
const WHOLE_GAIN_PX = 1.4;
export const wholeGainBar = (pixels: number) => Math.min(WHOLE_GAIN, WHOLE_GAIN_PX / Math.sqrt(Math.max(1, pixels)));

/**
 * The area of the candidate the keep decision is made on (a kept affine gets its own, without this
 * prior: affine-polish.ts). The whole-map criterion cannot set it: climbed with a free area from the true
 * transform it grows rigid maps by 0.55-1.18 % (the CT's blur and the EDS map's boundary defects;
 * docs/registration-models.md), so the climb holds an area. That area is the similarity's moved by
 * the patch shifts' own least-squares area change a, shrunk by its precision towards 0:
 * w = se^-2 / (se^-2 + AREA_PRIOR^-2), se from a leave-one-out jackknife over the patches. On the
 * 160-px maps of bench register-distorted iou the patches read a = +0.81 ± 0.39 % (truth +1.00 %)
 * and -0.48 ± 0.36 % (truth -0.38 %); on 128-px maps with no area change, -1.0 to +0.8 % at
 * se 0.24-1.6 %. AREA_PRIOR 0.5 % was chosen among 0.5 %, 1 % and no shrinkage on those 9 maps
 * (the distorted maps the affine is kept on): seed 12's map 0.267 -> 0.138 voxel, seed 11's 0.145
 * -> 0.101, the 128-px maps +0.00 to +0.03 (0.5 %) against +0.01 to +0.06 (1 %).
 */
export const AREA_PRIOR = 0.005;

/** Relative area change of the patch shifts' least-squares affine and its jackknife standard error; null with < 8 patches. */
export function patchAreaChange(pts: PatchShift[]): { a: number; se: number } | null {
  if (pts.length < 8) return null;
  const area = (p: PatchShift[]) => {
    const q = solve('affine', p);
    if (!q) return null;
    const C = correctionAffine('affine', q, 0, 0);
    return C[0] * C[4] - C[1] * C[3] - 1;
  };
  const a = area(pts);
  if (a === null) return null;
  const jk: number[] = [];
  for (let i = 0; i < pts.length; i++) {
    const x = area(pts.filter((_, j) => j !== i));
    if (x !== null) jk.push(x);
  }
  const n = jk.length, mean = jk.reduce((s, x) => s + x, 0) / n;
  const se = Math.sqrt(((n - 1) / n) * jk.reduce((s, x) => s + (x - mean) ** 2, 0));
  return { a, se };
}

/** The area the affine holds: G's, moved by the patch shifts' area change shrunk by its precision (AREA_PRIOR). */
function heldArea(pts: PatchShift[], G: Affine2, mw: number, mh: number): { area: Affine2; change: number } {
  const pa = patchAreaChange(pts);
  if (!pa || !(pa.se > 0)) return { area: G, change: 0 };
  const w = pa.se ** -2 / (pa.se ** -2 + AREA_PRIOR ** -2), change = w * pa.a;
  return { area: withDeterminant(G, (G[0] * G[4] - G[1] * G[3]) * (1 + change), (mw - 1) / 2, (mh - 1) / 2), change };
}

/** The patch shifts' least-squares affine, as an EDS -> slab transform under G; null with < 7 patches or when singular. */
export function lsAffineStart(m: Pick<PatchMeasure, 'pts'>, G: Affine2, mw: number, mh: number): Affine2 | null {
  const q = m.pts.length >= 7 ? solve('affine', m.pts) : null;
  return q ? composeAffine2(G, correctionAffine('affine', q, (mw - 1) / 2, (mh - 1) / 2)) : null;
}

export interface ChooseAffineResult {
  affine?: Affine2;
  keep: boolean;
  choice: Omit<ModelChoice, 'requested' | 'kept'> & { reason: string };
}

/**
 * Checkerboard halves of the patch grid as slab-pixel masks, fixed under G: a mask in map pixels
 * would let a pose choose which boundary pixels it is scored on (and it did: the half fits overfit).
 */
function halves(m: PatchMeasure, G: Affine2, sw: number, sh: number): [Uint8Array, Uint8Array] {
  const a = new Uint8Array(sw * sh), b = new Uint8Array(sw * sh);
  const inv = invertAffine2(G), [pw, ph] = m.grid.patchPx;
  for (let v = 0; v < sh; v++) for (let u = 0; u < sw; u++) {
    const c = Math.floor((inv[0] * u + inv[1] * v + inv[2] + 0.5) / pw), r = Math.floor((inv[3] * u + inv[4] * v + inv[5] + 0.5) / ph);
    if (c < 0 || r < 0 || c >= m.grid.cols || r >= m.grid.rows) continue;
    ((c + r) % 2 ? b : a)[v * sw + u] = 1;
  }
  return [a, b];
}

export interface JudgeOptions {
  signal?: AbortSignal;
  fieldsFirst?: boolean;
  slabSize: [number, number];
  /** the slab and the map: a kept (or requested) affine is then polished by affine-polish.ts */
  images?: { slab: Slab; mov: MovingImage };
  /** the affine is requested: polish it even when it is not kept */
  requested?: boolean;
}

/**
 * Fit and judge the affine against the similarity G. Evidence: the patch shifts' F test, the
 * whole-map gain of the polished affine, and (reported only) the split-half test (affine climbed on
 * one checkerboard half of the map, eta^2 gain over G on the other half, both ways) and the
 * leave-one-out residual of the patch shifts. With `fieldsFirst` (a stitched map whose field shifts
 * were taken out of the patches) the whole-map criterion does not see the field shifts, so the
 * affine is the least-squares fit to the patches and the patch residuals decide.
 */
export async function judgeAffine(m: PatchMeasure, G: Affine2, scoreOn: ScoreOn, mw: number, mh: number, o: JudgeOptions): Promise<ChooseAffineResult> {
  const scale = Math.sqrt(Math.abs(G[0] * G[4] - G[1] * G[3]));
  const simRms = heldOutRms('similarity', m.pts), affRms = heldOutRms('affine', m.pts);
  const heldOutRmsVox = { similarity: simRms === null ? null : simRms * scale, affine: affRms === null ? null : affRms * scale, fields: null };
  const q = lsAffineStart(m, G, mw, mh);
  const start = q ?? G;
  const fmt = (x: number | null) => (x === null ? 'n/a' : (x * scale).toFixed(2));
  const F = patchF(m.pts);
  const evidence = `held-out patch residual ${fmt(simRms)} voxel (similarity) vs ${fmt(affRms)} (affine) over ${m.pts.length} patches, F ${F === null ? 'n/a' : F.toFixed(1)}`;
  const base = { patches: m.pts.length, heldOutRmsVox };
  if (o.fieldsFirst) {
    const C = composeAffine2(invertAffine2(G), start);
    const sv = singularValues(C);
    const keep = q !== null && simRms !== null && affRms !== null && affRms < 0.8 * simRms && sv[0] <= 1.1 && sv[1] >= 0.9;
    return { affine: q ? start : undefined, keep, choice: { ...base, affineStretch: sv, reason: `${keep ? 'affine' : 'similarity'}: ${evidence}` } };
  }
  const [a, b] = halves(m, G, o.slabSize[0], o.slabSize[1]);
  // each climb and the polish after a turn of the event loop: a Cancel lands between them (yield-unit.ts)
  const gains: number[] = [];
  for (const [fit, held] of [[a, b], [b, a]]) {
    await nextUnit(o.signal);
    const f = climbAffine(scoreOn(fit, G), G, mw, mh, { signal: o.signal }).edsToSlab;
    const s = scoreOn(held, G);
    gains.push(s(f) - s(G));
  }
  const heldOutGain = gains as [number, number];
  const score = scoreOn();
  // from the similarity, and from the patches' least-squares affine when there is one: the better
  const held = heldArea(m.pts, G, mw, mh);
  await nextUnit(o.signal);
  const fromG = climbAffine(score, G, mw, mh, { signal: o.signal, area: held.area });
  if (q) await nextUnit(o.signal);
  const fromLs = q ? climbAffine(score, start, mw, mh, { signal: o.signal, area: held.area }) : fromG;
  const polished = fromLs.score > fromG.score ? fromLs : fromG;
  const sv = singularValues(composeAffine2(invertAffine2(G), polished.edsToSlab));
  const pct = (x: number) => `${((x - 1) * 100).toFixed(1)} %`;
  const split = `split-half eta^2 gain ${heldOutGain.map((x) => x.toFixed(4)).join(' / ')}, whole-map gain ${(polished.score - score(G)).toFixed(4)}, area ${held.change >= 0 ? '+' : ''}${(100 * held.change).toFixed(2)} % (patch shifts)`;
  const gain = polished.score - score(G), bar = wholeGainBar(mw * mh);
  let reason: string, keep = false;
  if (sv[0] > 1.1 || sv[1] < 0.9) reason = `similarity: the affine would stretch the map by ${pct(sv[0])} / ${pct(sv[1])} (degenerate, beyond ±10 %); ${evidence}`;
  else if (F !== null && F >= F_MIN && gain >= F_GAIN) { keep = true; reason = `affine: the patch shifts need it (F ${F.toFixed(1)} >= ${F_MIN}) and the whole map agrees (${split}); ${evidence}; stretch ${pct(sv[0])} / ${pct(sv[1])}`; }
  else if (gain >= bar) { keep = true; reason = `affine: it explains the whole map clearly better (gain >= ${bar.toFixed(4)} for ${mw} x ${mh} pixels; ${split}); ${evidence}; stretch ${pct(sv[0])} / ${pct(sv[1])}`; }
  else reason = `similarity: the affine is not supported (patch-shift F ${F === null ? 'n/a' : F.toFixed(1)} < ${F_MIN} or whole-map gain < ${F_GAIN}, and whole-map gain < ${bar.toFixed(4)} for ${mw} x ${mh} pixels; ${split}; ${evidence})`;
  // the kept affine's own area and polish (affine-polish.ts); the decision above is made on the candidate at the held area
  if ((keep || o.requested) && o.images) {
    await nextUnit(o.signal);
    const p = polishKeptAffine(o.images.slab, o.images.mov, G, polished.edsToSlab, q, patchAreaChange(m.pts), o.signal);
    const psv = singularValues(composeAffine2(invertAffine2(G), p.edsToSlab));
    if (psv[0] <= 1.1 && psv[1] >= 0.9) {
      const sign = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(2)} %`;
      reason += `; polished at area ${sign(p.area.used)} (mean of the patch shifts' ${p.area.patches === null ? 'n/a' : sign(p.area.patches)} and the basin centre's ${sign(p.area.basin)}), ${p.criterion.kind === 'ratio' ? "the correlation ratio's basin centre" : `the basin centre of the map rendered like the scan (class greys and the map's BSE, blurred by ${p.criterion.sigma} voxel)`} on the slab ${p.extrapolated ? 'extrapolated to the surface' : 'as sampled (no deeper slab to extrapolate from)'}; polished gain ${p.gain.toFixed(4)}; stretch ${pct(psv[0])} / ${pct(psv[1])}`;
      return { affine: p.edsToSlab, keep, choice: { ...base, heldOutGain, affineStretch: [psv[0], psv[1]], reason } };
    }
  }
  return { affine: polished.edsToSlab, keep, choice: { ...base, heldOutGain, affineStretch: [sv[0], sv[1]], reason } };
}
