/**
 * The painted classes' prior (lib/classify/painted-prior): with few painted voxels per class the
 * network assumes equal class shares and gives a thin class (fractures) far more of the volume than
 * it holds; the EM step moves the output bias half way to the volume's estimated shares. Scored
 * against the lithology generator's truth of every voxel, with and without the step on the same labels.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as tfc from '@tensorflow/tfjs-core';
import { argmaxClasses, confusionMetrics, disposeModel, predictRows, trainClassifier } from '../../../lib/classify/model';
import { loadModel } from '../../../lib/classify/model-io-node';
import { PAINTED_PRIOR, paintedPriorApplies, shiftPaintedPrior } from '../../../lib/classify/painted-prior';
import { strokeFeatureSet } from '../../../lib/classify/strokes';
import type { TrainingSet } from '../../../lib/classify/training-set';
import { featuresForBox } from '../../../lib/features';
import { trainFromLabels } from '../../../lib/pipeline/train-from-labels';
import { generateLithology, paintedLabels } from '../../../lib/synthetic/lithology';
import type { Shape3 } from '../../../lib/volume/types';
import { openVolume, writeDenseVolume } from '../../../lib/volume/zarr-store-node';
import { gaussianRows } from './helpers';

const tmp = mkdtempSync(join(tmpdir(), 'petromap-painted-prior-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const rowsOf = (counts: number[]) => {
  const n = counts.reduce((a, b) => a + b, 0);
  const y = new Uint8Array(n);
  let i = 0;
  counts.forEach((c, k) => { for (let j = 0; j < c; j++) y[i++] = k + 1; });
  return { x: new Float32Array(n), y, n, positions: new Int32Array(3 * n) };
};
const tsOf = (train: number[], held: number[]): TrainingSet => ({ nFeatures: 1, featureNames: ['a'], classes: [1, 2, 3], train: rowsOf(train), heldOut: rowsOf(held), counts: [] });

describe('painted classes prior', () => {
  it('applies from 40 to under 1000 painted voxels per class (the few-labels and the 500-per-class encoded network), not at 2000', () => {
    expect(paintedPriorApplies(tsOf([30, 30, 30], [10, 10, 10]), 8)).toBe(true); // 40 per class counting the held-out rows
    expect(paintedPriorApplies(tsOf([30, 30, 25], [10, 10, 10]), 8)).toBe(false); // one class painted 35 times
    expect(paintedPriorApplies(tsOf([300, 300, 200], [50, 50, 50]), 8)).toBe(true); // 950 rows: the encoding's network (stop 30)
    expect(paintedPriorApplies(tsOf([400, 400, 400], [100, 100, 100]), 8)).toBe(true); // 500 per class
    expect(paintedPriorApplies(tsOf([1500, 1500, 1500], [500, 500, 500]), 8)).toBe(false); // 2000 per class: the step lost there
    expect(paintedPriorApplies(tsOf([100, 100, 100], [0, 0, 0]), 0)).toBe(false); // no encoding asked: not the painted-label defaults
    expect(PAINTED_PRIOR.power).toBeGreaterThan(0);
  });

  it('40 painted voxels per class on a lithology volume: the over-predicted fracture share comes closer to the truth, mean IoU within 0.02', async () => {
    const shape: Shape3 = [24, 80, 80];
    const s = generateLithology({ shape, seed: 4 });
    const painted = paintedLabels(s.truth, shape, { perClass: 40, seed: 4 });
    await writeDenseVolume(join(tmp, 'scan.ome.zarr'), s.volume);
    await writeDenseVolume(join(tmp, 'labels.ome.zarr'), { meta: { ...s.volume.meta, dtype: 'uint8', channels: ['labels'] }, data: painted });
    const store = await openVolume(join(tmp, 'scan.ome.zarr'));
    const set = strokeFeatureSet(store.meta.spacingUm);
    const n = shape[0] * shape[1] * shape[2];
    const f = await featuresForBox(store, { start: [0, 0, 0], shape }, set);
    const share = (v: Uint8Array, c: number) => v.reduce((a, x) => a + (x === c ? 1 : 0), 0) / n;
    // the model without the step, then the step on a sample of the volume's rows (every 7th voxel)
    const dir = join(tmp, 'model');
    await trainFromLabels(join(tmp, 'scan.ome.zarr'), { kind: 'strokes', strokes: await openVolume(join(tmp, 'labels.ome.zarr')) }, dir, { featureSet: set, seed: 1, paintedPrior: false, strokeGaps: false });
    const tm = await loadModel(dir);
    const score = async () => {
      const pred = argmaxClasses(await predictRows(tm, f.data, n), tm.classes);
      return { meanIoU: confusionMetrics(s.truth, pred, [1, 2, 3]).meanIoU, fracture: share(pred, 3) };
    };
    const off = await score();
    const nF = f.nFeatures, idx = Array.from({ length: Math.floor(n / 7) }, (_, i) => 7 * i);
    const sample = new Float32Array(idx.length * nF);
    idx.forEach((v, i) => sample.set(f.data.subarray(v * nF, (v + 1) * nF), i * nF));
    // a loaded model keeps the shares its loss saw (aa22d2f): the step starts from equal shares (40 / 40 / 40 painted, no class weights;
    // without the gap rows between strokes, lib/classify/stroke-gaps, whose targets the loss sees too)
    expect(tm.trainPrior).toHaveLength(3);
    for (const v of tm.trainPrior!) expect(v).toBeCloseTo(1 / 3, 6);
    const shares = await shiftPaintedPrior(tm, sample, idx.length);
    const on = await score();
    disposeModel(tm);
    const truthShare = share(s.truth, 3);
    // measured (loaded machine, same on any): fracture share 17.1 -> 16.1 % (true 6.8 %), mean IoU 0.400 -> 0.400
    expect(off.fracture).toBeGreaterThan(truthShare); // the over-prediction the step is for
    expect(Math.abs(on.fracture - truthShare)).toBeLessThan(Math.abs(off.fracture - truthShare));
    expect(on.meanIoU).toBeGreaterThan(off.meanIoU - 0.02);
    // EM's fracture share lies below the painted 1/3; the prior moved half way in log: p_k proportional to sqrt(share_k / 3)
    expect(shares[2]!).toBeLessThan(1 / 3);
    const root = shares.map(Math.sqrt), sum = root.reduce((a, v) => a + v, 0);
    const capped = (() => {
      const raw = shares.map((v) => 0.5 * Math.log(v * 3)), mid = raw.reduce((a, v) => a + v, 0) / 3;
      const w = raw.map((v) => Math.exp(mid + Math.max(-PAINTED_PRIOR.maxLogShift, Math.min(PAINTED_PRIOR.maxLogShift, v - mid))));
      const t = w.reduce((a, v) => a + v, 0);
      return w.map((v) => v / t);
    })();
    root.forEach((_v, k) => expect(tm.trainPrior![k]!).toBeCloseTo(capped[k]!, 5));
    if (capped.every((v, k) => Math.abs(v - root[k]! / sum) < 1e-9)) root.forEach((v, k) => expect(tm.trainPrior![k]!).toBeCloseTo(v / sum, 5));
    console.log(`painted prior: fracture share ${(100 * off.fracture).toFixed(1)} -> ${(100 * on.fracture).toFixed(1)} % (true ${(100 * truthShare).toFixed(1)} %), mean IoU ${off.meanIoU.toFixed(3)} -> ${on.meanIoU.toFixed(3)}`);
  });

  it('bounds the move of each class: a class EM finds almost absent moves at most maxLogShift below the mean EM move of the classes (stop 30)', async () => {
    // three separable 2D classes painted 60 times each; the volume's sample holds only the first two
    const ts: TrainingSet = { nFeatures: 2, featureNames: ['a', 'b'], classes: [1, 2, 3], train: gaussianRows([60, 60, 60], [1, 2, 3], [[0, 0], [5, 0], [0, 5]], 3), heldOut: gaussianRows([0, 0, 0], [1, 2, 3], [[0, 0], [5, 0], [0, 5]], 4), counts: [] };
    const tm = await trainClassifier(ts, { epochs: 30, seed: 1 });
    try {
      const sample = gaussianRows([400, 400, 0], [1, 2, 3], [[0, 0], [5, 0], [0, 5]], 5);
      const dense = tm.model.layers.filter((l) => l.getClassName() === 'Dense');
      const bias = () => Array.from((dense[dense.length - 1]!.getWeights()[1] as tfc.Tensor).dataSync());
      const b0 = bias();
      const shares = await shiftPaintedPrior(tm, sample.x, sample.n);
      const move = bias().map((v, k) => v - b0[k]!);
      // EM: class 3 is (nearly) absent; half its log ratio to the painted third lies far beyond the bound
      expect(shares[2]!).toBeLessThan(0.01);
      const raw = shares.map((v) => 0.5 * Math.log(v * 3)), rawMid = raw.reduce((a, v) => a + v, 0) / 3;
      expect(raw[2]! - rawMid).toBeLessThan(-PAINTED_PRIOR.maxLogShift - 0.5);
      // each class's bias moved by at most the bound about the classes' mean EM move (before stop 30: by its whole move)
      move.forEach((v) => expect(Math.abs(v - rawMid)).toBeLessThanOrEqual(PAINTED_PRIOR.maxLogShift + 1e-4));
      expect(move[2]! - rawMid).toBeCloseTo(-PAINTED_PRIOR.maxLogShift, 4);
    } finally {
      disposeModel(tm);
    }
  });
});
