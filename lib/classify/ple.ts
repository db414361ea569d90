/**
 * Piecewise-linear encoding of the inputs (Gorishniy et al. 2022, "On embeddings for numerical
 * features in tabular deep learning"): each standardised feature z is cut at T quantiles of the
 * training rows into T bins, and bin t reads clip((z - b_t) / w_t, 0, 1) (the first bin open below,
 * the last open above). The MLP then learns any piecewise-linear function of each feature before it
 * mixes them, as a tree ensemble cuts each feature at thresholds; on few painted labels it is what
 * took the MLP past the random forest (bench lithology).
 *
 * Training runs on the encoded rows; the trained network is then folded into an ordinary Dense
 * stack on the standardised features (TrainOptions.ple): a fixed first Dense ReLU layer of T + 1
 * units per feature (relu(z), relu(-z), relu(z - b_t) for the T - 1 inner edges), and the first
 * hidden layer's kernel rewritten on those units. Exact for every input, so prediction (TF.js or
 * the fused wasm path), the saved model format and old models are unchanged.
 */
import * as tfc from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { standardisation } from './mlp';
import type { TrainedModel } from './model-types';
import type { FeatureRows, PartialRows, TrainingSet } from './training-set';

/** Bin edges per feature in standardised units (ascending, distinct; 1 edge = a constant feature). */
export interface PleEdges {
  edges: Float64Array[];
}

/**
 * Few painted rows (issue 15 §3): the encoding only where the rows fill its bins, and batches small
 * enough that every epoch takes several steps. On a few dozen painted voxels per class, 8 bins and one
 * 512-row batch per epoch (20 gradient steps in all) fell well below the random forest (e2e 08: 40
 * pore + 40 solid voxels, predicted pore share 64 % against 19 %). bench lithology, MLP mean IoU
 * before -> with the guard, seeds 1/2/3 (RF on the same labels):
 *   --case pores 40 per class: 0.687 / 0.643 / - -> 0.903 / 0.949 / 0.955 (RF 0.948 / 0.913 / 0.908);
 *   64x128x128 40 per class: 0.382 / 0.273 / 0.354 -> 0.437 / 0.298 / 0.392 (RF 0.441 / 0.352 / 0.374);
 *   150 per class: 0.422 / 0.340 / 0.392 -> 0.468 / 0.394 / 0.403 (RF 0.421 / 0.398 / 0.456);
 *   500 and 2000 per class keep the encoding and 512-row batches: 0.547 / 0.453 / 0.522 and
 *   0.597 / 0.558 / 0.590 as before (RF 0.537 / 0.440 / 0.513 and 0.576 / 0.538 / 0.568).
 * 4 bins instead of none on 40-150 per class was not better (0.368 / 0.385 against 0.437 on seed 1).
 */
