/**
 * The voxel classifier: a small MLP (TF.js layers, wasm backend) on standardised feature rows.
 * Early stopping on the spatially held-out set; the best epoch's weights are kept. The model
 * carries its standardisation, class codes, feature names and feature set, so that prediction
 * computes exactly the features it was trained on.
 */
import * as tfc from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { invalidInput, throwIfAborted, unprocessable, type StageOptions } from '../errors';
import type { FeatureSet } from '../features/types';
import type { SurfacePlane } from './mirror';
import { rng, shuffle } from './rng';
import { getTf } from './tf-node';
import type { FeatureRows, TrainingSet } from './training-set';

export interface EpochInfo {
  epoch: number;
  loss: number;
  valLoss: number;
  valAccuracy: number;
}

export interface TrainOptions extends StageOptions {
  /**
   * hidden layer widths (default [48, 48]). Harness (synthetic sandstone 128x192x192, seeds 11-13 x
   * 3 model seeds, with boundary voxels) mean IoU [64, 64] 0.667, [48, 48] 0.677; training 28 %
   * faster and prediction's MLP 40 % cheaper (the chain must stay within a third of the peer's time).
   */
  hidden?: number[];
  /**
   * maximum epochs (default 20) and Adam learning rate (default 3e-3). With dropout and L2 the
   * model learns more slowly; bench pipeline 128x192x192 seeds 11/12: learning rate 1e-3, up to 60
   * epochs (43/53 run) mean IoU 0.623/0.654, training 5.7/8.2 s; 3e-3 and 20 epochs 0.651/0.655 in
   * 2.8/3.1 s (the whole chain must stay within a third of the peer's time).
   */
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  /**
   * 'sqrt' (default: square root of inverse class frequency), 'balanced' (inverse frequency),
   * 'none' (the training set is already capped per class), or one weight per class in ts.classes
   * order. Balanced weights over-predict rare classes (demo sandstone: pyrite with 30 training
   * voxels took 2900 quartz voxels, mean IoU 0.38 vs 0.54 none); none under-predicts them (clay
   * IoU 0.15 on another seed). Bench 128x192x192, seeds 11/12: sqrt 0.485/0.554, none
   * 0.474/0.557, balanced 0.485/0.513.
   */
  classWeights?: 'balanced' | 'sqrt' | 'none' | number[];
  /** epochs without held-out loss improvement before stopping (default 8) */
  patience?: number;
  seed?: number;
  /**
   * dropout after hidden layers (default 0.2) and L2 weight penalty (default 1e-3). Trained on one
   * surface and applied to the whole volume, the model must generalise across depth: bench pipeline
   * 128x192x192 mean IoU seeds 11/12 without 0.605/0.631, dropout 0.2 0.618/0.648, L2 1e-3
   * 0.618/0.645, both 0.623/0.653, dropout 0.35 0.629/0.653 (lower voxel accuracy); Gaussian input
   * noise 0.3 no gain.
   */
  dropout?: number;
  /** Gaussian noise on standardised inputs during training (default 0) */
  inputNoise?: number;
  l2?: number;
  onEpoch?: (e: EpochInfo) => void;
}

export interface TrainedModel {
  model: tfl.LayersModel;
  /** class codes; output unit k is classes[k] */
  classes: number[];
  mean: Float32Array;
  std: Float32Array;
  featureNames: string[];
  featureSet?: FeatureSet;
  mirrorSurface?: SurfacePlane;
  hidden: number[];
  history: EpochInfo[];
  bestEpoch: number;
}

export interface ClassMetrics {
  class: number;
  precision: number;
  recall: number;
  f1: number;
  /** intersection over union of predicted and true voxels of this class */
  iou: number;
  support: number;
}

export interface Validation {
  /** classes used as rows/columns, in order */
  classes: number[];
  /** confusion[true][predicted] counts */
  confusion: number[][];
  perClass: ClassMetrics[];
  accuracy: number;
  meanIoU: number;
}

