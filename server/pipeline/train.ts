/**
 * The Train step as jobs: project state -> arguments of the one training stage
 * (lib/pipeline/train-from-labels, the same as `petromap train` / `petromap run`) -> a task on the
 * one compute host (server/jobs/run-task.ts) -> the model row. Whole-volume prediction
 * (lib/classify/predict-node) and the preview of one slice (lib/classify/predict-slice-node, the
 * same brick path) go the same way. The page's state query: train-state.ts.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { encode } from 'fast-png';
import { invalidInput, throwIfAborted, unprocessable } from '@/lib/errors';
import { checkFeatureSpecs } from '@/lib/features/choices';
import { CLASSIFIER_FEATURE_VERSION } from '@/lib/classify/feature-sets';
import type { FeatureSet, FeatureSpec } from '@/lib/features/types';
import type { EpochInfo } from '@/lib/classify/model';
import { checkTrainedOn, trainedOnRecord } from '@/lib/classify/trained-on';
import { runTask } from '../jobs/run-task';
import type { Services } from '../services';
import { storeAt, volumeStore, forgetStore } from '../storage/open-stores';
import { projectClasses, projectDatasets, type ClassDef } from './project-inputs';
import { cancelResultsStats, scheduleResultsStats } from './results-stats';
import {
  PREDICT_THREADS, acceptedBottomRegistration, acceptedRegistration, edsLabelArgs, mirrorPlane, modelDir, newModelDir, predictionDir, predictionRel, projectFeatureSet, projectModel, pruneModels,
  type LiveHistory, type ModelSummary, type PredictionRecord, type TrainParams,
} from './train-model';

export {
  PREDICT_THREADS, acceptedRegistration, mirrorPlane, predictionDir, predictionRel, projectFeatureSet, projectModel,
  type LiveHistory, type ModelSummary, type PredictionRecord, type TrainParams,
} from './train-model';
export { trainState } from './train-state';

export function setProjectFeatureSet(svc: Services, projectId: string, specs: FeatureSpec[]): FeatureSet {
  // a set chosen now is computed with the current feature definition (version 2: 0.52x the CPU of 1)
  const set: FeatureSet = { specs: checkFeatureSpecs(specs), preset: 'custom', version: CLASSIFIER_FEATURE_VERSION };
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

const className = (classes: ClassDef[], code: number) => classes.find((c) => c.code === code)?.name ?? `class ${code}`;

/**
 * Train on the accepted registration's surface labels, and on the bottom face's too when its map's
 * registration is accepted (issue 15 §1: lib trainFromLabels with both maps; each face its own
 * held-out tiles): lib trainFromLabels (kind 'eds') in the compute host, epochs streamed into the 'trainHistory' row for the live curves, the model in its
 * own folder (model-<jobId>), then the 'model' row switches over and older folders go.
 */