export const PLE_GUARD = Object.freeze({
  /** training rows per requested bin for the encoding; fewer rows: plain standardisation (1 bin) */
  minRowsPerBin: 96,
  /** without the encoding, gradient steps per epoch at least (batch = largest power of two <= rows / this, within [8, 512]) */
  minStepsPerEpoch: 4,
  minBatch: 8,
  maxBatch: 512,
  /**
   * without the encoding (few rows), TrainOptions.fewLabelSchedule: one wider hidden layer and more
   * steps. The 10-150 per class regime is a few dabs: 20 epochs of a handful of 8-64-row batches
   * stopped on the held-out tiles' handful of voxels left the network under-trained. Across model
   * seeds on the SAME labels the MLP moved by sd 0.004-0.037; MLP - RF stayed systematic per label
   * draw (seed 2: -0.05 at 10 and 40 per class on 5 model seeds), so it is the model, not the seed.
   * bench lithology 64x128x128, MLP - RF, mean of model seeds 1 and 2, label seeds 1 / 2 / 3, before -> now:
   *   10 per class: -0.026 / -0.047 / -0.009 -> +0.062 / -0.027 / +0.012;
   *   40: -0.020 / -0.051 / +0.017 -> +0.003 / +0.009 / +0.018;  150: +0.025 / +0.005 / -0.058 -> +0.028 / +0.006 / -0.058
   *   (150 seed 3: fracture over-predicted, 14 % against 4 % true, the forest 9 %);
   *   the e2e-08 pore speckle, 40 + 40 voxels, seed 1: 0.904 -> 0.996 (RF 0.925).
   * The shipped default as `npm run bench -- lithology --per-class 10,40,150` runs it (model seed = label
   * seed 1 / 2 / 3): 10: +0.047 / -0.022 / +0.009; 40: +0.003 / +0.006 / +0.025; 150: +0.030 / +0.005 / -0.041.
   * Held-out label seeds 4 / 5 (not used to choose), one model seed, before -> now: 10: -0.033 / +0.015 ->
   * +0.060 / +0.036; 40: +0.022 / +0.014 -> +0.029 / +0.012; 150: +0.033 / -0.027 -> +0.040 / -0.015.
   * Each alone did less: [256] with 20 epochs, or 60 epochs with [48, 48]; lr 1e-2, no dropout, L2 1e-3 or 0.1 no better.
   * Not kept: a bagged refit (TrainOptions.refitMembers 4 x [64] or 8 x [32], folded into one layer of
   * the same cost; 4 x [256]) within 0.01 of this on seed 1, worse on seed 2 at 10 (-0.051) and seed 3
   * at 150 (-0.045); the prior shift on top (bench --prior-shift), seeds 1 / 2 / 3: 10: +0.072 / -0.030 /
   * -0.036, 40: -0.005 / +0.049 / +0.040, 150: +0.019 / +0.035 / -0.011 (5 of 9 >= 0 against 7 of 9;
   * it pulls the over-predicted fracture share down, but loses at 10 per class).
   * Cost: the MLP part of prediction 413 -> 667 ns CPU per voxel (fused kernel, 28 features; 0.48x the
   * 2000-per-class encoded network's 1394 ns); training ~2x, a few seconds at these row counts.
   */
  few: Object.freeze({
    hidden: Object.freeze([256]) as readonly number[],
    /** epochs of the first (held-out) model, run in full: patience = epochs */
    epochs: 60,
    /** the refit on every painted voxel trains at least this many epochs */
    refitMinEpochs: 40,
    /**
     * with at least `inputDropoutMinPerClass` painted voxels per class (train + held-out), a dropout
     * of `inputDropout` on the inputs (stop 31, docs/painted-labels.md; why: encodedInputDropout below).
     * bench lithology 150 per class, MLP - RF, chosen on seeds 1/2/3: carbonate -0.016 / -0.004 / -0.040
     * -> +0.020 / +0.016 / +0.017; sandstone +0.045 / +0.025 / -0.021 -> +0.002 / +0.025 / -0.011 (it
     * costs on sandstone seed 1); held-out seeds 4/5/6/7: carbonate -0.041 / -0.010 / +0.017 / -0.064 ->
     * +0.017 / -0.006 / +0.048 / -0.060, sandstone +0.020 / -0.009 / +0.034 / -0.033 -> +0.026 / +0.001 /
     * +0.042 / -0.048. Not at 40 per class (sandstone seed 1 +0.008 -> -0.077, carbonate median +0.016 ->
     * +0.004) nor 10 (carbonate seed 2 -0.014 -> -0.040); 0.4 / 0.8 at 150: carbonate median -0.001 /
     * -0.016. On a 32x96x96 carbonate volume it lost on 3 of 4 seeds (docs/painted-labels.md).
     */
    inputDropout: 0.6,
    inputDropoutMinPerClass: 100,
  }),
  /**
   * the encoded network on fewer than `maxMeanPerClass` painted voxels per class (train + held-out,
   * as PAINTED_PRIOR's range; 500 per class) trains with a dropout of `rate` on its inputs, the bins
   * of one feature dropped together (TrainOptions.inputDropout; lib/classify/fit-epoch inputGroups).
   * Why: the painted voxels are class interiors on two slices, where many features separate the
   * classes almost perfectly (carbonate seed 1 at 150 per class, high vs low porosity: AUC >= 0.95 on
   * the painted rows for 7 features, 0.81-0.92 on the volume's voxels); the network rests on a few of
   * them, the forest votes over trees that each saw a random third of the features (scikit-learn's
   * sqrt(28) per split; with every feature per split the forest falls 0.049 / 0.008 / 0.072 on
   * carbonate seeds 1/2/3 at 150). Dropping features makes the network use them all.
   * docs/painted-labels.md, stop 31, bench lithology 500 per class, MLP - RF, chosen on seeds 1/2/3:
   * carbonate -0.010 / +0.038 / -0.012 -> +0.005 / +0.032 / +0.001, sandstone +0.019 / +0.009 / +0.025 ->
   * +0.018 / -0.008 / +0.041; held-out seeds 4/5/6/7: carbonate +0.015 / -0.029 / -0.026 / +0.000 ->
   * +0.041 / -0.006 / -0.009 / +0.017, sandstone +0.008 / +0.037 / -0.010 / +0.038 -> +0.027 / +0.042 /
   * +0.014 / +0.025. Each bin column alone (0.4): carbonate -0.007 / +0.046 / -0.011. Not at 2000 per
   * class (carbonate seed 2 +0.019 -> +0.005).
   */
  encodedInputDropout: Object.freeze({ rate: 0.4, maxMeanPerClass: 1000 }),
  /**
   * both input dropouts above only on a volume whose smallest extent is at least this many voxels
   * (paintedInputDropoutApplies; trainFromLabels sets inputDropout 0 below it): measured to pay on 64
   * and 96 slices only. On thinner volumes it lost (stop 31, docs/painted-labels.md), bench lithology
   * MLP - RF without -> with the rule, chosen on seeds 1/2/3: 32x96x96 sandstone 150 +0.005 / -0.008 /
   * -0.041 -> -0.044 / -0.003 / -0.078, 500 +0.015 / +0.003 / +0.013 -> +0.027 / -0.018 / +0.003;
   * carbonate 150 +0.138 / +0.018 / +0.061 -> +0.096 / +0.014 / +0.057, 500 +0.035 / +0.052 / -0.012 ->
   * +0.025 / +0.055 / +0.005 (worse on 9 of 12; below the forest where it was not: sandstone 150 s1,
   * 500 s2); 48x96x96 seeds 1/2 at 150: sandstone +0.026 / +0.025 -> +0.003 / +0.009, carbonate +0.066 /
   * -0.023 -> +0.007 / -0.033 (4 of 4 worse), at 500 within +0.003 but sandstone s2 +0.005 -> -0.011; the
   * e2e 06 layered plug (24 slices) predicted 31 % fracture with it, 19 % without (true ~3 %). Held-out
   * seed 4 on 32x96x96 went the other way: the rule gained on 3 of 4 (sandstone 150 +0.033 -> +0.050,
   * 500 +0.015 -> +0.022, carbonate 150 +0.051 -> +0.073, 500 +0.050 -> +0.042), seed 5 on 2 of 4 (carbonate
   * 150 +0.024 -> -0.039, below the forest); 48x96x96 seed 3 at 150 lost on 2 of 2 (-0.037, -0.021).
   */
  inputDropoutMinExtentVox: 64,
});

