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
  /**
   * members of a cross-fitted ensemble (default 1 = one model). With m > 1 the labelled rows (train
   * and held-out) are split into m folds of (y, x) tiles; member k trains on the other folds with
   * early stopping on fold k, so together they use every label, and the members are merged into one
   * Sequential MLP (see mergeMembers: same inference path, m times the hidden units). The model's
   * `outOfFold` validation predicts every row with the member that did not train on it.
   */
  ensemble?: number;
  /**
   * clip the standardised inputs to the range of the training rows widened by this many SD (default:
   * no clipping). A voxel whose features lie outside what the labels showed (a phase boundary when
   * the strokes are in class interiors, a deeper layer than the labelled one) then gets the answer
   * of the nearest seen feature values instead of a linear extrapolation, as a tree ensemble does.
   * Built into the network as a first Dense ReLU layer (clip(z) = lo + relu(z - lo) - relu(z - hi)),
   * so prediction needs nothing new.
   */
  clipInputs?: number;
  /** edge of the (y, x) tiles of the ensemble's folds, voxels (default 16) */
  ensembleTileVox?: number;
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
  /** an ensemble's honest validation: each labelled row predicted by the member that did not train on it */
  outOfFold?: Validation;
  /** class shares the loss saw (weighted targets), in `classes` order: the prior the outputs assume */
  trainPrior?: number[];
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
  if ((opts.ensemble ?? 1) > 1) return trainEnsemble(ts, opts);
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
  const priorSum = new Array(K).fill(0);
  for (let i = 0; i < nAll; i++) for (let k = 0; k < K; k++) priorSum[k] += target[i * K + k]!;
  const priorTotal = priorSum.reduce((a, b) => a + b, 0) || 1;
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
  const tm: TrainedModel = { model, classes: ts.classes, mean, std, featureNames: ts.featureNames, featureSet: ts.featureSet, mirrorSurface: ts.mirrorSurface, hidden, history, bestEpoch: -1, trainPrior: priorSum.map((v) => v / priorTotal) };
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
    if (opts.clipInputs !== undefined) {
      const clipped = withInputClip(tm, trainingRange(ts.train, mean, std, opts.clipInputs));
      model.dispose();
      return clipped;
    }
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


