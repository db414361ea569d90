/**
 * The trained model on one slice of the volume (the Train step's preview): the slice as a brick
 * one voxel thick through predictBrick, the same path as predictVolume's bricks (features with
 * their halo, mirrored above the model's surface, argmax, air unlabelled), so the preview shows
 * the labels the whole-volume prediction will give those voxels.
 *
 * A slice index is in voxels of pyramid `level`; the model needs full resolution, so the matching
 * level-0 slice is classified. Loaded models are kept (one per model folder's parent, i.e. one
 * per project) until their model.json changes.
 */
import { stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { invalidInput, throwIfAborted, unprocessable, type StageOptions } from '../errors';
import type { Box3 } from '../volume/types';
import { openVolume } from '../volume/zarr-store-node';
import { disposeModel, type TrainedModel } from './model';
import { checkTrainedOn, loadModel, type TrainedOn } from './model-io-node';
import { featureSource, predictBrick } from './predict-brick';

export type SliceAxis = 'z' | 'y' | 'x';

export interface PredictSliceResult {
  /** class codes, row-major (height, width); 0 = no label (above the surface) */
  labels: Uint8Array;
  /** columns/rows: XY x/y, XZ x/z, YZ y/z (as the slice routes) */
  width: number;
  height: number;
  /** the level-0 slice classified */
  index0: number;
  classes: number[];
}

type LoadedModel = TrainedModel & { trainedOn?: TrainedOn };
const loaded = new Map<string, { stamp: number; tm: LoadedModel }>();

async function cachedModel(modelDir: string): Promise<LoadedModel> {
  const stamp = await stat(join(modelDir, 'model.json')).then((s) => s.mtimeMs, () => NaN);
  const hit = loaded.get(modelDir);
  if (hit && hit.stamp === stamp) return hit.tm;
  // one model per project in memory: each training has its own folder, earlier ones are not used again
  for (const [dir, old] of loaded) {
    if (dir === modelDir || dirname(dir) === dirname(modelDir)) (disposeModel(old.tm), loaded.delete(dir));
  }
  const tm = await loadModel(modelDir);
  loaded.set(modelDir, { stamp, tm });
  return tm;
}

/** The level-0 box of slice `index` (in voxels of `level`) along `axis`. */
export function sliceBox(shape0: [number, number, number], levelShape: [number, number, number], axis: SliceAxis, index: number): { box: Box3; index0: number } {
  const a = axis === 'z' ? 0 : axis === 'y' ? 1 : 2;
  const n0 = shape0[a], nl = levelShape[a];
  const index0 = Math.min(n0 - 1, Math.max(0, Math.floor((index + 0.5) * (n0 / nl))));
  const start: [number, number, number] = [0, 0, 0];
  const size: [number, number, number] = [...shape0];
  start[a] = index0;
  size[a] = 1;
  return { box: { start, shape: size }, index0 };
}

export async function predictSlice(storePath: string, modelDir: string, axis: SliceAxis, index: number, opts: StageOptions & { level?: number; volumeName?: string } = {}): Promise<PredictSliceResult> {
  throwIfAborted(opts.signal);
  const level = opts.level ?? 0;
  const store = await openVolume(storePath);
  if (!Number.isInteger(level) || level < 0 || level >= store.levels) throw invalidInput(`Pyramid level ${level} does not exist (this volume has ${store.levels}).`);
  const ls = store.levelShape(level);
  const a = axis === 'z' ? 0 : axis === 'y' ? 1 : 2;
  if (!Number.isInteger(index) || index < 0 || index >= ls[a]) throw invalidInput(`Slice ${index} is outside the volume (0–${ls[a] - 1} along ${axis} at level ${level}).`);
  const tm = await cachedModel(modelDir);
  if (!tm.featureSet) throw unprocessable(`The classifier in ${modelDir} does not record its feature set; train it again.`);
  // as predictVolume: a model trained on another geometry is refused, not previewed as a wrong map
  checkTrainedOn(tm.trainedOn, store.meta, { targetName: opts.volumeName ?? storePath, featureSet: tm.featureSet, mirrors: !!tm.mirrorSurface });
  const { box, index0 } = sliceBox(store.meta.shape, ls, axis, index);
  const mirror = tm.mirrorSurface ?? null;
  const out = await predictBrick(tm, featureSource(store, mirror), box, mirror, { signal: opts.signal });
  const [nz, ny, nx] = store.meta.shape;
  // box order is (z, y, x) with the sliced axis of size 1: row-major (height, width) as listed above
  const width = axis === 'x' ? ny : nx, height = axis === 'z' ? ny : nz;
  return { labels: out.labels, width, height, index0, classes: tm.classes };
}