/**
 * Whether the painted path's input dropout (PLE_GUARD.few.inputDropout, encodedInputDropout) applies to
 * a volume of this shape (z, y, x): not on a thin volume (PLE_GUARD.inputDropoutMinExtentVox), where the
 * 5-voxel features of every painted slice reach the volume's faces.
 */
export function paintedInputDropoutApplies(shape: readonly number[]): boolean {
  return Math.min(...shape) >= PLE_GUARD.inputDropoutMinExtentVox;
}

/** Bins (1 = plain standardisation), batch size and input dropout (PLE_GUARD.few.inputDropout, encodedInputDropout) for `bins` requested on this training set. */
export function pleGuard(ts: TrainingSet, bins: number): { bins: number; batchSize: number; inputDropout: number } {
  // the painted rows set the batch; the gap rows between strokes (lib/classify/stroke-gaps) ride along and do not change the schedule
  const n = ts.train.n;
  const pow2 = 2 ** Math.floor(Math.log2(Math.max(1, n / PLE_GUARD.minStepsPerEpoch)));
  // with the encoding kept, 512-row batches as measured (500 per class: batches of 256 lost 0.022 on seed 2)
  const b = ts.train.n >= bins * PLE_GUARD.minRowsPerBin ? bins : 1;
  const d = PLE_GUARD.encodedInputDropout;
  const perClass = (ts.train.n + ts.heldOut.n) / Math.max(1, ts.classes.length);
  return {
    bins: b,
    batchSize: b > 1 ? PLE_GUARD.maxBatch : Math.max(PLE_GUARD.minBatch, Math.min(PLE_GUARD.maxBatch, pow2)),
    inputDropout: b > 1 ? (perClass < d.maxMeanPerClass ? d.rate : 0) : perClass >= PLE_GUARD.few.inputDropoutMinPerClass ? PLE_GUARD.few.inputDropout : 0,
  };
}

/** Edges at `bins` quantiles of the rows, per feature, in z = (x - mean) / std. */
export function pleEdges(rows: FeatureRows, mean: Float32Array, std: Float32Array, bins: number): PleEdges {
  const nF = mean.length;
  const edges: Float64Array[] = [];
  const v = new Float64Array(rows.n);
  for (let f = 0; f < nF; f++) {
    for (let i = 0; i < rows.n; i++) v[i] = (rows.x[i * nF + f]! - mean[f]!) / std[f]!;
    v.sort();
    const e: number[] = [];
    for (let j = 0; j <= bins; j++) {
      const q = v[Math.round((j / bins) * (rows.n - 1))]!;
      if (!e.length || q > e[e.length - 1]! + 1e-6) e.push(q);
    }
    edges.push(Float64Array.from(e));
  }
  return { edges };
}

