/**
 * Which EDS pixel size fits the scan? The automatic registration (register-eds.ts) searches shift,
 * rotation and handedness at the one scale the two pixel sizes give; a wrong EDS pixel size (a
 * binned export, a typo, the calibration of another magnification) of ×0.6–0.8 or ×1.2–1.5 made it
 * land 52–105 voxels off. This search runs the same automatic pose search (coarseAlign) over scale
 * factors of the given pixel size, on the surface slab the registration uses:
 *   1. coarse: factors `range` in geometric steps of `coarseStep` (default 0.5–2 in 5 % steps, the
 *      given size itself among them); each factor is the full rotation × translation search and the
 *      climb of its best poses, ranked like the registration ranks its poses (mutual information
 *      damped by the overlap). Across scales that MI is not fair: a map made smaller covers fewer
 *      slab pixels, and the best of thousands of wrong poses then reaches a higher MI by chance (on a
 *      52 px map the best pose at half the true scale scored 0.556, the true pose 0.543). So each
 *      factor scores the MI of its best pose above that of its best clearly different pose (the
 *      chance level at that scale, measured by the same search): 0.290 at the true scale there, at
 *      most 0.055 at wrong scales;
 *   2. fine: from the best coarse factor, steps of `fineStep` (1 %) up or down while the score
 *      rises, each a climb of the best pose at that scale (climbPose) whose MI is taken above the
 *      chance level interpolated between the coarse factors, then a parabola through the best three
 *      on log-scale.
 * The score falls off smoothly around the true scale (half-width ~5 % on the synthetic samples), so
 * 5 % steps land within 2.5 % of it and the fine steps find it.
 * Memory: each factor's search is checked against the search's budget from the sizes alone
 * (map-scale.ts), before anything is allocated; factors beyond it are left out and named.
 */
import type { Affine2 } from '../coords';
import type { MineralMap } from '../eds/types';
import { invalidInput, isPetromapError, throwIfAborted, unprocessable, type OnProgress, type StageOptions } from '../errors';
import { affineToPose, coarseAlign } from './coarse-align';
import { climbPose, type Candidate } from './coarse-search';
import { detectSurface } from './detect-surface';
import { extractSlab } from './extract-slab';
import { checkMapScale, coarseGrid, MAX_SEARCH_BYTES, searchBytes } from './map-scale';
import { movingImage, type MovingImage } from './moving-image';
import { poseToAffine } from './pose';
import { mutualInformationOverlap } from './quality';
import { overlapPenalty } from './ratio-search';
import type { Slab, SurfaceFit } from './types';
import type { VolumeSource } from './volume-source';

export interface ScaleSearchOptions extends StageOptions {
  /** scale factors of the given pixel size to search, [lowest, highest] (default [0.5, 2]) */
  range?: [number, number];
  /** geometric step of the coarse factors (default 0.05: 5 %) */
  coarseStep?: number;
  /** geometric step of the fine search around the best coarse factor (default 0.01) */
  fineStep?: number;
  /** a known surface plane (skips detection) */
  surface?: SurfaceFit;
  /** the slab already extracted along `surface` (skips extraction) */
  extractedSlab?: Slab;
  /** search this companion image (e.g. 'BSE') instead of the mineral labels */
  companion?: string;
  /** restrict the search to one handedness */
  mirrored?: boolean;
  /** a helper worker thread for each pose search (default true, Node only), as the registration uses */
  inWorker?: boolean;
  /** the scan's file gave no voxel size, so it was assumed (named when the map is refused as too large) */
  voxelSizeAssumed?: boolean;
}

/**
 * One scale factor looked at: the overlap-damped mutual information of its best pose, the chance
 * level (the best clearly different pose's; interpolated for a fine step) and the score, their
 * difference (-Infinity: the map does not overlap the slab at this scale).
 */
export interface ScaleSample { factor: number; mi: number; chance: number; score: number; stage: 'coarse' | 'fine' }

