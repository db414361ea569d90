/**
 * Cross-fitted ensemble (TrainOptions.ensemble, off by default: bench pipeline 0.665 with 3 members
 * against 0.692 without), kept so the run can be repeated.
 */
import * as tfc from '@tensorflow/tfjs-core';
import { throwIfAborted, unprocessable } from '../errors';
import { argmaxClasses, buildMlp, concatRows, confusionMetrics, disposeModel, pickRows, predictRows, standardisation, trainingRange, withInputClip } from './mlp';
import type { TrainedModel, TrainOptions } from './model-types';
import { rng, shuffle } from './rng';
import { trainSingle } from './train-single';
import { getTf } from './tf-node';
import type { TrainingSet } from './training-set';

/** Cross-fitted ensemble (TrainOptions.ensemble): m members on tile folds, merged into one MLP. */
export async function trainEnsemble(ts: TrainingSet, opts: TrainOptions): Promise<TrainedModel> {
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
      const tm = await trainSingle(tk, {
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
