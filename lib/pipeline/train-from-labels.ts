/**
 * The one training stage: labels (a registered EDS map's surface, or painted strokes) -> training
 * set (features of the labelled voxels, spatially split) -> MLP -> held-out validation -> model on
 * disk. The CLI (`petromap train`, `petromap run`), the web app's Train and Annotate jobs and the
 * benchmarks all call this, so one set of defaults (TRAIN_DEFAULTS and the lib/classify defaults
 * they point to) gives one model for the same inputs and seed.
 */
import { basename, resolve } from 'node:path';
import { buildFacesTrainingSet } from '../classify/face-training-set';
import { argmaxShares, BANK_GUARD, guardFallback, judgeBank, type BankGuardRule, type BankGuardVerdict } from './bank-guard';
import { DEFAULT_BANK, featureBank } from '../classify/feature-banks';
import { adjustPriors, disposeModel, matchClassShares, trainClassifier, validate, type EpochInfo, type TrainOptions, type Validation } from '../classify/model';
import { saveModel, trainedOnRecord } from '../classify/model-io-node';
import { paintedPriorApplies, shiftPaintedPrior } from '../classify/painted-prior';
import { paintedInputDropoutApplies } from '../classify/ple';
import { fitAcrossStrokeGaps, strokeGapVoxels } from '../classify/stroke-gaps';
import { mirrorAboveSurface, type SurfacePlane } from '../classify/mirror';
import { depthFeatures, estimateQuality, type QualityEstimate } from '../classify/quality-estimate';
import { depthLayerRows, studentTrainingSet, type DepthTransferOptions } from './depth-transfer';
import { LABEL_VOLUME_MAX_PER_CLASS, labelVolumeVoxels } from '../classify/labelled-voxels';
import { buildTrainingSet, featureFnFor, surfaceTrainingVoxels, type ClassCount, type LabelledVoxel, type PartialVoxel, type TrainingSet } from '../classify/training-set';
import type { MineralMap } from '../eds/types';
import { invalidInput, throwIfAborted, unprocessable, type OnProgress, type StageOptions } from '../errors';
import type { FeatureSet } from '../features/types';
import type { Affine2, Affine2to3 } from '../coords';
import type { Face } from '../registration/types';
import { transferLabels, type ClassMap } from '../registration/transfer-labels';
import type { VolumeStore } from '../volume/store';
import { openVolume } from '../volume/zarr-store-node';

