/**
 * Painted-label training with few labels (issue 15 §3): the piecewise-linear encoding and one 512-row
 * batch per epoch collapsed on a few dozen painted voxels (e2e 08: 40 pore + 40 solid voxels, held-out
 * accuracy 19 %, predicted pore share 64 % against 19 %). The guard (lib/classify/ple pleGuard) keeps
 * plain standardisation and small batches there. Scored against the generators' truth of every voxel.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { argmaxClasses, confusionMetrics, disposeModel, predictRows, trainClassifier } from '../../../lib/classify/model';
import { loadModel } from '../../../lib/classify/model-io-node';
import { foldPle, paintedInputDropoutApplies, PLE_GUARD, pleEncode, pleGuard, pleTrainingSet } from '../../../lib/classify/ple';
import { strokeFeatureSet } from '../../../lib/classify/strokes';
import { buildTrainingSet, type LabelledVoxel, type TrainingSet } from '../../../lib/classify/training-set';
import { featuresForBox } from '../../../lib/features';
import { trainFromLabels } from '../../../lib/pipeline/train-from-labels';
import { generateLithology, paintedLabels } from '../../../lib/synthetic/lithology';
import { poreSolidCase } from '../../../lib/synthetic/pore-speckle';
import type { DenseVolume, Shape3 } from '../../../lib/volume/types';
import { openVolume, writeDenseVolume } from '../../../lib/volume/zarr-store-node';
import { denseStore, simpleFeatures } from './helpers';

const tmp = mkdtempSync(join(tmpdir(), 'petromap-ple-few-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Train on the painted labels through the one painted-label path, predict every voxel, score against the truth. */
async function paintedRun(name: string, volume: DenseVolume, painted: Uint8Array, truth: Uint8Array, codes: number[]) {
  const dir = join(tmp, name);
  await writeDenseVolume(join(dir, 'scan.ome.zarr'), volume);
  await writeDenseVolume(join(dir, 'labels.ome.zarr'), { meta: { ...volume.meta, dtype: 'uint8', channels: ['labels'] }, data: painted });
  const store = await openVolume(join(dir, 'scan.ome.zarr'));
  const set = strokeFeatureSet(store.meta.spacingUm);
  const tr = await trainFromLabels(join(dir, 'scan.ome.zarr'), { kind: 'strokes', strokes: await openVolume(join(dir, 'labels.ome.zarr')) }, join(dir, 'model'), { featureSet: set, seed: 1 });
  const shape = volume.meta.shape, n = shape[0] * shape[1] * shape[2];
  const f = await featuresForBox(store, { start: [0, 0, 0], shape }, set);
  const tm = await loadModel(join(dir, 'model'));
  const pred = argmaxClasses(await predictRows(tm, f.data, n), tm.classes);
  disposeModel(tm);
  const share = (v: Uint8Array, code = codes[0]) => v.reduce((s, x) => s + (x === code ? 1 : 0), 0) / n;
  return { tr, meanIoU: confusionMetrics(truth, pred, codes).meanIoU, share: share(pred), trueShare: share(truth), shares: codes.map((c) => share(pred, c)) };
}

