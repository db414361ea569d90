/**
 * The kept affine's final polish (issue 19). choose-model.ts decides whether a map needs the affine
 * on a candidate climbed at a held area; once kept, this step sets the area and polishes the affine.
 *
 * - **The slab extrapolated to the surface** (stop 30). The CT's point spread (~0.8 voxel) mixes
 *   into the slab on the plane the rock down to ~1.5 voxel below it, weighted towards a mean depth
 *   of ~0.65 voxel. Grain boundaries are inclined, so each one shows in the slab where it lies that
 *   deep, not where the EDS map shows it on the surface: every boundary pulls the criterion's
 *   optimum its own way ("the content's scatter" of stop 29). With the slab half a voxel deeper
 *   (`slab.below`, extract-slab.ts), S + ALPHA (S - S_below) (ALPHA 1) weights the rock by a
 *   profile whose mean depth is ~0.04 voxel (a linear extrapolation of each pixel's grey in depth):
 *   the content is taken at the surface, at the price of ~2x the noise. Measured (docs/
 *   registration-models.md, stop 30): the criterion's basin centre at the true area 0.105 -> 0.090
 *   voxel mean over 26 maps (20 closer, 5 farther); the whole polish on the same maps 0.117 -> 0.095,
 *   over 0.15: 7 -> 2; on 9 maps made afterwards 0.147 -> 0.117. Without `below` (a caller that gave
 *   no deeper slab) the slab is used as it is.
 * - **The basin's centre instead of a climb's end** (basin-centre.ts): the criterion is rough at a
 *   tenth of a pixel, and hill climbs from different starts ended with errors up to 0.08 voxel apart.
 * - **The area** is the mean of two estimates with different errors: the patch shifts' own
 *   least-squares area change (patchAreaChange) and the centre of the criterion's basin with the
 *   area free (six modes), about the kept candidate. No prior and no fitted constant. (Stop 28's
 *   free climb ended near its start: on the four maps whose area differs from the similarity's by
 *   0.74-1.35 % it read 20-82 % of the change, s15 +0.20 of +1.00 %, s78 -0.53 of -1.35 %; the basin
 *   on the extrapolated slab +0.56 and -0.61 %.) Stop 31: the overlap
 *   damping's kink at G's area lifts that basin's area (its samples reach ±1-2 % area); without the
 *   damping it reads nearer the truth on shrinking maps, but no rule made with it kept every passing
 *   map under 0.15 voxel (docs/registration-models.md, stop 31).
 * - **The criterion** is the registration's (the overlap-damped correlation ratio), on the slab
 *   without its outermost pixel ring (EDGE_ERODE_PX: slab pixels at the volume's edge are
 *   interpolated against its boundary; stop 29). Stop 28's second criterion (the map rendered like
 *   the slab, blurred-map.ts) is no longer averaged in: on the extrapolated slab it added error
 *   (26 maps: 0.098 with it, 0.095 without).
 * - **With the map's BSE companion** (`mov.bse`, stop 32): the climbs and the basin at that area run
 *   on the map rendered like the scan instead (generative-score.ts: per-class greys and the BSE,
 *   blurred by the point spread measured on the slab, least squares against the extrapolated slab).
 *   What held the correlation ratio's optimum 0.1-0.27 voxel off on the small maps is the map's own
 *   content, not the scan: scanned without noise its optimum at the true area moved little (s99
 *   0.272 -> 0.233, s35 0.167 -> 0.164), with the map's boundary and speckle defects left out it moved
 *   to 0.127 / 0.058; the class map says where a boundary is only to the pixel, the BSE (a mean over
 *   the pixel's footprint) to a fraction of it. The rendered map alone (no BSE) was worse than the
 *   ratio (47 maps at the true area: 0.100 against 0.089). Measured at the area the polish uses, on
 *   the 35 kept affines: 0.100 -> 0.083 mean, 23 better and 6 worse by > 0.005 (3 % shear 40 %
 *   0.085 -> 0.145), over 0.15: 3 -> 2 (s93 0.151: its area; s99 0.265 -> 0.195). docs/registration-
 *   models.md, stop 32. Without a BSE (or one of another size) the correlation ratio, as before.
 */
import { invertAffine2, type Affine2 } from '../coords';
import { throwIfAborted } from '../errors';
import { climbAffine, withDeterminant } from './affine-climb';
import { basinCentre } from './basin-centre';
import type { SlabWithBelow } from './extract-slab';
import type { MovingImage } from './moving-image';
import { scoreAffine } from './pose';
import { EDGE_ERODE_PX, erodeSlabEdge } from './refine-fields';
import { generativeScore } from './generative-score';
import { poseScore } from './refine-pose';
import type { Slab } from './types';

const det = (m: Affine2) => m[0] * m[4] - m[1] * m[3];

