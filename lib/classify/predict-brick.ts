/**
 * One brick through the classifier, exactly as predictVolume's workers do it (predict.worker.ts):
 * features of the box computed with their halo on the volume mirrored above the surface the
 * model was trained with, class probabilities of the MLP, then the brick's outputs (argmax,
 * quantised probabilities, uncertainty; voxels above the surface left unlabelled). predictSlice
 * (predict-slice-node.ts) uses this, so the model preview of a slice and the whole-volume
 * prediction give the same labels for the same voxels.
 *
 * When the kernel supports the model (fused-mlp.ts: Dense/ReLU stacks with a softmax output, i.e.
 * every model trainClassifier makes) the features go from their planes in wasm memory straight
 * into the fused wasm MLP, which writes the outputs; otherwise rows -> TF.js (predictRows) ->
 * brickOutputs. Both give the same probabilities within 1e-5 (tests/lib/classify/fused-mlp.test.ts).
 */
import { invalidInput, type StageOptions } from '../errors';
import { featuresForBox, featuresForBoxPlanar } from '../features';
import type { VolumeStore } from '../volume/store';
import type { Box3 } from '../volume/types';
import { brickOutputs, clearAboveSurface, type BrickOutputs } from './brick-predict';
import { fusedMlpOf, runFusedMlpInto } from './fused-mlp';
import { mirrorAboveSurface, type SurfacePlane } from './mirror';
import { predictRows, type TrainedModel } from './model';

/** The store the features are computed on: mirrored above `mirror` when there is one. */
export const featureSource = (store: VolumeStore, mirror: SurfacePlane | null | undefined): VolumeStore => (mirror ? mirrorAboveSurface(store, mirror) : store);

export interface PredictBrickOptions extends StageOptions {
  /** fill these arrays (of the box's size) instead of allocating new ones (fused path only) */
  into?: BrickOutputs;
  /** 'tfjs' forces the TF.js path (benchmarks, tests); default 'auto' (fused when supported) */
  engine?: 'auto' | 'tfjs';
}

/** Output arrays for a box of n voxels and K classes. */
export const allocBrickOutputs = (n: number, K: number): BrickOutputs => ({ labels: new Uint8Array(n), probabilities: Array.from({ length: K }, () => new Uint8Array(n)), uncertainty: new Uint8Array(n) });

/** `src` is featureSource(store, mirror); `mirror` also masks the air above it. */
export async function predictBrick(model: TrainedModel, src: VolumeStore, box: Box3, mirror: SurfacePlane | null | undefined, opts: PredictBrickOptions = {}): Promise<BrickOutputs> {
  const n = box.shape[0] * box.shape[1] * box.shape[2];
  const net = opts.engine === 'tfjs' ? null : fusedMlpOf(model);
  if (!net) {
    const f = await featuresForBox(src, box, model.featureSet!, { signal: opts.signal });
    const p = await predictRows(model, f.data, n);
    return brickOutputs(p, model.classes, box, mirror ?? undefined);
  }
  const nK = net.nClasses;
  const out = opts.into && opts.into.labels.length === n && opts.into.probabilities.length === nK ? opts.into : allocBrickOutputs(n, nK);
  await featuresForBoxPlanar(src, box, model.featureSet!, (K, planar, nVox, nF) => {
    if (nF !== net.nF) throw invalidInput(`Feature rows have ${nF} features per voxel but the model expects ${net.nF} (${model.featureNames.join(', ')}).`);
    runFusedMlpInto(K, net, planar, nVox, out);
  }, { signal: opts.signal });
  if (mirror) clearAboveSurface(out, box, mirror);
  return out;
}
