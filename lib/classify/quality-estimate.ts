/**
 * How good is the 3D map, without any 3D truth? (issue 15 §2)
 *
 * The held-out surface tiles over-promise: they lie in the same layer the model was trained on,
 * while the map is used tens of voxels deeper, where the scan differs (polishing relief, beam
 * hardening, mirrored halos) and labels never reach. This module measures, on a sample of voxels in
 * depth (a few boxes well below the labelled layer), what needs no truth:
 *   - confidence: the model's expected IoU per class from its own probabilities (a soft confusion
 *     matrix: E[TP] = sum of p_c over voxels predicted c, E[support] = sum of p_c), in depth and on
 *     the held-out surface;
 *   - agreement: two models trained on disjoint halves of the labels (split across the surface)
 *     are applied in depth; where they disagree, at least one is wrong;
 *   - out of range: the share of depth voxels with a feature outside the range seen in training.
 * The estimate of the 3D IoU (lib/classify/quality-rule, estimateFromProbabilities) is the
 * expected IoU in depth from the model's probabilities sharpened by DEPTH_TEMPERATURE and divided
 * by each class's ceiling, with the class totals raked halfway toward the EDS map's census, and
 * voxels outside the training range counted half wrong (OUT_OF_RANGE_WEIGHT); its stated range
 * (estimateMargin of outOfRange) widens with the share of such voxels:
 * trained on EDS labels that are themselves wrong at some voxels (registration, mixed pixels, soft
 * boundary targets), the model's probabilities carry that label noise, a floor of probability on
 * every class, which reads as missed voxels in depth (the raw expected IoU was 0.05-0.2 below the
 * truth on every benchmark phantom), and most for the classes whose labels are worst (small
 * grains); where the model is confidently wrong, only the census shows it (a map holding far more
 * of a mineral than the rock). bench pipeline prints the estimate beside the true 3D mean IoU;
 * --quality-dump keeps the probabilities, and bench quality re-reads them to check a rule on many
 * runs in seconds (docs/quality-estimate.md).
 */
import { throwIfAborted, type StageOptions } from '../errors';
import type { VolumeStore } from '../volume/store';
import type { Box3, Shape3 } from '../volume/types';
import { argmaxClasses, confusionMetrics, disposeModel, pickRows, predictRows, trainClassifier, type TrainedModel, type TrainOptions } from './model';
import { concatRows } from './mlp';
import { isAboveSurface, type SurfacePlane } from './mirror';
import { classCeilings, classIndices, expectedIoUPerClass, finiteMean, fitTemperature, withTemperature } from './quality-measures';
import { rng, shuffle } from './rng';
import type { FeatureFn, FeatureRows, TrainingSet } from './training-set';

export type { QualityClass, QualityEstimate } from './quality-text';
export { CENSUS_WEIGHT, DEPTH_TEMPERATURE, estimateFromProbabilities, estimateMargin, OUT_OF_RANGE_WEIGHT } from './quality-rule';
import { DEPTH_TEMPERATURE, estimateFromProbabilities } from './quality-rule';
export { QUALITY_EXPLAINED } from './quality-text';
import type { QualityClass, QualityEstimate } from './quality-text';

export interface EstimateQualityOptions extends StageOptions {
  /** the features of the store as training computed them (mirrored store, same FeatureFn) */
  features: FeatureFn;
  /** options of the training that made `model` (the half-models use them, single members) */
  train?: Omit<TrainOptions, 'signal' | 'onProgress' | 'onEpoch'>;
  /** voxels above this plane are air; depth boxes start `minDepthVox` below it */
  surface?: SurfacePlane;
  /** skip this many voxels below the surface (default 8) */
  minDepthVox?: number;
  /** sample boxes (default DEPTH_BOXES) of `box` voxels (default DEPTH_BOX), every `stride`-th voxel (default 2) */
  boxes?: number;
  box?: Shape3;
  stride?: number;
  /** the model's held-out surface IoU per class (validation.perClass): with labelShares, the estimate is made per class */
  surfacePerClass?: { class: number; iou: number; support: number }[];
  /** class code -> share of the class in the labels' own census (an EDS map's area fractions) */
  labelShares?: Map<number, number>;
  /** voxels that are labelled (painted): excluded from the depth sample */
  exclude?: (z: number, y: number, x: number) => boolean;
  /**
   * also train two half-models (each on one half of the labels) and report their agreement in
   * depth and across halves at the surface (default false). A diagnostic only: the estimate itself
   * rests on the model's probabilities, and the two trainings roughly double the training time.
   */
  halfModels?: boolean;
  seed?: number;
  /**
   * the depth sample's voxels and feature rows when the caller already has them (trainFromLabels:
   * the class-share step's 6-box sample, depthFeatures with minDepthVox 0), instead of computing
   * DEPTH_BOXES boxes of its own: the same rows serve both, and the estimate's features cost
   * nothing more (docs/quality-estimate.md, "Cost")
   */
  sample?: DepthSampleRows | Promise<DepthSampleRows>;
}

