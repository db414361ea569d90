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
import { argmaxClasses, confusionMetrics, disposeModel, predictRows } from '../../../lib/classify/model';
import { loadModel } from '../../../lib/classify/model-io-node';
import { PAINTED_PRIOR, paintedPriorApplies, shiftPaintedPrior } from '../../../lib/classify/painted-prior';
import { strokeFeatureSet } from '../../../lib/classify/strokes';
import type { TrainingSet } from '../../../lib/classify/training-set';
import { featuresForBox } from '../../../lib/features';
import { trainFromLabels } from '../../../lib/pipeline/train-from-labels';
import { generateLithology, paintedLabels } from '../../../lib/synthetic/lithology';
import type { Shape3 } from '../../../lib/volume/types';
import { openVolume, writeDenseVolume } from '../../../lib/volume/zarr-store-node';

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
  it('applies to the few-labels network with enough voxels in every class only', () => {
    expect(paintedPriorApplies(tsOf([30, 30, 30], [10, 10, 10]), 8)).toBe(true); // 40 per class counting the held-out rows
    expect(paintedPriorApplies(tsOf([30, 30, 25], [10, 10, 10]), 8)).toBe(false); // one class painted 35 times
    expect(paintedPriorApplies(tsOf([300, 300, 200], [50, 50, 50]), 8)).toBe(false); // 800 rows: the encoding's network
    expect(paintedPriorApplies(tsOf([100, 100, 100], [0, 0, 0]), 0)).toBe(false); // no encoding asked: not the few-labels schedule
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
    await trainFromLabels(join(tmp, 'scan.ome.zarr'), { kind: 'strokes', strokes: await openVolume(join(tmp, 'labels.ome.zarr')) }, dir, { featureSet: set, seed: 1, paintedPrior: false });
    const tm = await loadModel(dir);
    const score = async () => {
      const pred = argmaxClasses(await predictRows(tm, f.data, n), tm.classes);
      return { meanIoU: confusionMetrics(s.truth, pred, [1, 2, 3]).meanIoU, fracture: share(pred, 3) };
    };
    const off = await score();
    const nF = f.nFeatures, idx = Array.from({ length: Math.floor(n / 7) }, (_, i) => 7 * i);
    const sample = new Float32Array(idx.length * nF);
    idx.forEach((v, i) => sample.set(f.data.subarray(v * nF, (v + 1) * nF), i * nF));
    expect(tm.trainPrior).toBeUndefined(); // a loaded model: the step starts from equal shares (40 / 40 / 40 painted)
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
    root.forEach((v, k) => expect(tm.trainPrior![k]!).toBeCloseTo(v / sum, 5));
    console.log(`painted prior: fracture share ${(100 * off.fracture).toFixed(1)} -> ${(100 * on.fracture).toFixed(1)} % (true ${(100 * truthShare).toFixed(1)} %), mean IoU ${off.meanIoU.toFixed(3)} -> ${on.meanIoU.toFixed(3)}`);
  });
});
