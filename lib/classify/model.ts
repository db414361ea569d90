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
import { trainEnsemble } from './ensemble';
import { concatRows, disposeModel, validate } from './mlp';
import type { TrainedModel, TrainOptions } from './model-types';
import { foldPle, pleGuard, pleTrainingSet } from './ple';
import { trainSingle } from './train-single';
import type { TrainingSet } from './training-set';

export type { ClassMetrics, EpochInfo, TrainedModel, TrainOptions, Validation } from './model-types';
export { argmaxClasses, buildMlp, confusionMetrics, disposeModel, pickRows, predictRows, standardise, validate, withInputClip, type MlpOptions } from './mlp';
export { mergeMembers } from './ensemble';
export { adjustPriors, matchClassShares } from './prior-shift';

/** Train the classifier: one MLP, or a cross-fitted ensemble merged into one MLP (TrainOptions.ensemble > 1). */
export async function trainClassifier(ts: TrainingSet, opts: TrainOptions = {}): Promise<TrainedModel> {
  if (opts.ple) {
    // train on the piecewise-linear encoded rows, then fold the encoding into the network (lib/classify/ple)
    // few rows: no bins (plain standardisation) and smaller batches (lib/classify/ple pleGuard)
    const g = pleGuard(ts, opts.ple);
    const enc = pleTrainingSet(ts, g.bins);
    const tm = await trainClassifier(enc.ts, { ...opts, ple: undefined, batchSize: opts.batchSize ?? g.batchSize });
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
    const tm = await trainSingle(all, { ...opts, epochs: Math.max(first.bestEpoch + 1, opts.refitMinEpochs ?? 0), patience: Infinity, onEpoch: undefined, onProgress: undefined });
    return { ...tm, history: first.history, bestEpoch: first.bestEpoch, outOfFold };
  } finally {
    disposeModel(first);
  }
}
