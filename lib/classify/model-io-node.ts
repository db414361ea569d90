/**
 * Save / load a TrainedModel as a folder: `model.json` (TF.js topology + weight specs + petromap
 * metadata: classes, standardisation, feature names and set, mirror surface, training history, the
 * class shares the outputs assume and the out-of-fold validation when training made them, and the
 * volume it was trained on: `trainedOn`, its name, dataset id, shape, voxel size and feature
 * definition version) and `weights.bin`. Folders saved before `trainedOn`/`trainPrior`/`outOfFold`
 * load as they did (the fields are absent: the training volume is unknown, never refused for that).
 * Saving is atomic: the folder is written under a temp name and renamed.
 * The folder carries petromap's marker (`.petromap`); an existing folder is only replaced if
 * petromap wrote it (never a user's non-empty folder).
 */
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import * as tfl from '@tensorflow/tfjs-layers';
import type { io } from '@tensorflow/tfjs-core';
import { PetromapError, invalidInput, notFound } from '../errors';
import { checkReplaceableFolder, writeFolderMarker } from '../output-folder-node';
import type { FeatureSet } from '../features/types';
import type { SurfacePlane } from './mirror';
import type { EpochInfo, TrainedModel, Validation } from './model';
import { getTf } from './tf-node';
import { MODEL_FORMAT, readTrainedOn, type TrainedOn } from './trained-on';

export { checkTrainedOn, MODEL_FORMAT, readTrainedOn, trainedOnRecord, type TrainedOn } from './trained-on';

/** A validation read back from JSON: its accuracy and mean IoU written as null (NaN) are NaN again. */
function validationFromJson(v: Validation | undefined): Validation | undefined {
  return v && { ...v, accuracy: v.accuracy ?? NaN, meanIoU: v.meanIoU ?? NaN };
}

export interface ModelFile {
  format: typeof MODEL_FORMAT;
  version: 1;
  savedAt: string;
  classes: number[];
  classNames?: string[];
  mean: number[];
  std: number[];
  featureNames: string[];
  featureSet?: FeatureSet;
  mirrorSurface?: SurfacePlane;
  hidden: number[];
  history: EpochInfo[];
  bestEpoch: number;
  /** class shares the outputs assume (TrainedModel.trainPrior); absent in folders saved before it was kept */
  trainPrior?: number[];
  /** the honest validation of a refit or ensemble model (TrainedModel.outOfFold); absent likewise */
  outOfFold?: Validation;
  /** the volume it was trained on; absent in folders saved before it was kept */
  trainedOn?: TrainedOn;
  modelTopology: unknown;
  weightSpecs: io.WeightsManifestEntry[];
  weightsFile: string;
}

function concatWeights(w: ArrayBuffer | ArrayBuffer[]): Uint8Array {
  if (!Array.isArray(w)) return new Uint8Array(w);
  const n = w.reduce((a, b) => a + b.byteLength, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const b of w) {
    out.set(new Uint8Array(b), o);
    o += b.byteLength;
  }
  return out;
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(() => true, () => false);
}

/** Files saveModel writes (a folder holding only these was written by petromap before the marker). */
const ownModelFile = (name: string) => name === 'model.json' || name === 'weights.bin';

/** Refuses (Conflict) when `dir` exists and is not a classifier folder petromap wrote. */
export async function checkModelFolder(dir: string): Promise<void> {
  await checkReplaceableFolder(dir, 'Saving the classifier', ownModelFile);
}