function standardisation(rows: FeatureRows, nF: number): { mean: Float32Array; std: Float32Array } {
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

function classIndex(y: Uint8Array, classes: number[]): Int32Array {
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
  /** L2 penalty on the kernels */
  l2?: number;
}

export function buildMlp(nIn: number, hidden: number[], nOut: number, o: MlpOptions = {}): tfl.Sequential {
  const seed = o.seed ?? 1;
  const m = tfl.sequential();
  let first = true;
  const inputShape = () => (first ? ((first = false), [nIn]) : undefined);
  if (o.inputNoise) m.add(tfl.layers.gaussianNoise({ stddev: o.inputNoise, inputShape: inputShape() }));
  const reg = o.l2 ? tfl.regularizers.l2({ l2: o.l2 }) : undefined;
  hidden.forEach((units, i) => {
    m.add(tfl.layers.dense({ units, activation: 'relu', inputShape: inputShape(), kernelRegularizer: reg, kernelInitializer: tfl.initializers.heNormal({ seed: seed + i }) }));
    if (o.dropout) m.add(tfl.layers.dropout({ rate: o.dropout, seed: seed + 50 + i }));
  });
  m.add(tfl.layers.dense({ units: nOut, activation: 'softmax', inputShape: inputShape(), kernelRegularizer: reg, kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 99 }) }));
  return m;
}

