/**
 * Types of the voxel classifier (lib/classify/model): training options, the trained model, validation.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import type { StageOptions } from '../errors';
import type { FeatureSet } from '../features/types';
import type { SurfacePlane } from './mirror';

/**
 * One epoch of the training's own check (the Train page's curve). The held-out figures are the raw
 * network of that epoch. trainFromLabels' `validation` (the Train summary) measures the model kept
 * (best epoch) again on the same held-out rows after what changes it: EDS class-share weights on the
 * output bias (on by default for EDS labels: e2e 05's 84.7 % curve vs 84.5 % summary at best = last
 * epoch), a depth-transfer student, the input clip; an ensemble's is its out-of-fold rows.
 */
export interface EpochInfo {
  epoch: number;
  /** class-weighted cross-entropy on the train rows, with dropout and L2 on */
  loss: number;
  /** class-weighted cross-entropy on the held-out rows (early stopping keeps its minimum) */
  valLoss: number;
  /** arg-max accuracy on the held-out rows of the classes the model has (validate's rows), this epoch's weights */
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
  /** dropout on the (encoded) inputs during training (default 0) */
  inputDropout?: number;
  /** with inputDropout: input column -> group, a group's columns dropped together (set by the encoding, `ple`: one group per feature) */
  inputDropoutGroups?: Int32Array;
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
  /**
   * after early stopping on the held-out rows, train a second model on every labelled row (train
   * and held-out) for the epochs the first one needed, as a random forest uses every label; the
   * validation stays the first model's (default false)
   */
  refit?: boolean;
  /** the refit trains at least this many epochs (default 0: the epochs early stopping chose) */
  refitMinEpochs?: number;
  /**
   * piecewise-linear encoding of each feature in this many quantile bins of the training rows
   * before the MLP, folded into the saved network (lib/classify/ple); default: none
   */
  ple?: number;
  /**
   * with `ple` set and too few rows for its bins (lib/classify/ple pleGuard): the few-labels schedule
   * (one wider hidden layer, more epochs; ple.ts PLE_GUARD.few) unless this is false (default true)
   */
  fewLabelSchedule?: boolean;
  /**
   * the refit (`refit`) as this many members, each on a class-stratified bootstrap sample of every
   * labelled row, merged into one network of m x the hidden units (ensemble mergeMembers; default 1)
   */
  refitMembers?: number;
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
  /** the honest validation of a model that has seen its held-out rows: an ensemble's rows each predicted by the member that did not train on it; a refit model's first model on the held-out rows */
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
