/**
 * The class prior of painted labels (issue 15 §3). A painter gives each class about the same number
 * of voxels, so the network learns a prior of about 1/K per class; a thin class (open fractures, 4 %
 * of a lithology volume) then takes the voxels it is confused with (the open pores of the porous
 * facies, which look like it voxel for voxel): with 40-150 painted voxels per class the MLP gave the
 * fracture 11-16 % of the volume (RF 9-14 %), and lost to the forest where it did.
 *
 * Correction without truth: the volume's class shares are estimated by EM on the model's
 * probabilities over a sample of the volume's voxels (Saerens, Latinne & Decaestecker 2002), and the
 * output bias moves HALF the way (log weights x `power`) from the painted prior to them: the model's
 * probabilities are not calibrated enough for the whole step (full EM, lib/classify/prior-shift
 * adjustPriors: the earlier `--prior-shift`, 5 of 9 runs >= RF). Folded into the output bias: the
 * saved format and prediction are unchanged.
 *
 * Applied where it was measured to pay (docs/painted-labels.md, bench lithology, both styles): at
 * least `minPerClass` painted voxels in every class (10 per class: the model's probabilities are too
 * rough for EM, carbonate seed 1 0.542 -> 0.390) and fewer than `maxMeanPerClass` per class on
 * average. Stop 30 extended it from the few-labels network (< 768 rows) to the encoded one at 500 per
 * class (8 of 8 runs gain, seeds 1-5 carbonate and 1-3 sandstone); at 2000 per class the model's
 * shares are already near the volume's and the step lost 0.001-0.007 on 5 of 6 runs.
 *
 * Why only half, and what it cannot see (stop 30): EM's estimate of a thin class is low by about
 * half on a uniform sample of the volume (carbonate fracture 0.4-2.6 % against 2.8-3.7 % true): the
 * painted fracture voxels are its centre line, so the model's probability on the fracture's edges is
 * low and EM hands them to the other classes. The 6-box sample over-weights the volume's centre
 * (where both generators' fractures pass: the box sample's true fracture share is 1.5-2x the
 * volume's), which partly offsets it. Where the model already calls the thin class with high
 * precision (carbonate seed 3 at 150 per class: precision 0.96 against 0.37-0.68 elsewhere, with
 * the same distribution of its probabilities) any downward shift loses, and nothing in the
 * probabilities tells that run apart. `maxLogShift` bounds the damage.
 */
import * as tfc from '@tensorflow/tfjs-core';
import { predictRows } from './mlp';
import type { TrainedModel } from './model-types';
import type { TrainingSet } from './training-set';

export const PAINTED_PRIOR = Object.freeze({
  /** share of the EM step (in log weights) applied */
  power: 0.5,
  /** every class painted at least this often (train + held-out rows) */
  minPerClass: 40,
  /** painted voxels per class on average (train + held-out rows) below this */
  maxMeanPerClass: 1000,
  /** largest move of one class's output bias away from the mean of the classes' EM moves (log units) */
  maxLogShift: 0.75,
  /** EM iterations at most */
  iterations: 100,
});

/** Whether the painted-prior step applies to this training set (requested encoding bins `bins`: 0 = not the painted-label training defaults). */
export function paintedPriorApplies(ts: TrainingSet, bins: number): boolean {
  const counts = ts.classes.map((c) => {
    let k = 0;
    for (let i = 0; i < ts.train.n; i++) if (ts.train.y[i] === c) k++;
    for (let i = 0; i < ts.heldOut.n; i++) if (ts.heldOut.y[i] === c) k++;
    return k;
  });
  const mean = counts.reduce((a, v) => a + v, 0) / Math.max(1, counts.length);
  return bins > 0 && counts.length > 1 && Math.min(...counts) >= PAINTED_PRIOR.minPerClass && mean < PAINTED_PRIOR.maxMeanPerClass;
}

/**
 * EM estimate of the class shares of n feature rows `x` (a sample of the volume) under the model, and
 * the output bias moved by power x log(share / prior), each class within maxLogShift of the classes' mean EM move.
 * Changes `tm` in place (bias and trainPrior);
 * returns the shares EM found (in tm.classes order).
 */
export async function shiftPaintedPrior(tm: TrainedModel, x: Float32Array, n: number, o: { power?: number; iterations?: number; maxLogShift?: number } = {}): Promise<number[]> {
  const K = tm.classes.length;
  const prior0 = tm.trainPrior ?? new Array<number>(K).fill(1 / K);
  if (n === 0) return prior0;
  const p = await predictRows(tm, x, n);
  let pi = [...prior0];
  const t = new Float64Array(K);
  for (let it = 0; it < (o.iterations ?? PAINTED_PRIOR.iterations); it++) {
    const next = new Array<number>(K).fill(0);
    for (let i = 0; i < n; i++) {
      let z = 0;
      for (let k = 0; k < K; k++) z += t[k] = (p[i * K + k]! * pi[k]!) / prior0[k]!;
      for (let k = 0; k < K; k++) next[k]! += t[k]! / (z || 1);
    }
    const done = next.every((v, k) => Math.abs(v / n - pi[k]!) < 1e-5);
    pi = next.map((v) => Math.max(1e-4, v / n));
    if (done) break;
  }
  const power = o.power ?? PAINTED_PRIOR.power;
  const raw = pi.map((v, k) => power * Math.log(v / prior0[k]!));
  // only the differences between the classes' moves change the arg max: bound each about their mean
  const cap = o.maxLogShift ?? PAINTED_PRIOR.maxLogShift, mid = raw.reduce((a, v) => a + v, 0) / K;
  const logw = raw.map((v) => mid + Math.max(-cap, Math.min(cap, v - mid)));
  const dense = tm.model.layers.filter((l) => l.getClassName() === 'Dense');
  const last = dense[dense.length - 1]!;
  const [kw, b] = last.getWeights() as tfc.Tensor[];
  const bias = Float32Array.from(b!.dataSync() as Float32Array);
  for (let k = 0; k < K; k++) bias[k] = bias[k]! + logw[k]!;
  const nb = tfc.tensor1d(bias);
  last.setWeights([kw!, nb]);
  nb.dispose();
  const pw = prior0.map((v, k) => v * Math.exp(logw[k]!)), s = pw.reduce((a, v) => a + v, 0);
  tm.trainPrior = pw.map((v) => v / s);
  return pi;
}
