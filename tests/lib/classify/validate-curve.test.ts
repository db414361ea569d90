/**
 * The training curve's held-out accuracy (trainSingle's per-epoch check) and the summary's
 * (validate → confusionMetrics on the saved model) on the same weights: the same figure. What can
 * still part them is the model, not the measure: trainFromLabels changes the kept model after
 * training (EDS class-share weights on the output bias, a depth-transfer student, ...) before the
 * summary validates it.
 */
import { describe, expect, it } from 'vitest';
import { disposeModel, matchClassShares, trainClassifier, validate } from '../../../lib/classify/model';
import type { TrainingSet } from '../../../lib/classify/training-set';
import { gaussianRows } from './helpers';

describe('held-out accuracy: the curve and the summary on the same weights', () => {
  it('a held-out class the training never saw counts in neither (known figure: 100 % of the classes the model has)', async () => {
    // classes 1 and 2 twelve SD apart: every held-out row of them is right. Class 3 is only in the
    // held-out tiles (the model has no output for it). The curve read 100 / 125 = 80 %, the summary 100 %.
    const centres = [[-6, 0], [6, 0], [0, 6]];
    const ts: TrainingSet = {
      nFeatures: 2, featureNames: ['a', 'b'], classes: [1, 2],
      train: gaussianRows([200, 200], [1, 2], centres, 1),
      heldOut: gaussianRows([50, 50, 25], [1, 2, 3], centres, 2),
      counts: [],
    };
    const tm = await trainClassifier(ts, { epochs: 6, batchSize: 32, patience: 100, seed: 1 });
    try {
      const v = await validate(tm, ts.heldOut);
      expect(v.accuracy).toBe(1);
      expect(v.confusion.flat().reduce((a, b) => a + b, 0)).toBe(100);
      expect(tm.history[tm.bestEpoch]!.valAccuracy).toBe(1);
    } finally {
      disposeModel(tm);
    }
  });

  it('overlapping classes: the best epoch\'s curve point is the summary\'s figure, until the kept model is changed after training', async () => {
    const centres = [[0, 0], [1.2, 0], [0, 1.2]];
    const ts: TrainingSet = {
      nFeatures: 2, featureNames: ['a', 'b'], classes: [1, 2, 3],
      train: gaussianRows([600, 600, 600], [1, 2, 3], centres, 3),
      heldOut: gaussianRows([150, 150, 150], [1, 2, 3], centres, 4),
      counts: [],
    };
    const tm = await trainClassifier(ts, { epochs: 5, seed: 2 });
    try {
      const curve = tm.history[tm.bestEpoch]!.valAccuracy;
      expect(curve).toBeGreaterThan(0.45); // above the 1/3 of guessing
      expect((await validate(tm, ts.heldOut)).accuracy).toBe(curve);
      // the EDS class-share step (trainFromLabels, on by default for EDS labels) shifts the output
      // bias before the summary validates: the summary then measures another model than the curve's
      const sample = gaussianRows([1600, 300, 100], [1, 2, 3], centres, 5);
      await matchClassShares(tm, sample.x, sample.n, new Map([[1, 0.8], [2, 0.15], [3, 0.05]]));
      expect((await validate(tm, ts.heldOut)).accuracy).not.toBe(curve);
    } finally {
      disposeModel(tm);
    }
  });
});
