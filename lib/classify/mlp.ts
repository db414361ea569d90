/**
 * The MLP itself and what every classifier path shares: standardisation, the network (buildMlp),
 * prediction of feature rows, arg-max, confusion metrics, row picking, and the exact input clip.
 * No training loop here (lib/classify/train-single, ensemble), so both can import it without a cycle.
 */
import * as tfc from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { invalidInput, unprocessable } from '../errors';
import type { ClassMetrics, TrainedModel, Validation } from './model-types';
import { getTf } from './tf-node';
import type { FeatureRows } from './training-set';

export function standardisation(rows: FeatureRows, nF: number): { mean: Float32Array; std: Float32Array } {
  const mean = new Float64Array(nF), sq = new Float64Array(nF);
  for (let i = 0; i < rows.n; i++) for (let f = 0; f < nF; f++) {
    const v = rows.x[i * nF + f];
    mean[f] += v;
    sq[f] += v * v;
  }
  const m = new Float32Array(nF), s = new Float32Array(nF);
  for (let f = 0; f < nF; f++) {
    m[f] = mean[f] / rows.n;
    const varf = sq[f] / rows.n - m[f] * m[f];
    s[f] = varf > 1e-12 ? Math.sqrt(varf) : 1;
  }
  return { mean: m, std: s };
}

/** Standardise rows into a new array (or in place when `inPlace`). */
export function standardise(x: Float32Array, mean: Float32Array, std: Float32Array, inPlace = false): Float32Array {
  const nF = mean.length;
  const out = inPlace ? x : new Float32Array(x.length);
  for (let i = 0; i < x.length; i += nF) for (let f = 0; f < nF; f++) out[i + f] = (x[i + f] - mean[f]) / std[f];
  return out;
}

export function classIndex(y: Uint8Array, classes: number[]): Int32Array {
  const lut = new Int32Array(256).fill(-1);
  classes.forEach((c, k) => (lut[c] = k));
  const out = new Int32Array(y.length);
  for (let i = 0; i < y.length; i++) out[i] = lut[y[i]];
  return out;
}

export interface MlpOptions {
  seed?: number;
  /** dropout rate after each hidden layer (training only) */
  dropout?: number;
  /** sd of Gaussian noise added to the standardised inputs (training only) */
  inputNoise?: number;
  /** dropout rate on the inputs (training only) */
  inputDropout?: number;
  /** L2 penalty on the kernels */
  l2?: number;
}

export function buildMlp(nIn: number, hidden: number[], nOut: number, o: MlpOptions = {}): tfl.Sequential {
  const seed = o.seed ?? 1;
  const m = tfl.sequential();
  let first = true;
  const inputShape = () => (first ? ((first = false), [nIn]) : undefined);
  if (o.inputNoise) m.add(tfl.layers.gaussianNoise({ stddev: o.inputNoise, inputShape: inputShape() }));
  if (o.inputDropout) m.add(tfl.layers.dropout({ rate: o.inputDropout, seed: seed + 49, inputShape: inputShape() }));
  const reg = o.l2 ? tfl.regularizers.l2({ l2: o.l2 }) : undefined;
  hidden.forEach((units, i) => {
    m.add(tfl.layers.dense({ units, activation: 'relu', inputShape: inputShape(), kernelRegularizer: reg, kernelInitializer: tfl.initializers.heNormal({ seed: seed + i }) }));
    if (o.dropout) m.add(tfl.layers.dropout({ rate: o.dropout, seed: seed + 50 + i }));
  });
  m.add(tfl.layers.dense({ units: nOut, activation: 'softmax', inputShape: inputShape(), kernelRegularizer: reg, kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 99 }) }));
  return m;
}

/** Mean over rows of -sum_k t_k log p_k, targets t = class weight x (one-hot or soft) target. */
export function weightedSoftCrossEntropy(yTrue: tfc.Tensor, yPred: tfc.Tensor): tfc.Tensor {
  return tfc.tidy(() => tfc.mean(tfc.neg(tfc.sum(tfc.mul(yTrue, tfc.log(tfc.clipByValue(yPred, 1e-7, 1))), -1))));
}