export interface ScaleSearchResult {
  /** the pixel size given with the map, µm */
  givenPixelUm: number;
  /** the best scale factor of the given pixel size, and the pixel size it implies (given × factor), µm */
  factor: number;
  pixelUm: number;
  /** the score at the best factor and at the given pixel size (factor 1), and their ratio given / best */
  score: number;
  givenScore: number;
  scoreRatio: number;
  /**
   * the best match is distinct: its pose's MI is at least DISTINCT_RATIO times that of the best
   * clearly different pose at that scale. Not distinct: no pixel size places the map (another
   * sample's map, the other face): the pixel size cannot be told from this search
   */
  distinct: boolean;
  /** the best pose's MI over that chance level */
  distinctRatio: number;
  /** the best pose's overlap-damped MI and the chance level at its factor (what the registration's confidence reads as its search's) */
  mi: number;
  chance: number;
  /**
   * the given pixel size is plausible: the match is distinct and its factor within
   * PLAUSIBLE_FACTOR of 1 (the margin measured in bench/scale-search.ts)
   */
  plausible: boolean;
  /** the best pose's EDS -> slab transform at the best factor */
  edsToSlab: Affine2;
  /** every factor looked at, in order of factor */
  samples: ScaleSample[];
  /** factors left out because their search would need more than the search's memory budget */
  skipped: number[];
  surface: SurfaceFit;
  slab: Slab;
}

/**
 * The largest |ln factor| at which the given pixel size is called plausible (8 %). Measured
 * (bench/scale-search.ts, styles A and B and N3's rock): the search found the true pixel size within
 * 1 % whatever the size given (×0.6–1.5), so a right pixel size sits within ~1 % of the best and one
 * ×0.6–0.8 or ×1.2–1.5 at least 17 % (1 - 1/1.2) from it; 8 % lies between with a wide margin on
 * both sides. A size ×0.9 or ×1.1 (the registration still brings those home) is called wrong: it is.
 */
export const PLAUSIBLE_FACTOR = 0.08;

/**
 * The least MI ratio (best pose / best clearly different pose, at the best scale) of a distinct
 * match (1.7). Measured: at the true scale 2.15–6.8 (styles A and B, N3's rock: 7 samples); at
 * scales over 20 % off it at most 1.35, and the best over all scales of a map that does not show
 * the scanned face 1.18–1.35 (another style A sample's map, a style A map on a style B volume, N3's
 * bottom-face map given as the top, N3's other seed's map): 1.7 lies between (geometric middle).
 */
export const DISTINCT_RATIO = 1.7;

/** Progress of a sub-step mapped into [from, to] of the whole. */
const sub = (p: OnProgress | undefined, from: number, to: number): OnProgress | undefined =>
  p && ((f, m) => p(from + (to - from) * f, m));

/** The coarse factors: (1 + step)^i within [lo, hi], 1 among them. */
export function coarseFactors(lo: number, hi: number, step: number): number[] {
  const r = Math.log1p(step);
  const out: number[] = [];
  for (let i = Math.ceil(Math.log(lo) / r - 1e-9); i <= Math.floor(Math.log(hi) / r + 1e-9); i++) out.push(Math.exp(i * r));
  return out;
}

/**
 * The coarse factors whose search fits the memory budget (`fits`, from the sizes alone) and those
 * left out. The search's memory grows with the factor, so the ones left out are the largest: a
 * given size beyond the budget is left out with them while the smaller factors are searched.
 */
export function searchableFactors(all: number[], fits: (k: number) => boolean): { factors: number[]; skipped: number[] } {
  return { factors: all.filter(fits), skipped: all.filter((k) => !fits(k)) };
}