function concatRows(a: FeatureRows, b: FeatureRows, nF: number): FeatureRows {
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

/** Cross-fitted ensemble (TrainOptions.ensemble): m members on tile folds, merged into one MLP. */
async function trainEnsemble(ts: TrainingSet, opts: TrainOptions): Promise<TrainedModel> {
  const m = opts.ensemble!;
  const nF = ts.nFeatures, K = ts.classes.length;
  const all = concatRows(ts.train, ts.heldOut, nF);
  const tile = opts.ensembleTileVox ?? 16;
  const key = (pos: Int32Array, i: number) => Math.floor(pos[3 * i + 1]! / tile) * 65536 + Math.floor(pos[3 * i + 2]! / tile);
  const keys = [...new Set(Array.from({ length: all.n }, (_, i) => key(all.positions, i)))].sort((a, b) => a - b);
  shuffle(keys, rng((opts.seed ?? 1) * 104729 + 7));
  const foldOf = new Map(keys.map((k, j) => [k, j % m]));
  if (keys.length < m) throw unprocessable(`The labels cover ${keys.length} tiles of ${tile} voxels, too few for ${m} ensemble members: label a larger area or train one model.`);
  const rowFold = Int32Array.from({ length: all.n }, (_, i) => foldOf.get(key(all.positions, i))!);
  const members: TrainedModel[] = [];
  const oofPred = new Uint8Array(all.n);
  try {
    for (let k = 0; k < m; k++) {
      throwIfAborted(opts.signal);
      const part = ts.partial ? pickRows({ ...ts.partial, y: new Uint8Array(ts.partial.n) }, (i) => foldOf.get(key(ts.partial!.positions, i)) !== k, nF) : undefined;
      const partial = part && ts.partial ? { x: part.x, n: part.n, positions: part.positions, target: pickTargets(ts.partial, (i) => foldOf.get(key(ts.partial!.positions, i)) !== k, K) } : undefined;
      const tk: TrainingSet = { ...ts, train: pickRows(all, (i) => rowFold[i] !== k, nF), heldOut: pickRows(all, (i) => rowFold[i] === k, nF), partial };
      const tm = await trainClassifier(tk, {
        ...opts, ensemble: 1, clipInputs: undefined, seed: (opts.seed ?? 1) + 1000 * k,
        onProgress: opts.onProgress && ((f, msg) => opts.onProgress!((k + f) / m, `model ${k + 1}/${m}: ${msg ?? ''}`)),
      });
      members.push(tm);
      const held = tk.heldOut;
      if (held.n) {
        const pred = argmaxClasses(await predictRows(tm, held.x, held.n), tm.classes);
        let j = 0;
        for (let i = 0; i < all.n; i++) if (rowFold[i] === k) oofPred[i] = pred[j++]!;
      }
    }
    const std0 = standardisation(all, nF);
    let merged = await mergeMembers(members, std0, opts.seed);
    if (opts.clipInputs !== undefined) {
      const c = withInputClip(merged, trainingRange(all, std0.mean, std0.std, opts.clipInputs));
      merged.model.dispose();
      merged = c;
    }
    merged.outOfFold = confusionMetrics(all.y, oofPred, ts.classes);
    merged.trainPrior = members[0]!.trainPrior;
    return merged;
  } finally {
    members.forEach(disposeModel);
  }
}

function pickTargets(p: { target: Float32Array; n: number }, keep: (i: number) => boolean, K: number): Float32Array {
  const out: number[] = [];
  for (let i = 0; i < p.n; i++) if (keep(i)) for (let k = 0; k < K; k++) out.push(p.target[i * K + k]!);
  return Float32Array.from(out);
}

/**
 * m trained MLPs (same classes and depth) as one Sequential MLP whose softmax is over the mean of
 * the members' logits (a geometric-mean ensemble): first layer side by side (each member's own
 * standardisation folded into its weights, relative to the shared `std0`), hidden layers block
 * diagonal, output rows stacked and divided by m. Exact: the merged model's output equals
 * softmax(mean_k logits_k) on every input.
 */
export async function mergeMembers(members: TrainedModel[], std0: { mean: Float32Array; std: Float32Array }, seed = 1): Promise<TrainedModel> {
  const tf = await getTf();
  const m = members.length;
  const first = members[0]!;
  const nF = first.mean.length, K = first.classes.length;
  const dense = (tm: TrainedModel) => tm.model.layers.filter((l) => l.getClassName() === 'Dense').map((l) => (l.getWeights() as tfc.Tensor[]).map((w) => w.dataSync() as Float32Array));
  const ws = members.map(dense);
  const widths = first.hidden;
  const merged = buildMlp(nF, widths.map((h) => h * m), K, { seed });
  const out: tfc.Tensor[] = [];
  let inW = nF;
  for (let L = 0; L <= widths.length; L++) {
    const last = L === widths.length;
    const outW = last ? K : widths[L]! * m;
    const W = new Float32Array(inW * outW), B = new Float32Array(outW);
    for (let k = 0; k < m; k++) {
      const [kw, kb] = ws[k]![L]!;
      const tk = members[k]!;
      const hIn = L === 0 ? nF : widths[L - 1]!, hOut = last ? K : widths[L]!;
      const r0 = L === 0 ? 0 : k * hIn, c0 = last ? 0 : k * hOut;
      for (let j = 0; j < hOut; j++) {
        let b = kb![j]!;
        for (let f = 0; f < hIn; f++) {
          let w = kw![f * hOut + j]!;
          if (L === 0) {
            // x_k = (x0 * std0 + mean0 - mean_k) / std_k
            b += (w * (std0.mean[f]! - tk.mean[f]!)) / tk.std[f]!;
            w *= std0.std[f]! / tk.std[f]!;
          }
          W[(r0 + f) * outW + c0 + j] += last ? w / m : w;
        }
        B[c0 + j] += last ? b / m : b;
      }
    }
    out.push(tf.tensor2d(W, [inW, outW]), tf.tensor1d(B));
    inW = outW;
  }
  merged.setWeights(out);
  out.forEach((t) => t.dispose());
  return {
    model: merged, classes: first.classes, mean: std0.mean, std: std0.std, featureNames: first.featureNames, featureSet: first.featureSet,
    mirrorSurface: first.mirrorSurface, hidden: widths.map((h) => h * m), history: first.history, bestEpoch: first.bestEpoch,
  };
}

/** Per-feature range of rows in standardised units, widened by `margin` SD. */
function trainingRange(rows: FeatureRows, mean: Float32Array, std: Float32Array, margin: number): { lo: Float32Array; hi: Float32Array } {
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
