/**
 * The Train step of a project: feature set (stored per project, with a time/memory estimate),
 * training labels transferred from the ACCEPTED registration onto the voxels just below the
 * surface, training as a job (epoch history written as it goes, so the page draws live curves),
 * validation on spatially held-out tiles, the model kept on disk, whole-volume prediction as a
 * job, and the preview of the model on one slice.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { encode } from 'fast-png';
import { PetromapError, invalidInput, throwIfAborted, unprocessable, type PetromapErrorTag, type StageOptions } from '@/lib/errors';
import {
  DEFAULT_SIGMAS_VOX, brickGrid, featureHalo, featureNames, featuresForBox, featuresPerChannel,
  type BrickFeatures, type FeatureSet, type FeatureSpec, type FilterName,
} from '@/lib/features';
import { transferLabels, type ClassMap, type SurfaceLabels } from '@/lib/registration';
import { buildTrainingSet, surfaceLabelVoxels, type ClassCount, type LabelledVoxel } from '@/lib/classify/training-set';
import { argmaxClasses, predictRows, trainClassifier, validate, type EpochInfo, type TrainedModel, type Validation } from '@/lib/classify/model';
import { mirrorAboveSurface, type SurfacePlane } from '@/lib/classify/mirror';
import { loadModel, saveModel } from '@/lib/classify/model-io-node';
import type { VolumeStore } from '@/lib/volume/store';
import type { Box3, Shape3 } from '@/lib/volume/types';
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
 * The project's default: intensity plus Gaussian, gradient magnitude and Laplacian at 1 and 3.5
 * voxels (7 features) — fast enough for a whole-volume prediction in seconds to minutes.
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
  return saved?.specs?.length ? saved : startingFeatureSet(spacingUm);
}

export function setProjectFeatureSet(svc: Services, projectId: string, specs: FeatureSpec[]): FeatureSet {
  const set: FeatureSet = { specs: checkSpecs(specs), preset: 'custom' };
  svc.repo.setArtifact(projectId, 'featureSet', set);
  return set;
}

interface Throughput {
  /** weighted voxel-features per second (gaussian = weight 1) in this process */
  unitsPerSec: number;
  measuredAt: number;
}

/** Measure once how fast this machine computes features (a Gaussian on a 24x48x48 brick). */
async function throughput(svc: Services, projectId: string, store: VolumeStore): Promise<Throughput> {
  const saved = svc.repo.artifact<Throughput>(projectId, 'featureThroughput');
  if (saved && saved.unitsPerSec > 0) return saved;
  const unit = Math.min(...store.meta.spacingUm);
  const set: FeatureSet = { specs: [{ filter: 'gaussian', sigmaUm: unit }, { filter: 'gaussian', sigmaUm: 2 * unit }], preset: 'custom' };
  const [nz, ny, nx] = store.meta.shape;
  const box: Box3 = { start: [0, 0, 0], shape: [Math.min(24, nz), Math.min(48, ny), Math.min(48, nx)] };
  const h = featureHalo(set, store.meta.spacingUm);
  const t0 = performance.now();
  await featuresForBox(store, box, set);
  const dt = Math.max(1e-3, (performance.now() - t0) / 1000);
  const withHalo = box.shape.reduce((a, n, i) => a * (n + 2 * h[i]!), 1);
  const t: Throughput = { unitsPerSec: (withHalo * 2) / dt, measuredAt: Date.now() };
  svc.repo.setArtifact(projectId, 'featureThroughput', t);
  return t;
}

export interface FeatureEstimate {
  nFeatures: number;
  voxels: number;
  /** whole-volume prediction: seconds of feature computation (one thread) */
  seconds: number;
  /** peak memory of one 64³ brick with its halo and feature rows, bytes */
  brickBytes: number;
  haloVox: Shape3;
}