/** Defaults of the one training path (everything else: lib/classify's TrainOptions defaults). */
export const TRAIN_DEFAULTS = Object.freeze({
  /** erosion of the transferred EDS classes, slab pixels */
  erodeRadius: 1,
  /** EDS phase-boundary voxels train with soft targets */
  boundaryLabels: true,
  /** strokes are thin: small tiles keep every class on both sides of the spatial split */
  strokeTileVox: 16,
  /**
   * class weights of painted labels: the painter already gives each class a similar number of
   * voxels, and up-weighting the class painted least (thin fractures) over-predicts it. bench
   * lithology 64x128x128 seeds 1/2: none 0.574/0.527 mean IoU, sqrt (the EDS default) 0.572/0.509.
   */
  strokeClassWeights: 'none' as const,
  /**
   * painted labels: after early stopping, retrain on every painted voxel (train + held-out) for
   * the chosen epochs, with a stronger L2 (1e-2). bench lithology 64x128x128 seeds 1/2/3, MLP - RF
   * on the same features and labels: before -0.002 / -0.010 / -0.041 (0.574 / 0.528 /
   * 0.527), refit -0.014 median, refit + L2 1e-2 +0.003 / -0.002 / -0.018 (0.579 / 0.536 / 0.551).
   */
  strokeRefit: true,
  strokeL2: 1e-2,
  /**
   * painted labels: each feature piecewise-linear encoded in 8 quantile bins of the painted rows
   * before the MLP (lib/classify/ple, folded into the saved network: first layer 9 units per
   * feature), with the refit floor below. bench lithology 64x128x128 seeds 1/2/3, MLP - RF on the
   * same features and labels: before +0.003 / -0.002 / -0.018 (0.579 / 0.536 / 0.551), now
   * +0.021 / +0.020 / +0.022 (0.597 / 0.558 / 0.590; fracture 0.43-0.46 -> 0.46-0.54); at
   * 96x160x160 before -0.040 / -0.023 / +0.006 (0.563 / 0.560 / 0.594), now +0.019 / +0.011 /
   * +0.012 (0.622 / 0.594 / 0.600 vs RF 0.603 / 0.583 / 0.588). Over 3
   * model seeds each, without it one run of nine beat the forest (median -0.012). Cost: the MLP
   * part of prediction ~3.3x (567 -> 1885 ns CPU per voxel, fused path), about 1.5x with the
   * stroke features (~2200 ns per voxel); training about 2x.
   */
  strokePle: 8,
  /**
   * painted labels: the refit trains at least 10 epochs. With the encoding the held-out loss of
   * the painted tiles can bottom out at epoch 3 while the volume's accuracy still climbs to about
   * epoch 5-8 and then stays flat to epoch 20 (learning curves against the truth, seeds 1 and 3):
   * seed 1 fell to 0.548 (fracture 0.32) with 3 refit epochs.
   */
  strokeRefitMinEpochs: 10,
  /**
   * painted labels: the unpainted voxels between strokes of two classes (lines along x, y, z, up to
   * 12 voxels) that the model puts in a third class train as the more likely of the two, in a second
   * fit (lib/classify/stroke-gaps: the edges between painted classes, which no stroke covers, read as
   * the class painted as a thin line). The e2e 06 plug (24x64x96, a 1-voxel fracture stroke), model
   * seeds 1-3: fracture share 19.2 / 21.1 / 20.2 % -> 3.4 / 3.4 / 3.5 % (true 3.1 %), mean IoU 0.566 /
   * 0.566 / 0.575 -> 0.842 / 0.832 / 0.788 (the forest on the strokes: 14.5 / 12.6 / 13.3 %). bench
   * lithology 64x128x128 seeds 1-3, 150 / 500 / 2000 per class, both styles: 13 of 18 runs gain, 3 equal,
   * 2 lose (-0.013, -0.005), median +0.004; held-out seeds 4-7 at 150 / 500: 6 gain, 6 equal, 4 lose
   * (down to -0.028), median 0.000 (docs/painted-labels.md). Cost: a second fit where it applies.
   * Gap voxels the first model read as a class painted thinner than both (an edge read as the fracture)
   * are split half and half between the two (STROKE_GAPS.balance): the e2e 06 plug's porous rock 57.3 /
   * 58.1 / 60.7 % -> 46.3 / 44.1 / 46.0 % (true 48.4 %), mean IoU 0.842 / 0.832 / 0.788 -> 0.905 / 0.883 /
   * 0.896 (4 noise seeds more: 2 gain, -0.002, -0.028; a 64-slice plug loses -0.007 / -0.012); bench lithology
   * seeds 1-7: 30 of 34 runs identical,
   * the others +-0.001 (docs/painted-labels.md, stop 33).
   */
  strokeGaps: true,
  /**
   * EDS labels: after the fit, each class's output is weighted so that the model's arg max on a
   * sample of the volume's voxels (6 depth boxes) moves towards the EDS map's class shares (its area
   * fractions, an estimate of the volume fractions): lib/classify/prior-shift matchClassShares,
   * folded into the output bias, so prediction and the saved format are unchanged. The weights go
   * half the way (w^0.5, matchEdsSharesPower): the map's shares are one section's. bench pipeline
   * --no-peer against the same code without, seeds 11/12/13, 96x160x160 then 128x192x192:
   * style A +0.019 / +0.038 / +0.035, +0.009 / +0.019 / +0.018; style B +0.066 / +0.066 / +0.030,
   * +0.025 / +0.026 / +0.061 (clay on B 0.003-0.08 -> 0.05-0.32). Full weights (power 1) were
   * mixed: A -0.016 to +0.042, B -0.037 to +0.055. Cost: 2.0-4.0 s training CPU (the sample's
   * features), about the fit's. docs/oracle-gap.md.
   */
  matchEdsShares: true,
  matchEdsSharesPower: 0.5,
  seed: 1,
});

/**
 * Training options of the quality estimate's two half-models (on top of the model's own). Measured
 * and not kept: 8 epochs instead of up to 20 take the estimate from 62 to 34 s (median of 6 runs
 * 96x160x160, loaded machine), but the unit phantom's estimate moved from 0.020 to 0.058 off the
 * true 3D mean IoU (tests/lib/pipeline/quality-estimate.test.ts).
 */
