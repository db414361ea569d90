import { describe, expect, it } from 'vitest';
import { epochTrainer } from '../../../lib/classify/fit-epoch';
import { buildMlp, weightedSoftCrossEntropy } from '../../../lib/classify/mlp';
import { rng } from '../../../lib/classify/rng';
import { getTf } from '../../../lib/classify/tf-node';

/** Rows of 3 noisy Gaussian classes in nF dimensions, with soft (class-weighted) targets. */
function rows(n: number, nF: number, K: number, seed: number) {
  const r = rng(seed);
  const x = new Float32Array(n * nF), t = new Float32Array(n * K);
  for (let i = 0; i < n; i++) {
    const k = i % K;
    for (let f = 0; f < nF; f++) x[i * nF + f] = (f % K === k ? 1.5 : 0) + (r() + r() + r() - 1.5);
    t[i * K + k] = 1 + 0.5 * k;
  }
  return { x, t };
}

describe('epochTrainer (minibatch Adam without model.fit)', () => {
  it("follows tfjs-layers' model.fit step for step: same losses and weights (dropout, L2, soft targets, a short last batch)", async () => {
    const tf = await getTf();
    const nF = 7, K = 3, n = 1100, batch = 256; // 4 full batches and one of 76 rows
    const { x, t } = rows(n, nF, K, 5);
    const opts = { seed: 3, dropout: 0.2, l2: 1e-3 };
    const a = buildMlp(nF, [16, 16], K, opts), b = buildMlp(nF, [16, 16], K, opts);
    a.compile({ optimizer: tf.train.adam(3e-3), loss: weightedSoftCrossEntropy });
    const trainer = epochTrainer(b, nF, K, { l2: opts.l2, learningRate: 3e-3 });
    const order = Int32Array.from({ length: n }, (_, i) => i);
    const rand = rng(9);
    const lossA: number[] = [], lossB: number[] = [];
    try {
      for (let e = 0; e < 3; e++) {
        for (let i = n - 1; i > 0; i--) { const j = Math.floor(rand() * (i + 1)); [order[i], order[j]] = [order[j]!, order[i]!]; }
        const xe = new Float32Array(n * nF), te = new Float32Array(n * K);
        order.forEach((r, i) => { xe.set(x.subarray(r * nF, (r + 1) * nF), i * nF); te.set(t.subarray(r * K, (r + 1) * K), i * K); });
        const xs = tf.tensor2d(xe, [n, nF]), ys = tf.tensor2d(te, [n, K]);
        lossA.push(Number((await a.fit(xs, ys, { epochs: 1, batchSize: batch, shuffle: false, verbose: 0 })).history.loss[0]));
        xs.dispose(); ys.dispose();
        lossB.push(await trainer.epoch(x, t, order, batch));
      }
      // the same arithmetic up to the order of float sums in the matrix products
      for (let e = 0; e < 3; e++) expect(Math.abs(lossA[e]! - lossB[e]!)).toBeLessThan(1e-4);
      expect(lossA[2]!).toBeLessThan(lossA[0]!); // it learns
      const wa = a.getWeights().map((w) => w.dataSync()), wb = b.getWeights().map((w) => w.dataSync());
      let worst = 0;
      wa.forEach((w, i) => w.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - wb[i]![j]!)))));
      expect(worst).toBeLessThan(1e-4);
      // the trained weights moved well beyond that tolerance
      const w0 = buildMlp(nF, [16, 16], K, opts);
      const moved = Math.max(...(w0.getWeights()[0]!.dataSync() as Float32Array).map((v, j) => Math.abs(v - wb[0]![j]!)));
      w0.dispose();
      expect(moved).toBeGreaterThan(1e-2);
    } finally {
      trainer.dispose();
      a.dispose();
      b.dispose();
    }
  });
});
