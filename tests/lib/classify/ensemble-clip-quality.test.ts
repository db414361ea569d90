/**
 * Issue 15: the cross-fitted ensemble and the input clipping are exact rewrites of MLPs into one
 * Sequential Dense stack (what the fused prediction kernel runs), the ensemble's out-of-fold
 * validation is honest, and the truth-free 3D quality estimate on a lithology phantom's painted
 * labels lands near the true 3D mean IoU.
 */
import { describe, expect, it } from 'vitest';
import { adjustPriors, argmaxClasses, buildMlp, confusionMetrics, disposeModel, mergeMembers, predictRows, trainClassifier, withInputClip, type TrainedModel } from '../../../lib/classify/model';
import { labelVolumeVoxels } from '../../../lib/classify/labelled-voxels';
import { DEPTH_TEMPERATURE, estimateFromProbabilities, estimateQuality, expectedMeanIoU } from '../../../lib/classify/quality-estimate';
import { strokeFeatureSet } from '../../../lib/classify/strokes';
import { buildTrainingSet, featureFnFor } from '../../../lib/classify/training-set';
import { featuresForBox } from '../../../lib/features';
import { generateLithology, paintedLabels } from '../../../lib/synthetic/lithology';
import type { Shape3 } from '../../../lib/volume/types';
import { getTf } from '../../../lib/classify/tf-node';
import { denseStore } from './helpers';

function randomModel(nF: number, hidden: number[], K: number, seed: number): TrainedModel {
  const model = buildMlp(nF, hidden, K, { seed });
  const mean = Float32Array.from({ length: nF }, (_, f) => f * 0.3 - 1), std = Float32Array.from({ length: nF }, (_, f) => 0.5 + 0.2 * f);
  return { model, classes: [1, 2, 3].slice(0, K), mean, std, featureNames: [], hidden, history: [], bestEpoch: 0 };
}

describe('ensemble merge and input clipping', () => {
  const nF = 5, K = 3, n = 200;
  const x = Float32Array.from({ length: n * nF }, (_, i) => Math.sin(i * 1.7) * 4);
  it('merged members give softmax of the mean logits; clipping equals clipped standardised inputs', async () => {
    await getTf();
    const a = randomModel(nF, [6, 4], K, 1), b = randomModel(nF, [6, 4], K, 2);
    b.mean = b.mean.map((v) => v + 0.5);
    const std0 = { mean: new Float32Array(nF).fill(0.1), std: new Float32Array(nF).fill(1.3) };
    const merged = await mergeMembers([a, b], std0);
    const logit = async (tm: TrainedModel) => (await predictRows(tm, x, n)).map((p) => Math.log(p));
    const [la, lb, pm] = [await logit(a), await logit(b), await predictRows(merged, x, n)];
    for (let i = 0; i < n; i++) {
      const z = [0, 1, 2].map((k) => (la[i * K + k]! + lb[i * K + k]!) / 2);
      const e = z.map((v) => Math.exp(v - Math.max(...z)));
      const s = e.reduce((u, v) => u + v, 0);
      for (let k = 0; k < K; k++) expect(pm[i * K + k]).toBeCloseTo(e[k]! / s, 4);
    }
    const lo = new Float32Array(nF).fill(-0.5), hi = new Float32Array(nF).fill(0.7);
    const clipped = withInputClip(a, { lo, hi });
    expect(clipped.model.layers.every((l) => l.getClassName() === 'Dense')).toBe(true);
    // the same inputs, clipped by hand in standardised units, through the original model
    const xc = x.map((v, i) => {
      const f = i % nF, z = (v - a.mean[f]!) / a.std[f]!;
      return Math.min(hi[f]!, Math.max(lo[f]!, z)) * a.std[f]! + a.mean[f]!;
    });
    const [pc, pref] = [await predictRows(clipped, x, n), await predictRows(a, xc, n)];
    for (let i = 0; i < n * K; i++) expect(pc[i]).toBeCloseTo(pref[i]!, 4);
    [a, b, merged, clipped].forEach(disposeModel);
  });

  it('adjustPriors moves the output bias to the class shares EM finds (a fixed point: the mean adjusted probability equals them)', async () => {
    await getTf();
    const a = randomModel(nF, [6, 4], K, 3);
    a.trainPrior = [0.6, 0.3, 0.1];
    const before = await predictRows(a, x, n);
    const pi = await adjustPriors(a, x, n, { iterations: 200 });
    const after = await predictRows(a, x, n);
    expect(pi.reduce((u, v) => u + v, 0)).toBeCloseTo(1, 3);
    for (let k = 0; k < K; k++) {
      let m = 0;
      for (let i = 0; i < n; i++) m += after[i * K + k]!;
      expect(m / n).toBeCloseTo(pi[k]!, 2);
    }
    // the adjustment is the Bayes prior ratio on every row
    const i = 7, z = [0, 1, 2].map((k) => (before[i * K + k]! * pi[k]!) / a.trainPrior![k]!), sum = z.reduce((u, v) => u + v, 0);
    for (let k = 0; k < K; k++) expect(after[i * K + k]).toBeCloseTo(z[k]! / sum, 4);
    disposeModel(a);
  });

  it('estimateFromProbabilities: certain maps score 1; sharpening raises a cautious model; the label shift follows the map\'s shares', () => {
    expect(expectedMeanIoU(Float32Array.from([1, 0, 0, 1, 1, 0]), 2)).toBeCloseTo(1, 6);
    expect(expectedMeanIoU(Float32Array.from([0.5, 0.5, 0.5, 0.5]), 2)).toBeLessThan(0.6);
    expect(estimateFromProbabilities(Float32Array.from([1, 0, 0, 1, 1, 0]), 2)).toEqual([1, 1]);
    // a cautious model (0.7 for its choice everywhere): raw expected IoU per class 0.7 / (1 + 0.3) on a balanced map
    const p = Float32Array.from([0.7, 0.3, 0.3, 0.7, 0.7, 0.3, 0.3, 0.7]);
    const raw = estimateFromProbabilities(p, 2, { temperature: 1 });
    expect(raw[0]).toBeCloseTo(0.7 / 1.3, 5);
    const sharp = estimateFromProbabilities(p, 2);
    expect(DEPTH_TEMPERATURE).toBeLessThan(1);
    expect(sharp[0]).toBeGreaterThan(raw[0]!);
    // trained on equal shares, the map shows class 1 at 90 %: class 2's voxels are less likely class 2
    const shifted = estimateFromProbabilities(p, 2, { temperature: 1, trainPrior: [0.5, 0.5], shares: [0.9, 0.1] });
    expect(shifted[1]).toBeLessThan(raw[1]!);
    expect(estimateFromProbabilities(p, 2, { temperature: 1, trainPrior: [0.5, 0.5], shares: [0.5, 0.5] })[0]).toBeCloseTo(raw[0]!, 5);
  });
});