export const QUALITY_HALF_TRAIN: Readonly<{ epochs?: number }> = Object.freeze({});

/** experiments (bench auto-context): sees the training set trainFromLabels built, before the fit; null in normal use */
export const trainingSetHook: { fn: ((ts: TrainingSet) => void) | null } = { fn: null };

/** Share of each class among the measured, classified pixels of an EDS map (its modal area fractions). */
export function edsClassShares(map: MineralMap, classMap: ClassMap): Map<number, number> {
  const count = new Map<number, number>();
  let total = 0;
  for (let i = 0; i < map.labels.length; i++) {
    if (map.measured && !map.measured[i]) continue;
    const c = classMap[map.labels[i]!];
    if (!c) continue;
    count.set(c, (count.get(c) ?? 0) + 1);
    total++;
  }
  return new Map([...count].map(([c, n]) => [c, n / Math.max(1, total)]));
}

/** Labels from a registered EDS map: the map, its registration and the mineral -> class table. */
export interface EdsLabels {
  kind: 'eds';
  map: MineralMap;
  edsToSlab: Affine2;
  /** per-field shifts of a stitched map (registration model 'fields') */
  fields?: import('../registration/types').FieldCorrection[];
  slabToVoxel: Affine2to3;
  surface: SurfacePlane;
  /** the slab the map was registered on (data: NaN outside the volume, optional) */
  slab: { width: number; height: number; data?: Float32Array };
  classMap: ClassMap;
  /** the face the map shows (default 'top'); 'bottom': edsToSlab, slabToVoxel and surface are in the frame of the volume turned upside down (lib/registration/face.ts) */
  face?: Face;
}

/**
 * Labels painted on the scan (the Annotate step), or a label volume made elsewhere (`petromap train
 * --labels`): a store aligned with the scan, 0 = not labelled, 1..255 = class code.
 */
export interface StrokeLabels {
  kind: 'strokes';
  strokes: VolumeStore;
}

export type LabelSource = EdsLabels | StrokeLabels;

export interface TrainFromLabelsOptions extends StageOptions {
  /** default: DEFAULT_BANK's bank for the labels' kind (feature-banks.ts), at the volume's spacing */
  featureSet?: FeatureSet;
  /** class code -> name, kept with the model */
  classNames?: Record<number, string>;
  maxPerClass?: number;
  labelLayers?: number;
  boundaryLabels?: boolean;
  /** experiments (bench pipeline): cap of boundary voxels, sd of a boundary pixel's footprint */
  maxPartial?: number;
  footprintSd?: number;
  train?: Omit<TrainOptions, 'signal' | 'onProgress' | 'onEpoch' | 'seed'>;
  seed?: number;
  onEpoch?: (e: EpochInfo) => void;
  /** text naming the labels in messages ("The EDS map x.zip") */
  source?: string;
  /**
   * estimate the 3D quality without truth (lib/classify/quality-estimate: expected IoU in depth
   * from the model's sharpened probabilities, confidence, share outside the training range);
   * default: for EDS labels. Costs the features and predictions of a few boxes in depth. Painted labels (class interiors on a
   * few slices) are not a sample of the volume's voxels: on bench lithology the estimate missed the
   * true 3D mean IoU by 0.03-0.2, so it is not made for them by default.
   */
  quality?: boolean;
  /** with the quality estimate, also train its two half-models (a diagnostic shown beside it; about doubles the training time); default false */
  qualityHalfModels?: boolean;
  /** adjust the model to the volume's class shares (lib/classify/model adjustPriors, EM on a depth sample); default false */
  priorShift?: boolean;
  /** painted labels: move the model half way to the volume's EM class shares, each class's move bounded (lib/classify/painted-prior; default: where paintedPriorApplies, 40 to under 1000 painted voxels per class) */
  paintedPrior?: boolean;
  /** painted labels: train the gaps between strokes of two classes (lib/classify/stroke-gaps; default TRAIN_DEFAULTS.strokeGaps); `soft`: the first model's probabilities over the two as targets */
  strokeGaps?: boolean | { soft?: boolean; minShare?: number; onlyCorrections?: boolean };
  /** EDS labels: weight the classes towards the EDS map's class shares in depth (default TRAIN_DEFAULTS.matchEdsShares, on) */
  matchEdsShares?: boolean;
  /** experiments: how far the class-share weights go (TRAIN_DEFAULTS.matchEdsSharesPower) */
  matchEdsSharesPower?: number;
  /** EDS labels: the surface model labels layers in depth as it sees the surface, and a model on prediction's features of them is saved (lib/pipeline/depth-transfer); false: off */
  depthTransfer?: false | Omit<DepthTransferOptions, 'signal' | 'onProgress'>;
  /**
   * EDS labels on a version-3 feature set: when a class of the map vanishes from the model's depth
   * sample, train again on the same bank in version 2 (lib/pipeline/bank-guard.ts); default true
   * (BANK_GUARD's rule; tests may give another)
   */
  bankGuard?: boolean | BankGuardRule;
  /**
   * called once the model is saved in modelDir, before the quality estimate: a caller may start
   * predicting with it (runMineralogy does: the prediction's threads start while this thread
   * estimates the quality)
   */
  onModelSaved?: (modelDir: string) => void;
  /** the volume's name and dataset id the model folder records (model-io-node TrainedOn); default: the store folder's name, no id */
  volume?: { name: string; id?: string };
}