/** Class probabilities (n x K, row-major) of raw (unstandardised) feature rows. */
export async function predictRows(tm: TrainedModel, x: Float32Array, n: number, batchSize = 65536): Promise<Float32Array> {
  const tf = await getTf();
  const nF = tm.mean.length;
  if (x.length !== n * nF) throw invalidInput(`Feature rows have ${x.length / Math.max(1, n)} features per voxel but the model expects ${nF} (${tm.featureNames.join(', ')}).`);
  const K = tm.classes.length;
  const out = new Float32Array(n * K);
  for (let s = 0; s < n; s += batchSize) {
    const e = Math.min(n, s + batchSize);
    const xs = standardise(x.subarray(s * nF, e * nF), tm.mean, tm.std);
    const t = tf.tensor2d(xs, [e - s, nF]);
    const p = tm.model.predict(t, { batchSize: e - s }) as import('@tensorflow/tfjs-core').Tensor;
    out.set((await p.data()) as Float32Array, s * K);
    t.dispose();
    p.dispose();
  }
  return out;
}

/** Arg-max class code per row of probabilities. */
export function argmaxClasses(p: Float32Array, classes: number[]): Uint8Array {
  const K = classes.length, n = p.length / K;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let k = 1; k < K; k++) if (p[i * K + k] > p[i * K + best]) best = k;
    out[i] = classes[best];
  }
  return out;
}

/** Confusion matrix and per-class metrics of predicted vs true class codes. */
export function confusionMetrics(truth: ArrayLike<number>, pred: ArrayLike<number>, classes: number[]): Validation {
  const K = classes.length;
  const lut = new Int32Array(256).fill(-1);
  classes.forEach((c, k) => (lut[c] = k));
  const confusion = Array.from({ length: K }, () => new Array(K).fill(0));
  let total = 0, ok = 0;
  for (let i = 0; i < truth.length; i++) {
    const t = lut[truth[i]], p = lut[pred[i]];
    if (t < 0) continue;
    total++;
    if (p >= 0) confusion[t][p]++;
    if (t === p) ok++;
  }
  const perClass: ClassMetrics[] = classes.map((c, k) => {
    const tp = confusion[k][k];
    const support = confusion[k].reduce((a, b) => a + b, 0);
    const predicted = confusion.reduce((a, row) => a + row[k], 0);
    const precision = predicted ? tp / predicted : 0;
    const recall = support ? tp / support : 0;
    const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
    const union = support + predicted - tp;
    return { class: c, precision, recall, f1, iou: union ? tp / union : 0, support };
  });
  const withSupport = perClass.filter((m) => m.support > 0);
  return {
    classes,
    confusion,
    perClass,
    accuracy: total ? ok / total : 0,
    meanIoU: withSupport.length ? withSupport.reduce((a, m) => a + m.iou, 0) / withSupport.length : 0,
  };
}

/**
 * Validate a model on held-out rows (features + true class codes): the confusion over the rows of
 * the classes the model has (rows of a class absent from training count in no figure). On the
 * best epoch's weights unchanged this is that epoch's EpochInfo.valAccuracy exactly
 * (tests/lib/classify/validate-curve.test.ts).
 */
export async function validate(tm: TrainedModel, heldOut: FeatureRows): Promise<Validation> {
  if (heldOut.n === 0) throw unprocessable('No held-out voxels to validate on: label a larger area or lower the held-out fraction.');
  const p = await predictRows(tm, heldOut.x, heldOut.n);
  return confusionMetrics(heldOut.y, argmaxClasses(p, tm.classes), tm.classes);
}

export function disposeModel(tm: TrainedModel): void {
  tm.model.dispose();
}


export function concatRows(a: FeatureRows, b: FeatureRows, nF: number): FeatureRows {
  const x = new Float32Array((a.n + b.n) * nF);
  x.set(a.x); x.set(b.x, a.n * nF);
  const y = new Uint8Array(a.n + b.n);
  y.set(a.y); y.set(b.y, a.n);
  const positions = new Int32Array(3 * (a.n + b.n));
  positions.set(a.positions); positions.set(b.positions, 3 * a.n);
  return { x, y, n: a.n + b.n, positions };
}

