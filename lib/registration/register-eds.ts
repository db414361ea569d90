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
import { coarseAlign } from './coarse-align';
import { registrationConfidence } from './confidence';
import { detectSurface } from './detect-surface';
import type { RefineOptions } from './elastix-refine';
import { BELOW_VOX } from './affine-polish';
import { extractSlab, withBelow, type ExtractSlabOptions } from './extract-slab';
import { fitLandmarks, landmarkResiduals, type SlabLandmark } from './fit-landmarks';
import { checkMapScale } from './map-scale';
import { chooseModel, type ChosenModel } from './model-choice';
import { movingImage } from './moving-image';
import { scoreAffine } from './pose';
import { mapCoverage, mutualInformation } from './quality';
import { expectedOverlap, poseScore, prewarmRefinement, refineFromPose } from './refine-pose';
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
  /**
   * use worker threads (default true, Node only): elastix in a kept-warm worker, so it can be
   * cancelled, and a helper thread for the coarse search
   */
  inWorker?: boolean;
  /** restrict the automatic search to one handedness */
  mirrored?: boolean;
  /** the scan's file gave no voxel size, so it was assumed (named when the map is refused as too large) */
  voxelSizeAssumed?: boolean;
  slab?: Omit<ExtractSlabOptions, 'signal' | 'onProgress'>;
  elastix?: Omit<RefineOptions, 'model' | 'onStage'>;
  /**
   * start from this pose instead of the automatic pose search (not with `landmarks`): e.g. the pose
   * the EDS pixel-size search (scale-search.ts) found at the map's pixel size, with its best pose's
   * MI and chance level (the best clearly different pose's), which the confidence reads as the
   * search's. `edsToSlab` is in the slab of `surface` (give the slab it was found on as
   * `extractedSlab`). Absent: the registration searches the pose itself, as always.
   */
  initialPose?: { edsToSlab: Affine2; mi?: number; secondMi?: number };
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

