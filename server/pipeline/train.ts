/**
 * The Train step of a project: feature set (stored per project, with a time/memory estimate),
 * training labels transferred from the ACCEPTED registration onto the voxels just below the
 * surface, training as a job (epoch history written as it goes, so the page draws live curves),
 * validation on spatially held-out tiles, the model kept on disk, whole-volume prediction as a
 * job, and the preview of the model on one slice.
 */
import os from 'node:os';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { encode } from 'fast-png';
import { PetromapError, invalidInput, throwIfAborted, unprocessable, type OnProgress, type PetromapErrorTag } from '@/lib/errors';
import {
  DEFAULT_SIGMAS_VOX, brickGrid, featureHalo, featureNames, featuresForBox, featuresPerChannel,
  type BrickFeatures, type FeatureSet, type FeatureSpec, type FilterName,
} from '@/lib/features';
import { transferLabels, type ClassMap, type SurfaceLabels } from '@/lib/registration';
import { buildTrainingSet, surfaceTrainingVoxels, type ClassCount, type LabelledVoxel, type PartialVoxel } from '@/lib/classify/training-set';
import { argmaxClasses, disposeModel, predictRows, trainClassifier, validate, type EpochInfo, type TrainedModel, type Validation } from '@/lib/classify/model';
import { predictVolume } from '@/lib/classify/predict-node';
import { mirrorAboveSurface, type SurfacePlane } from '@/lib/classify/mirror';
import { classifierFeatureSet } from '@/lib/classify/feature-sets';
import { loadModel, saveModel } from '@/lib/classify/model-io-node';
import type { VolumeStore } from '@/lib/volume/store';
import type { Box3, Shape3 } from '@/lib/volume/types';
import { openVolume } from '@/lib/volume/zarr-store-node';
import type { Services } from '../services';
import { mineralMap, storeAt, volumeStore, forgetStore } from '../storage/open-stores';
import { readSlab, type RegistrationRecord } from './correlate';
import { projectClasses, projectClassMap, projectDatasets, type ClassDef } from './project-inputs';

// ---------------------------------------------------------------- feature sets

export const FILTER_CHOICES: { filter: FilterName; label: string; components: number; cost: number }[] = [
  { filter: 'gaussian', label: 'Gaussian smoothing', components: 1, cost: 1 },
  { filter: 'gradientMagnitude', label: 'Gradient magnitude (edges)', components: 1, cost: 2 },
  { filter: 'laplacian', label: 'Laplacian of Gaussian', components: 1, cost: 2 },
  { filter: 'dog', label: 'Difference of Gaussians', components: 1, cost: 2 },
  { filter: 'hessianEigen', label: 'Hessian eigenvalues (shape)', components: 3, cost: 3 },
  { filter: 'structureTensorEigen', label: 'Structure tensor eigenvalues (texture orientation)', components: 3, cost: 4 },
  { filter: 'localVariance', label: 'Local variance (texture)', components: 1, cost: 2 },
  { filter: 'nonLocalMean', label: 'Non-local mean (denoised grey)', components: 1, cost: 30 },
];
const COST: Record<string, number> = Object.fromEntries(FILTER_CHOICES.map((f) => [f.filter, f.cost]));
COST.intensity = 0.2;
COST.localMean = 1;

/** Default scales offered in the picker: ilastik's, in voxels of this volume converted to µm. */
export function defaultScalesUm(spacingUm: [number, number, number]): number[] {
  const unit = Math.min(...spacingUm);
  return DEFAULT_SIGMAS_VOX.map((s) => Math.round(s * unit * 1000) / 1000);
}

/**
 * The "fast" preset: intensity plus Gaussian, gradient magnitude and Laplacian at 1 and 3.5
 * voxels (7 features) — for large volumes where the default classifier bank (lib/classify,
 * 36 features, better held-out accuracy) would take too long.
 */
export function startingFeatureSet(spacingUm: [number, number, number]): FeatureSet {
  const unit = Math.min(...spacingUm);
  const specs: FeatureSpec[] = [{ filter: 'intensity', sigmaUm: 0 }];
  for (const s of [1, 3.5]) for (const filter of ['gaussian', 'gradientMagnitude', 'laplacian'] as FilterName[]) specs.push({ filter, sigmaUm: s * unit });
  return { specs, preset: 'custom' };
}