describe('painted labels: few voxels per class', () => {
  it('40 pore + 40 solid single voxels on a pore speckle (the e2e 08 interior): plain standardisation, mean IoU >= 0.85, pore share within 0.05', async () => {
    const c = poreSolidCase(1, 40);
    const r = await paintedRun('pores', c.volume, c.painted, c.truth, [1, 2]);
    // measured (bench lithology --case pores, seed 1): before the guard 0.687 and 29.5 % pore (true 19.1 %); with it 0.903 and 22.2 %
    expect(r.meanIoU).toBeGreaterThan(0.85);
    expect(Math.abs(r.share - r.trueShare)).toBeLessThan(0.05);
    expect(r.tr.hidden).toEqual([...PLE_GUARD.few.hidden]); // no encoding layer: the guard kept plain standardisation, the few-labels network
  });

  it('40 painted voxels per class on a lithology volume: mean IoU against the truth >= 0.33, every class predicted', async () => {
    const shape: Shape3 = [24, 80, 80];
    const s = generateLithology({ shape, seed: 4 });
    const r = await paintedRun('litho', s.volume, paintedLabels(s.truth, shape, { perClass: 40, seed: 4 }), s.truth, [1, 2, 3]);
    // measured: 0.397 (0.395 with the encoding and 512-row batches: this volume did not collapse; a
    // collapsed model reads 0.06-0.14 in bench lithology, one or two classes left out)
    expect(r.tr.hidden).toEqual([...PLE_GUARD.few.hidden]);
    expect(r.meanIoU).toBeGreaterThan(0.33);
    for (const v of r.shares) expect(v).toBeGreaterThan(0.05);
  });

  it('the guard: 8 bins only with 96 training rows per bin (then 512-row batches); input dropout from 100 to under 1000 rows per class; without, batches give at least 4 steps per epoch (8..512 rows); one bin folds exactly onto the standardised features', async () => {
    const nF = 3, K = 2;
    const rows = (n: number, off: number) => {
      const x = Float32Array.from({ length: n * nF }, (_, i) => Math.sin((i + off) * 1.37) * (1 + (i % nF)) + (i % nF));
      const y = Uint8Array.from({ length: n }, (_, i) => (x[i * nF]! > 0.3 ? 2 : 1));
      return { x, y, n, positions: new Int32Array(n) };
    };
    const ts = (n: number): TrainingSet => ({ nFeatures: nF, featureNames: ['a', 'b', 'c'], classes: [1, 2], train: rows(n, 0), heldOut: rows(40, 99991), counts: [] });
    expect(pleGuard(ts(60), 8)).toEqual({ bins: 1, batchSize: 8, inputDropout: 0 });
    // the few-labels network drops inputs from 100 painted rows per class (train + held-out: 403.5 here), not below
    expect(pleGuard(ts(767), 8)).toEqual({ bins: 1, batchSize: 128, inputDropout: PLE_GUARD.few.inputDropout });
    expect(pleGuard(ts(159), 8).inputDropout).toBe(0); // 99.5 per class
    expect(pleGuard(ts(160), 8).inputDropout).toBe(PLE_GUARD.few.inputDropout);
    // the encoded network below 1000 painted rows per class (train + held-out) drops inputs (stop 31), not above
    expect(pleGuard(ts(768), 8)).toEqual({ bins: 8, batchSize: 512, inputDropout: PLE_GUARD.encodedInputDropout.rate });
    expect(pleGuard(ts(1959), 8).inputDropout).toBe(PLE_GUARD.encodedInputDropout.rate); // 999.5 per class
    expect(pleGuard(ts(1960), 8).inputDropout).toBe(0); // 1000 per class
    expect(pleGuard(ts(5000), 8)).toEqual({ bins: 8, batchSize: 512, inputDropout: 0 });
    const small = ts(200);
    const enc = pleTrainingSet(small, 1);
    expect(enc.ts.nFeatures).toBe(nF);
    const a = await trainClassifier(enc.ts, { epochs: 3, seed: 2, batchSize: 32 });
    const folded = foldPle(a, enc.edges, enc.mean, enc.std, small);
    expect(folded.hidden).toEqual([48, 48]);
    expect(folded.model.layers.length).toBe(3);
    const ev = rows(500, 4242);
    const pEnc = await predictRows(a, pleEncode(ev.x, 500, enc.mean, enc.std, enc.edges), 500), pFold = await predictRows(folded, ev.x, 500);
    let d = 0;
    for (let i = 0; i < pEnc.length; i++) d = Math.max(d, Math.abs(pEnc[i]! - pFold[i]!));
    expect(d).toBeLessThan(1e-4);
    expect(K).toBe(folded.classes.length);
    [a, folded].forEach(disposeModel);
  });

  it('the painted input dropout only on volumes at least 64 voxels in every extent (stop 31: it lost on 32 slices and on the e2e 06 plug of 24)', () => {
    expect(PLE_GUARD.inputDropoutMinExtentVox).toBe(64);
    expect(paintedInputDropoutApplies([64, 128, 128])).toBe(true); // bench lithology's volume, where it was measured to pay
    expect(paintedInputDropoutApplies([96, 160, 160])).toBe(true);
    expect(paintedInputDropoutApplies([32, 96, 96])).toBe(false);
    expect(paintedInputDropoutApplies([24, 64, 96])).toBe(false); // the e2e 06 layered plug
    expect(paintedInputDropoutApplies([128, 48, 128])).toBe(false); // thin in y as well
  });

  it('the spatial split keeps a class painted in one tile in training (it used to be held out whole and dropped from the model)', async () => {
    const c = poreSolidCase(1, 1);
    const store = denseStore(c.volume);
    // classes 1 and 2 painted over many 16-voxel tiles, class 3 in a single tile
    const vox: LabelledVoxel[] = [];
    for (let y = 2; y < 62; y += 3) for (let x = 2; x < 62; x += 3) vox.push({ z: 32, y, x, cls: 1 + ((x + y) % 2) });
    for (let i = 0; i < 10; i++) vox.push({ z: 20, y: 40 + (i % 4), x: 40 + Math.floor(i / 4), cls: 3 });
    for (let seed = 1; seed <= 12; seed++) {
      const ts = await buildTrainingSet(store, vox, { features: simpleFeatures, tileVox: 16, seed });
      expect(ts.classes).toEqual([1, 2, 3]);
      expect(ts.counts.find((k) => k.class === 3)!.train).toBe(10);
      expect(ts.heldOut.n).toBeGreaterThan(0);
    }
  });
});