export async function registerEdsToVolume(volume: VolumeSource, map: MineralMap, opts: RegisterOptions = {}): Promise<RegistrationWithSlab> {
  const { signal, onProgress } = opts;
  // worker threads (Node): the search's helper and elastix's, loaded while the surface is found
  const threads = opts.inWorker === false ? 1 : 2;
  const mov = movingImage(map, { companion: opts.companion });
  if (opts.initialPose && opts.landmarks) throw invalidInput('Give the registration either landmark pairs or an initial pose to start from, not both.');
  const searches = !opts.landmarks && !opts.initialPose;
  // a map far larger than the scan at its voxel size: refused from the sizes, before anything is allocated
  if (searches) checkMapScale({ ...map, name: map.source, classes: mov.classes }, volume.meta, { spacingAssumed: opts.voxelSizeAssumed, threads, slab: opts.extractedSlab && [opts.extractedSlab.width, opts.extractedSlab.height] });
  if (threads > 1 && searches) import('./coarse-search-node').then((m) => m.prewarmSearch(), () => {});
  if (opts.refine !== false) prewarmRefinement(opts);
  const surface = opts.surface ?? (await detectSurface(volume, { signal, onProgress: sub(onProgress, 0, 0.1) }));
  // with its twin half a voxel deeper, for the kept affine's polish (affine-polish.ts): in the same pass, or again for a given slab
  const slab = opts.extractedSlab
    ? (opts.refine === false ? opts.extractedSlab : await withBelow(volume, surface, opts.extractedSlab, BELOW_VOX, { signal }))
    : await extractSlab(volume, surface, { ...opts.slab, belowVox: BELOW_VOX, signal, onProgress: sub(onProgress, 0.1, 0.2) });
  const lms = opts.landmarks ? slabLandmarks(opts.landmarks, slab) : undefined;
  let init: Affine2;
  let search: { mi: number; secondMi: number } | undefined;
  if (opts.model === 'fields' && !opts.fields?.length) throw invalidInput('The per-field model needs the field layout of the mosaic (the fields of the TIMA export, or --fields COLSxROWS).');
  if (lms) {
    const scale = opts.model === 'affine' ? undefined : mov.pixelUm / volume.meta.spacingUm[2];
    init = fitLandmarks(lms, { model: opts.model === 'affine' ? 'affine' : 'similarity', scale }).edsToSlab;
  } else if (opts.initialPose) {
    const p = opts.initialPose;
    if (p.edsToSlab.length !== 6 || !p.edsToSlab.every(Number.isFinite)) throw invalidInput('The initial pose must be 6 finite numbers (EDS pixel -> slab pixel).');
    init = [...p.edsToSlab] as Affine2;
    if (p.mi !== undefined && p.secondMi !== undefined) search = { mi: p.mi, secondMi: p.secondMi };
  } else {
    const voxelUm = volume.meta.spacingUm[2];
    const ca = await coarseAlign(slab, mov, { voxelUm, mirrored: opts.mirrored, threads, signal, onProgress: sub(onProgress, 0.2, 0.6) });
    init = ca.edsToSlab;
    search = { mi: ca.mi, secondMi: ca.secondMi };
  }
  if (mapCoverage(composeAffine2to3(slab.slabToVoxel, init), map.width, map.height, volume.meta.shape) < 0.05) {
    throw unprocessable(`The EDS map ${map.source ?? ''} does not overlap the volume: check the landmarks and the EDS and XRM pixel sizes.`);
  }
  throwIfAborted(signal);
  // the same overlap-damped correlation ratio as the search: elastix can drift to a small, easy overlap
  const expected = expectedOverlap(slab, mov, mov.pixelUm / volume.meta.spacingUm[2]);
  const scoreOn: ScoreOn = (mask, ref) =>
    // on a part of the map, the overlap to keep is the part's overlap at the reference pose
    poseScore(slab, mov, mask && ref ? scoreAffine(slab.data, slab.width, slab.height, mov, invertAffine2(ref), mask).overlap : expected, mask);
  let edsToSlab = init, refinedBy: 'elastix' | 'ratio' | 'none' = 'none';
  // the model choice on the pose elastix has to beat runs while elastix works in its thread: elastix
  // mostly does not win (the search has climbed already), and where it does the choice is made again
  let early: { on: Affine2; chosen: ChosenModel } | undefined;
  if (opts.refine !== false) {
    ({ edsToSlab, refinedBy } = await refineFromPose(slab, mov, init, scoreOn(), {
      climb: !!lms || !!opts.initialPose, inWorker: opts.inWorker, elastix: opts.elastix, signal, onProgress: sub(onProgress, 0.6, 0.95),
      meanwhile: async (on) => { early = { on, chosen: await chooseModel(slab, mov, on, scoreOn, { ...opts, onProgress: undefined }) }; },
    }));
  }
  if (early?.on === edsToSlab) onProgress?.(0.95, 'choosing the transform model');
  const chosen = opts.refine === false ? undefined : early?.on === edsToSlab ? early.chosen : await chooseModel(slab, mov, edsToSlab, scoreOn, opts);
  if (chosen) edsToSlab = chosen.edsToSlab;
  const edsToVoxel = composeAffine2to3(slab.slabToVoxel, edsToSlab);
  onProgress?.(1, 'registered');
  const coverage = mapCoverage(edsToVoxel, map.width, map.height, volume.meta.shape);
  const residuals = lms ? landmarkResiduals(edsToSlab, lms) : undefined;
  const choice = chosen?.out.modelChoice;
  const confidence = registrationConfidence({
    // a per-field registration: the held-out error of the global model under its fields (heldOutRmsVox.fields is the fields' fit residual)
    heldOutRmsVox: choice?.heldOutRmsVox[chosen?.globalModel ?? 'similarity'], patches: choice?.patches,
    coarseMi: search?.mi, secondMi: search?.secondMi, coverage, landmarkResiduals: residuals, fields: chosen?.out.model === 'fields',
  });
  return {
    ...chosen?.out,
    edsToVoxel, edsToSlab, surface, slabToVoxel: slab.slabToVoxel, slabSize: [slab.width, slab.height], slab,
    quality: {
      miBefore: mutualInformation(slab, mov, init),
      miAfter: mutualInformation(slab, mov, edsToSlab),
      scoreAfter: scoreAffine(slab.data, slab.width, slab.height, mov, invertAffine2(edsToSlab)).score,
      coverage,
      landmarkResiduals: residuals,
      initialisation: lms ? 'landmarks' : 'automatic',
      refinedBy,
      ...(search ? { coarseMi: search.mi, secondMi: search.secondMi } : {}),
      confidence,
    },
  };
}
