/**
 * One brick through the classifier, exactly as predictVolume's workers do it (predict.worker.ts):
 * features of the box computed with their halo on the volume mirrored above the surface the
 * model was trained with, class probabilities of the MLP, then brickOutputs (argmax, voxels above
 * the surface left unlabelled). predictSlice (predict-slice-node.ts) uses this, so the model
 * preview of a slice and the whole-volume prediction give the same labels for the same voxels.
 */
import type { StageOptions } from '../errors';
import { featuresForBox } from '../features';
import type { VolumeStore } from '../volume/store';
import type { Box3 } from '../volume/types';
import { brickOutputs, type BrickOutputs } from './brick-predict';
import { mirrorAboveSurface, type SurfacePlane } from './mirror';
import { predictRows, type TrainedModel } from './model';

/** The store the features are computed on: mirrored above `mirror` when there is one. */
export const featureSource = (store: VolumeStore, mirror: SurfacePlane | null | undefined): VolumeStore => (mirror ? mirrorAboveSurface(store, mirror) : store);

/** `src` is featureSource(store, mirror); `mirror` also masks the air above it. */
export async function predictBrick(model: TrainedModel, src: VolumeStore, box: Box3, mirror: SurfacePlane | null | undefined, opts: StageOptions = {}): Promise<BrickOutputs> {
  const f = await featuresForBox(src, box, model.featureSet!, { signal: opts.signal });
  const n = box.shape[0] * box.shape[1] * box.shape[2];
  const p = await predictRows(model, f.data, n);
  return brickOutputs(p, model.classes, box, mirror ?? undefined);
}