export function estimateFeatures(set: FeatureSet, meta: { shape: Shape3; spacingUm: [number, number, number]; channels: string[] }, t: Throughput | undefined): FeatureEstimate {
  const nF = featuresPerChannel(set) * meta.channels.length;
  const voxels = meta.shape[0] * meta.shape[1] * meta.shape[2];
  const h = featureHalo(set, meta.spacingUm);
  const b = [64, 64, 64].map((n, a) => Math.min(n, meta.shape[a]!));
  const haloFactor = b.reduce((acc, n, a) => acc * ((n + 2 * h[a]!) / n), 1);
  const units = set.specs.reduce((a, s) => a + (COST[s.filter] ?? 2), 0) * meta.channels.length;
  const seconds = t ? (voxels * units * haloFactor) / t.unitsPerSec : NaN;
  const withHalo = b.reduce((acc, n, a) => acc * (n + 2 * h[a]!), 1);
  const brickBytes = b[0]! * b[1]! * b[2]! * nF * 4 + withHalo * 4 * 6;
  return { nFeatures: nF, voxels, seconds, brickBytes, haloVox: h };
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
}

const modelDir = (svc: Services, projectId: string) => path.join(svc.ws.projectDir(projectId), 'model');
export const predictionDir = (svc: Services, projectId: string) => path.join(svc.ws.projectDir(projectId), 'prediction');
export const predictionRel = (svc: Services, projectId: string, what: 'labels' | 'probabilities' | 'uncertainty') =>
  svc.ws.rel(path.join(predictionDir(svc, projectId), `${what}.ome.zarr`));

const g = globalThis as unknown as { __petromapModels?: Map<string, { createdAt: number; tm: TrainedModel }> };
const models = (g.__petromapModels ??= new Map());

/** The trained model of a project (memory, else disk), or undefined. */
export async function projectModel(svc: Services, projectId: string): Promise<{ tm: TrainedModel; summary: ModelSummary } | undefined> {
  const summary = svc.repo.artifact<ModelSummary>(projectId, 'model');
  if (!summary) return undefined;
  const cached = models.get(projectId);
  if (cached && cached.createdAt === summary.createdAt) return { tm: cached.tm, summary };
  const dir = modelDir(svc, projectId);
  if (!existsSync(dir)) return undefined;
  const tm = await loadModel(dir);
  models.set(projectId, { createdAt: summary.createdAt, tm });
  return { tm, summary };
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
  counts: { code: number; name: string; voxels: number }[];
  edsName: string;
}

/**
 * Rock layers below the surface that take the EDS label of the pixel above them. Grains are many
 * voxels deep, so 2 layers double the training voxels at little cost in label noise (on the
 * synthetic sandstone: 3D mean IoU 0.33 vs 0.31 with 1 layer).
 */
export const LABEL_LAYERS = 2;