/** The rows `keep` accepts, copied into a new set (features, class and position of each). */
export function pickRows(r: FeatureRows, keep: (i: number) => boolean, nF: number): FeatureRows {
  const idx: number[] = [];
  for (let i = 0; i < r.n; i++) if (keep(i)) idx.push(i);
  const x = new Float32Array(idx.length * nF), y = new Uint8Array(idx.length), positions = new Int32Array(3 * idx.length);
  idx.forEach((i, j) => {
    x.set(r.x.subarray(i * nF, (i + 1) * nF), j * nF);
    y[j] = r.y[i]!;
    positions.set(r.positions.subarray(3 * i, 3 * i + 3), 3 * j);
  });
  return { x, y, n: idx.length, positions };
}


/** Per-feature range of rows in standardised units, widened by `margin` SD. */
export function trainingRange(rows: FeatureRows, mean: Float32Array, std: Float32Array, margin: number): { lo: Float32Array; hi: Float32Array } {
  const nF = mean.length;
  const lo = new Float32Array(nF).fill(Infinity), hi = new Float32Array(nF).fill(-Infinity);
  for (let i = 0; i < rows.n; i++) for (let f = 0; f < nF; f++) {
    const z = (rows.x[i * nF + f]! - mean[f]!) / std[f]!;
    if (z < lo[f]!) lo[f] = z;
    if (z > hi[f]!) hi[f] = z;
  }
  for (let f = 0; f < nF; f++) {
    if (!Number.isFinite(lo[f]!)) { lo[f] = -1e6; hi[f] = 1e6; continue; }
    lo[f] -= margin;
    hi[f] += margin;
  }
  return { lo, hi };
}

/**
 * The model with its standardised inputs clipped to [lo, hi] (TrainOptions.clipInputs), as Dense
 * layers only: Dense(2 nF, relu) with kernel [I I] and bias [-lo, -hi] gives u1 = relu(z - lo),
 * u2 = relu(z - hi), and the first hidden layer on clip(z) = lo + u1 - u2 becomes kernel [W; -W],
 * bias b + lo W. Exact for every input.
 */
export function withInputClip(tm: TrainedModel, r: { lo: Float32Array; hi: Float32Array }): TrainedModel {
  const nF = tm.mean.length, K = tm.classes.length;
  const dense = tm.model.layers.filter((l) => l.getClassName() === 'Dense');
  const ws = dense.map((l) => (l.getWeights() as tfc.Tensor[]).map((w) => w.dataSync() as Float32Array));
  const widths = dense.map((l) => (l.getConfig() as { units: number }).units);
  const m = tfl.sequential();
  m.add(tfl.layers.dense({ units: 2 * nF, activation: 'relu', inputShape: [nF] }));
  widths.forEach((units, i) => m.add(tfl.layers.dense({ units, activation: i === widths.length - 1 ? 'softmax' : 'relu' })));
  const clipW = new Float32Array(nF * 2 * nF), clipB = new Float32Array(2 * nF);
  for (let f = 0; f < nF; f++) {
    clipW[f * 2 * nF + f] = 1;
    clipW[f * 2 * nF + nF + f] = 1;
    clipB[f] = -r.lo[f]!;
    clipB[nF + f] = -r.hi[f]!;
  }
  const [w1, b1] = ws[0] as [Float32Array, Float32Array];
  const h1 = widths[0]!;
  const W1 = new Float32Array(2 * nF * h1), B1 = Float32Array.from(b1);
  for (let f = 0; f < nF; f++) for (let j = 0; j < h1; j++) {
    const w = w1[f * h1 + j]!;
    W1[f * h1 + j] = w;
    W1[(nF + f) * h1 + j] = -w;
    B1[j] += r.lo[f]! * w;
  }
  const tensors = [tfc.tensor2d(clipW, [nF, 2 * nF]), tfc.tensor1d(clipB), tfc.tensor2d(W1, [2 * nF, h1]), tfc.tensor1d(B1)];
  ws.slice(1).forEach(([w, b], i) => tensors.push(tfc.tensor2d(w!, [widths[i]!, widths[i + 1]!]), tfc.tensor1d(b!)));
  m.setWeights(tensors);
  tensors.forEach((t) => t.dispose());
  void K;
  return { ...tm, model: m, hidden: [2 * nF, ...widths.slice(0, -1)] };
}