/** Voxels of a depth sample (z, y, x) and their feature rows, in the same order (depthFeatures). */
export interface DepthSampleRows { vox: { z: number; y: number; x: number }[]; rows: Float32Array }

/** What estimateQuality saw, for benches that fit or check rules offline (bench pipeline --quality-dump). */
export interface QualityDump {
  classes: number[];
  /** depth sample voxels (z, y, x) and the model's and half-models' probabilities there */
  voxels: number[];
  pMain: Float32Array;
  pA: Float32Array | null;
  pB: Float32Array | null;
  /** held-out surface rows: the model's probabilities and the labels (class codes) */
  pHeld: Float32Array;
  yHeld: Uint8Array;
  trainPrior: number[];
  labelShares: number[] | null;
  /** 1 where a depth voxel has a feature outside the training range (outOfRange), else 0 */
  outside: Uint8Array;
}
/** Set by a bench to receive each estimate's inputs (never set by the app). */
export const qualityDumpHook: { fn: ((d: QualityDump) => void) | null } = { fn: null };

/**
 * The sample in depth: DEPTH_BOXES boxes of DEPTH_BOX voxels, every 2nd voxel. Measured on 11
 * `bench pipeline --keep` runs (their predicted labels against the truth, 8 placements each): the
 * true mean IoU of the former 4 boxes of 12x64x64 moved by up to +-0.04
 * between placements of one run at 128x192x192 and 160x256x256 (about the whole error budget);
 * 8 boxes of 24x64x64 move by about +-0.015 around each run's own offset, for about 2.4 times the
 * voxels filtered (each box's features are computed once, with its 28-voxel halo: 3.9 M -> 9.2 M;
 * counted, not timed). The offset stays: the
 * sample lies below the labelled layer, where the map is worse than in the layer itself; it was
 * -0.017 to +0.013 on 10 runs and -0.043 on A 96x160x160 seed 13, where that layer is a large
 * share of a thin volume.
 */
export const DEPTH_BOXES = 8;
export const DEPTH_BOX: Shape3 = [24, 64, 64];

/** The boxes of the depth sample (spread in depth below the labelled layer, random in plane). */
export function depthBoxes(shape: Shape3, o: Pick<EstimateQualityOptions, 'surface' | 'minDepthVox' | 'boxes' | 'box' | 'seed'>): Box3[] {
  const [nz, ny, nx] = shape;
  const bs: Shape3 = [Math.min(o.box?.[0] ?? DEPTH_BOX[0], nz), Math.min(o.box?.[1] ?? DEPTH_BOX[1], ny), Math.min(o.box?.[2] ?? DEPTH_BOX[2], nx)];
  const rand = rng((o.seed ?? 1) * 2654435761 + 11);
  const top = o.surface ? Math.max(0, Math.ceil(Math.max(o.surface.c, o.surface.a * (nx - 1) + o.surface.c, o.surface.b * (ny - 1) + o.surface.c, o.surface.a * (nx - 1) + o.surface.b * (ny - 1) + o.surface.c)) + (o.minDepthVox ?? 8)) : 0;
  const zRange = Math.max(0, nz - bs[0] - top);
  const nBoxes = o.boxes ?? DEPTH_BOXES;
  const out: Box3[] = [];
  for (let b = 0; b < nBoxes; b++) {
    // spread in depth: box b in the b-th quantile of the depth below the labelled layer
    // a volume thinner than the labelled layer plus a box: the deepest box that fits
    const z0 = Math.min(Math.max(0, nz - bs[0]), top + Math.floor(((b + rand()) / nBoxes) * zRange));
    const y0 = Math.floor(rand() * (ny - bs[1] + 1)), x0 = Math.floor(rand() * (nx - bs[2] + 1));
    out.push({ start: [z0, y0, x0], shape: bs });
  }
  return out;
}

