/**
 * The lithology chain (trainable segmentation, as in ilastik): train on strokes painted on a few
 * slices (lib/pipeline/train-from-labels, the one training stage), predict the whole volume
 * (lib/classify predictVolume: chunk-owning bricks, verified to leave no voxel unlabelled), and
 * measure the class fractions of the map. Files in `workDir`: model/, prediction/.
 */
import { join } from 'node:path';
import { predictVolume } from '../classify/predict-node';
import { throwIfAborted, type OnProgress, type StageOptions } from '../errors';
import { openVolume } from '../volume/zarr-store-node';
import { trainFromLabels, type TrainFromLabelsOptions } from './train-from-labels';

export interface RunLithologyOptions extends StageOptions {
  classNames?: Record<number, string>;
  train?: TrainFromLabelsOptions['train'];
  featureSet?: TrainFromLabelsOptions['featureSet'];
  threads?: number;
  seed?: number;
}

export interface RunLithologyResult {
  heldOutAccuracy: number | null;
  perClass: { code: number; f1: number; support: number }[];
  strokeVoxels: number;
  /** class code -> fraction of the volume's voxels */
  fractions: Record<string, number>;
  labelsPath: string;
  modelDir: string;
}

const sub = (p: OnProgress | undefined, from: number, to: number): OnProgress | undefined => p && ((f, m) => p(from + (to - from) * f, m));

export async function runLithology(scanPath: string, strokesPath: string, workDir: string, opts: RunLithologyOptions = {}): Promise<RunLithologyResult> {
  const { signal, onProgress } = opts;
  const strokes = await openVolume(strokesPath);
  const modelDir = join(workDir, 'model');
  const t = await trainFromLabels(scanPath, { kind: 'strokes', strokes }, modelDir, {
    classNames: opts.classNames, train: opts.train, featureSet: opts.featureSet, seed: opts.seed, signal, onProgress: sub(onProgress, 0, 0.5),
  });
  const r = await predictVolume(scanPath, modelDir, join(workDir, 'prediction'), { threads: opts.threads, signal, pyramids: false, onProgress: sub(onProgress, 0.5, 0.95) });
  const labels = await openVolume(r.labelsPath);
  const [nz, ny, nx] = labels.meta.shape;
  const hist = new Float64Array(256);
  for (let z = 0; z < nz; z += 16) {
    throwIfAborted(signal);
    const d = await labels.readBlock({ start: [z, 0, 0], shape: [Math.min(16, nz - z), ny, nx] }, { signal });
    for (let i = 0; i < d.length; i++) hist[d[i]!]++;
  }
  const fractions: Record<string, number> = {};
  for (let c = 0; c < 256; c++) if (hist[c]) fractions[c] = hist[c]! / (nz * ny * nx);
  onProgress?.(1, 'lithology map written');
  const v = t.validation;
  return {
    heldOutAccuracy: Number.isFinite(v.accuracy) ? v.accuracy : null,
    perClass: v.perClass.map((c) => ({ code: c.class, f1: c.f1, support: c.support })),
    strokeVoxels: t.labelledVoxels,
    fractions,
    labelsPath: r.labelsPath,
    modelDir,
  };
}
