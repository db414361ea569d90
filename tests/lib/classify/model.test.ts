import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { argmaxClasses, confusionMetrics, disposeModel, predictRows, trainClassifier, validate, type TrainedModel } from '../../../lib/classify/model';
import { loadModel, saveModel } from '../../../lib/classify/model-io-node';
import { foldPle, pleEncode, pleGroups, pleGuard, pleTrainingSet } from '../../../lib/classify/ple';
import { buildTrainingSet, gatherFeatures, surfaceLabelVoxels, type LabelledVoxel } from '../../../lib/classify/training-set';
import { isPetromapError } from '../../../lib/errors';
import { denseStore, simpleFeatures } from './helpers';
import { fixture } from './sample';

const tmp = mkdtempSync(join(tmpdir(), 'petromap-model-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('classifier on the synthetic sandstone', () => {
  const { sample, surfaceLabels } = fixture({ shape: [40, 128, 128], seed: 3, grainDiameterVox: 14 });
  const shape = sample.volume.meta.shape;
  const [, ny, nx] = shape;
  const store = denseStore(sample.volume);
  const vox = surfaceLabelVoxels(surfaceLabels, shape);
  // interior voxels (well below the surface at ~4), truth labels, on a sparse grid
  const interior: LabelledVoxel[] = [];
  for (let z = 16; z < 32; z += 2) for (let y = 1; y < ny; y += 3) for (let x = 1; x < nx; x += 3) interior.push({ z, y, x, cls: sample.truthLabels[(z * ny + y) * nx + x] });
  const truth = interior.map((v) => v.cls);
  let mirrored: TrainedModel;

  async function interiorScore(tm: TrainedModel, mirrorSurface?: typeof sample.truth.surface) {
    const { mirrorAboveSurface } = await import('../../../lib/classify/mirror');
    const s = mirrorSurface ? mirrorAboveSurface(store, mirrorSurface) : store;
    const ev = await gatherFeatures(s, interior, simpleFeatures);
    const pred = argmaxClasses(await predictRows(tm, ev.rows, interior.length), tm.classes);
    return confusionMetrics(truth, pred, [1, 2, 3, 4, 5]);
  }

  it('trained on surface labels, classifies the interior better with surface mirroring than without', async () => {
    const epochs: number[] = [];
    const plain = await trainClassifier(await buildTrainingSet(store, vox, { features: simpleFeatures, maxPerClass: 3000 }), {});
    const tsM = await buildTrainingSet(store, vox, { features: simpleFeatures, maxPerClass: 3000, mirrorSurface: sample.truth.surface });
    mirrored = await trainClassifier(tsM, { onEpoch: (e) => epochs.push(e.epoch) });
    expect(epochs.length).toBeGreaterThan(2);
    expect(mirrored.bestEpoch).toBeGreaterThanOrEqual(0);
    expect(mirrored.mirrorSurface).toMatchObject({ a: sample.truth.surface.a, b: sample.truth.surface.b, c: sample.truth.surface.c });
    expect(mirrored.mirrorSurface!.edge!.airShare.length).toBeGreaterThan(0);
    const withM = await interiorScore(mirrored, sample.truth.surface);
    const without = await interiorScore(plain);
    // measured: mean IoU 0.49-0.53 / accuracy 0.80 with mirroring, 0.23 / 0.41 without (pore/quartz/feldspar/clay/pyrite)
    expect(withM.meanIoU).toBeGreaterThan(0.42);
    expect(withM.meanIoU).toBeGreaterThan(without.meanIoU + 0.15);
    expect(withM.accuracy).toBeGreaterThan(without.accuracy + 0.25);
    expect(withM.perClass.find((c) => c.class === 1)!.iou).toBeGreaterThan(0.6); // pores are easy
    disposeModel(plain);
    const v = await validate(mirrored, tsM.heldOut);
    expect(v.confusion.length).toBe(mirrored.classes.length);
    expect(v.perClass.reduce((a, c) => a + c.support, 0)).toBe(tsM.heldOut.n);
    expect(v.accuracy).toBeGreaterThan(0.5);
  });

  it('an oracle trained on interior truth reaches a higher mean IoU', async () => {
    const tr: LabelledVoxel[] = [];
    for (let z = 8; z < 16; z++) for (let y = 0; y < ny; y += 2) for (let x = 0; x < nx; x += 2) tr.push({ z, y, x, cls: sample.truthLabels[(z * ny + y) * nx + x] });
    const tm = await trainClassifier(await buildTrainingSet(store, tr, { features: simpleFeatures, maxPerClass: 2000 }), { epochs: 25 });
    const m = await interiorScore(tm);
    expect(m.meanIoU).toBeGreaterThan(0.55); // measured 0.65
    disposeModel(tm);
  });

  it('saves atomically and loads a model that predicts identically', async () => {
    const dir = join(tmp, 'model');
    await saveModel(dir, mirrored, { classNames: ['pore', 'quartz', 'feldspar', 'clay', 'pyrite'] });
    await saveModel(dir, mirrored); // overwrite keeps one folder and no temp leftovers
    expect(readdirSync(tmp)).toEqual(['model']);
    expect(readdirSync(dir).sort()).toEqual(['.petromap', 'model.json', 'weights.bin']); // .petromap: the folder is petromap's (issue 12)
    const back = await loadModel(dir);
    expect(back.classes).toEqual(mirrored.classes);
    expect(back.mirrorSurface).toEqual(mirrored.mirrorSurface);
    const ev = await gatherFeatures(store, interior.slice(0, 500), simpleFeatures);
    const a = await predictRows(mirrored, ev.rows, 500), b = await predictRows(back, ev.rows, 500);
    expect(Array.from(b)).toEqual(Array.from(a));
    const missing = await loadModel(join(tmp, 'nope')).catch((e) => e);
    expect(isPetromapError(missing, 'NotFound')).toBe(true);
    expect(String(missing.message)).toMatch(/nope/);
  });

  it('is reproducible: the same training set and seed give the same weights', async () => {
    const ts = await buildTrainingSet(store, vox, { features: simpleFeatures, maxPerClass: 300 });
    const weights = async (seed: number) => {
      const tm = await trainClassifier(ts, { epochs: 3, seed });
      const w = tm.model.getWeights().map((t) => Array.from(t.dataSync()));
      disposeModel(tm);
      return w.flat();
    };
    const a = await weights(4), b = await weights(4), c = await weights(5);
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
  });

  it('refit trains again on train + held-out rows and keeps the first model\'s held-out score as its honest validation', async () => {
    const ts = await buildTrainingSet(store, vox, { features: simpleFeatures, maxPerClass: 300 });
    const a = await trainClassifier(ts, { epochs: 3, seed: 2 });
    const b = await trainClassifier(ts, { epochs: 3, seed: 2, refit: true });
    expect(b.outOfFold!.meanIoU).toBeCloseTo((await validate(a, ts.heldOut)).meanIoU, 6);
    expect(b.bestEpoch).toBe(a.bestEpoch);
    expect(b.model.getWeights()[0]!.dataSync()).not.toEqual(a.model.getWeights()[0]!.dataSync());
    disposeModel(a);
    disposeModel(b);
  });

  it('ple: trains on piecewise-linear encoded features and folds the encoding into a Dense stack on the raw features (same probabilities, saved and loaded as any model)', async () => {
    const ts = await buildTrainingSet(store, vox, { features: simpleFeatures, maxPerClass: 300 });
    const g = pleGuard(ts, 8); // trainClassifier's bins and batch for these rows
    const enc = pleTrainingSet(ts, g.bins);
    expect(enc.ts.nFeatures).toBeGreaterThan(ts.nFeatures * 4);
    // these rows (under 1000 per class) train with the encoded network's input dropout, a feature's bins together
    expect(g.inputDropout).toBeGreaterThan(0);
    const groups = pleGroups(enc.edges);
    expect(groups.length).toBe(enc.ts.nFeatures);
    expect(new Set(groups).size).toBe(ts.nFeatures);
    const a = await trainClassifier(enc.ts, { epochs: 3, seed: 3, batchSize: g.batchSize, inputDropout: g.inputDropout, inputDropoutGroups: groups });
    const folded = foldPle(a, enc.edges, enc.mean, enc.std, ts);
    const b = await trainClassifier(ts, { epochs: 3, seed: 3, ple: 8 });
    expect(b.featureNames).toEqual(ts.featureNames);
    expect(b.mean.length).toBe(ts.nFeatures);
    const ev = await gatherFeatures(store, interior.slice(0, 2000), simpleFeatures);
    const pEnc = await predictRows(a, pleEncode(ev.rows, 2000, enc.mean, enc.std, enc.edges), 2000);
    const pFold = await predictRows(folded, ev.rows, 2000), pB = await predictRows(b, ev.rows, 2000);
    let d = 0;
    for (let i = 0; i < pEnc.length; i++) d = Math.max(d, Math.abs(pEnc[i]! - pFold[i]!), Math.abs(pFold[i]! - pB[i]!));
    expect(d).toBeLessThan(1e-4);
    const dir = join(tmp, 'model-ple');
    await saveModel(dir, b);
    const back = await loadModel(dir);
    expect(Array.from(await predictRows(back, ev.rows, 2000))).toEqual(Array.from(pB));
    [a, folded, b, back].forEach(disposeModel);
  });

  it('stops when cancelled', async () => {
    const ac = new AbortController();
    const ts = await buildTrainingSet(store, vox, { features: simpleFeatures, maxPerClass: 500 });
    const err = await trainClassifier(ts, { signal: ac.signal, onEpoch: (e) => e.epoch === 1 && ac.abort() }).catch((e) => e);
    expect(isPetromapError(err, 'Aborted')).toBe(true);
  });
});