/** The voxels sampled in one box (stride grid, rock only, not excluded). */
function boxVoxels(box: Box3, o: Pick<EstimateQualityOptions, 'surface' | 'stride' | 'exclude'>): { z: number; y: number; x: number }[] {
  const stride = o.stride ?? 2;
  const [z0, y0, x0] = box.start, [sz, sy, sx] = box.shape;
  const out: { z: number; y: number; x: number }[] = [];
  for (let z = z0; z < z0 + sz; z += stride) for (let y = y0; y < y0 + sy; y += stride) for (let x = x0; x < x0 + sx; x += stride) {
    if (o.surface && isAboveSurface(o.surface, z, y, x)) continue;
    if (o.exclude?.(z, y, x)) continue;
    out.push({ z, y, x });
  }
  return out;
}

/** Boxes in depth and the voxels sampled in them (stride grid, rock only). */
export function depthSample(shape: Shape3, o: Pick<EstimateQualityOptions, 'surface' | 'minDepthVox' | 'boxes' | 'box' | 'stride' | 'exclude' | 'seed'>): { z: number; y: number; x: number }[] {
  return depthBoxes(shape, o).flatMap((b) => boxVoxels(b, o));
}

/**
 * Feature rows of the depth sample (depthSample's voxels, in its order): one feature computation
 * per box (with its halo), the sampled voxels picked from it. The same rows as gatherFeatures gives
 * for these voxels (features do not depend on the box they are computed in), at a fraction of its
 * cost: gatherFeatures computes every grid brick a box touches, up to 8 per box.
 */
export async function depthFeatures(store: VolumeStore, features: FeatureFn, o: Pick<EstimateQualityOptions, 'surface' | 'minDepthVox' | 'boxes' | 'box' | 'stride' | 'exclude' | 'seed' | 'signal'>): Promise<DepthSampleRows> {
  const parts: { vox: { z: number; y: number; x: number }[]; rows: Float32Array }[] = [];
  for (const box of depthBoxes(store.meta.shape, o)) {
    throwIfAborted(o.signal);
    const vox = boxVoxels(box, o);
    if (!vox.length) continue;
    const bf = await features(store, box, o.signal);
    const nF = bf.nFeatures, [z0, y0, x0] = box.start, [, sy, sx] = box.shape;
    const rows = new Float32Array(vox.length * nF);
    vox.forEach((v, i) => {
      const r = ((v.z - z0) * sy + (v.y - y0)) * sx + (v.x - x0);
      rows.set(bf.data.subarray(r * nF, (r + 1) * nF), i * nF);
    });
    parts.push({ vox, rows });
  }
  const n = parts.reduce((a, q) => a + q.rows.length, 0);
  const rows = new Float32Array(n);
  let off = 0;
  for (const q of parts) { rows.set(q.rows, off); off += q.rows.length; }
  return { vox: parts.flatMap((q) => q.vox), rows };
}

/** Expected mean IoU of a model from its probabilities: soft confusion (sum of p over voxels predicted k). */
export function expectedMeanIoU(p: Float32Array, K: number): number {
  return finiteMean(expectedIoUPerClass(p, K));
}

/** Mean IoU of two class maps against each other (symmetric), over the classes either predicts; per class (NaN where neither does). */
function agreement(a: Uint8Array, b: Uint8Array, classes: number[]): { mean: number; perClass: number[] } {
  const ab = confusionMetrics(a, b, classes).perClass, ba = confusionMetrics(b, a, classes).perClass;
  const used = classes.map((_, k) => k).filter((k) => ab[k]!.support > 0 || ba[k]!.support > 0);
  // IoU is symmetric; the two passes only differ in which classes have support
  return { mean: used.length ? used.reduce((s, k) => s + ab[k]!.iou, 0) / used.length : NaN, perClass: classes.map((_, k) => (used.includes(k) ? ab[k]!.iou : NaN)) };
}

function halves(all: FeatureRows, nF: number): [FeatureRows, FeatureRows] {
  // split across the longer in-plane extent of the labels, at the median
  let y0 = Infinity, y1 = -Infinity, x0 = Infinity, x1 = -Infinity;
  for (let i = 0; i < all.n; i++) {
    const y = all.positions[3 * i + 1]!, x = all.positions[3 * i + 2]!;
    y0 = Math.min(y0, y); y1 = Math.max(y1, y); x0 = Math.min(x0, x); x1 = Math.max(x1, x);
  }
  const axis = x1 - x0 >= y1 - y0 ? 2 : 1;
  const vals = Array.from({ length: all.n }, (_, i) => all.positions[3 * i + axis]!).sort((a, b) => a - b);
  const cut = vals[Math.floor(vals.length / 2)]!;
  const pick = (keep: (v: number) => boolean) => pickRows(all, (i) => keep(all.positions[3 * i + axis]!), nF);
  return [pick((v) => v < cut), pick((v) => v >= cut)];
}