function checkSpecs(specs: FeatureSpec[]): FeatureSpec[] {
  if (!specs.length) throw invalidInput('Choose at least one feature for the classifier (for example intensity and a Gaussian).');
  const known = new Set<string>(['intensity', 'localMean', ...FILTER_CHOICES.map((f) => f.filter)]);
  const seen = new Set<string>();
  const out: FeatureSpec[] = [];
  for (const s of specs) {
    if (!known.has(s.filter)) throw invalidInput(`Unknown filter "${s.filter}" in the feature set.`);
    if (s.filter !== 'intensity' && !(s.sigmaUm > 0 && s.sigmaUm <= 1000)) throw invalidInput(`The scale of ${s.filter} must be between 0 and 1000 µm, got ${s.sigmaUm}.`);
    const spec = { filter: s.filter, sigmaUm: s.filter === 'intensity' ? 0 : s.sigmaUm };
    const key = `${spec.filter}@${spec.sigmaUm}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(spec);
  }
  return out;
}

export function projectFeatureSet(svc: Services, projectId: string, spacingUm: [number, number, number]): FeatureSet {
  const saved = svc.repo.artifact<FeatureSet>(projectId, 'featureSet');
  return saved?.specs?.length ? saved : classifierFeatureSet(spacingUm);
}

export function setProjectFeatureSet(svc: Services, projectId: string, specs: FeatureSpec[]): FeatureSet {
  const set: FeatureSet = { specs: checkSpecs(specs), preset: 'custom' };
  svc.repo.setArtifact(projectId, 'featureSet', set);
  return set;
}

/** Change a class's display colour (kept with the project's class list). */
export function setClassColor(svc: Services, projectId: string, code: number, color: [number, number, number]): ClassDef[] {
  const cur = projectClasses(svc, projectId);
  if (!cur.some((c) => c.code === code)) throw invalidInput(`There is no class with code ${code} in this project (classes: ${cur.map((c) => `${c.code} ${c.name}`).join(', ')}).`);
  const next = cur.map((c) => (c.code === code ? { ...c, color } : c));
  svc.repo.setArtifact(projectId, 'classes', next);
  return next;
}

interface Throughput {
  /** weighted voxel-features per second (gaussian = weight 1) in this process */
  unitsPerSec: number;
  measuredAt: number;
}

/** How fast this machine computes features (a Gaussian at 2 scales on a 24x48x48 brick), in the compute process. */
export async function throughputCore(a: { storePath: string }): Promise<Throughput> {
  const store = await openVolume(a.storePath);
  const unit = Math.min(...store.meta.spacingUm);
  const set: FeatureSet = { specs: [{ filter: 'gaussian', sigmaUm: unit }, { filter: 'gaussian', sigmaUm: 2 * unit }], preset: 'custom' };
  const [nz, ny, nx] = store.meta.shape;
  const box: Box3 = { start: [0, 0, 0], shape: [Math.min(24, nz), Math.min(48, ny), Math.min(48, nx)] };
  const h = featureHalo(set, store.meta.spacingUm);
  await featuresForBox(store, box, set); // warm-up (wasm compile)
  const t0 = performance.now();
  await featuresForBox(store, box, set);
  const dt = Math.max(1e-3, (performance.now() - t0) / 1000);
  const withHalo = box.shape.reduce((acc, n, i) => acc * (n + 2 * h[i]!), 1);
  return { unitsPerSec: (withHalo * 2) / dt, measuredAt: Date.now() };
}

/** Measured once per project and kept. */
async function throughput(svc: Services, projectId: string, volumeRel: string): Promise<Throughput> {
  const saved = svc.repo.artifact<Throughput>(projectId, 'featureThroughput');
  if (saved && saved.unitsPerSec > 0) return saved;
  const t = (await serviceChild().call('throughputCore', { storePath: svc.ws.abs(volumeRel) })) as Throughput;
  svc.repo.setArtifact(projectId, 'featureThroughput', t);
  return t;
}

export interface FeatureEstimate {
  nFeatures: number;
  voxels: number;
  /** whole-volume prediction: seconds of feature filtering on one thread (not counting the model and I/O) */
  seconds: number;
  /** peak memory of the prediction: PREDICT_THREADS bricks of PREDICT_BRICK with halo and feature rows, bytes */
  memoryBytes: number;
  /** one brick's share of memoryBytes */
  brickBytes: number;
  brick: Shape3;
  haloVox: Shape3;
}

/** lib/classify predictVolume's default brick, and the threads the server gives it */
export const PREDICT_BRICK: Shape3 = [64, 128, 128];
export const PREDICT_THREADS = 2;

export function estimateFeatures(set: FeatureSet, meta: { shape: Shape3; spacingUm: [number, number, number]; channels: string[] }, t: Throughput | undefined): FeatureEstimate {
  const nF = featuresPerChannel(set) * meta.channels.length;
  const voxels = meta.shape[0] * meta.shape[1] * meta.shape[2];
  const h = featureHalo(set, meta.spacingUm);
  const b = PREDICT_BRICK.map((n, a) => Math.min(n, meta.shape[a]!)) as Shape3;
  const haloFactor = b.reduce((acc, n, a) => acc * ((n + 2 * h[a]!) / n), 1);
  const units = set.specs.reduce((a, s) => a + (COST[s.filter] ?? 2), 0) * meta.channels.length;
  const seconds = t ? (voxels * units * haloFactor) / t.unitsPerSec : NaN;
  const withHalo = b.reduce((acc, n, a) => acc * (n + 2 * h[a]!), 1);
  // feature rows (float32) + the input with halo and ~6 filter planes at a time + probabilities
  const brickBytes = b[0] * b[1] * b[2] * (nF + 8) * 4 + withHalo * 4 * 6;
  return { nFeatures: nF, voxels, seconds, memoryBytes: PREDICT_THREADS * brickBytes, brickBytes, brick: b, haloVox: h };
}

// ---------------------------------------------------------------- model on disk / in memory

export interface ModelSummary {
  createdAt: number;
  jobId: string;
  features: string[];
  featureSet: FeatureSet;
  classes: number[];
  hidden: number[];
  bestEpoch: number;
  history: EpochInfo[];
  validation: Validation;
  counts: ClassCount[];
  labelledVoxels: number;
  mirrorSurface: SurfacePlane;
  trainSeconds: number;
  /** workspace-relative folder of this model's files (projects/<id>/model-<jobId>); older rows: projects/<id>/model */
  modelRel?: string;
}

/**
 * The folder of the model that the project's 'model' row describes. Each training writes its own
 * folder (model-<jobId>) and then the row: the row is the switch, so files and row always agree,
 * and a model folder without a row (a run stopped in between) is garbage (pruneModels).
 */
const modelDir = (svc: Services, projectId: string, summary = svc.repo.artifact<ModelSummary>(projectId, 'model')) =>
  summary?.modelRel ? svc.ws.abs(summary.modelRel) : path.join(svc.ws.projectDir(projectId), 'model');

/** Remove the project's model folders other than `keep` (earlier models, runs stopped before their row). */
async function pruneModels(svc: Services, projectId: string, keep: string) {
  const dir = svc.ws.projectDir(projectId);
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const n of names) {
    if ((n === 'model' || n.startsWith('model-')) && path.join(dir, n) !== keep) await rm(path.join(dir, n), { recursive: true, force: true });
  }
}
export const predictionDir = (svc: Services, projectId: string) => path.join(svc.ws.projectDir(projectId), 'prediction');
export const predictionRel = (svc: Services, projectId: string, what: 'labels' | 'probabilities' | 'uncertainty') =>
  svc.ws.rel(path.join(predictionDir(svc, projectId), `${what}.ome.zarr`));

/** The trained model's summary if its files are on disk. */
export function projectModel(svc: Services, projectId: string): { dir: string; summary: ModelSummary } | undefined {
  const summary = svc.repo.artifact<ModelSummary>(projectId, 'model');
  const dir = modelDir(svc, projectId, summary);
  if (!summary || !existsSync(path.join(dir, 'model.json'))) return undefined;
  return { dir, summary };
}

// ---------------------------------------------------------------- training labels

export function acceptedRegistration(svc: Services, projectId: string): RegistrationRecord {
  const rec = svc.repo.artifact<RegistrationRecord>(projectId, 'registration');
  const { volume, eds } = projectDatasets(svc, projectId);
  if (!volume || !eds) throw unprocessable('This project needs an XRM volume and an EDS mineral map: add them on the Data step.');
  if (!rec || !rec.accepted) throw unprocessable('There is no accepted registration of the EDS map to the volume: accept a registration on the Correlate step first.');
  if (rec.volumeId !== volume.id || rec.edsId !== eds.id) {
    throw unprocessable('The accepted registration belongs to another volume or EDS map than the ones now chosen: accept a registration on the Correlate step first.');
  }
  return rec;
}

export function mirrorPlane(rec: RegistrationRecord): SurfacePlane {
  return { a: rec.surface.a, b: rec.surface.b, c: rec.surface.c };
}

export interface TrainingLabels {
  rec: RegistrationRecord;
  surfaceLabels: SurfaceLabels;
  voxels: LabelledVoxel[];
  /** voxels at EDS phase boundaries, with soft targets (lib/classify/training-set surfaceTrainingVoxels) */
  boundary: PartialVoxel[];
  counts: { code: number; name: string; voxels: number }[];
  edsName: string;
}

/** EDS labels of the accepted registration, mapped to classes and moved onto the voxel layer just below the surface (lib/classify/training-set SURFACE_LABEL_*: deeper layers carry wrong labels for small phases). */
export async function trainingLabels(svc: Services, projectId: string): Promise<TrainingLabels> {
  const rec = acceptedRegistration(svc, projectId);
  const store = await volumeStore(svc, rec.volumeId);
  const map = await mineralMap(svc, rec.edsId);
  const slab = await readSlab(svc, projectId);
  const [, ny, nx] = store.meta.shape;
  const geom = slab && slab.volumeId === rec.volumeId ? { width: slab.width, height: slab.height, data: slab.data } : { width: nx, height: ny };
  const cm: ClassMap = {};
  for (const e of projectClassMap(svc, projectId, map.legend)) cm[e.phaseId] = e.classCode;
  const surfaceLabels = transferLabels(map, { edsToSlab: rec.edsToSlab, slabToVoxel: rec.slabToVoxel }, geom, cm, { erodeRadius: 1 });
  const { labelled: voxels, partial: boundary } = surfaceTrainingVoxels(surfaceLabels, store.meta.shape);
  const classes = projectClasses(svc, projectId);
  const n = new Map<number, number>();
  for (const v of voxels) n.set(v.cls, (n.get(v.cls) ?? 0) + 1);
  const counts = classes.map((c) => ({ code: c.code, name: c.name, voxels: n.get(c.code) ?? 0 }));
  const d = svc.repo.dataset(rec.edsId);
  return { rec, surfaceLabels, voxels, boundary, counts, edsName: d?.name ?? rec.edsId };
}

// ---------------------------------------------------------------- train job

/**
 * Class weights (n / (K * count))^power: power 1 is fully balanced (rare minerals are favoured so
 * much that the dominant mineral is under-predicted in the volume), 0 keeps the label frequencies
 * (rare minerals vanish). 0.5 sits between.
 */
export function softBalance(y: Uint8Array, classes: number[], power: number): number[] {
  const cnt = classes.map((c) => y.reduce((a, v) => a + (v === c ? 1 : 0), 0));
  return cnt.map((n) => (y.length / (classes.length * Math.max(1, n))) ** power);
}

export interface TrainParams {
  hidden?: number[];
  epochs?: number;
  maxPerClass?: number;
}

export interface LiveHistory {
  jobId: string;
  epochs: EpochInfo[];
  maxEpochs: number;
}

function classNameOf(classes: ClassDef[], code: number) {
  return classes.find((c) => c.code === code)?.name ?? `class ${code}`;
}

export interface TrainCoreInput {
  storePath: string;
  /** labelled voxels, 4 numbers each: z, y, x, class */
  voxels: number[];
  /** boundary voxels with soft targets */
  boundary: PartialVoxel[];
  featureSet: FeatureSet;
  mirror: SurfacePlane;
  maxPerClass: number;
  hidden: number[];
  epochs: number;
  modelDir: string;
  classNames: Record<number, string>;
  source: string;
}

export interface TrainCoreResult {
  features: string[];
  classes: number[];
  hidden: number[];
  bestEpoch: number;
  history: EpochInfo[];
  validation: Validation;
  counts: ClassCount[];
}

/** Training set (mirrored features), MLP, held-out validation, model saved (atomically); in the compute process. */
export async function trainCore(a: TrainCoreInput, ctx: ChildCtx): Promise<TrainCoreResult> {
  const store = await openVolume(a.storePath);
  const voxels: LabelledVoxel[] = [];
  for (let i = 0; i < a.voxels.length; i += 4) voxels.push({ z: a.voxels[i]!, y: a.voxels[i + 1]!, x: a.voxels[i + 2]!, cls: a.voxels[i + 3]! });
  const set = a.featureSet;
  const ts = await buildTrainingSet(store, voxels, {
    features: (s, box, sig) => featuresForBox(s, box, set, { signal: sig }),
    featureSet: set,
    mirrorSurface: a.mirror,
    maxPerClass: a.maxPerClass,
    partial: a.boundary,
    source: a.source,
    signal: ctx.signal,
    onProgress: (f, m) => ctx.onProgress(0.02 + 0.48 * f, `Features of the labelled voxels: ${m ?? ''}`),
  });
  throwIfAborted(ctx.signal);
  const tm = await trainClassifier(ts, {
    hidden: a.hidden,
    classWeights: softBalance(ts.train.y, ts.classes, 0.5),
    epochs: a.epochs,
    signal: ctx.signal,
    onEpoch: (e) => ctx.onEvent({ epoch: e }),
    onProgress: (f, m) => ctx.onProgress(0.5 + 0.45 * f, m),
  });
  try {
    ctx.onProgress(0.96, 'Validating on held-out surface tiles');
    const validation = await validate(tm, ts.heldOut);
    // atomic: saveModel writes under a temp name and renames
    await saveModel(a.modelDir, tm, { classNames: tm.classes.map((c) => a.classNames[c] ?? `class ${c}`) });
    return { features: ts.featureNames, classes: tm.classes, hidden: tm.hidden, bestEpoch: tm.bestEpoch, history: tm.history, validation, counts: ts.counts };
  } finally {
    disposeModel(tm);
  }
}

export function startTrain(svc: Services, projectId: string, params: TrainParams = {}) {
  acceptedRegistration(svc, projectId); // refuse at once, not inside the job
  const epochs = params.epochs ?? 40;
  const job = svc.jobs.start('train', projectId, params, async ({ signal, onProgress, jobId }) => {
    const t0 = Date.now();
    onProgress(0, 'Transferring the EDS labels to the surface voxels');
    const tl = await trainingLabels(svc, projectId);
    if (!tl.voxels.length) throw unprocessable(`No surface voxels received a label from ${tl.edsName}: check the registration and that some minerals map to classes.`);
    const vol = svc.repo.dataset(tl.rec.volumeId)!;
    const store = await volumeStore(svc, vol.id);
    const set = projectFeatureSet(svc, projectId, store.meta.spacingUm);
    const classes = projectClasses(svc, projectId);
    const live: LiveHistory = { jobId, epochs: [], maxEpochs: epochs };
    svc.repo.setArtifact(projectId, 'trainHistory', live);
    const flat: number[] = [];
    for (const v of tl.voxels) flat.push(v.z, v.y, v.x, v.cls);
    // this run's own folder: the current model stays as it is until the row below switches over
    const newDir = path.join(svc.ws.projectDir(projectId), `model-${jobId}`);
    const child = new ComputeChild();
    let r: TrainCoreResult;
    try {
      r = (await child.call('trainCore', {
        storePath: svc.ws.abs(vol.relPath), voxels: flat, boundary: tl.boundary, featureSet: set, mirror: mirrorPlane(tl.rec),
        maxPerClass: params.maxPerClass ?? 10000, hidden: params.hidden ?? [64, 64], epochs, modelDir: newDir,
        classNames: Object.fromEntries(classes.map((c) => [c.code, c.name])), source: `The EDS map ${tl.edsName}`,
      } satisfies TrainCoreInput, {
        signal,
        onProgress,
        onEvent: (e) => {
          const ep = (e as { epoch?: EpochInfo }).epoch;
          if (!ep) return;
          live.epochs.push(ep);
          svc.repo.setArtifact(projectId, 'trainHistory', live);
        },
      })) as TrainCoreResult;
    } catch (err) {
      await rm(newDir, { recursive: true, force: true });
      throw err;
    } finally {
      child.kill();
    }
    // cancelled (the project is being deleted) or deleted meanwhile: write nothing more
    if (signal.aborted || !svc.repo.project(projectId)) {
      await rm(newDir, { recursive: true, force: true });
      throwIfAborted(signal);
      throw unprocessable('The project was deleted while the model was training; nothing was stored.');
    }
    const summary: ModelSummary = {
      createdAt: Date.now(), jobId, modelRel: svc.ws.rel(newDir),
      features: r.features,
      featureSet: set,
      classes: r.classes,
      hidden: r.hidden,
      bestEpoch: r.bestEpoch,
      history: r.history,
      validation: r.validation,
      counts: r.counts,
      labelledVoxels: tl.voxels.length,
      mirrorSurface: mirrorPlane(tl.rec),
      trainSeconds: (Date.now() - t0) / 1000,
    };
    svc.repo.setArtifact(projectId, 'model', summary);
    await pruneModels(svc, projectId, newDir);
    onProgress(1, `Trained: held-out accuracy ${(r.validation.accuracy * 100).toFixed(1)} %`);
    return {
      accuracy: r.validation.accuracy,
      meanIoU: r.validation.meanIoU,
      perClass: r.validation.perClass.map((m) => ({ class: classNameOf(classes, m.class), f1: m.f1 })),
    };
  });
  svc.repo.setArtifact(projectId, 'trainJob', job.id);
  return job;
}

// ---------------------------------------------------------------- prediction

/** True where a voxel lies above the surface (air): labelled 0. */
function maskAir(labels: Uint8Array, box: Box3, surface: SurfacePlane | undefined) {
  if (!surface) return;
  const [sz, sy, sx] = box.shape;
  for (let z = 0; z < sz; z++) for (let y = 0; y < sy; y++) for (let x = 0; x < sx; x++) {
    const gz = box.start[0] + z, gy = box.start[1] + y, gx = box.start[2] + x;
    if (gz < surface.a * gx + surface.b * gy + surface.c - 0.5) labels[(z * sy + y) * sx + x] = 0;
  }
}

const loaded = new Map<string, { stamp: string; tm: TrainedModel }>();

/** Class codes of one box by the saved model (features with halo, mirrored above the surface); in the compute process. */
export async function previewCore(a: { storePath: string; modelDir: string; box: Box3 }, ctx: ChildCtx): Promise<{ labels: string }> {
  const stamp = String(statSync(path.join(a.modelDir, 'model.json')).mtimeMs);
  let m = loaded.get(a.modelDir);
  if (!m || m.stamp !== stamp) {
    // one model per project in memory: each training has its own folder, earlier ones are not used again
    for (const [dir, old] of loaded) {
      if (path.dirname(dir) === path.dirname(a.modelDir)) (disposeModel(old.tm), loaded.delete(dir));
    }
    m = { stamp, tm: await loadModel(a.modelDir) };
    loaded.set(a.modelDir, m);
  }
  const tm = m.tm;
  if (!tm.featureSet) throw unprocessable('The trained model does not record its feature set; train it again.');
  const store = await openVolume(a.storePath);
  const fstore = tm.mirrorSurface ? mirrorAboveSurface(store, tm.mirrorSurface) : store;
  const f: BrickFeatures = await featuresForBox(fstore, a.box, tm.featureSet, { signal: ctx.signal });
  const n = a.box.shape[0] * a.box.shape[1] * a.box.shape[2];
  const labels = argmaxClasses(await predictRows(tm, f.data, n), tm.classes);
  maskAir(labels, a.box, tm.mirrorSurface);
  return { labels: Buffer.from(labels.buffer, labels.byteOffset, labels.byteLength).toString('base64') };
}

/** lib/classify's predictVolume (worker threads, resumable); in the compute process. */
export async function predictCore(a: { storePath: string; modelDir: string; outDir: string; threads: number }, ctx: ChildCtx) {
  const r = await predictVolume(a.storePath, a.modelDir, a.outDir, { threads: a.threads, signal: ctx.signal, onProgress: ctx.onProgress });
  return { bricksDone: r.bricksDone, bricksSkipped: r.bricksSkipped, bricksTotal: r.bricksTotal };
}

export interface PredictionRecord {
  createdAt: number;
  modelCreatedAt: number;
  jobId: string;
  classes: number[];
  seconds: number;
  shape: Shape3;
}

/**
 * Whole-volume prediction with lib/classify's predictVolume (worker threads, resumable brick by
 * brick) into projects/<id>/prediction/{labels,probabilities,uncertainty}.ome.zarr. Predicting
 * again with the same model continues an interrupted run; a new model starts afresh.
 */
export function startPredict(svc: Services, projectId: string, opts: { threads?: number } = {}) {
  const summary = svc.repo.artifact<ModelSummary>(projectId, 'model');
  if (!summary) throw unprocessable('There is no trained model yet: train one on this step first.');
  const { volume } = projectDatasets(svc, projectId);
  if (!volume) throw unprocessable('This project has no XRM volume.');
  const job = svc.jobs.start('predict', projectId, { modelCreatedAt: summary.createdAt }, async ({ signal, onProgress, jobId }) => {
    const t0 = Date.now();
    const mdir = modelDir(svc, projectId, summary);
    if (!existsSync(path.join(mdir, 'model.json'))) throw unprocessable('The trained model is not on disk any more: train it again.');
    const out = predictionDir(svc, projectId);
    const run = svc.repo.artifact<{ modelCreatedAt: number; volumeId: string }>(projectId, 'predictionRun');
    svc.repo.deleteArtifact(projectId, 'prediction');
    svc.repo.deleteArtifact(projectId, 'resultsStats');
    for (const w of ['labels', 'probabilities', 'uncertainty'] as const) forgetStore(predictionRel(svc, projectId, w));
    if (!run || run.modelCreatedAt !== summary.createdAt || run.volumeId !== volume.id) await rm(out, { recursive: true, force: true });
    svc.repo.setArtifact(projectId, 'predictionRun', { modelCreatedAt: summary.createdAt, volumeId: volume.id });
    await mkdir(out, { recursive: true });
    const child = new ComputeChild();
    let r: { bricksDone: number; bricksSkipped: number; bricksTotal: number };
    try {
      r = (await child.call('predictCore', { storePath: svc.ws.abs(volume.relPath), modelDir: mdir, outDir: out, threads: opts.threads ?? PREDICT_THREADS }, { signal, onProgress })) as typeof r;
    } finally {
      child.kill();
    }
    for (const w of ['labels', 'probabilities', 'uncertainty'] as const) forgetStore(predictionRel(svc, projectId, w));
    const store = await volumeStore(svc, volume.id);
    const rec: PredictionRecord = { createdAt: Date.now(), modelCreatedAt: summary.createdAt, jobId, classes: summary.classes, seconds: (Date.now() - t0) / 1000, shape: store.meta.shape };
    svc.repo.setArtifact(projectId, 'prediction', rec);
    onProgress(1, 'Prediction done');
    return { seconds: rec.seconds, bricksDone: r.bricksDone, bricksSkipped: r.bricksSkipped };
  });
  svc.repo.setArtifact(projectId, 'predictJob', job.id);
  return job;
}

export async function predictionStores(svc: Services, projectId: string) {
  const rec = svc.repo.artifact<PredictionRecord>(projectId, 'prediction');
  if (!rec || !existsSync(svc.ws.abs(predictionRel(svc, projectId, 'labels')))) return undefined;
  return {
    rec,
    labels: await storeAt(svc, predictionRel(svc, projectId, 'labels')),
    probabilities: () => storeAt(svc, predictionRel(svc, projectId, 'probabilities')),
    uncertainty: () => storeAt(svc, predictionRel(svc, projectId, 'uncertainty')),
  };
}

// ---------------------------------------------------------------- preview of one slice

/**
 * The trained model applied to one slice (level 0 only: features need full resolution), as an
 * RGBA PNG in class colours (air transparent). Columns/rows as the slice route: XY x/y, XZ x/z, YZ y/z.
 */
export async function previewPng(svc: Services, projectId: string, axis: 'z' | 'y' | 'x', index: number, level: number): Promise<Uint8Array> {
  const pm = projectModel(svc, projectId);
  if (!pm) throw unprocessable('There is no trained model yet: click Train first.');
  const { volume } = projectDatasets(svc, projectId);
  if (!volume) throw unprocessable('This project has no XRM volume.');
  const store = await volumeStore(svc, volume.id);
  if (level < 0 || level >= store.levels) throw invalidInput(`Pyramid level ${level} does not exist (this volume has ${store.levels}).`);
  const ls = store.levelShape(level);
  const [nz, ny, nx] = store.meta.shape;
  const n0 = axis === 'z' ? nz : axis === 'y' ? ny : nx;
  const nl = axis === 'z' ? ls[0] : axis === 'y' ? ls[1] : ls[2];
  if (index >= nl) throw invalidInput(`Slice ${index} is outside the volume (0–${nl - 1} along ${axis} at level ${level}).`);
  // index is in voxels of `level`: the model needs full resolution, so take the matching level-0 slice
  const i0 = Math.min(n0 - 1, Math.max(0, Math.floor((index + 0.5) * (n0 / nl))));
  const box: Box3 = axis === 'z' ? { start: [i0, 0, 0], shape: [1, ny, nx] } : axis === 'y' ? { start: [0, i0, 0], shape: [nz, 1, nx] } : { start: [0, 0, i0], shape: [nz, ny, 1] };
  const r = (await serviceChild().call('previewCore', { storePath: svc.ws.abs(volume.relPath), modelDir: pm.dir, box })) as { labels: string };
  const labels = Buffer.from(r.labels, 'base64');
  const width = axis === 'x' ? ny : nx, height = axis === 'z' ? ny : nz;
  const colors = new Map(projectClasses(svc, projectId).map((c) => [c.code, c.color]));
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    const c = colors.get(labels[i]!);
    if (!c) continue;
    rgba[i * 4] = c[0];
    rgba[i * 4 + 1] = c[1];
    rgba[i * 4 + 2] = c[2];
    rgba[i * 4 + 3] = 255;
  }
  return encode({ width, height, data: rgba, channels: 4, depth: 8 });
}

// ---------------------------------------------------------------- compute process

export interface ChildCtx {
  signal: AbortSignal;
  onProgress: OnProgress;
  onEvent: (e: unknown) => void;
}

/** What the compute process may run (see ComputeChild). */
export const CHILD_FNS = { trainCore, previewCore, predictCore, throughputCore } as Record<string, (a: never, ctx: ChildCtx) => Promise<unknown>>;

/**
 * A Node child process running this module through tsx, serving calls of CHILD_FNS as JSON lines
 * (stdin: {id, fn, args} / {id, cancel}; stdout: {id, type: progress|event|done|error}). Feature
 * filters, TF.js and worker threads then load their wasm and TypeScript files from the petromap
 * folder whatever bundling the web server went through, and heavy work never blocks the server's
 * event loop. Cancel aborts the call; kill() ends the process.
 */
export class ComputeChild {
  private child: ChildProcess;
  private next = 1;
  private calls = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void; ctx: Partial<ChildCtx> }>();
  private stderr = '';
  exited = false;

  constructor() {
    const root = process.cwd();
    const self = path.join(root, 'server', 'pipeline', 'train.ts');
    if (!existsSync(self)) throw unprocessable(`The compute module (${self}) is missing: run the server from the petromap folder.`);
    // from the working directory, not require.resolve: the web bundle replaces that by a module id
    const tsxApi = path.join(root, 'node_modules', 'tsx', 'dist', 'esm', 'api', 'index.mjs');
    if (!existsSync(tsxApi)) throw unprocessable(`tsx (${tsxApi}) is missing: run "npm ci" in the petromap folder.`);
    const tsx = pathToFileURL(tsxApi).href;
    const code = `
      const { register } = await import(${JSON.stringify(tsx)});
      register();
      const { CHILD_FNS } = await import(${JSON.stringify(pathToFileURL(self).href)});
      const { createInterface } = await import('node:readline');
      const say = (m) => process.stdout.write(JSON.stringify(m) + String.fromCharCode(10));
      const running = new Map();
      createInterface({ input: process.stdin }).on('line', async (line) => {
        const msg = JSON.parse(line);
        if (msg.cancel) { running.get(msg.id)?.abort(new Error('cancelled')); return; }
        const ac = new AbortController();
        running.set(msg.id, ac);
        try {
          const fn = CHILD_FNS[msg.fn];
          if (!fn) throw new Error('unknown function ' + msg.fn);
          const result = await fn(msg.args, { signal: ac.signal, onProgress: (f, message) => say({ id: msg.id, type: 'progress', f, message }), onEvent: (e) => say({ id: msg.id, type: 'event', e }) });
          say({ id: msg.id, type: 'done', result });
        } catch (err) {
          say({ id: msg.id, type: 'error', tag: err && err._tag, message: err && err.message ? err.message : String(err) });
        } finally {
          running.delete(msg.id);
        }
      });
      process.stdin.on('end', () => process.exit(0));`;
    this.child = spawn(process.execPath, ['--input-type=module', '-e', code], { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] });
    // heavy work yields the CPU to the web server: slice requests stay fast while a job runs
    try {
      if (this.child.pid) os.setPriority(this.child.pid, 10);
    } catch {
      /* not permitted here: run at normal priority */
    }
    let buf = '';
    this.child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString('utf8');
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        let m: { id: number; type: string; f?: number; message?: string; e?: unknown; result?: unknown; tag?: string };
        try {
          m = JSON.parse(line);
        } catch {
          continue;
        }
        const c = this.calls.get(m.id);
        if (!c) continue;
        if (m.type === 'progress') c.ctx.onProgress?.(m.f ?? 0, m.message);
        else if (m.type === 'event') c.ctx.onEvent?.(m.e);
        else {
          this.calls.delete(m.id);
          if (m.type === 'done') c.resolve(m.result);
          else c.reject(m.tag === 'Aborted' || c.ctx.signal?.aborted ? new PetromapError('Aborted', 'Cancelled.') : new PetromapError((m.tag as PetromapErrorTag) ?? 'Unprocessable', m.message ?? 'failed'));
        }
      }
    });
    this.child.stderr!.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString('utf8')).slice(-4000)));
    this.child.on('exit', (code) => {
      this.exited = true;
      const err = unprocessable(`The compute process stopped (exit code ${code}): ${this.stderr.trim().split('\n').slice(-3).join(' ')}`);
      for (const c of this.calls.values()) c.reject(c.ctx.signal?.aborted ? new PetromapError('Aborted', 'Cancelled.') : err);
      this.calls.clear();
    });
    this.child.on('error', () => undefined);
  }

  call(fn: string, args: unknown, ctx: Partial<ChildCtx> = {}): Promise<unknown> {
    if (this.exited) return Promise.reject(unprocessable('The compute process has stopped.'));
    throwIfAborted(ctx.signal);
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.calls.set(id, { resolve, reject, ctx });
      ctx.signal?.addEventListener('abort', () => this.child.stdin!.write(JSON.stringify({ id, cancel: true }) + '\n'), { once: true });
      this.child.stdin!.write(JSON.stringify({ id, fn, args }) + '\n');
    });
  }

  kill() {
    if (!this.exited) this.child.kill('SIGTERM');
  }
}

const gc = globalThis as unknown as { __petromapComputeChild?: ComputeChild };
/** The long-lived compute process for short calls (previews, throughput), restarted if it died. */
function serviceChild(): ComputeChild {
  if (!gc.__petromapComputeChild || gc.__petromapComputeChild.exited) {
    gc.__petromapComputeChild = new ComputeChild();
    (gc.__petromapComputeChild as unknown as { child: ChildProcess }).child.unref?.();
  }
  return gc.__petromapComputeChild;
}

// ---------------------------------------------------------------- state for the page

export async function trainState(svc: Services, projectId: string) {
  const { volume, eds } = projectDatasets(svc, projectId);
  const store = volume ? await volumeStore(svc, volume.id) : undefined;
  const map = eds ? await mineralMap(svc, eds.id) : undefined;
  const classes = projectClasses(svc, projectId);
  const spacing = store?.meta.spacingUm ?? [1, 1, 1];
  const set = projectFeatureSet(svc, projectId, spacing);
  let estimate: FeatureEstimate | null = null;
  if (store) {
    const t = await throughput(svc, projectId, volume!.relPath).catch(() => undefined);
    estimate = estimateFeatures(set, store.meta, t);
  }
  const rec = svc.repo.artifact<RegistrationRecord>(projectId, 'registration');
  const accepted = !!(rec?.accepted && volume && eds && rec.volumeId === volume.id && rec.edsId === eds.id);
  let labelCounts: { code: number; name: string; voxels: number }[] = [];
  let boundaryVoxels = 0;
  if (accepted) ({ counts: labelCounts, boundary: boundaryVoxels } = await cachedLabelCounts(svc, projectId, rec!));
  const job = (key: string) => {
    const id = svc.repo.artifact<string>(projectId, key);
    const j = id ? svc.repo.job(id) : undefined;
    return j ? { id: j.id, state: j.state, progress: j.progress, message: j.message, error: j.error } : null;
  };
  const summary = svc.repo.artifact<ModelSummary>(projectId, 'model');
  const pred = svc.repo.artifact<PredictionRecord>(projectId, 'prediction');
  return {
    volume: volume && store ? { id: volume.id, name: volume.name, shape: store.meta.shape, spacingUm: store.meta.spacingUm, levels: store.levels } : null,
    eds: eds && map ? { id: eds.id, name: eds.name } : null,
    registrationAccepted: accepted,
    classes,
    classMap: map ? projectClassMap(svc, projectId, map.legend) : [],
    featureSet: set,
    featureNames: store ? featureNames(set, store.meta.channels) : [],
    filters: FILTER_CHOICES.map(({ filter, label, components }) => ({ filter, label, components })),
    /** ready-made sets: fast, and lib/classify's classifier bank (the default: better held-out accuracy, ~5x the features) */
    presets: [
      { key: 'fast', label: 'Fast (7 features)', specs: startingFeatureSet(spacing).specs },
      { key: 'classifier', label: 'Recommended classifier bank', specs: classifierFeatureSet(spacing).specs },
    ],
    scalesUm: defaultScalesUm(spacing),
    estimate,
    model: summary
      ? { createdAt: new Date(summary.createdAt), features: summary.features, classes: summary.classes, hidden: summary.hidden, bestEpoch: summary.bestEpoch, history: summary.history, validation: summary.validation, counts: summary.counts, trainSeconds: summary.trainSeconds }
      : null,
    liveHistory: svc.repo.artifact<LiveHistory>(projectId, 'trainHistory') ?? null,
    labelCounts,
    /** surface voxels at mineral boundaries, trained with soft labels */
    boundaryVoxels,
    trainJob: job('trainJob'),
    predictJob: job('predictJob'),
    prediction: pred ? { createdAt: new Date(pred.createdAt), upToDate: !!summary && pred.modelCreatedAt === summary.createdAt, seconds: pred.seconds } : null,
  };
}

async function cachedLabelCounts(svc: Services, projectId: string, rec: RegistrationRecord) {
  const classMap = svc.repo.artifact<unknown>(projectId, 'classMap') ?? null;
  const key = JSON.stringify([rec.createdAt, classMap]);
  const c = svc.repo.artifact<{ key: string; counts: { code: number; name: string; voxels: number }[]; boundary?: number }>(projectId, 'labelCounts');
  if (c && c.key === key && c.boundary !== undefined) return { counts: c.counts, boundary: c.boundary };
  const tl = await trainingLabels(svc, projectId);
  svc.repo.setArtifact(projectId, 'labelCounts', { key, counts: tl.counts, boundary: tl.boundary.length });
  return { counts: tl.counts, boundary: tl.boundary.length };
}