describe('painted labels on a lithology phantom', () => {
  const shape: Shape3 = [32, 96, 96];
  const s = generateLithology({ shape, seed: 5 });
  const store = denseStore(s.volume);
  const painted = paintedLabels(s.truth, shape, { perClass: 800, seed: 5 });
  const set = strokeFeatureSet(store.meta.spacingUm);

  it('reads a label volume with per-class caps; the ensemble validates out of fold; the 3D estimate is within 0.1 of the truth', async () => {
    const lab = denseStore({ meta: { ...s.volume.meta, dtype: 'uint8' }, data: painted });
    const all = await labelVolumeVoxels(lab);
    expect(all.length).toBe(painted.reduce((u, v) => u + (v ? 1 : 0), 0));
    const capped = await labelVolumeVoxels(lab, { maxPerClass: 100 });
    expect([1, 2, 3].map((c) => capped.filter((v) => v.cls === c).length)).toEqual([100, 100, 100]);
    // capped voxels are spread over both painted slices
    expect(new Set(capped.map((v) => v.z)).size).toBe(2);

    const ts = await buildTrainingSet(store, all, { features: featureFnFor(set), featureSet: set, tileVox: 16 });
    const ens = await trainClassifier(ts, { ensemble: 3, epochs: 12 });
    expect(ens.outOfFold!.meanIoU).toBeGreaterThan(0.5);
    expect(ens.outOfFold!.confusion.flat().reduce((u, v) => u + v, 0)).toBe(ts.train.n + ts.heldOut.n);
    const f = await featuresForBox(store, { start: [0, 0, 0], shape }, set);
    const n = shape[0] * shape[1] * shape[2];
    const truth3d = confusionMetrics(s.truth, argmaxClasses(await predictRows(ens, f.data, n), ens.classes), [1, 2, 3]).meanIoU;
    expect(truth3d).toBeGreaterThan(0.4);
    const q = await estimateQuality(store, ts, ens, ens.outOfFold!.meanIoU, { features: featureFnFor(set), train: { epochs: 12 }, box: [8, 48, 48] });
    expect(q.sampled).toBeGreaterThan(1000);
    expect(q.outOfRange).toBeGreaterThanOrEqual(0);
    expect(q.surfaceMeanIoU).toBeGreaterThan(truth3d); // the painted interiors over-promise
    expect(Math.abs(q.meanIoU - truth3d)).toBeLessThan(0.1);
    disposeModel(ens);
  });
});
