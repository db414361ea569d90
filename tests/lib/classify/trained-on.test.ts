/**
 * A model knows what it was trained on: the model folder keeps `trainedOn` (the volume's name, id,
 * shape, voxel size, feature definition version), `trainPrior` and `outOfFold` and reads them back;
 * predictVolume and predictSlice refuse a volume of another geometry in words instead of a silent
 * wrong map (another voxel size; another shape while the model mirrors at its training surface); a folder saved before the record (none of those fields) still loads and predicts;
 * a damaged record is refused, not half trusted; `petromap info <model folder>` says the volume.
 * Real TF.js, real zarr stores, no mocks.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trainClassifier, type TrainedModel } from '../../../lib/classify/model';
import { loadModel, saveModel, trainedOnRecord } from '../../../lib/classify/model-io-node';
import { predictVolume } from '../../../lib/classify/predict-node';
import { predictSlice } from '../../../lib/classify/predict-slice-node';
import { buildTrainingSet, featureFnFor, surfaceLabelVoxels } from '../../../lib/classify/training-set';
import { info } from '../../../lib/cli/info';
import { isPetromapError } from '../../../lib/errors';
import { writeDenseVolume } from '../../../lib/volume/zarr-store-node';
import { TEST_SET } from './helpers';
import { fixture } from './sample';

const tmp = mkdtempSync(join(tmpdir(), 'petromap-trained-on-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const { sample, surfaceLabels } = fixture({ shape: [24, 48, 48], seed: 5, grainDiameterVox: 10 });
const meta = sample.volume.meta;
const storePath = join(tmp, 'scan-A.ome.zarr');
/** the same voxels at twice the voxel size (another scanner setting) */
const coarsePath = join(tmp, 'scan-coarse.ome.zarr');
/** a taller scan at the same voxel size */
const tallPath = join(tmp, 'scan-tall.ome.zarr');
const modelDir = join(tmp, 'model');
let tm: TrainedModel;

beforeAll(async () => {
  const store = await writeDenseVolume(storePath, sample.volume, { chunk: [24, 48, 48] });
  await writeDenseVolume(coarsePath, { ...sample.volume, meta: { ...meta, spacingUm: meta.spacingUm.map((v) => 2 * v) as [number, number, number] } }, { chunk: [24, 48, 48] });
  const [nz, ny, nx] = meta.shape;
  const tall = new (sample.volume.data.constructor as Uint16ArrayConstructor)(2 * nz * ny * nx);
  tall.set(sample.volume.data as Uint16Array);
  tall.set(sample.volume.data as Uint16Array, nz * ny * nx);
  await writeDenseVolume(tallPath, { meta: { ...meta, shape: [2 * nz, ny, nx] }, data: tall }, { chunk: [24, 48, 48] });
  const ts = await buildTrainingSet(store, surfaceLabelVoxels(surfaceLabels, meta.shape), { features: featureFnFor(TEST_SET), featureSet: TEST_SET, mirrorSurface: sample.truth.surface, maxPerClass: 400 });
  // refit: the model carries its first model's held-out score (outOfFold) and the class shares it assumed (trainPrior)
  tm = await trainClassifier(ts, { epochs: 3, seed: 4, refit: true });
  await saveModel(modelDir, tm, { classNames: tm.classes.map((c) => `class ${c}`), trainedOn: trainedOnRecord(meta, 'scan-A.nrrd', TEST_SET, 'd123') });
}, 120_000);

