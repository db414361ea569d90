/**
 * Correlate: register a 2D EDS mineral map onto the polished top surface inside an XRM volume.
 *   1. detect the surface plane (unless given), 2. resample the slab along it,
 *   3. initial pose from landmarks or from the automatic coarse search,
 *   4. refine with elastix (worker thread, cancellable) and a correlation-ratio hill climb,
 *   5. choose the model (choose-model.ts): similarity, affine when the map's patches support it,
 *      per-field shifts of a stitched mosaic when its fields are given, 6. compose EDS -> slab -> voxel.
 * Throws Unprocessable when there is no air above the sample or the map does not overlap the
 * volume, InvalidInput for fewer than 3 or collinear landmarks, Aborted when cancelled.
 */
import { composeAffine2to3, invertAffine2, projectToAffine2to3, type Affine2 } from '../coords';
import type { MineralMap } from '../eds/types';
import { invalidInput, throwIfAborted, unprocessable, type OnProgress, type StageOptions } from '../errors';
import type { ScoreOn } from './choose-model';
import { coarseAlign, refineAffineByRatio } from './coarse-align';
import { detectSurface } from './detect-surface';
import { refineWithElastix, type RefineImages, type RefineOptions } from './elastix-refine';
import { extractSlab, type ExtractSlabOptions } from './extract-slab';
import { fitLandmarks, landmarkResiduals, type SlabLandmark } from './fit-landmarks';
import { chooseModel } from './model-choice';
import { movingImage, type MovingImage } from './moving-image';
import { scoreAffine } from './pose';
import { overlapPenalty } from './ratio-search';
import { mapCoverage, mutualInformation } from './quality';
import type { FieldRect, LandmarkPair, Registration, RegistrationModel, Slab, SurfaceFit } from './types';
import type { VolumeSource } from './volume-source';

export interface RegisterOptions extends StageOptions {
  landmarks?: LandmarkPair[];
  /** a known surface plane (skips detection) */
  surface?: SurfaceFit;
  /** the slab already extracted along `surface` (skips extraction; give `surface` with it) */
  extractedSlab?: Slab;
  /** register this companion image (e.g. 'BSE') instead of the mineral labels */
  companion?: string;
  /**
   * transform model (default 'auto'): 'similarity'; 'affine' (always the polished affine, and an
   * affine landmark fit); 'fields' (per-field shifts of a stitched map on top of the global model:
   * needs `fields`); 'auto' keeps the affine and the field shifts only where the map supports them
   */
  model?: 'auto' | RegistrationModel;
  /** the fields of a stitched mosaic (EDS pixels), e.g. from the TIMA export or regularFields() */
  fields?: FieldRect[];
  /**
   * refine the initial pose (default true): by elastix (mutual information) and by a
   * correlation-ratio hill climb; the result with the higher correlation ratio is kept
   */
  refine?: boolean;
  /** run elastix in a worker thread so it can be cancelled (default true) */
  inWorker?: boolean;
  /** restrict the automatic search to one handedness */
  mirrored?: boolean;
  slab?: Omit<ExtractSlabOptions, 'signal' | 'onProgress'>;
  elastix?: Omit<RefineOptions, 'model' | 'onStage'>;
}

export type RegistrationWithSlab = Registration & { slab: Slab };

/** Progress of a sub-step mapped into [from, to] of the whole. */
const sub = (p: OnProgress | undefined, from: number, to: number): OnProgress | undefined =>
  p && ((f, m) => p(from + (to - from) * f, m));

function slabLandmarks(pairs: LandmarkPair[], slab: Slab): SlabLandmark[] {
  return pairs.map((p, i) => {
    if (p.slab) return { eds: p.eds, slab: p.slab };
    if (p.voxel) return { eds: p.eds, slab: projectToAffine2to3(slab.slabToVoxel, ...p.voxel) };
    throw unprocessable(`Landmark ${i + 1} has neither a slab nor a voxel position.`);
  });
}

async function refine(slab: Slab, mov: MovingImage, init: Affine2, opts: RegisterOptions): Promise<Affine2> {
  const images: RefineImages = {
    fixed: slab.data, fixedWidth: slab.width, fixedHeight: slab.height,
    moving: mov.grey, movingWidth: mov.width, movingHeight: mov.height,
  };
  // elastix refines the similarity; the affine and the fields come from choose-model.ts
  const o = { ...opts.elastix, model: 'similarity' as const };
  if (opts.inWorker === false) return refineWithElastix(images, init, o);
  // imported lazily: the worker path is Node-only (worker_threads), the rest of this module is not
  const { refineInWorker } = await import('./refine-in-worker-node');
  return refineInWorker(images, init, { ...o, signal: opts.signal, onProgress: sub(opts.onProgress, 0.6, 0.95) });
}

