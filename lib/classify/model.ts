/**
 * The voxel classifier: a small MLP (TF.js layers, wasm backend) on standardised feature rows.
 * Early stopping on the spatially held-out set; the best epoch's weights are kept. The model
 * carries its standardisation, class codes, feature names and feature set, so that prediction
 * computes exactly the features it was trained on.
 *
 * Split in modules: model-types (options, model, validation), mlp (network, prediction, metrics),
 * train-single (one model), ensemble and prior-shift (experiments, off by default). This module is
 * the entry the rest of the code imports.
 */
import { throwIfAborted } from '../errors';
import { mergeMembers, trainEnsemble } from './ensemble';
import { concatRows, disposeModel, standardisation, validate } from './mlp';
import { rng } from './rng';
import type { TrainedModel, TrainOptions } from './model-types';
import { foldPle, PLE_GUARD, pleGroups, pleGuard, pleTrainingSet } from './ple';
import { trainSingle } from './train-single';
import type { TrainingSet } from './training-set';

export type { ClassMetrics, EpochInfo, TrainedModel, TrainOptions, Validation } from './model-types';
export { argmaxClasses, buildMlp, confusionMetrics, disposeModel, pickRows, predictRows, standardise, validate, withInputClip, type MlpOptions } from './mlp';
export { mergeMembers } from './ensemble';
export { adjustPriors, matchClassShares } from './prior-shift';

/**
 * The refit as m members, each trained on a class-stratified bootstrap sample of every labelled row
 * (as a random forest's trees), merged into one network (mergeMembers: softmax of the members' mean
 * logits, one hidden layer of m x the units when the members have one).
 */
async function baggedRefit(all: TrainingSet, m: number, opts: TrainOptions): Promise<TrainedModel> {
  const nF = all.nFeatures, r = all.train;
  const rand = rng((opts.seed ?? 1) * 15485863 + 3);
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < r.n; i++) {
    const c = r.y[i]!;
    if (!byClass.has(c)) byClass.set(c, []);
    byClass.get(c)!.push(i);
  }
  const members: TrainedModel[] = [];
  try {
    for (let k = 0; k < m; k++) {
      throwIfAborted(opts.signal);
      const idx: number[] = [];
      for (const rows of byClass.values()) for (let j = 0; j < rows.length; j++) idx.push(rows[Math.floor(rand() * rows.length)]!);
      const x = new Float32Array(idx.length * nF), y = new Uint8Array(idx.length), positions = new Int32Array(3 * idx.length);
      idx.forEach((i, j) => {
        x.set(r.x.subarray(i * nF, (i + 1) * nF), j * nF);
        y[j] = r.y[i]!;
        positions.set(r.positions.subarray(3 * i, 3 * i + 3), 3 * j);
      });
      members.push(await trainSingle({ ...all, train: { x, y, n: idx.length, positions } }, { ...opts, seed: (opts.seed ?? 1) + 1000 * (k + 1) }));
    }
    const merged = await mergeMembers(members, standardisation(r, nF), opts.seed);
    return { ...merged, trainPrior: members[0]!.trainPrior };
  } finally {
    members.forEach(disposeModel);
  }
}

/** Train the classifier: one MLP, or a cross-fitted ensemble merged into one MLP (TrainOptions.ensemble > 1). */
export async function trainClassifier(ts: TrainingSet, opts: TrainOptions = {}): Promise<TrainedModel> {
  if (opts.ple) {
    // train on the piecewise-linear encoded rows, then fold the encoding into the network (lib/classify/ple)
    // few rows: no bins (plain standardisation) and smaller batches (lib/classify/ple pleGuard)
    const g = pleGuard(ts, opts.ple);
    const enc = pleTrainingSet(ts, g.bins);
    // too few rows for the encoding: the few-labels schedule (wider, longer; PLE_GUARD.few), options given win
    const f = PLE_GUARD.few;
    const few = g.bins === 1 && opts.fewLabelSchedule !== false
      ? { hidden: opts.hidden ?? [...f.hidden], epochs: opts.epochs ?? f.epochs, patience: opts.patience ?? opts.epochs ?? f.epochs, refitMinEpochs: Math.max(opts.refitMinEpochs ?? 0, f.refitMinEpochs) }
      : {};
    // painted rows: a dropout on the inputs (PLE_GUARD.few.inputDropout, encodedInputDropout); with bins, a feature's encoded columns dropped together
    const inputDropout = opts.inputDropout ?? g.inputDropout;
    const groups = inputDropout && opts.inputDropoutGroups === undefined ? pleGroups(enc.edges) : opts.inputDropoutGroups;
    const tm = await trainClassifier(enc.ts, { ...opts, ...few, ple: undefined, batchSize: opts.batchSize ?? g.batchSize, inputDropout: inputDropout || undefined, inputDropoutGroups: groups });
    try {
      return foldPle(tm, enc.edges, enc.mean, enc.std, ts);
    } finally {
      disposeModel(tm);
    }
  }
  if ((opts.ensemble ?? 1) > 1) return trainEnsemble(ts, opts);
  const first = await trainSingle(ts, opts);
  if (!opts.refit || ts.heldOut.n === 0) return first;
  // the same model again on every labelled row, for the epochs early stopping chose
  try {
    const all: TrainingSet = { ...ts, train: concatRows(ts.train, ts.heldOut, ts.nFeatures), heldOut: { x: new Float32Array(0), y: new Uint8Array(0), n: 0, positions: new Int32Array(0) } };
    // the honest score is the first model's on the held-out rows the refit model has now seen
    const outOfFold = await validate(first, ts.heldOut);
    const ro: TrainOptions = { ...opts, epochs: Math.max(first.bestEpoch + 1, opts.refitMinEpochs ?? 0), patience: Infinity, onEpoch: undefined, onProgress: undefined };
    const tm = (opts.refitMembers ?? 1) > 1 ? await baggedRefit(all, opts.refitMembers!, ro) : await trainSingle(all, ro);
    return { ...tm, history: first.history, bestEpoch: first.bestEpoch, outOfFold };
  } finally {
    disposeModel(first);
  }
}