/** EDS labels of the accepted registration, mapped to classes and moved onto the first rock layer. */
export async function trainingLabels(svc: Services, projectId: string, layers = LABEL_LAYERS): Promise<TrainingLabels> {
  const rec = acceptedRegistration(svc, projectId);
  const store = await volumeStore(svc, rec.volumeId);
  const map = await mineralMap(svc, rec.edsId);
  const slab = await readSlab(svc, projectId);
  const [, ny, nx] = store.meta.shape;
  const geom = slab && slab.volumeId === rec.volumeId ? { width: slab.width, height: slab.height, data: slab.data } : { width: nx, height: ny };
  const cm: ClassMap = {};
  for (const e of projectClassMap(svc, projectId, map.legend)) cm[e.phaseId] = e.classCode;
  const surfaceLabels = transferLabels(map, { edsToSlab: rec.edsToSlab, slabToVoxel: rec.slabToVoxel }, geom, cm, { erodeRadius: 1 });
  const voxels = surfaceLabelVoxels(surfaceLabels, store.meta.shape, { depthVox: 1, layers });
  const classes = projectClasses(svc, projectId);
  const n = new Map<number, number>();
  for (const v of voxels) n.set(v.cls, (n.get(v.cls) ?? 0) + 1);
  const counts = classes.map((c) => ({ code: c.code, name: c.name, voxels: n.get(c.code) ?? 0 }));
  const d = svc.repo.dataset(rec.edsId);
  return { rec, surfaceLabels, voxels, counts, edsName: d?.name ?? rec.edsId };
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

export function startTrain(svc: Services, projectId: string, params: TrainParams = {}) {
  acceptedRegistration(svc, projectId); // refuse at once, not inside the job
  const epochs = params.epochs ?? 40;
  const job = svc.jobs.start('train', projectId, params, async ({ signal, onProgress, jobId }) => {
    const t0 = Date.now();
    onProgress(0, 'Transferring the EDS labels to the surface voxels');
    const tl = await trainingLabels(svc, projectId);
    if (!tl.voxels.length) throw unprocessable(`No surface voxels received a label from ${tl.edsName}: check the registration and that some minerals map to classes.`);
    const store = await volumeStore(svc, tl.rec.volumeId);
    const set = projectFeatureSet(svc, projectId, store.meta.spacingUm);
    const classes = projectClasses(svc, projectId);
    const ts = await buildTrainingSet(store, tl.voxels, {
      features: (s, box, sig) => featuresForBox(s, box, set, { signal: sig }),
      featureSet: set,
      mirrorSurface: mirrorPlane(tl.rec),
      maxPerClass: params.maxPerClass ?? 10000,
      source: `The EDS map ${tl.edsName}`,
      signal,
      onProgress: (f, m) => onProgress(0.02 + 0.48 * f, `Features of the labelled voxels: ${m ?? ''}`),
    });
    throwIfAborted(signal);
    const live: LiveHistory = { jobId, epochs: [], maxEpochs: epochs };
    svc.repo.setArtifact(projectId, 'trainHistory', live);
    const tm = await trainClassifier(ts, {
      hidden: params.hidden ?? [64, 64], classWeights: softBalance(ts.train.y, ts.classes, 0.5),
      epochs,
      signal,
      onEpoch: (e) => {
        live.epochs.push(e);
        svc.repo.setArtifact(projectId, 'trainHistory', live);
      },
      onProgress: (f, m) => onProgress(0.5 + 0.45 * f, m),
    });
    onProgress(0.96, 'Validating on held-out surface tiles');
    const validation = await validate(tm, ts.heldOut);
    const createdAt = Date.now();
    // atomic: saveModel writes under a temp name and renames
    await saveModel(modelDir(svc, projectId), tm, { classNames: tm.classes.map((c) => classNameOf(classes, c)) });
    const prev = models.get(projectId);
    if (prev && prev.tm !== tm) prev.tm.model.dispose();
    models.set(projectId, { createdAt, tm });
    const summary: ModelSummary = {
      createdAt, jobId,
      features: ts.featureNames,
      featureSet: set,
      classes: tm.classes,
      hidden: tm.hidden,
      bestEpoch: tm.bestEpoch,
      history: tm.history,
      validation,
      counts: ts.counts,
      labelledVoxels: tl.voxels.length,
      mirrorSurface: mirrorPlane(tl.rec),
      trainSeconds: (Date.now() - t0) / 1000,
    };
    svc.repo.setArtifact(projectId, 'model', summary);
    onProgress(1, `Trained: held-out accuracy ${(validation.accuracy * 100).toFixed(1)} %`);
    return {
      accuracy: validation.accuracy,
      meanIoU: validation.meanIoU,
      perClass: validation.perClass.map((m) => ({ class: classNameOf(classes, m.class), f1: m.f1 })),
    };
  });
  svc.repo.setArtifact(projectId, 'trainJob', job.id);
  return job;
}

// ---------------------------------------------------------------- prediction

/** Probabilities of one box (features with halo, mirrored above the surface, then the model). */
export async function predictBox(store: VolumeStore, tm: TrainedModel, box: Box3, opts: StageOptions = {}) {
  const set = tm.featureSet;
  if (!set) throw unprocessable('The trained model does not record its feature set; train it again.');
  const fstore = tm.mirrorSurface ? mirrorAboveSurface(store, tm.mirrorSurface) : store;
  const f: BrickFeatures = await featuresForBox(fstore, box, set, { signal: opts.signal });
  const n = box.shape[0] * box.shape[1] * box.shape[2];
  const p = await predictRows(tm, f.data, n);
  return { p, labels: argmaxClasses(p, tm.classes), n, K: tm.classes.length };
}

/** True where a voxel lies above the surface (air): labelled 0. */
function maskAir(labels: Uint8Array, box: Box3, surface: SurfacePlane | undefined) {
  if (!surface) return;
  const [sz, sy, sx] = box.shape;
  for (let z = 0; z < sz; z++) for (let y = 0; y < sy; y++) for (let x = 0; x < sx; x++) {
    const gz = box.start[0] + z, gy = box.start[1] + y, gx = box.start[2] + x;
    if (gz < surface.a * gx + surface.b * gy + surface.c - 0.5) labels[(z * sy + y) * sx + x] = 0;
  }
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
 * Where lib/classify/predict-node.ts lives on disk. The prediction runs in a child Node process
 * (tsx) so that its worker threads find their TypeScript entry next to it, whatever bundling the
 * web server went through, and so that a cancel can stop it at once.
 */
function predictModule(): string {
  const f = path.join(process.cwd(), 'lib', 'classify', 'predict-node.ts');
  if (!existsSync(f)) throw unprocessable(`The prediction engine (${f}) is missing: run the server from the petromap folder.`);
  return f;
}

function runPredictChild(storeAbs: string, modelAbs: string, outAbs: string, opts: StageOptions & { threads: number }): Promise<{ bricksDone: number; bricksSkipped: number; bricksTotal: number }> {
  const tsx = pathToFileURL(path.join(path.dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist/esm/api/index.mjs')).href;
  const mod = pathToFileURL(predictModule()).href;
  const code = `
    const { register } = await import(${JSON.stringify(tsx)});
    register();
    const { predictVolume } = await import(${JSON.stringify(mod)});
    const say = (m) => process.stdout.write(JSON.stringify(m) + String.fromCharCode(10));
    const ac = new AbortController();
    process.on('SIGTERM', () => ac.abort(new Error('cancelled')));
    try {
      const r = await predictVolume(${JSON.stringify(storeAbs)}, ${JSON.stringify(modelAbs)}, ${JSON.stringify(outAbs)}, {
        threads: ${opts.threads}, signal: ac.signal, onProgress: (f, message) => say({ type: 'progress', f, message }),
      });
      say({ type: 'done', r });
      process.exit(0);
    } catch (err) {
      say({ type: 'error', tag: err && err._tag, message: err && err.message ? err.message : String(err) });
      process.exit(1);
    }`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'pipe'] });
    let buf = '', err = '', result: unknown = null, failure: { tag?: string; message: string } | null = null;
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString('utf8');
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          const m = JSON.parse(line);
          if (m.type === 'progress') opts.onProgress?.(m.f, m.message);
          else if (m.type === 'done') result = m.r;
          else if (m.type === 'error') failure = m;
        } catch {
          /* not ours */
        }
      }
    });
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString('utf8')).slice(-4000)));
    const onAbort = () => child.kill('SIGTERM');
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (e) => reject(unprocessable(`The prediction process could not start: ${e.message}`)));
    child.on('exit', (codeN) => {
      opts.signal?.removeEventListener('abort', onAbort);
      if (opts.signal?.aborted) return reject(new PetromapError('Aborted', 'The prediction was cancelled; finished bricks are kept and Predict continues from there.'));
      if (codeN === 0 && result) return resolve(result as { bricksDone: number; bricksSkipped: number; bricksTotal: number });
      const f = failure as { tag?: string; message: string } | null;
      if (f) return reject(new PetromapError((f.tag as PetromapErrorTag) ?? 'Unprocessable', f.message));
      reject(unprocessable(`The prediction process stopped (exit code ${codeN}): ${err.trim().split('\n').slice(-3).join(' ')}`));
    });
  });
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
    const mdir = modelDir(svc, projectId);
    if (!existsSync(path.join(mdir, 'model.json'))) throw unprocessable('The trained model is not on disk any more: train it again.');
    const out = predictionDir(svc, projectId);
    const run = svc.repo.artifact<{ modelCreatedAt: number; volumeId: string }>(projectId, 'predictionRun');
    svc.repo.deleteArtifact(projectId, 'prediction');
    svc.repo.deleteArtifact(projectId, 'resultsStats');
    for (const w of ['labels', 'probabilities', 'uncertainty'] as const) forgetStore(predictionRel(svc, projectId, w));
    if (!run || run.modelCreatedAt !== summary.createdAt || run.volumeId !== volume.id) await rm(out, { recursive: true, force: true });
    svc.repo.setArtifact(projectId, 'predictionRun', { modelCreatedAt: summary.createdAt, volumeId: volume.id });
    await mkdir(out, { recursive: true });
    const r = await runPredictChild(svc.ws.abs(volume.relPath), mdir, out, { threads: opts.threads ?? 2, signal, onProgress: (f, m) => onProgress(f, m) });
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
  const pm = await projectModel(svc, projectId);
  if (!pm) throw unprocessable('There is no trained model yet: click Train first.');
  const { volume } = projectDatasets(svc, projectId);
  if (!volume) throw unprocessable('This project has no XRM volume.');
  const store = await volumeStore(svc, volume.id);
  const ls = store.levelShape(level);
  const [nz, ny, nx] = store.meta.shape;
  // index is in voxels of `level`: take the matching level-0 slice
  const f = axis === 'z' ? nz / ls[0] : axis === 'y' ? ny / ls[1] : nx / ls[2];
  const i0 = Math.min((axis === 'z' ? nz : axis === 'y' ? ny : nx) - 1, Math.max(0, Math.floor((index + 0.5) * f)));
  const box: Box3 = axis === 'z' ? { start: [i0, 0, 0], shape: [1, ny, nx] } : axis === 'y' ? { start: [0, i0, 0], shape: [nz, 1, nx] } : { start: [0, 0, i0], shape: [nz, ny, 1] };
  const r = await predictBox(store, pm.tm, box);
  maskAir(r.labels, box, pm.tm.mirrorSurface);
  const width = axis === 'x' ? ny : nx, height = axis === 'z' ? ny : nz;
  const colors = new Map(projectClasses(svc, projectId).map((c) => [c.code, c.color]));
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    const c = colors.get(r.labels[i]);
    if (!c) continue;
    rgba[i * 4] = c[0];
    rgba[i * 4 + 1] = c[1];
    rgba[i * 4 + 2] = c[2];
    rgba[i * 4 + 3] = 255;
  }
  return encode({ width, height, data: rgba, channels: 4, depth: 8 });
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
    const t = await throughput(svc, projectId, store).catch(() => undefined);
    estimate = estimateFeatures(set, store.meta, t);
  }
  const rec = svc.repo.artifact<RegistrationRecord>(projectId, 'registration');
  const accepted = !!(rec?.accepted && volume && eds && rec.volumeId === volume.id && rec.edsId === eds.id);
  let labelCounts: { code: number; name: string; voxels: number }[] = [];
  if (accepted) labelCounts = await cachedLabelCounts(svc, projectId, rec!);
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
    scalesUm: defaultScalesUm(spacing),
    estimate,
    model: summary
      ? { createdAt: new Date(summary.createdAt), features: summary.features, classes: summary.classes, hidden: summary.hidden, bestEpoch: summary.bestEpoch, history: summary.history, validation: summary.validation, counts: summary.counts, trainSeconds: summary.trainSeconds }
      : null,
    liveHistory: svc.repo.artifact<LiveHistory>(projectId, 'trainHistory') ?? null,
    labelCounts,
    trainJob: job('trainJob'),
    predictJob: job('predictJob'),
    prediction: pred ? { createdAt: new Date(pred.createdAt), upToDate: !!summary && pred.modelCreatedAt === summary.createdAt, seconds: pred.seconds } : null,
  };
}

async function cachedLabelCounts(svc: Services, projectId: string, rec: RegistrationRecord) {
  const classMap = svc.repo.artifact<unknown>(projectId, 'classMap') ?? null;
  const key = JSON.stringify([rec.createdAt, classMap]);
  const c = svc.repo.artifact<{ key: string; counts: { code: number; name: string; voxels: number }[] }>(projectId, 'labelCounts');
  if (c && c.key === key) return c.counts;
  const tl = await trainingLabels(svc, projectId);
  svc.repo.setArtifact(projectId, 'labelCounts', { key, counts: tl.counts });
  return tl.counts;
}
