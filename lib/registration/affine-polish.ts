/**
 * The kept affine's final polish (issue 19). choose-model.ts decides whether a map needs the affine
 * on a candidate climbed at a held area; once kept, this step sets the area and polishes the affine:
 *
 * - **The area** is the mean of two estimates with different errors: the patch shifts' own
 *   least-squares area change (patchAreaChange) and the area the registration's criterion climbs to
 *   when its area is free, started from the kept candidate. No prior and no fitted constant.
 *   Measured (issue 19, docs/registration-models.md): from a pose near the truth the free climb's
 *   area is not biased on average (mean error +0.08 % on the bench maps, -0.09 % on held-out maps)
 *   but scatters by 0.3-0.55 % per map; the patch shifts scatter by about 1.3 of their jackknife
 *   standard error. The free climb from the true transform grows some maps by 0.5-1.2 % (last stop's
 *   "bias"); from the registered pose it does not do so on average.
 * - **The polish** is the mean of two climbs at that area: the correlation ratio (the registration's
 *   criterion, best of the climbs from the similarity and from the patches' least-squares affine) and
 *   the Pearson correlation with the map rendered like the slab (blurred-map.ts, its point spread
 *   measured on the slab), started from the first. At the true area both criteria have their
 *   optimum 0.1-0.3 voxel from the truth on 60-100 % maps, in partly different directions: their
 *   mean was closer than either on the held-out maps (seeds 31-40, 14-16).
 * - **Both criteria leave out the slab's outermost pixel ring** (EDGE_ERODE_PX, as the mosaic's
 *   field matches do): slab pixels at the volume's edge are interpolated against the volume's
 *   boundary. Measured (stop 29, docs/registration-models.md): climbed from the true transform at
 *   the true area, the correlation ratio's optimum on 100 % maps moved 0.121 -> 0.037 (rigid),
 *   0.107 -> 0.063 (3 % shear) voxel; the polished affine on the bench's 80-100 % maps 0.106-0.123
 *   -> 0.074-0.087; maps inside the slab are unchanged (their overlap has no edge pixels).
 */
import type { Affine2 } from '../coords';
import { throwIfAborted } from '../errors';
import { climbAffine, withDeterminant } from './affine-climb';
import { blurredMapScore } from './blurred-map';
import type { MovingImage } from './moving-image';
import { EDGE_ERODE_PX, erodeSlabEdge } from './refine-fields';
import type { Slab } from './types';

const det = (m: Affine2) => m[0] * m[4] - m[1] * m[3];

export interface PolishedAffine {
  edsToSlab: Affine2;
  /** relative area change against G: used, from the patch shifts, from the free climb */
  area: { used: number; patches: number | null; freeClimb: number };
  /** point spread (slab pixels) the rendered map was blurred by */
  sigma: number;
  /** gains of the polished affine over G: the correlation ratio (score) and the rendered map's correlation */
  gain: { ratio: number; rendered: number };
}

/**
 * Polish the kept affine `kept` (climbed at a held area) against the similarity G. `scoreOn` gives
 * the registration's whole-map criterion on the slab pixels of a mask (its overlap damping taken at
 * the reference pose), `lsStart` the patches' least-squares affine (null when too few patches),
 * `patchArea` their area change (null when too few).
 */
export function polishKeptAffine(slab: Slab, mov: MovingImage, G: Affine2, kept: Affine2, scoreOn: (mask: Uint8Array, ref: Affine2) => (m: Affine2) => number, lsStart: Affine2 | null, patchArea: { a: number } | null, signal?: AbortSignal): PolishedAffine {
  const mw = mov.width, mh = mov.height, cu = (mw - 1) / 2, cv = (mh - 1) / 2;
  // the slab without its outermost ring, for both criteria
  const inner = erodeSlabEdge(slab, EDGE_ERODE_PX);
  const score = scoreOn(Uint8Array.from(inner.data, (g) => (g === g ? 1 : 0)), G);
  const free = climbAffine(score, kept, mw, mh, { signal, holdScale: false }).edsToSlab;
  const freeClimb = det(free) / det(G) - 1;
  const used = patchArea ? 0.5 * (patchArea.a + freeClimb) : freeClimb;
  const area = withDeterminant(G, det(G) * (1 + used), cu, cv);
  const fromG = climbAffine(score, G, mw, mh, { signal, area });
  const fromLs = lsStart ? climbAffine(score, lsStart, mw, mh, { signal, area }) : fromG;
  const byRatio = (fromLs.score > fromG.score ? fromLs : fromG).edsToSlab;
  throwIfAborted(signal);
  const rendered = blurredMapScore(inner, mov, G);
  const byRendered = climbAffine(rendered.score, byRatio, mw, mh, { signal, area }).edsToSlab;
  const edsToSlab = byRatio.map((x, i) => 0.5 * (x + byRendered[i])) as Affine2;
  const gain = { ratio: score(edsToSlab) - score(G), rendered: rendered.score(edsToSlab) - rendered.score(G) };
  return { edsToSlab, area: { used, patches: patchArea?.a ?? null, freeClimb }, sigma: rendered.sigma, gain };
}