export async function registerEdsToVolume(volume: VolumeSource, map: MineralMap, opts: RegisterOptions = {}): Promise<RegistrationWithSlab> {
  const { signal, onProgress } = opts;
  const surface = opts.surface ?? (await detectSurface(volume, { signal, onProgress: sub(onProgress, 0, 0.1) }));
  const slab = opts.extractedSlab ?? (await extractSlab(volume, surface, { ...opts.slab, signal, onProgress: sub(onProgress, 0.1, 0.2) }));
  const mov = movingImage(map, { companion: opts.companion });
  const lms = opts.landmarks ? slabLandmarks(opts.landmarks, slab) : undefined;
  let init: Affine2;
  if (opts.model === 'fields' && !opts.fields?.length) throw invalidInput('The per-field model needs the field layout of the mosaic (the fields of the TIMA export, or --fields COLSxROWS).');
  if (lms) {
    const scale = opts.model === 'affine' ? undefined : mov.pixelUm / volume.meta.spacingUm[2];
    init = fitLandmarks(lms, { model: opts.model === 'affine' ? 'affine' : 'similarity', scale }).edsToSlab;
  } else {
    const voxelUm = volume.meta.spacingUm[2];
    init = (await coarseAlign(slab, mov, { voxelUm, mirrored: opts.mirrored, signal, onProgress: sub(onProgress, 0.2, 0.6) })).edsToSlab;
  }
  if (mapCoverage(composeAffine2to3(slab.slabToVoxel, init), map.width, map.height, volume.meta.shape) < 0.05) {
    throw unprocessable(`The EDS map ${map.source ?? ''} does not overlap the volume: check the landmarks and the EDS and XRM pixel sizes.`);
  }
  throwIfAborted(signal);
  // the same overlap-damped correlation ratio as the search: elastix can drift to a small, easy overlap
  let valid = 0;
  for (const g of slab.data) if (g === g) valid++;
  const scale = mov.pixelUm / volume.meta.spacingUm[2];
  const expected = Math.min(scale * scale * mov.classified, valid);
  const scoreOn: ScoreOn = (mask, ref) => {
    // on a part of the map, the overlap to keep is the part's overlap at the reference pose
    const exp = mask && ref ? scoreAffine(slab.data, slab.width, slab.height, mov, invertAffine2(ref), mask).overlap : expected;
    return (m: Affine2) => {
      const r = scoreAffine(slab.data, slab.width, slab.height, mov, invertAffine2(m), mask);
      return r.score * overlapPenalty(r.overlap, exp);
    };
  };
  const score = scoreOn();
  let edsToSlab = init, refinedBy: 'elastix' | 'ratio' | 'none' = 'none';
  if (opts.refine !== false) {
    // On the synthetic sandstone the hill climb was the more accurate of the two (mean error
    // 0.03-0.23 voxel vs 0.1-0.28 after elastix over 7 cases), so elastix only wins where it
    // explains the slab better; it still rescues poses the climb cannot reach (affine, drift).
    const ratio = lms ? refineAffineByRatio(slab, mov, init).edsToSlab : init;
    const viaElastix = await refine(slab, mov, ratio, opts);
    const [sInit, sRatio, sElastix] = [score(init), score(ratio), score(viaElastix)];
    if (sElastix > Math.max(sInit, sRatio)) { edsToSlab = viaElastix; refinedBy = 'elastix'; }
    else if (sRatio > sInit || !lms) { edsToSlab = ratio; refinedBy = 'ratio'; }
  }
  const chosen = opts.refine === false ? undefined : chooseModel(slab, mov, edsToSlab, scoreOn, opts);
  if (chosen) edsToSlab = chosen.edsToSlab;
  const edsToVoxel = composeAffine2to3(slab.slabToVoxel, edsToSlab);
  onProgress?.(1, 'registered');
  return {
    ...chosen?.out,
    edsToVoxel, edsToSlab, surface, slabToVoxel: slab.slabToVoxel, slabSize: [slab.width, slab.height], slab,
    quality: {
      miBefore: mutualInformation(slab, mov, init),
      miAfter: mutualInformation(slab, mov, edsToSlab),
      scoreAfter: scoreAffine(slab.data, slab.width, slab.height, mov, invertAffine2(edsToSlab)).score,
      coverage: mapCoverage(edsToVoxel, map.width, map.height, volume.meta.shape),
      landmarkResiduals: lms ? landmarkResiduals(edsToSlab, lms) : undefined,
      initialisation: lms ? 'landmarks' : 'automatic',
      refinedBy,
    },
  };
}