/** A half's own training set: its rows split by 16-voxel tiles, 1 in 5 tiles held out for early stopping. */
function halfSet(ts: TrainingSet, rows: FeatureRows, seed: number): TrainingSet {
  const nF = ts.nFeatures;
  const key = (i: number) => Math.floor(rows.positions[3 * i + 1]! / 16) * 65536 + Math.floor(rows.positions[3 * i + 2]! / 16);
  const keys = [...new Set(Array.from({ length: rows.n }, (_, i) => key(i)))].sort((a, b) => a - b);
  shuffle(keys, rng(seed));
  const held = new Set(keys.slice(0, Math.max(1, Math.round(keys.length / 5))));
  const sel = (want: boolean) => pickRows(rows, (i) => held.has(key(i)) === want, nF);
  return { ...ts, train: sel(false), heldOut: sel(true), partial: undefined };
}

/** One class's truth-free measures (QualityDetail.perClass). */
export type ClassQuality = QualityClass;

/** More truth-free measures (bench pipeline prints them beside the truth). */
export interface QualityMeasures {
  /** temperature fitted on the held-out surface rows (NLL) and the expected mean IoU in depth at it (measured, not the estimate: it calibrates to the labels' noise) */
  temperature: number;
  depthConfidenceT: number;
  /** mean IoU of the model against each half-model in depth (mean of the two) */
  mainHalfDepth: number;
}

export interface QualityDetail extends QualityEstimate {
  perClass: ClassQuality[];
  measures: QualityMeasures;
}

/**
 * The quality estimate of `model` (trained on `ts`) on `store`: see the module comment.
 * Costs two small trainings and the features of a few boxes in depth.
 */