export interface TrainFromLabelsResult {
  modelDir: string;
  features: string[];
  featureSet: FeatureSet;
  classes: number[];
  hidden: number[];
  bestEpoch: number;
  history: EpochInfo[];
  validation: Validation;
  counts: ClassCount[];
  labelledVoxels: number;
  boundaryVoxels: number;
  mirrorSurface: SurfacePlane | null;
  /** the truth-free 3D quality estimate (null when not asked for or no held-out surface score) */
  quality: QualityEstimate | null;
  /** the version-3 guard's verdict (null when it did not apply); fired: this result is the version-2 model's */
  bankGuard: BankGuardVerdict | null;
  seconds: number;
  /** where the time went: wall and CPU seconds (process.cpuUsage: every thread of the process) per part, in order */
  profile: StageTime[];
}

/** Wall and CPU time of one part of a stage, seconds. */
export interface StageTime { part: string; wall: number; cpu: number }

/** A lap clock: lap(part) records the wall and CPU time since the previous lap. */
export function lapClock(): { lap: (part: string) => void; laps: StageTime[] } {
  const now = () => { const c = typeof process !== 'undefined' && process.cpuUsage ? process.cpuUsage() : { user: NaN, system: NaN }; return { w: Date.now(), c: (c.user + c.system) / 1e6 }; };
  let t = now();
  const laps: StageTime[] = [];
  return { laps, lap: (part) => { const n = now(); laps.push({ part, wall: (n.w - t.w) / 1000, cpu: n.c - t.c }); t = n; } };
}

const sub = (p: OnProgress | undefined, from: number, to: number): OnProgress | undefined => p && ((f, m) => p(from + (to - from) * f, m));

/** The labelled (and boundary) voxels of a label source, in voxel indices of the volume. */
export async function labelledVoxels(volume: VolumeStore, labels: LabelSource, opts: { labelLayers?: number; boundaryLabels?: boolean; footprintSd?: number; signal?: AbortSignal; source?: string } = {}): Promise<{ labelled: LabelledVoxel[]; partial: PartialVoxel[] }> {
  if (labels.kind === 'strokes') return { labelled: await labelVolumeVoxels(labels.strokes, { signal: opts.signal, source: opts.source }), partial: [] };
  const sl = transferLabels(labels.map, { edsToSlab: labels.edsToSlab, slabToVoxel: labels.slabToVoxel, fields: labels.fields }, labels.slab, labels.classMap, { erodeRadius: TRAIN_DEFAULTS.erodeRadius });
  return surfaceTrainingVoxels(sl, volume.meta.shape, { layers: opts.labelLayers, boundary: opts.boundaryLabels ?? TRAIN_DEFAULTS.boundaryLabels, footprintSd: opts.footprintSd });
}

/**
 * `given`: one label source, or several registered EDS maps (e.g. the top and the bottom face of
 * the sample: lib/classify/face-training-set.ts builds each face's set with its own mirror and
 * held-out tiles and concatenates them).
 */