/** How much deeper `slab.below` is sampled (voxels along the normal): register-eds.ts asks extract-slab.ts for it. */
export const BELOW_VOX = 0.5;
/** The extrapolation S + ALPHA (S - S_below): ALPHA 1 with BELOW_VOX 0.5 puts the rock's mean depth at ~0.04 voxel (header). */
const ALPHA = 1;

export interface PolishedAffine {
  edsToSlab: Affine2;
  /** relative area change against G: used, from the patch shifts, from the basin's centre with a free area */
  area: { used: number; patches: number | null; basin: number };
  /** whether the slab was extrapolated to the surface (it had `below`) */
  extrapolated: boolean;
  /** gain of the polished affine over G on the correlation ratio (the polish's area criterion) */
  gain: number;
  /** the final basin's criterion: the correlation ratio, or the map rendered with its BSE (its point spread in slab pixels) */
  criterion: { kind: 'ratio' } | { kind: 'rendered with BSE'; sigma: number };
}

/** A moving image that may carry the map's BSE companion (one value per EDS pixel). */
export type MovingWithBse = MovingImage & { bse?: Float32Array };

/** The slab extrapolated to the surface from its deeper twin; the slab itself without one. */
export function surfaceSlab(slab: SlabWithBelow): { slab: Slab; extrapolated: boolean } {
  const b = slab.below;
  if (!b || b.length !== slab.data.length) return { slab, extrapolated: false };
  return { slab: { ...slab, data: Float32Array.from(slab.data, (g, i) => g + ALPHA * (g - b[i])) }, extrapolated: true };
}

/**
 * The polish's criterion: the registration's (overlap-damped correlation ratio) on the slab
 * extrapolated to the surface without its outermost pixel ring, the damping at G's overlap on it
 * (as register-eds.ts's scoreOn on a mask). Shared with similarity-polish.ts and the bench's
 * decomposition of the error (bench/_affine-decompose.ts).
 */
export function surfaceScore(slab: SlabWithBelow, mov: MovingImage, G: Affine2): { score: (m: Affine2) => number; extrapolated: boolean; X: Slab; mask: Uint8Array } {
  const { slab: X, extrapolated } = surfaceSlab(slab);
  const mask = Uint8Array.from(erodeSlabEdge(X, EDGE_ERODE_PX).data, (g) => (g === g ? 1 : 0));
  return { score: poseScore(X, mov, scoreAffine(X.data, X.width, X.height, mov, invertAffine2(G), mask).overlap, mask), extrapolated, X, mask };
}

/** At the area of `area` (its determinant), the better of the climbs from G and from `lsStart`, taken to the centre of its basin. */
export function polishAtArea(score: (m: Affine2) => number, G: Affine2, lsStart: Affine2 | null, area: Affine2, mw: number, mh: number, signal?: AbortSignal): Affine2 {
  const fromG = climbAffine(score, G, mw, mh, { signal, area });
  const fromLs = lsStart ? climbAffine(score, lsStart, mw, mh, { signal, area }) : fromG;
  throwIfAborted(signal);
  return basinCentre(score, (fromLs.score > fromG.score ? fromLs : fromG).edsToSlab, mw, mh, { area, signal }).edsToSlab;
}

/**
 * Polish the kept affine `kept` (climbed at a held area) against the similarity G. `lsStart` is
 * the patches' least-squares affine (null when too few patches), `patchArea` their area change
 * (null when too few).
 */
export function polishKeptAffine(slab: SlabWithBelow, mov: MovingWithBse, G: Affine2, kept: Affine2, lsStart: Affine2 | null, patchArea: { a: number } | null, signal?: AbortSignal): PolishedAffine {
  const mw = mov.width, mh = mov.height, cu = (mw - 1) / 2, cv = (mh - 1) / 2;
  const { score, extrapolated, X, mask } = surfaceScore(slab, mov, G);
  const basin = det(basinCentre(score, kept, mw, mh, { area: false, rounds: 3, signal }).edsToSlab) / det(G) - 1;
  const used = patchArea ? 0.5 * (patchArea.a + basin) : basin;
  // with the map's BSE, the climbs and the basin at that area on the map rendered like the scan (header)
  const bse = mov.bse && mov.bse.length === mw * mh ? mov.bse : undefined;
  const rendered = bse ? generativeScore(X, mov, G, mask, undefined, bse) : null;
  throwIfAborted(signal);
  const edsToSlab = polishAtArea(rendered?.score ?? score, G, lsStart, withDeterminant(G, det(G) * (1 + used), cu, cv), mw, mh, signal);
  const criterion = rendered ? { kind: 'rendered with BSE' as const, sigma: rendered.sigma } : { kind: 'ratio' as const };
  return { edsToSlab, area: { used, patches: patchArea?.a ?? null, basin }, extrapolated, gain: score(edsToSlab) - score(G), criterion };
}