describe('the model folder records its training volume', () => {
  it('keeps trainedOn, trainPrior and outOfFold and reads them back', async () => {
    expect(tm.trainPrior?.length).toBe(tm.classes.length);
    expect(tm.outOfFold).toBeDefined();
    const back = await loadModel(modelDir);
    expect(back.trainedOn).toEqual({ volume: 'scan-A.nrrd', volumeId: 'd123', shape: meta.shape, spacingUm: meta.spacingUm, featureVersion: 1 });
    expect(back.trainPrior).toEqual(tm.trainPrior);
    expect(back.outOfFold!.perClass).toEqual(tm.outOfFold!.perClass);
    expect(back.outOfFold!.accuracy).toBeCloseTo(tm.outOfFold!.accuracy, 12);
    const shown = await info(modelDir);
    expect(shown.kind).toBe('model');
    expect(shown.trainedOnText).toBe(`trained on scan-A.nrrd (${meta.shape.join(' × ')} voxels of ${meta.spacingUm.join(' × ')} µm, feature definition version 1)`);
  });

  it('predict refuses a volume of another voxel size, and another shape while the model mirrors at its surface, before writing anything', async () => {
    const out = join(tmp, 'out-coarse');
    const err = await predictVolume(coarsePath, modelDir, out, { threads: 1 }).catch((e: unknown) => e);
    expect(isPetromapError(err, 'Conflict')).toBe(true);
    expect((err as Error).message).toMatch(/trained on scan-A\.nrrd \(24 × 48 × 48 voxels of .* µm\); .*scan-coarse\.ome\.zarr has voxels of .* µm\. .*would be wrong: train a model on/);
    expect(existsSync(out)).toBe(false);
    const tall = await predictVolume(tallPath, modelDir, join(tmp, 'out-tall'), { threads: 1 }).catch((e: unknown) => e);
    expect((tall as Error).message).toMatch(/is 48 × 48 × 48 voxels\. The model mirrors the volume above the polished surface it found in scan-A\.nrrd/);
    const slice = await predictSlice(coarsePath, modelDir, 'z', 3).catch((e: unknown) => e);
    expect(isPetromapError(slice, 'Conflict')).toBe(true);
  });

  it('a folder saved before the record (no trainedOn, trainPrior, outOfFold) loads and predicts: its volume is unknown, never refused for it', async () => {
    const old = join(tmp, 'model-old');
    await saveModel(old, { ...tm, trainPrior: undefined, outOfFold: undefined });
    const j = JSON.parse(readFileSync(join(old, 'model.json'), 'utf8')) as Record<string, unknown>;
    expect(j.trainedOn).toBeUndefined();
    const back = await loadModel(old);
    expect(back.trainedOn).toBeUndefined();
    expect(back.trainPrior).toBeUndefined();
    // in process (the slice preview: the same check as predictVolume's; predict.test predicts whole volumes with models saved without the record)
    const r = await predictSlice(coarsePath, old, 'z', meta.shape[0] - 1);
    expect(r.labels.some((c) => c > 0)).toBe(true);
    expect((await info(old)).trainedOnText).toMatch(/unknown \(saved before petromap recorded it\)/);
  });

  it('a damaged record or one whose feature version disagrees with the feature set is refused in words', async () => {
    const bad = join(tmp, 'model-bad');
    await saveModel(bad, tm, { trainedOn: trainedOnRecord(meta, 'scan-A.nrrd', TEST_SET) });
    const file = join(bad, 'model.json');
    const j = JSON.parse(readFileSync(file, 'utf8')) as { trainedOn: Record<string, unknown> };
    writeFileSync(file, JSON.stringify({ ...j, trainedOn: { ...j.trainedOn, spacingUm: 'x' } }));
    for (const e of [await loadModel(bad).catch((x: unknown) => x), await predictVolume(storePath, bad, join(tmp, 'out-bad'), { threads: 1 }).catch((x: unknown) => x)]) {
      expect(isPetromapError(e, 'InvalidInput')).toBe(true);
      expect((e as Error).message).toMatch(/record of the volume it was trained on \("trainedOn"\) is damaged; train the model again/);
    }
    writeFileSync(file, JSON.stringify({ ...j, trainedOn: { ...j.trainedOn, featureVersion: 2 } }));
    const v = await predictVolume(storePath, bad, join(tmp, 'out-bad2'), { threads: 1 }).catch((x: unknown) => x);
    expect((v as Error).message).toMatch(/with feature definition version 2, but its feature set says version 1: the model file was changed after training/);
  });
});