export async function trainFromLabels(volumePath: string, given: LabelSource | EdsLabels[], modelDir: string, opts: TrainFromLabelsOptions = {}): Promise<TrainFromLabelsResult> {
  const t0 = Date.now();
  const clock = lapClock();
  if (Array.isArray(given) && !given.length) throw invalidInput('No registered EDS map to train on.');
  const labels: LabelSource = Array.isArray(given) ? given[0]! : given;
  // several maps, or a bottom face: every face trains on its own view of the volume
  const faces = Array.isArray(given) ? (given.length > 1 || given[0]!.face === 'bottom' ? given : null) : labels.kind === 'eds' && labels.face === 'bottom' ? [labels] : null;
  const { signal, onProgress } = opts;
  const seed = opts.seed ?? TRAIN_DEFAULTS.seed;
  const store = await openVolume(volumePath);
  if (labels.kind === 'strokes' && labels.strokes.meta.shape.join() !== store.meta.shape.join()) {
    throw invalidInput(`${opts.source ?? 'The label volume'} is ${labels.strokes.meta.shape.join(' x ')} voxels (z x y x x) but the scan is ${store.meta.shape.join(' x ')}: the labels must be aligned with the scan, voxel for voxel.`);
  }
  onProgress?.(0, labels.kind === 'eds' ? 'Transferring the EDS labels to the surface voxels' : 'Reading the painted strokes');
  const { labelled, partial } = faces ? { labelled: [], partial: [] } : await labelledVoxels(store, labels, { labelLayers: opts.labelLayers, boundaryLabels: opts.boundaryLabels, footprintSd: opts.footprintSd, signal, source: opts.source });
  const source = opts.source ?? (labels.kind === 'eds' ? `The EDS map ${labels.map.source ?? ''}`.trim() : 'The painted strokes');
  const faceVoxels = [];
  for (const f of faces ?? []) {
    const fv = await labelledVoxels(store, f, { labelLayers: opts.labelLayers, boundaryLabels: opts.boundaryLabels, footprintSd: opts.footprintSd, signal });
    const src = `The EDS map ${f.map.source ?? ''} (${f.face ?? 'top'} face)`.replace('  ', ' ');
    if (!fv.labelled.length) throw unprocessable(`No surface voxel received a label from ${src}: check its registration, its face and that some of its minerals map to classes.`);
    faceVoxels.push({ ...fv, face: f.face ?? 'top', surface: f.surface, source: src });
    labelled.push(...fv.labelled);
  }
  if (!labelled.length) {
    throw unprocessable(labels.kind === 'eds'
      ? `No surface voxel received a label from ${source}: check the registration and that some minerals map to classes.`
      : 'Nothing is painted yet: paint strokes of at least two classes.');
  }
  throwIfAborted(signal);
  clock.lap('labels');
  const mirrorSurface = faces ? (faces.find((f) => (f.face ?? 'top') === 'top')?.surface ?? null) : labels.kind === 'eds' ? labels.surface : null;
  const featureSet = opts.featureSet ?? featureBank(labels.kind === 'eds' ? DEFAULT_BANK.eds : DEFAULT_BANK.painted, store.meta.spacingUm);
  // painted labels: the voxels between strokes of two classes (not on a label volume thinned to LABEL_VOLUME_MAX_PER_CLASS per class: its gaps are painted voxels)
  const gapsOpt = labels.kind === 'strokes' ? (opts.strokeGaps ?? TRAIN_DEFAULTS.strokeGaps) : false;
  const thinned = () => { const n = new Map<number, number>(); for (const v of labelled) n.set(v.cls, (n.get(v.cls) ?? 0) + 1); return [...n.values()].some((k) => k >= LABEL_VOLUME_MAX_PER_CLASS); };
  const gaps = gapsOpt && !thinned() ? strokeGapVoxels(labelled, store.meta.shape) : [];
  const ts = faces ? await buildFacesTrainingSet(store, faceVoxels, {
    features: featureFnFor(featureSet), featureSet, maxPerClass: opts.maxPerClass, maxPartial: opts.maxPartial, classNames: opts.classNames, seed, signal, onProgress: sub(onProgress, 0.02, 0.45),
  }) : await buildTrainingSet(store, labelled, {
    features: featureFnFor(featureSet),
    featureSet,
    mirrorSurface: mirrorSurface ?? undefined,
    maxPerClass: opts.maxPerClass,
    tileVox: labels.kind === 'strokes' ? TRAIN_DEFAULTS.strokeTileVox : undefined,
    partial: partial.length ? partial : gaps.length ? gaps : undefined,
    maxPartial: opts.maxPartial,
    seed,
    source,
    classNames: opts.classNames,
    signal,
    onProgress: sub(onProgress, 0.02, 0.45),
  });
  throwIfAborted(signal);
  trainingSetHook.fn?.(ts);
  clock.lap('training set');
  const trainOpts = labels.kind === 'strokes' ? { classWeights: TRAIN_DEFAULTS.strokeClassWeights, refit: TRAIN_DEFAULTS.strokeRefit, l2: TRAIN_DEFAULTS.strokeL2, ple: TRAIN_DEFAULTS.strokePle, refitMinEpochs: TRAIN_DEFAULTS.strokeRefitMinEpochs, ...(paintedInputDropoutApplies(store.meta.shape) ? {} : { inputDropout: 0 }), ...opts.train } : opts.train;
  let tm: Awaited<ReturnType<typeof trainClassifier>>;
  if (gaps.length && ts.partial?.n) {
    // painted labels with gaps between classes: a first model on the strokes names each gap voxel one of its two classes, then the model on both
    tm = await fitAcrossStrokeGaps(ts, (set, pass) => pass === 'strokes'
      ? trainClassifier(set, { ...trainOpts, seed, signal, onProgress: sub(onProgress, 0.45, 0.7) })
      : trainClassifier(set, { ...trainOpts, seed, signal, onEpoch: opts.onEpoch, onProgress: sub(onProgress, 0.7, 0.95) }), typeof gapsOpt === 'object' ? gapsOpt : {});
  } else tm = await trainClassifier(ts, { ...trainOpts, seed, signal, onEpoch: opts.onEpoch, onProgress: sub(onProgress, 0.45, 0.95) });
  clock.lap('fit');
  // the feature rows of a 6-box sample in depth, computed once for the class-share weights and the prior shift
  let depthSampleRows: ReturnType<typeof depthFeatures> | null = null;
  const transfer = labels.kind === 'eds' && ts.mirrorSurface ? (opts.depthTransfer ?? false) : false;
  if (transfer && ts.mirrorSurface) {
    onProgress?.(0.95, 'Carrying the surface model to layers in depth');
    try {
      const d = await depthLayerRows(store, ts.mirrorSurface, featureFnFor(featureSet), { ...transfer, seed, signal });
      clock.lap('depth layers');
      const sts = await studentTrainingSet(ts, tm, d, { ...transfer, seed });
      const student = await trainClassifier(sts, { ...trainOpts, seed, signal });
      disposeModel(tm);
      tm = student;
      // the layers are a sample of the volume in depth, with prediction's features: the class-share weights read them
      depthSampleRows = Promise.resolve({ vox: d.vox, rows: d.plain });
      clock.lap('student fit');
    } catch (err) {
      disposeModel(tm);
      throw err;
    }
  }
  const depthRows = () => (depthSampleRows ??= depthFeatures(ts.mirrorSurface ? mirrorAboveSurface(store, ts.mirrorSurface) : store, featureFnFor(featureSet), { surface: ts.mirrorSurface, minDepthVox: 0, boxes: 6, seed, signal }));
  try {
    const edsShares = () => {
      const maps = faces ?? (labels.kind === 'eds' ? [labels] : []);
      const shares = new Map<number, number>();
      for (const f of maps) for (const [c, v] of edsClassShares(f.map, f.classMap)) shares.set(c, (shares.get(c) ?? 0) + v / maps.length);
      return shares;
    };
    if (labels.kind === 'eds' && (opts.matchEdsShares ?? TRAIN_DEFAULTS.matchEdsShares)) {
      onProgress?.(0.95, "Matching the EDS map's class shares in depth");
      const g = await depthRows();
      await matchClassShares(tm, g.rows, g.vox.length, edsShares(), { power: opts.matchEdsSharesPower ?? TRAIN_DEFAULTS.matchEdsSharesPower });
      clock.lap('class shares');
    }
    // version 3 on EDS labels: a class of the map that vanished in depth sends the training back to version 2
    const fallback = labels.kind === 'eds' && (opts.bankGuard ?? true) ? guardFallback(featureSet) : null;
    let bankGuard: BankGuardVerdict | null = null;
    if (fallback) {
      const g = await depthRows();
      bankGuard = judgeBank(tm.classes, await argmaxShares(tm, g.rows, g.vox.length), edsShares(), featureSet.version ?? 1, fallback.version ?? 1, typeof opts.bankGuard === 'object' ? opts.bankGuard : BANK_GUARD);
      clock.lap('bank guard');
      if (bankGuard.fired) {
        const lost = bankGuard.vanished.map((v) => opts.classNames?.[v.class] ?? `class ${v.class}`).join(', ');
        onProgress?.(0.96, `${lost} vanished in depth with feature definition ${bankGuard.version}: training again with version ${bankGuard.fallbackVersion}`);
        const again = await trainFromLabels(volumePath, given, modelDir, { ...opts, featureSet: fallback, bankGuard: false, onProgress: sub(onProgress, 0.96, 1) });
        return { ...again, bankGuard, seconds: (Date.now() - t0) / 1000, profile: [...clock.laps, ...again.profile.map((p) => ({ ...p, part: `v${bankGuard!.fallbackVersion} ${p.part}` }))] };
      }
    }
    onProgress?.(0.96, 'Validating on held-out tiles');
    // an ensemble has seen the held-out tiles through its other members: its out-of-fold rows are the honest check
    const validation: Validation = tm.outOfFold ?? (ts.heldOut.n > 0 ? await validate(tm, ts.heldOut) : { classes: tm.classes, confusion: [], perClass: [], accuracy: NaN, meanIoU: NaN });
    if (opts.priorShift) {
      onProgress?.(0.96, "Adjusting to the volume's class shares");
      const g = await depthRows();
      await adjustPriors(tm, g.rows, g.vox.length);
    } else if (labels.kind === 'strokes' && (opts.paintedPrior ?? paintedPriorApplies(ts, trainOpts?.ple ?? 0))) {
      onProgress?.(0.96, "Moving the painted classes' shares towards the volume's");
      const g = await depthRows();
      await shiftPaintedPrior(tm, g.rows, g.vox.length);
    }
    clock.lap('validate');
    // atomic (temp name + rename); refuses a folder petromap did not write
    const trainedOn = trainedOnRecord(store.meta, opts.volume?.name ?? basename(resolve(volumePath)), tm.featureSet, opts.volume?.id);
    await saveModel(modelDir, tm, { classNames: tm.classes.map((c) => opts.classNames?.[c] ?? `class ${c}`), trainedOn });
    clock.lap('save');
    opts.onModelSaved?.(modelDir);
    let quality: QualityEstimate | null = null;
    if ((opts.quality ?? labels.kind === 'eds') && Number.isFinite(validation.meanIoU)) {
      onProgress?.(0.97, opts.qualityHalfModels ? 'Estimating the 3D quality (two half-models, voxels in depth)' : 'Estimating the 3D quality (voxels in depth)');
      const painted = labels.kind === 'strokes' ? new Set(labelled.map((v) => (v.z * store.meta.shape[1] + v.y) * store.meta.shape[2] + v.x)) : null;
      quality = await estimateQuality(ts.mirrorSurface ? mirrorAboveSurface(store, ts.mirrorSurface) : store, ts, tm, validation.meanIoU, {
        features: featureFnFor(featureSet), train: { ...trainOpts, ...QUALITY_HALF_TRAIN }, halfModels: opts.qualityHalfModels ?? false, surface: ts.mirrorSurface, seed, signal,
        surfacePerClass: validation.perClass.map((m) => ({ class: m.class, iou: m.iou, support: m.support })),
        labelShares: labels.kind === 'eds' ? edsClassShares(labels.map, labels.classMap) : undefined,
        exclude: painted ? (z, y, x) => painted.has((z * store.meta.shape[1] + y) * store.meta.shape[2] + x) : undefined,
        // the class-share step's 6 depth boxes serve the estimate too (not the depth-transfer layers, which the student trained on)
        sample: painted || transfer ? undefined : (depthSampleRows ?? undefined),
      });
    }
    if (quality) clock.lap('quality');
    onProgress?.(1, 'Model saved');
    return {
      modelDir,
      features: ts.featureNames,
      featureSet,
      classes: tm.classes,
      hidden: tm.hidden,
      bestEpoch: tm.bestEpoch,
      history: tm.history,
      validation,
      counts: ts.counts,
      labelledVoxels: labelled.length,
      boundaryVoxels: ts.partial?.n ?? 0,
      mirrorSurface,
      quality,
      bankGuard,
      seconds: (Date.now() - t0) / 1000,
      profile: clock.laps,
    };
  } finally {
    disposeModel(tm);
  }
}