/** The score of the best pose near `from` at `scale`: the search's own climb and ranking (coarse-align.ts). */
function climbedScore(slab: Slab, mov: MovingImage, from: Candidate, scale: number, valid: number): Candidate {
  const expected = Math.min(scale * scale * mov.classified, valid);
  const best = climbPose(slab, mov, { ...from, scale, score: -Infinity }, 0.4 * expected, expected);
  if (!(best.score > -Infinity)) return best;
  const m = mutualInformationOverlap(slab, mov, poseToAffine(best, mov.width, mov.height));
  return { ...best, score: m.mi * overlapPenalty(m.overlap, expected) };
}

/** The chance level at factor k: linear in log factor between the coarse factors around it. */
function chanceAt(samples: ScaleSample[], k: number): number {
  const coarse = samples.filter((s) => s.stage === 'coarse' && Number.isFinite(s.chance)).sort((p, q) => p.factor - q.factor);
  const hi = coarse.findIndex((s) => s.factor >= k);
  if (hi <= 0) return (hi === 0 ? coarse[0] : coarse.at(-1))?.chance ?? 0;
  const a = coarse[hi - 1], b = coarse[hi], t = Math.log(k / a.factor) / Math.log(b.factor / a.factor);
  return a.chance + t * (b.chance - a.chance);
}