/** Mean over rows of -sum_k t_k log p_k, targets t = class weight x (one-hot or soft) target. */
function weightedSoftCrossEntropy(yTrue: tfc.Tensor, yPred: tfc.Tensor): tfc.Tensor {
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

export async function trainClassifier(ts: TrainingSet, opts: TrainOptions = {}): Promise<TrainedModel> {
  const tf = await getTf();
  const { signal } = opts;
  throwIfAborted(signal);
  const nF = ts.nFeatures, K = ts.classes.length;
  if (ts.train.n === 0 || nF === 0) throw unprocessable('The training set is empty: no labelled voxels with features.');
  const hidden = opts.hidden ?? [48, 48];
  const epochs = opts.epochs ?? 20;
  const batchSize = opts.batchSize ?? 512;
  const patience = opts.patience ?? 8;
  const { mean, std } = standardisation(ts.train, nF);
  const yTrain = classIndex(ts.train.y, ts.classes);
  let classWeight: Record<number, number> | undefined;
  const cwMode = opts.classWeights ?? 'sqrt';
  if (cwMode === 'balanced' || cwMode === 'sqrt') {
    const cnt = new Array(K).fill(0);
    for (const k of yTrain) cnt[k]++;
    classWeight = {};
    for (let k = 0; k < K; k++) {
      const w = ts.train.n / (K * Math.max(1, cnt[k]));
      classWeight[k] = cwMode === 'sqrt' ? Math.sqrt(w) : w;
    }
  } else if (Array.isArray(opts.classWeights)) {
    if (opts.classWeights.length !== K) throw invalidInput(`classWeights has ${opts.classWeights.length} entries but there are ${K} classes (${ts.classes.join(', ')}).`);
    classWeight = Object.fromEntries(opts.classWeights.map((w, k) => [k, w]));
  }
  const model = buildMlp(nF, hidden, K, { seed: opts.seed, dropout: opts.dropout ?? 0.2, inputNoise: opts.inputNoise, l2: opts.l2 ?? 1e-3 });
  // Targets carry the class weight: w * one-hot for a labelled voxel; a boundary voxel's soft
  // target as it is (weight 1). Loss per row -sum_k t_k log p_k. Class-weighting the boundary
  // rows too (by their most likely class) over-predicts the small phases whose boundary labels
  // are least sure: harness (seeds 11, 12 x 3 model seeds) mean IoU 0.650 vs 0.688, pyrite 0.59 vs 0.76.
  model.compile({ optimizer: tf.train.adam(opts.learningRate ?? 3e-3), loss: weightedSoftCrossEntropy });
  const part = ts.partial && ts.partial.n > 0 ? ts.partial : null;
  const nAll = ts.train.n + (part?.n ?? 0);
  const xAll = part ? new Float32Array(nAll * nF) : ts.train.x;
  if (part) { xAll.set(ts.train.x); xAll.set(part.x, ts.train.n * nF); }
  const target = new Float32Array(nAll * K);
  const wOf = (k: number) => (classWeight ? classWeight[k] : 1);
  for (let i = 0; i < ts.train.n; i++) if (yTrain[i] >= 0) target[i * K + yTrain[i]] = wOf(yTrain[i]);
  if (part) target.set(part.target, ts.train.n * K);
  const xs = tf.tensor2d(standardise(xAll, mean, std), [nAll, nF]);
  const ys = tf.tensor2d(target, [nAll, K]);
  const hasVal = ts.heldOut.n > 0;
  const yVal = classIndex(ts.heldOut.y, ts.classes);
  const xVal = hasVal ? standardise(ts.heldOut.x, mean, std) : null;
  const history: EpochInfo[] = [];
  let best = { loss: Infinity, epoch: -1, weights: null as import('@tensorflow/tfjs-core').Tensor[] | null };
  let stale = 0;
  // batches are shuffled by our own seeded generator (TF.js's shuffle uses Math.random): the same
  // training set and seed give the same model
  const rand = rng((opts.seed ?? 1) * 7919 + 17);
  const order = Int32Array.from({ length: nAll }, (_, i) => i);
  const tm: TrainedModel = { model, classes: ts.classes, mean, std, featureNames: ts.featureNames, featureSet: ts.featureSet, mirrorSurface: ts.mirrorSurface, hidden, history, bestEpoch: -1 };
  try {
    for (let epoch = 0; epoch < epochs; epoch++) {
      throwIfAborted(signal);
      shuffle(order, rand);
      const idx = tf.tensor1d(order, 'int32');
      const xe = tf.gather(xs, idx), ye = tf.gather(ys, idx);
      let h: Awaited<ReturnType<typeof model.fit>>;
      try {
        h = await model.fit(xe, ye, { epochs: 1, batchSize, shuffle: false, verbose: 0 });
      } finally {
        idx.dispose(); xe.dispose(); ye.dispose();
      }
      const loss = Number(h.history.loss[0]);
      let valLoss = loss, valAccuracy = NaN;
      if (hasVal && xVal) {
        const t = tf.tensor2d(xVal, [ts.heldOut.n, nF]);
        const p = (model.predict(t, { batchSize: ts.heldOut.n }) as import('@tensorflow/tfjs-core').Tensor);
        const pd = (await p.data()) as Float32Array;
        t.dispose(); p.dispose();
        let ce = 0, ok = 0;
        for (let i = 0; i < ts.heldOut.n; i++) {
          const k = yVal[i];
          let am = 0;
          for (let j = 1; j < K; j++) if (pd[i * K + j] > pd[i * K + am]) am = j;
          if (k < 0) continue; // class absent from training
          const w = classWeight ? classWeight[k] : 1;
          ce -= w * Math.log(Math.max(1e-7, pd[i * K + k]));
          if (am === k) ok++;
        }
        valLoss = ce / ts.heldOut.n;
        valAccuracy = ok / ts.heldOut.n;
      }
      const info = { epoch, loss, valLoss, valAccuracy };
      history.push(info);
      opts.onEpoch?.(info);
      opts.onProgress?.((epoch + 1) / epochs, `epoch ${epoch + 1}: loss ${loss.toFixed(3)}, held-out loss ${valLoss.toFixed(3)}`);
      if (valLoss < best.loss - 1e-4) {
        best.weights?.forEach((w) => w.dispose());
        best = { loss: valLoss, epoch, weights: model.getWeights().map((w) => w.clone()) };
        stale = 0;
      } else if (++stale >= patience) break;
    }
    if (best.weights) model.setWeights(best.weights);
    tm.bestEpoch = best.epoch;
    opts.onProgress?.(1, `trained: best epoch ${best.epoch + 1}`);
    return tm;
  } catch (err) {
    model.dispose();
    throw err;
  } finally {
    best.weights?.forEach((w) => w.dispose());
    xs.dispose();
    ys.dispose();
  }
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

/** Validate a model on held-out rows (features + true class codes). */
export async function validate(tm: TrainedModel, heldOut: FeatureRows): Promise<Validation> {
  if (heldOut.n === 0) throw unprocessable('No held-out voxels to validate on: label a larger area or lower the held-out fraction.');
  const p = await predictRows(tm, heldOut.x, heldOut.n);
  return confusionMetrics(heldOut.y, argmaxClasses(p, tm.classes), tm.classes);
}

export function disposeModel(tm: TrainedModel): void {
  tm.model.dispose();
}

