/**
 * Step 4 of the registration: refine an initial EDS -> slab pose (from the automatic search or
 * from landmarks) by elastix (mutual information, worker thread, cancellable) and, for landmark
 * poses, by a correlation-ratio hill climb; keep whichever scores best on the registration's own
 * criterion (the overlap-damped correlation ratio). Separate from register-eds.ts so that
 * `bench register` times exactly this step against native elastix from the same pose.
 *
 * The automatic search already ends in the hill climb, so elastix runs lighter than the peer's
 * defaults (one resolution, 200 iterations, 2000 samples instead of 3 x 300 x 3000): from a pose
 * within a fraction of a voxel the pyramid and the extra iterations bought no accuracy on the
 * synthetic sandstones (docs/registration-speed.md), and elastix's result is kept only where it
 * scores better than the pose it started from.
 */
import { invertAffine2, type Affine2 } from '../coords';
import type { OnProgress, StageOptions } from '../errors';
import { refineAffineByRatio } from './coarse-align';
import { refineWithElastix, type RefineImages, type RefineOptions } from './elastix-refine';
import type { MovingImage } from './moving-image';
import { scoreAffine } from './pose';
import { overlapPenalty } from './ratio-search';
import type { Slab } from './types';

/** elastix settings of the refinement (the peer's, native elastix's defaults here, are 3 x 300 x 3000) */
export const REFINE_ELASTIX: Omit<RefineOptions, 'model' | 'onStage'> = { resolutions: 1, iterations: 200, spatialSamples: 2000 };

export interface RefinePoseOptions extends StageOptions {
  /** hill-climb the pose first (landmark poses; the automatic search has already climbed) */
  climb?: boolean;
  /** run elastix in a worker thread so it can be cancelled (default true) */
  inWorker?: boolean;
  /** elastix settings over REFINE_ELASTIX */
  elastix?: Omit<RefineOptions, 'model' | 'onStage'>;
  /**
   * work to overlap with elastix while it runs in its worker (not with `inWorker: false`): called
   * once elastix has started, with the pose elastix has to beat (the result whenever elastix does
   * not win; the same array is returned then). It may throw (e.g. cancelled): elastix is then left
   * to finish or be cancelled by the signal.
   */
  meanwhile?: (fallback: Affine2) => void | Promise<void>;
}

/** Overlap (slab pixels) the true pose should give: the map's classified area at the slab's pitch, or the slab's valid area. */
export function expectedOverlap(slab: Slab, mov: MovingImage, scale: number): number {
  let valid = 0;
  for (const g of slab.data) if (g === g) valid++;
  return Math.min(scale * scale * mov.classified, valid);
}

/** The registration's criterion of a pose over the whole map: correlation ratio damped by a short overlap. */
export function poseScore(slab: Slab, mov: MovingImage, expected: number, mask?: Uint8Array) {
  return (m: Affine2) => {
    const r = scoreAffine(slab.data, slab.width, slab.height, mov, invertAffine2(m), mask);
    return r.score * overlapPenalty(r.overlap, expected);
  };
}

async function viaElastix(slab: Slab, mov: MovingImage, init: Affine2, opts: RefinePoseOptions, onProgress?: OnProgress): Promise<Affine2> {
  const images: RefineImages = {
    fixed: slab.data, fixedWidth: slab.width, fixedHeight: slab.height,
    moving: mov.grey, movingWidth: mov.width, movingHeight: mov.height,
  };
  // elastix refines the similarity; the affine and the fields come from choose-model.ts
  const o = { ...REFINE_ELASTIX, ...opts.elastix, model: 'similarity' as const };
  if (opts.inWorker === false) return refineWithElastix(images, init, o);
  // imported lazily: the worker path is Node-only (worker_threads), the rest of this module is not
  const { refineInWorker } = await import('./refine-in-worker-node');
  return refineInWorker(images, init, { ...o, signal: opts.signal, onProgress });
}

/** Start loading elastix in its worker now, to overlap the load with the steps before the refinement. */
export function prewarmRefinement(opts: Pick<RefinePoseOptions, 'inWorker'>): void {
  if (opts.inWorker === false) return;
  import('./refine-in-worker-node').then((m) => m.prewarmElastix(), () => {});
}

/**
 * Refined pose and what produced it: 'elastix', 'ratio' (the hill climb; for an automatic pose,
 * the search's own result) or 'none' (the landmark fit as given). `score` is poseScore's.
 */
export async function refineFromPose(slab: Slab, mov: MovingImage, init: Affine2, score: (m: Affine2) => number, opts: RefinePoseOptions = {}) {
  // On the synthetic sandstone the hill climb was the more accurate of the two (mean error
  // 0.03-0.23 voxel vs 0.1-0.28 after elastix over 7 cases), so elastix only wins where it
  // explains the slab better; it still rescues poses the climb cannot reach (affine, drift).
  const ratio = opts.climb ? refineAffineByRatio(slab, mov, init).edsToSlab : init;
  const [sInit, sRatio] = [score(init), score(ratio)];
  const fallback = sRatio > sInit || !opts.climb ? { edsToSlab: ratio, refinedBy: 'ratio' as const } : { edsToSlab: init, refinedBy: 'none' as const };
  const overlap = !!opts.meanwhile && opts.inWorker !== false;
  let started = () => {};
  const running = new Promise<void>((resolve) => (started = resolve));
  const pending = viaElastix(slab, mov, ratio, opts, overlap ? (f, m) => { started(); opts.onProgress?.(f, m); } : opts.onProgress);
  if (overlap) {
    // its first progress message says the worker has the job (before that, the main thread would only delay it)
    const settled = pending.then(() => {}, () => {});
    await Promise.race([running, settled]);
    await opts.meanwhile!(fallback.edsToSlab);
  }
  const elastix = await pending;
  if (score(elastix) > Math.max(sInit, sRatio)) return { edsToSlab: elastix, refinedBy: 'elastix' as const };
  return fallback;
}