/** Encoded width of one feature: one column per bin, one for a constant feature. */
const width = (e: Float64Array) => Math.max(1, e.length - 1);

/** The feature of each encoded column (column -> feature index). */
export function pleGroups(p: PleEdges): Int32Array {
  return Int32Array.from(p.edges.flatMap((e, f) => new Array<number>(width(e)).fill(f)));
}

/** Encode raw rows (standardised with mean/std first). */
export function pleEncode(x: Float32Array, n: number, mean: Float32Array, std: Float32Array, p: PleEdges): Float32Array {
  const nF = mean.length;
  const widths = p.edges.map(width);
  const nO = widths.reduce((a, b) => a + b, 0);
  const out = new Float32Array(n * nO);
  for (let i = 0; i < n; i++) {
    let o = i * nO;
    for (let f = 0; f < nF; f++) {
      const z = (x[i * nF + f]! - mean[f]!) / std[f]!;
      const e = p.edges[f]!;
      const T = e.length - 1;
      if (T < 1) { out[o++] = 0; continue; }
      for (let t = 0; t < T; t++) {
        let v = (z - e[t]!) / (e[t + 1]! - e[t]!);
        if (t > 0 && v < 0) v = 0;
        if (t < T - 1 && v > 1) v = 1;
        out[o++] = v;
      }
    }
  }
  return out;
}

function encodeRows(r: FeatureRows, mean: Float32Array, std: Float32Array, p: PleEdges): FeatureRows {
  return { ...r, x: pleEncode(r.x, r.n, mean, std, p) };
}

/** The training set with every row encoded (feature names: `<name> bin t`). */
export function pleTrainingSet(ts: TrainingSet, bins: number): { ts: TrainingSet; mean: Float32Array; std: Float32Array; edges: PleEdges } {
  const { mean, std } = standardisation(ts.train, ts.nFeatures);
  const edges = pleEdges(ts.train, mean, std, bins);
  const names = ts.featureNames.flatMap((nm, f) => Array.from({ length: width(edges.edges[f]!) }, (_, t) => `${nm} bin ${t}`));
  const partial: PartialRows | undefined = ts.partial && { ...ts.partial, x: pleEncode(ts.partial.x, ts.partial.n, mean, std, edges) };
  return {
    ts: { ...ts, nFeatures: names.length, featureNames: names, train: encodeRows(ts.train, mean, std, edges), heldOut: encodeRows(ts.heldOut, mean, std, edges), partial },
    mean, std, edges,
  };
}

/**
 * The model trained on encoded rows as a Dense stack on the standardised features (mean/std): the
 * fixed ReLU layer of the edges, then the first hidden layer with its kernel and bias folded through
 * the encoding and the encoded rows' own standardisation (enc.mean, enc.std). `base` gives the raw
 * feature names, feature set and surface.
 */