export function startTrain(svc: Services, projectId: string, params: TrainParams = {}) {
  acceptedRegistration(svc, projectId); // refuse at once, not inside the job
  const job = svc.jobs.start('train', projectId, params, async ({ signal, onProgress, jobId }) => {
    const t0 = Date.now();
    const rec = acceptedRegistration(svc, projectId);
    const labels = await edsLabelArgs(svc, projectId, rec);
    const bottomRec = acceptedBottomRegistration(svc, projectId);
    const bottom = bottomRec ? await edsLabelArgs(svc, projectId, bottomRec, 'bottom') : undefined;
    const store = await volumeStore(svc, rec.volumeId);
    const set = projectFeatureSet(svc, projectId, store.meta.spacingUm);
    const classes = projectClasses(svc, projectId);
    const live: LiveHistory = { jobId, epochs: [], maxEpochs: params.epochs ?? null };
    svc.repo.setArtifact(projectId, 'trainHistory', live);
    const dir = newModelDir(svc, projectId, jobId);
    const { edsName, ...args } = labels;
    const more = bottom ? [(({ edsName: _n, ...b }) => b)(bottom)] : undefined;
    let r: Awaited<ReturnType<typeof runTask<'trainFromLabels'>>>;
    try {
      r = await runTask('trainFromLabels', {
        ...args, modelDir: dir, featureSet: set, hidden: params.hidden, epochs: params.epochs, maxPerClass: params.maxPerClass, seed: params.seed,
        classNames: Object.fromEntries(classes.map((c) => [c.code, c.name])), source: `The EDS map ${edsName}`, ...(more ? { more } : {}),
        volumeName: svc.repo.dataset(rec.volumeId)?.name,
      }, {
        signal,
        onProgress,
        onEvent: (e) => {
          const ep = (e as { epoch?: EpochInfo }).epoch;
          if (!ep) return;
          live.epochs.push(ep);
          svc.repo.setArtifact(projectId, 'trainHistory', live);
        },
      });
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
    // cancelled (the project is being deleted) or deleted meanwhile: write nothing more
    if (signal.aborted || !svc.repo.project(projectId)) {
      await rm(dir, { recursive: true, force: true });
      throwIfAborted(signal);
      throw unprocessable('The project was deleted while the model was training; nothing was stored.');
    }
    const summary: ModelSummary = {
      createdAt: Date.now(), jobId, modelRel: svc.ws.rel(dir),
      features: r.features, featureSet: r.featureSet, classes: r.classes, hidden: r.hidden, bestEpoch: r.bestEpoch, history: r.history,
      validation: r.validation, counts: r.counts, labelledVoxels: r.labelledVoxels, mirrorSurface: mirrorPlane(rec), trainSeconds: (Date.now() - t0) / 1000, quality: r.quality,
      ...(bottom ? { faces: ['top', 'bottom'] as ('top' | 'bottom')[] } : {}),
      // the volume it learnt (its record in the model folder too): predict refuses another geometry, the pages name it
      trainedOn: trainedOnRecord(store.meta, svc.repo.dataset(rec.volumeId)?.name ?? rec.volumeId, r.featureSet, rec.volumeId),
    };
    svc.repo.setArtifact(projectId, 'model', summary);
    await pruneModels(svc, projectId, dir);
    onProgress(1, `Trained: held-out accuracy ${(r.validation.accuracy * 100).toFixed(1)} %`);
    return {
      accuracy: r.validation.accuracy,
      meanIoU: r.validation.meanIoU,
      perClass: r.validation.perClass.map((m) => ({ class: className(classes, m.class), f1: m.f1 })),
    };
  });
  svc.repo.setArtifact(projectId, 'trainJob', job.id);
  return job;
}

/**
 * Whole-volume prediction with lib/classify's predictVolume (worker threads, resumable brick by
 * brick) into projects/<id>/prediction/{labels,probabilities,uncertainty}.ome.zarr. Predicting
 * again with the same model continues an interrupted run; a new model starts afresh.
 */
export function startPredict(svc: Services, projectId: string, opts: { threads?: number } = {}) {
  const summary = svc.repo.artifact(projectId, 'model');
  if (!summary) throw unprocessable('There is no trained model yet: train one on this step first.');
  const { volume } = projectDatasets(svc, projectId);
  if (!volume) throw unprocessable('This project has no XRM volume.');
  const job = svc.jobs.start('predict', projectId, { modelCreatedAt: summary.createdAt }, async ({ signal, onProgress, jobId }) => {
    const t0 = Date.now();
    const mdir = modelDir(svc, projectId, summary);
    if (!existsSync(path.join(/*turbopackIgnore: true*/ mdir, 'model.json'))) throw unprocessable('The trained model is not on disk any more: train it again.');
    // a model of another geometry is refused before the prediction in place is given up (predictVolume checks its folder's record
    // again), with the model's own mirror as predictVolume takes it (its folder's): one trained without it is not refused for another shape
    const mirror = await readFile(path.join(/*turbopackIgnore: true*/ mdir, 'model.json'), 'utf8').then((s) => (JSON.parse(s) as { mirrorSurface?: unknown }).mirrorSurface).catch(() => summary.mirrorSurface);
    checkTrainedOn(summary.trainedOn, (await volumeStore(svc, volume.id)).meta, { targetName: volume.name, featureSet: summary.featureSet, mirrors: mirror != null });
    const out = predictionDir(svc, projectId);
    const run = svc.repo.artifact(projectId, 'predictionRun');
    svc.repo.deleteArtifact(projectId, 'prediction');
    cancelResultsStats(svc, projectId);
    svc.repo.deleteArtifact(projectId, 'resultsStats');
    for (const w of ['labels', 'probabilities', 'uncertainty'] as const) forgetStore(predictionRel(svc, projectId, w));
    if (!run || run.modelCreatedAt !== summary.createdAt || run.volumeId !== volume.id) await rm(out, { recursive: true, force: true });
    svc.repo.setArtifact(projectId, 'predictionRun', { modelCreatedAt: summary.createdAt, volumeId: volume.id });
    await mkdir(out, { recursive: true });
    const r = await runTask('predictVolume', { storePath: svc.ws.abs(volume.relPath), modelDir: mdir, outDir: out, threads: opts.threads ?? PREDICT_THREADS, volumeName: volume.name }, { signal, onProgress });
    for (const w of ['labels', 'probabilities', 'uncertainty'] as const) forgetStore(predictionRel(svc, projectId, w));
    const store = await volumeStore(svc, volume.id);
    const rec: PredictionRecord = { createdAt: Date.now(), modelCreatedAt: summary.createdAt, jobId, classes: summary.classes, seconds: (Date.now() - t0) / 1000, shape: store.meta.shape };
    svc.repo.setArtifact(projectId, 'prediction', rec);
    // the Results page's statistics are a job of their own, queued behind the prediction
    scheduleResultsStats(svc, projectId);
    onProgress(1, 'Prediction done');
    return { seconds: rec.seconds, bricksDone: r.bricksDone, bricksSkipped: r.bricksSkipped };
  });
  svc.repo.setArtifact(projectId, 'predictJob', job.id);
  return job;
}

export async function predictionStores(svc: Services, projectId: string) {
  const rec = svc.repo.artifact(projectId, 'prediction');
  if (!rec || !existsSync(svc.ws.abs(predictionRel(svc, projectId, 'labels')))) return undefined;
  return {
    rec,
    labels: await storeAt(svc, predictionRel(svc, projectId, 'labels')),
    probabilities: () => storeAt(svc, predictionRel(svc, projectId, 'probabilities')),
    uncertainty: () => storeAt(svc, predictionRel(svc, projectId, 'uncertainty')),
  };
}

/**
 * The trained model applied to one slice (lib/classify predictSlice in the shared compute worker:
 * the whole-volume prediction's brick path at level 0), as an RGBA PNG in class colours (air
 * transparent). Columns/rows as the slice route: XY x/y, XZ x/z, YZ y/z.
 */
export async function previewPng(svc: Services, projectId: string, axis: 'z' | 'y' | 'x', index: number, level: number, signal?: AbortSignal): Promise<Uint8Array> {
  const pm = projectModel(svc, projectId);
  if (!pm) throw unprocessable('There is no trained model yet: click Train first.');
  const { volume } = projectDatasets(svc, projectId);
  if (!volume) throw unprocessable('This project has no XRM volume.');
  const r = await runTask('predictSlice', { storePath: svc.ws.abs(volume.relPath), modelDir: pm.dir, axis, index, level, volumeName: volume.name }, { shared: true, signal });
  const colors = new Map(projectClasses(svc, projectId).map((c) => [c.code, c.color]));
  const n = r.width * r.height;
  const rgba = new Uint8Array(n * 4);
  for (let i = 0; i < n; i++) {
    const c = colors.get(r.labels[i]!);
    if (!c) continue;
    rgba.set(c, i * 4);
    rgba[i * 4 + 3] = 255;
  }
  return encode({ width: r.width, height: r.height, data: rgba, channels: 4, depth: 8 });
}