export async function searchMapScale(volume: VolumeSource, map: MineralMap, opts: ScaleSearchOptions = {}): Promise<ScaleSearchResult> {
  const { signal, onProgress } = opts;
  const [lo, hi] = opts.range ?? [0.5, 2];
  const coarseStep = opts.coarseStep ?? 0.05, fineStep = opts.fineStep ?? 0.01;
  if (!(lo > 0 && hi >= 1 && lo <= 1 && coarseStep > 0 && fineStep > 0)) {
    throw invalidInput(`The scale search needs a range of factors around 1 (given ${lo}–${hi}) and positive steps.`);
  }
  const threads = opts.inWorker === false ? 1 : 2;
  const mov = movingImage(map, { companion: opts.companion });
  const given = mov.pixelUm, voxelUm = volume.meta.spacingUm[2]!;
  const named = { ...map, name: map.source, classes: mov.classes };
  // refused as the registration refuses a map too large for its search, before anything is allocated, only when even the
  // smallest factor is too large: a given size beyond the budget is then searched at the factors that fit (named as skipped)
  const sizeCheck = { spacingAssumed: opts.voxelSizeAssumed, threads, slab: opts.extractedSlab && ([opts.extractedSlab.width, opts.extractedSlab.height] as [number, number]) };
  try {
    checkMapScale(named, volume.meta, sizeCheck);
  } catch (err) {
    if (!isPetromapError(err, 'Unprocessable')) throw err;
    try {
      checkMapScale({ ...named, pixelSizeUm: lo * given }, volume.meta, sizeCheck);
    } catch {
      throw err;
    }
  }
  if (threads > 1) import('./coarse-search-node').then((m) => m.prewarmSearch(), () => {});
  const surface = opts.surface ?? (await detectSurface(volume, { signal, onProgress: sub(onProgress, 0, 0.05) }));
  const slab = opts.extractedSlab ?? (await extractSlab(volume, surface, { signal, onProgress: sub(onProgress, 0.05, 0.1) }));
  // every factor's search from the sizes alone, on the slab found (map-scale.ts)
  const fits = (k: number) => searchBytes(coarseGrid(slab.width, slab.height, mov.width, mov.height, (k * given) / voxelUm), mov.classes, threads) <= MAX_SEARCH_BYTES;
  const { factors, skipped } = searchableFactors(coarseFactors(lo, hi, coarseStep), fits);
  if (!factors.length) {
    // the slab found is larger than the volume's extent the first check assumed: none fits after all
    checkMapScale({ ...named, pixelSizeUm: lo * given }, volume.meta, { ...sizeCheck, slab: [slab.width, slab.height] });
  }
  let valid = 0;
  for (const g of slab.data) if (g === g) valid++;
  const samples: ScaleSample[] = [];
  let best: { factor: number; pose: Candidate } | undefined;
  let givenScore = -Infinity;
  for (const [i, k] of factors.entries()) {
    throwIfAborted(signal);
    onProgress?.(0.1 + (0.8 * i) / factors.length, `trying ${+(k * given).toPrecision(3)} µm per EDS pixel`);
    let score = -Infinity, mi = -Infinity, chance = NaN, pose: Candidate | undefined;
    try {
      const c = await coarseAlign(slab, mov, { voxelUm, edsPixelUm: k * given, mirrored: opts.mirrored, threads, signal });
      mi = c.mi; chance = c.secondMi; score = mi - chance;
      pose = { ...affineToPose(c.edsToSlab, mov.width, mov.height), score };
    } catch (err) {
      // no overlap at this scale: the map is too large or too small there
      if (!isPetromapError(err, 'Unprocessable')) throw err;
    }
    samples.push({ factor: k, mi, chance, score, stage: 'coarse' });
    if (Math.abs(Math.log(k)) < 1e-9) givenScore = score;
    if (pose && (!best || score > best.pose.score)) best = { factor: k, pose };
  }
  if (!best) throw unprocessable(`The EDS map ${map.source ?? ''} overlaps the volume surface at none of the pixel sizes ${+(lo * given).toPrecision(3)}–${+(hi * given).toPrecision(3)} µm: check the voxel size of the scan and that the map shows this sample.`);
  // fine: 1 % steps from the best coarse factor while the score rises, each climbed from the best pose so far
  const r = Math.log1p(fineStep), maxSteps = Math.ceil(Math.log1p(coarseStep) / r);
  const at = new Map<number, number>([[0, best.pose.score]]);
  let centre = 0, pose = best.pose;
  for (const dir of [1, -1]) {
    for (let j = 1; j <= maxSteps; j++) {
      throwIfAborted(signal);
      const step = centre + dir * j;
      if (at.has(step)) continue;
      const k = best.factor * Math.exp(step * r);
      if (k < lo || k > hi || !fits(k)) break;
      const climbed = climbedScore(slab, mov, pose, (k * given) / voxelUm, valid);
      const chance = chanceAt(samples, k);
      const c = { ...climbed, score: climbed.score - chance };
      at.set(step, c.score);
      samples.push({ factor: k, mi: climbed.score, chance, score: c.score, stage: 'fine' });
      if (!(c.score > pose.score)) break;
      pose = c; centre = step;
    }
    onProgress?.(dir > 0 ? 0.95 : 1, 'refining the scale');
    if (centre !== 0) break; // it rose on this side: the other side falls
  }
  // a parabola through the best fine step and its neighbours (log-scale), when both were looked at
  const s0 = at.get(centre)!, sm = at.get(centre - 1), sp = at.get(centre + 1);
  let shift = 0;
  if (sm !== undefined && sp !== undefined && sm > -Infinity && sp > -Infinity) {
    const curv = sm - 2 * s0 + sp;
    if (curv < 0) shift = Math.max(-0.5, Math.min(0.5, (0.5 * (sm - sp)) / curv));
  }
  const factor = best.factor * Math.exp((centre + shift) * r);
  const score = s0;
  const top = samples.find((x) => x.score === s0)!;
  const distinctRatio = top.chance > 0 ? top.mi / top.chance : Infinity;
  const distinct = distinctRatio >= DISTINCT_RATIO;
  samples.sort((p, q) => p.factor - q.factor);
  return {
    givenPixelUm: given,
    factor,
    pixelUm: factor * given,
    score,
    givenScore,
    scoreRatio: givenScore > -Infinity && score > 0 ? givenScore / score : 0,
    distinct,
    distinctRatio,
    mi: top.mi,
    chance: top.chance,
    plausible: distinct && Math.abs(Math.log(factor)) <= PLAUSIBLE_FACTOR,
    edsToSlab: poseToAffine({ ...pose, scale: (factor * given) / voxelUm }, mov.width, mov.height),
    samples,
    skipped,
    surface,
    slab,
  };
}