export async function saveModel(dir: string, tm: TrainedModel, extra: { classNames?: string[]; trainedOn?: TrainedOn } = {}): Promise<void> {
  await checkModelFolder(dir);
  await getTf();
  let artifacts: io.ModelArtifacts | null = null;
  await tm.model.save({
    save: async (a: io.ModelArtifacts) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    },
  });
  const a = artifacts as io.ModelArtifacts | null;
  if (!a || !a.weightData || !a.weightSpecs) throw new PetromapError('Unprocessable', `Could not serialise the classifier for ${dir}.`);
  const file: ModelFile = {
    format: MODEL_FORMAT,
    version: 1,
    savedAt: new Date().toISOString(),
    classes: tm.classes,
    classNames: extra.classNames,
    mean: Array.from(tm.mean),
    std: Array.from(tm.std),
    featureNames: tm.featureNames,
    featureSet: tm.featureSet,
    mirrorSurface: tm.mirrorSurface,
    hidden: tm.hidden,
    history: tm.history,
    bestEpoch: tm.bestEpoch,
    trainPrior: tm.trainPrior,
    outOfFold: tm.outOfFold,
    trainedOn: extra.trainedOn,
    modelTopology: a.modelTopology,
    weightSpecs: a.weightSpecs,
    weightsFile: 'weights.bin',
  };
  await mkdir(dirname(dir), { recursive: true });
  const tmp = join(dirname(dir), `.${basename(dir)}.tmp-${process.pid}-${Date.now()}`);
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp);
  try {
    await writeFolderMarker(tmp, 'voxel-classifier');
    await writeFile(join(tmp, 'weights.bin'), concatWeights(a.weightData as ArrayBuffer | ArrayBuffer[]));
    await writeFile(join(tmp, 'model.json'), JSON.stringify(file));
    const old = join(dirname(dir), `.${basename(dir)}.old-${process.pid}-${Date.now()}`);
    await checkModelFolder(dir); // again: the folder may have appeared meanwhile
    const had = await exists(dir);
    if (had) await rename(dir, old);
    try {
      await rename(tmp, dir);
    } catch (err) {
      if (had) await rename(old, dir).catch(() => undefined);
      throw err;
    }
    if (had) await rm(old, { recursive: true, force: true });
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    if (err instanceof PetromapError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOSPC') throw new PetromapError('DiskFull', `The disk is full: could not save the classifier to ${basename(dir)}.`, { cause: err });
    throw err;
  }
}

export async function loadModel(dir: string): Promise<TrainedModel & { classNames?: string[]; trainedOn?: TrainedOn }> {
  await getTf();
  const jsonPath = join(dir, 'model.json');
  let file: ModelFile;
  try {
    file = JSON.parse(await readFile(jsonPath, 'utf8')) as ModelFile;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw notFound(`No trained classifier in ${dir} (model.json is missing). Train a model first.`);
    throw invalidInput(`${jsonPath} is not a readable classifier file: ${(err as Error).message}`, { cause: err });
  }
  if (file.format !== MODEL_FORMAT) throw invalidInput(`${jsonPath} is not a petromap voxel classifier (format "${String(file.format)}").`);
  const trainedOn = readTrainedOn(file.trainedOn, jsonPath);
  let weights: Buffer;
  try {
    weights = await readFile(join(dir, file.weightsFile));
  } catch (err) {
    throw invalidInput(`The classifier in ${dir} has no weights file (${file.weightsFile}); save it again.`, { cause: err });
  }
  const weightData = weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) as ArrayBuffer;
  const model = await tfl.loadLayersModel({
    load: async () => ({ modelTopology: file.modelTopology as object, weightSpecs: file.weightSpecs, weightData }),
  });
  return {
    model,
    classes: file.classes,
    classNames: file.classNames,
    mean: Float32Array.from(file.mean),
    std: Float32Array.from(file.std),
    featureNames: file.featureNames,
    featureSet: file.featureSet,
    mirrorSurface: file.mirrorSurface,
    hidden: file.hidden,
    history: file.history,
    bestEpoch: file.bestEpoch,
    ...(file.trainPrior ? { trainPrior: file.trainPrior } : {}),
    ...(file.outOfFold ? { outOfFold: validationFromJson(file.outOfFold) } : {}),
    ...(trainedOn ? { trainedOn } : {}),
  };
}