export function foldPle(enc: TrainedModel, p: PleEdges, mean: Float32Array, std: Float32Array, base: TrainingSet): TrainedModel {
  const nF = mean.length;
  if (p.edges.every((e) => e.length <= 2)) return foldLinear(enc, p, mean, std, base);
  const { ws, acts, widths } = denseStack(enc);
  // units per feature: relu(z), relu(-z), relu(z - e_t) for the inner edges t = 1..T-1
  const unitsOf = p.edges.map((e) => 2 + Math.max(0, e.length - 2));
  const nU = unitsOf.reduce((a, b) => a + b, 0);
  const k0 = new Float32Array(nF * nU), b0 = new Float32Array(nU);
  const [w1, b1] = ws[0] as [Float32Array, Float32Array];
  const h1 = widths[0]!;
  const W1 = new Float32Array(nU * h1), B1 = Float64Array.from(b1);
  let u0 = 0, c = 0; // first unit of feature f, first encoded column of feature f
  for (let f = 0; f < nF; f++) {
    const e = p.edges[f]!;
    const T = e.length - 1;
    k0[f * nU + u0] = 1; // relu(z)
    k0[f * nU + u0 + 1] = -1; // relu(-z)
    for (let t = 1; t < T; t++) { k0[f * nU + u0 + 1 + t] = 1; b0[u0 + 1 + t] = -e[t]!; }
    // encoded column c + t = sum_u A[t][u] unit_u + const_t; first hidden input s = (col - enc.mean) / enc.std
    const A: [number, number][][] = [];
    const cst: number[] = [];
    if (T < 1) { A.push([]); cst.push(0); } else {
      for (let t = 0; t < T; t++) {
        const inv = 1 / (e[t + 1]! - e[t]!);
        const row: [number, number][] = [];
        if (t === 0) { row.push([u0, inv], [u0 + 1, -inv]); cst.push(-e[0]! * inv); } else { row.push([u0 + 1 + t, inv]); cst.push(0); }
        if (t < T - 1) row.push([u0 + 2 + t, -inv]);
        A.push(row);
      }
    }
    A.forEach((row, t) => {
      const col = c + t, s = 1 / enc.std[col]!;
      for (let j = 0; j < h1; j++) {
        const w = w1[col * h1 + j]! * s;
        for (const [u, a] of row) W1[u * h1 + j] += a * w;
        B1[j] += w * (cst[t]! - enc.mean[col]!);
      }
    });
    u0 += unitsOf[f]!;
    c += A.length;
  }
  const layers: DenseLayer[] = [{ w: k0, b: b0, units: nU, act: 'relu' }, { w: W1, b: Float32Array.from(B1), units: h1, act: acts[0]! }];
  ws.slice(1).forEach(([w, b], i) => layers.push({ w: w!, b: b!, units: widths[i + 1]!, act: acts[i + 1]! }));
  return { ...enc, model: denseModel(nF, layers), mean, std, featureNames: base.featureNames, featureSet: base.featureSet, mirrorSurface: base.mirrorSurface, hidden: [nU, ...widths.slice(0, -1)] };
}

/** The Dense layers of a trained model: weights (kernel, bias), activations and widths. */
function denseStack(enc: TrainedModel): { ws: Float32Array[][]; acts: string[]; widths: number[] } {
  const dense = enc.model.layers.filter((l) => l.getClassName() === 'Dense');
  return {
    ws: dense.map((l) => (l.getWeights() as tfc.Tensor[]).map((w) => w.dataSync() as Float32Array)),
    acts: dense.map((l) => (l.getConfig() as { activation: string }).activation),
    widths: dense.map((l) => (l.getConfig() as { units: number }).units),
  };
}

/** A Dense stack on nF inputs with these kernels, biases, widths and activations. */
interface DenseLayer { w: Float32Array; b: Float32Array; units: number; act: string }
function denseModel(nF: number, layers: DenseLayer[]): tfl.Sequential {
  const m = tfl.sequential();
  layers.forEach((l, i) => m.add(tfl.layers.dense({ units: l.units, activation: l.act as 'relu', inputShape: i === 0 ? [nF] : undefined })));
  const tensors = layers.flatMap((l, i) => [tfc.tensor2d(l.w, [i === 0 ? nF : layers[i - 1]!.units, l.units]), tfc.tensor1d(l.b)]);
  m.setWeights(tensors);
  tensors.forEach((t) => t.dispose());
  return m;
}

/**
 * One bin (or a constant) per feature: each encoded column is linear in z, so the first hidden layer
 * folds onto the standardised features directly and the network keeps its trained shape.
 */
function foldLinear(enc: TrainedModel, p: PleEdges, mean: Float32Array, std: Float32Array, base: TrainingSet): TrainedModel {
  const nF = mean.length;
  const { ws, acts, widths } = denseStack(enc);
  const [w1, b1] = ws[0] as [Float32Array, Float32Array];
  const h1 = widths[0]!;
  const W1 = new Float32Array(nF * h1), B1 = Float64Array.from(b1);
  for (let f = 0; f < nF; f++) {
    const e = p.edges[f]!;
    // column = a z + c (a constant feature: column 0); first hidden input (column - enc.mean) / enc.std
    const a = e.length === 2 ? 1 / (e[1]! - e[0]!) : 0, c = e.length === 2 ? -e[0]! * a : 0;
    const s = 1 / enc.std[f]!;
    for (let j = 0; j < h1; j++) {
      const w = w1[f * h1 + j]! * s;
      W1[f * h1 + j] = a * w;
      B1[j] += w * (c - enc.mean[f]!);
    }
  }
  const layers: DenseLayer[] = [{ w: W1, b: Float32Array.from(B1), units: h1, act: acts[0]! }];
  ws.slice(1).forEach(([w, b], i) => layers.push({ w: w!, b: b!, units: widths[i + 1]!, act: acts[i + 1]! }));
  return { ...enc, model: denseModel(nF, layers), mean, std, featureNames: base.featureNames, featureSet: base.featureSet, mirrorSurface: base.mirrorSurface, hidden: widths.slice(0, -1) };
}
