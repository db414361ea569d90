/**
 * Prior shift (trainFromLabels priorShift, off by default: bench pipeline 0.507 against 0.692
 * without), kept so the run can be repeated.
 */
import * as tfc from '@tensorflow/tfjs-core';
import { predictRows } from './mlp';
import type { TrainedModel } from './model-types';

/**
 * Label shift (Saerens, Latinne & Decaestecker 2002): the class shares of the training labels
 * (painted or capped per class) are not those of the volume. From the model's probabilities on a
 * sample of the volume's voxels, EM finds the volume's class shares; the ratio to the training
 * prior is added to the output layer's bias (log), so the model predicts with the volume's shares.
 * Needs no truth. Changes `tm` in place; returns the shares found.
 */
export async function adjustPriors(tm: TrainedModel, x: Float32Array, n: number, opts: { iterations?: number } = {}): Promise<number[]> {
  const K = tm.classes.length;
  const prior0 = tm.trainPrior ?? new Array(K).fill(1 / K);
  const p = await predictRows(tm, x, n);
  let pi = [...prior0];
  for (let it = 0; it < (opts.iterations ?? 30); it++) {
    const next = new Array(K).fill(0);
    for (let i = 0; i < n; i++) {
      let z = 0;
      for (let k = 0; k < K; k++) z += (p[i * K + k]! * pi[k]!) / prior0[k]!;
      for (let k = 0; k < K; k++) next[k] += (p[i * K + k]! * pi[k]!) / prior0[k]! / (z || 1);
    }
    const done = next.every((v, k) => Math.abs(v / n - pi[k]!) < 1e-5);
    pi = next.map((v) => Math.max(1e-4, v / n));
    if (done) break;
  }
  const dense = tm.model.layers.filter((l) => l.getClassName() === 'Dense');
  const last = dense[dense.length - 1]!;
  const [w, b] = last.getWeights() as tfc.Tensor[];
  const bias = Float32Array.from(b!.dataSync() as Float32Array);
  for (let k = 0; k < K; k++) bias[k] += Math.log(pi[k]! / prior0[k]!);
  const nb = tfc.tensor1d(bias);
  last.setWeights([w!, nb]);
  nb.dispose();
  return pi;
}

/** Largest factor matchClassShares puts on one class's probability (either way). */
const MAX_SHARE_WEIGHT = 10;

/**
 * Class shares from the EDS map: on a sample of the volume's voxels (x: n feature rows), finds the
 * weights w_k that make the arg max of p_k w_k give each class the share `shares` says (the EDS
 * map's area fractions, which estimate the volume fractions), and adds log w_k to the output
 * layer's bias, so the saved model predicts with them (no change to prediction). Classes the map
 * does not hold keep weight 1; weights stay within 1/10..10. `power` < 1 applies w^power (part of the
 * way). Needs no truth. Changes `tm` in place; returns the weights applied (in tm.classes order).
 */
export async function matchClassShares(tm: TrainedModel, x: Float32Array, n: number, shares: Map<number, number>, opts: { iterations?: number; power?: number } = {}): Promise<number[]> {
  const K = tm.classes.length;
  const t = tm.classes.map((c) => shares.get(c) ?? 0);
  const tSum = t.reduce((a, b) => a + b, 0);
  const w = new Array<number>(K).fill(1);
  if (!(tSum > 0) || n === 0) return w;
  const p = await predictRows(tm, x, n);
  for (let it = 0; it < (opts.iterations ?? 40); it++) {
    const q = new Array<number>(K).fill(0);
    for (let i = 0; i < n; i++) {
      let b = 0, best = -1;
      for (let k = 0; k < K; k++) { const v = p[i * K + k]! * w[k]!; if (v > best) { best = v; b = k; } }
      q[b]!++;
    }
    for (let k = 0; k < K; k++) {
      if (!(t[k]! > 0)) continue;
      const f = Math.sqrt(t[k]! / tSum / Math.max(q[k]! / n, 1e-4));
      w[k] = w[k]! * f;
    }
    // the arg max does not see a common factor: keep the weights' geometric mean at 1, then bound them
    const g = Math.exp(w.reduce((a, v) => a + Math.log(v), 0) / K);
    for (let k = 0; k < K; k++) w[k] = Math.min(MAX_SHARE_WEIGHT, Math.max(1 / MAX_SHARE_WEIGHT, w[k]! / g));
  }
  // part of the way only (power < 1): the map's shares are one section's, not the volume's
  const power = opts.power ?? 1;
  if (power !== 1) for (let k = 0; k < K; k++) w[k] = w[k]! ** power;
  const dense = tm.model.layers.filter((l) => l.getClassName() === 'Dense');
  const last = dense[dense.length - 1]!;
  const [kw, b] = last.getWeights() as tfc.Tensor[];
  const bias = Float32Array.from(b!.dataSync() as Float32Array);
  for (let k = 0; k < K; k++) bias[k] += Math.log(w[k]!);
  const nb = tfc.tensor1d(bias);
  last.setWeights([kw!, nb]);
  nb.dispose();
  // the weighted model predicts as if trained with these class shares (the quality estimate's label shift starts from them)
  const prior0 = tm.trainPrior ?? new Array<number>(K).fill(1 / K);
  const pw = prior0.map((v, k) => v * w[k]!), pwSum = pw.reduce((a, b) => a + b, 0);
  if (pwSum > 0) tm.trainPrior = pw.map((v) => v / pwSum);
  return w;
}
