import { describe, expect, it } from 'vitest';
import { argmaxClasses, confusionMetrics, disposeModel, matchClassShares, predictRows, trainClassifier } from '../../../lib/classify/model';
import type { FeatureRows, TrainingSet } from '../../../lib/classify/training-set';
import { gaussianRows } from './helpers';

/** Rows of 3 overlapping classes in 2 features, `counts[k]` rows of class k+1. */
const rows = (counts: number[], seed: number): FeatureRows => gaussianRows(counts, [1, 2, 3], [[0, 0], [1.2, 0], [0, 1.2]], seed);

describe('matchClassShares', () => {
  it("moves the arg max's class shares to the given shares, and the accuracy with them (truth of the sample)", async () => {
    const train = rows([1500, 1500, 1500], 1);
    const ts: TrainingSet = { nFeatures: 2, featureNames: ['a', 'b'], classes: [1, 2, 3], train, heldOut: rows([200, 200, 200], 2), counts: [] };
    const tm = await trainClassifier(ts, { epochs: 8, seed: 1 });
    try {
      // the volume: 80 % class 1, 15 % class 2, 5 % class 3 (balanced labels over-predict 2 and 3)
      const vol = rows([8000, 1500, 500], 3);
      const before = argmaxClasses(await predictRows(tm, vol.x, vol.n), tm.classes);
      const share = (l: Uint8Array, c: number) => l.filter((v) => v === c).length / l.length;
      const accBefore = confusionMetrics(vol.y, before, tm.classes).accuracy;
      expect(share(before, 1)).toBeLessThan(0.7);
      const w = await matchClassShares(tm, vol.x, vol.n, new Map([[1, 0.8], [2, 0.15], [3, 0.05]]));
      expect(w[0]).toBeGreaterThan(w[1]!);
      const after = argmaxClasses(await predictRows(tm, vol.x, vol.n), tm.classes);
      expect(Math.abs(share(after, 1) - 0.8)).toBeLessThan(0.02);
      expect(Math.abs(share(after, 3) - 0.05)).toBeLessThan(0.02);
      expect(confusionMetrics(vol.y, after, tm.classes).accuracy).toBeGreaterThan(accBefore + 0.03);
    } finally {
      disposeModel(tm);
    }
  });

  it('leaves the model alone without shares', async () => {
    const ts: TrainingSet = { nFeatures: 2, featureNames: ['a', 'b'], classes: [1, 2, 3], train: rows([300, 300, 300], 4), heldOut: rows([50, 50, 50], 5), counts: [] };
    const tm = await trainClassifier(ts, { epochs: 2, seed: 1 });
    try {
      const vol = rows([100, 100, 100], 6);
      const p0 = await predictRows(tm, vol.x, vol.n);
      expect(await matchClassShares(tm, vol.x, vol.n, new Map())).toEqual([1, 1, 1]);
      expect(Array.from(await predictRows(tm, vol.x, vol.n))).toEqual(Array.from(p0));
    } finally {
      disposeModel(tm);
    }
  });
});