export async function estimateQuality(store: VolumeStore, ts: TrainingSet, model: TrainedModel, surfaceMeanIoU: number, o: EstimateQualityOptions): Promise<QualityDetail> {
  const { signal } = o;
  const nF = ts.nFeatures, K = ts.classes.length;
  // features of the depth sample, box by box
  const { vox, rows: depthRows } = await (o.sample ?? depthFeatures(store, o.features, o));
  const g = { rows: depthRows };
  throwIfAborted(signal);
  const n = vox.length;
  // all labelled rows (the training range); split in two halves across the surface only for the half-models
  const all = concatRows(ts.train, ts.heldOut, nF);
  const seed = o.seed ?? 1;
  const pMain = await predictRows(model, g.rows, n);
  const lo = new Float64Array(nF).fill(Infinity), hi = new Float64Array(nF).fill(-Infinity);
  for (let i = 0; i < all.n; i++) for (let f = 0; f < nF; f++) {
    const v = all.x[i * nF + f]!;
    if (v < lo[f]!) lo[f] = v;
    if (v > hi[f]!) hi[f] = v;
  }
  for (let f = 0; f < nF; f++) {
    const pad = 0.01 * (hi[f]! - lo[f]!);
    lo[f] = lo[f]! - pad;
    hi[f] = hi[f]! + pad;
  }
  let outside = 0;
  const outsideAt = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    for (let f = 0; f < nF; f++) {
      const v = g.rows[i * nF + f]!;
      if (v < lo[f]! || v > hi[f]!) { outside++; outsideAt[i] = 1; break; }
    }
  }
  let depthAgreement = NaN, crossHalf = NaN;
  let agreeK: number[] = ts.classes.map(() => NaN), crossK: number[] = ts.classes.map(() => NaN);
  let mainHalfDepth = NaN;
  let halfP: [Float32Array, Float32Array] | null = null;
  const mainPred = argmaxClasses(pMain, ts.classes);
  const [h1, h2] = o.halfModels ? halves(all, nF) : [null, null];
  if (h1 && h2 && h1.n > 0 && h2.n > 0) {
    const models: TrainedModel[] = [];
    try {
      for (const [k, h] of [h1, h2].entries()) {
        throwIfAborted(signal);
        models.push(await trainClassifier(halfSet(ts, h, seed + 17 * (k + 1)), { ...o.train, ensemble: 1, refit: false, seed: seed + 31 * (k + 1), signal }));
      }
      const [a, b] = models as [TrainedModel, TrainedModel];
      const [pa, pb] = [await predictRows(a, g.rows, n), await predictRows(b, g.rows, n)];
      halfP = [pa, pb];
      const [la, lb] = [argmaxClasses(pa, a.classes), argmaxClasses(pb, b.classes)];
      const ag = agreement(la, lb, ts.classes);
      depthAgreement = ag.mean;
      mainHalfDepth = (agreement(mainPred, la, ts.classes).mean + agreement(mainPred, lb, ts.classes).mean) / 2;
      agreeK = ag.perClass;
      // on the surface, each half-model scored against the labels of the other half (out of its sample)
      const qa = confusionMetrics(h2.y, argmaxClasses(await predictRows(a, h2.x, h2.n), a.classes), ts.classes);
      const qb = confusionMetrics(h1.y, argmaxClasses(await predictRows(b, h1.x, h1.n), b.classes), ts.classes);
      crossHalf = (qa.meanIoU + qb.meanIoU) / 2;
      crossK = ts.classes.map((_, k) => (qa.perClass[k]!.iou + qb.perClass[k]!.iou) / 2);
    } finally {
      models.forEach(disposeModel);
    }
  }
  const depthConfidence = expectedMeanIoU(pMain, K);
  const pHeld = ts.heldOut.n ? await predictRows(model, ts.heldOut.x, ts.heldOut.n) : new Float32Array(0);
  const surfaceConfidence = ts.heldOut.n ? expectedMeanIoU(pHeld, K) : NaN;
  // the estimate: expected IoU per class in depth from sharpened probabilities
  const prior0 = model.trainPrior ?? ts.classes.map(() => 1 / K);
  const shares = o.labelShares ? ts.classes.map((c) => o.labelShares!.get(c) ?? 0) : null;
  // sharpened for labels from an EDS map (their noise made the model cautious); painted class interiors are not noisy that way
  const temperatureUsed = shares ? DEPTH_TEMPERATURE : 1;
  // each class's ceiling on the held-out surface rows (labels from the EDS map only: painted interiors are not noisy that way)
  const ceilings = shares && ts.heldOut.n ? classCeilings(pHeld, classIndices(ts.heldOut.y, ts.classes), K, temperatureUsed) : null;
  const estimateK = estimateFromProbabilities(pMain, K, { trainPrior: prior0, shares, temperature: temperatureUsed, ceilings, outside: outsideAt });
  const depthK = expectedIoUPerClass(pMain, K), surfaceK = ts.heldOut.n ? expectedIoUPerClass(pHeld, K) : ts.classes.map(() => NaN);
  // measured beside it: temperature scaling on the held-out surface rows
  const temperature = fitTemperature(pHeld, classIndices(ts.heldOut.y, ts.classes), K);
  const measures: QualityMeasures = { temperature, depthConfidenceT: expectedMeanIoU(withTemperature(pMain, K, temperature), K), mainHalfDepth };
  qualityDumpHook.fn?.({ classes: ts.classes, voxels: vox.flatMap((v) => [v.z, v.y, v.x]), pMain, pA: halfP?.[0] ?? null, pB: halfP?.[1] ?? null, pHeld, yHeld: ts.heldOut.y, trainPrior: prior0, labelShares: shares, outside: outsideAt });
  const predicted = mainPred;
  const perClass: ClassQuality[] = ts.classes.map((c, k) => ({
    class: c,
    surfaceIoU: o.surfacePerClass?.find((m) => m.class === c)?.iou ?? NaN,
    surfaceSupport: o.surfacePerClass?.find((m) => m.class === c)?.support ?? NaN,
    depthAgreement: agreeK[k]!,
    crossHalf: crossK[k]!,
    depthShare: n ? predicted.reduce((s, v) => s + (v === c ? 1 : 0), 0) / n : NaN,
    labelShare: o.labelShares?.get(c) ?? NaN,
    depthExpected: depthK[k]!,
    surfaceExpected: surfaceK[k]!,
    estimate: estimateK[k]!,
  }));
  const est = finiteMean(estimateK);
  return { meanIoU: est, surfaceMeanIoU, depthAgreement, crossHalf, depthConfidence, surfaceConfidence, outOfRange: n ? outside / n : NaN, sampled: n, perClass, measures };
}
