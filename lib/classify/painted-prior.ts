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
 * Applied only where it was measured to pay: the few-labels network (too few rows for the encoding,
 * lib/classify/ple pleGuard) with at least `minPerClass` painted voxels in every class; with fewer the
 * model's probabilities are too rough for EM (10 per class: +0.047 / -0.022 / +0.009 -> +0.064 /
 * -0.022 / -0.010 MLP - RF, seeds 1 / 2 / 3). Measured in bench lithology (docs/painted-labels.md).
 */
import * as tfc from '@tensorflow/tfjs-core';
import { predictRows } from './mlp';
import type { TrainedModel } from './model-types';
import { PLE_GUARD } from './ple';
import type { TrainingSet } from './training-set';

export const PAINTED_PRIOR = Object.freeze({
  /** share of the EM step (in log weights) applied */
  power: 0.5,
  /** every class painted at least this often (train + held-out rows) */
  minPerClass: 40,
  /** EM iterations at most */
  iterations: 100,
});

/** Whether the painted-prior step applies to this training set (requested encoding bins `bins`). */
export function paintedPriorApplies(ts: TrainingSet, bins: number): boolean {
  const fewRows = ts.train.n < bins * PLE_GUARD.minRowsPerBin; // the few-labels network (pleGuard without the encoding)
  const counts = ts.classes.map((c) => {
    let k = 0;
    for (let i = 0; i < ts.train.n; i++) if (ts.train.y[i] === c) k++;
    for (let i = 0; i < ts.heldOut.n; i++) if (ts.heldOut.y[i] === c) k++;
    return k;
  });
  return fewRows && counts.length > 1 && Math.min(...counts) >= PAINTED_PRIOR.minPerClass;
}

/**
 * EM estimate of the class shares of n feature rows `x` (a sample of the volume) under the model, and
 * the output bias moved by power x log(share / prior). Changes `tm` in place (bias and trainPrior);
 * returns the shares EM found (in tm.classes order).
 */
export async function shiftPaintedPrior(tm: TrainedModel, x: Float32Array, n: number, o: { power?: number; iterations?: number } = {}): Promise<number[]> {
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
  const logw = pi.map((v, k) => power * Math.log(v / prior0[k]!));
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
