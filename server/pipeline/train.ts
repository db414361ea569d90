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
import { invalidInput, isPetromapError, PetromapError, throwIfAborted, unprocessable } from '@/lib/errors';
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
 * A failed step's error as the job row keeps it: the stores' absolute paths named by what the user
 * calls them (`named`: path -> name) and any other workspace path made workspace-relative (the row
 * and the Jobs page show no folder of the machine). Errors not thrown by petromap pass unchanged.
 */
function inWords(svc: Services, err: unknown, named: [string, string][]): unknown {
  if (!isPetromapError(err)) return err;
  let msg = err.message;
  for (const [abs, name] of named) msg = msg.split(abs).join(`"${name}"`);
  msg = msg.split(svc.ws.root + path.sep).join('');
  return msg === err.message ? err : new PetromapError(err._tag, msg, { details: err.details, cause: err });
}

/** The dataset (one of `ids`) deleted while a job ran, in words; undefined while all are there. */
function deletedMeanwhile(svc: Services, ids: (string | undefined)[], names: Record<string, string>): string | undefined {
  const gone = ids.find((id) => id !== undefined && !svc.repo.dataset(id));
  return gone === undefined ? undefined : `"${names[gone] ?? gone}"`;
}

/**
 * Train on the accepted registration's surface labels, and on the bottom face's too when its map's
 * registration is accepted (issue 15 §1: lib trainFromLabels with both maps; each face its own
 * held-out tiles): lib trainFromLabels (kind 'eds') in the compute host, epochs streamed into the 'trainHistory' row for the live curves, the model in its
 * own folder (model-<jobId>), then the 'model' row switches over and older folders go.
 */
export function startTrain(svc: Services, projectId: string, params: TrainParams = {}) {
  const atClick = acceptedRegistration(svc, projectId); // refuse at once, not inside the job
  const bottomAtClick = acceptedBottomRegistration(svc, projectId);
  // the datasets it trains on, in its parameters: deleting one of them stops it (JobRunner.stopDataset)
  const used = { volumeId: atClick.volumeId, edsId: atClick.edsId, ...(bottomAtClick ? { bottomEdsId: bottomAtClick.edsId } : {}) };
  const job = svc.jobs.start('train', projectId, { ...params, ...used }, async ({ signal, onProgress, jobId }) => {
    const t0 = Date.now();
    const rec = acceptedRegistration(svc, projectId);
    const bottomRec = acceptedBottomRegistration(svc, projectId);
    // read now, not when Train was pressed: what it reads stops it when deleted, as its parameters do
    svc.jobs.uses(jobId, [rec.volumeId, rec.edsId, ...(bottomRec ? [bottomRec.edsId] : [])]);
    const names: Record<string, string> = {};
    const named: [string, string][] = [];
    for (const id of [rec.volumeId, rec.edsId, bottomRec?.edsId]) {
      const d = id ? svc.repo.dataset(id) : undefined;
      if (!id || !d) continue;
      names[id] = d.name;
      named.push([svc.ws.abs(d.relPath), d.name]);
    }
    const labels = await edsLabelArgs(svc, projectId, rec);
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
      throwIfAborted(signal);
      const gone = deletedMeanwhile(svc, [rec.volumeId, rec.edsId, bottomRec?.edsId], names);
      if (gone) throw unprocessable(`${gone} was deleted while the model was training; nothing was stored.`);
      throw inWords(svc, err, named);
    }
    // cancelled (the project or a dataset is being deleted) or deleted meanwhile: write nothing more
    const gone = deletedMeanwhile(svc, [rec.volumeId, rec.edsId, bottomRec?.edsId], names);
    if (signal.aborted || !svc.repo.project(projectId) || gone) {
      await rm(dir, { recursive: true, force: true });
      throwIfAborted(signal);
      throw unprocessable(`${gone ?? 'The project'} was deleted while the model was training; nothing was stored.`);
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
 *
 * The model is read when the job starts, not when Predict was pressed: a Train queued ahead of it
 * replaces the model (and removes the older one's files), and the prediction then uses the newer
 * one, the model the Train step shows, and says so in its finished message. The volume is the one
 * of the press (the job's parameters name it, so deleting it stops the job); if the project uses
 * another volume by the time the job starts, it is refused in words. Nothing is stored when the
 * volume was deleted while the prediction ran.
 */
export function startPredict(svc: Services, projectId: string, opts: { threads?: number } = {}) {
  const pressed = svc.repo.artifact(projectId, 'model');
  if (!pressed) throw unprocessable('There is no trained model yet: train one on this step first.');
  const { volume } = projectDatasets(svc, projectId);
  if (!volume) throw unprocessable('This project has no XRM volume.');
  const job = svc.jobs.start('predict', projectId, { modelCreatedAt: pressed.createdAt, volumeId: volume.id }, async ({ signal, onProgress, jobId }) => {
    const t0 = Date.now();
    const summary = svc.repo.artifact(projectId, 'model');
    if (!summary) throw unprocessable('The trained model was removed after Predict was pressed; nothing was predicted. Train a model again, then predict.');
    const now = projectDatasets(svc, projectId).volume;
    if (now?.id !== volume.id) {
      throw unprocessable(now
        ? `The project's XRM volume changed from "${volume.name}" to "${now.name}" after Predict was pressed; nothing was predicted. Press Predict again to predict "${now.name}".`
        : `The XRM volume "${volume.name}" was deleted after Predict was pressed; nothing was predicted.`);
    }
    const newer = summary.createdAt !== pressed.createdAt;
    const storePath = svc.ws.abs(volume.relPath);
    const mdir = modelDir(svc, projectId, summary);
    if (!existsSync(path.join(/*turbopackIgnore: true*/ mdir, 'model.json'))) throw unprocessable('The trained model is not on disk any more: train it again.');
    // a model of another geometry is refused before the prediction in place is given up (predictVolume checks its folder's record
    // again), with the model's own mirror as predictVolume takes it (its folder's): one trained without it is not refused for another shape
    const mirror = await readFile(path.join(/*turbopackIgnore: true*/ mdir, 'model.json'), 'utf8').then((s) => (JSON.parse(s) as { mirrorSurface?: unknown }).mirrorSurface).catch(() => summary.mirrorSurface);
    const meta = (await volumeStore(svc, volume.id)).meta;
    checkTrainedOn(summary.trainedOn, meta, { targetName: volume.name, featureSet: summary.featureSet, mirrors: mirror != null });
    const out = predictionDir(svc, projectId);
    const run = svc.repo.artifact(projectId, 'predictionRun');
    svc.repo.deleteArtifact(projectId, 'prediction');
    cancelResultsStats(svc, projectId);
    svc.repo.deleteArtifact(projectId, 'resultsStats');
    for (const w of ['labels', 'probabilities', 'uncertainty'] as const) forgetStore(predictionRel(svc, projectId, w));
    if (!run || run.modelCreatedAt !== summary.createdAt || run.volumeId !== volume.id) await rm(out, { recursive: true, force: true });
    svc.repo.setArtifact(projectId, 'predictionRun', { modelCreatedAt: summary.createdAt, volumeId: volume.id });
    await mkdir(out, { recursive: true });
    if (newer) onProgress(0, `Predicting with the model trained ${new Date(summary.createdAt).toISOString().slice(11, 16)} UTC, which replaced the one in use when Predict was pressed`);
    let r: Awaited<ReturnType<typeof runTask<'predictVolume'>>>;
    try {
      r = await runTask('predictVolume', { storePath, modelDir: mdir, outDir: out, threads: opts.threads ?? PREDICT_THREADS, volumeName: volume.name }, { signal, onProgress });
    } catch (err) {
      throwIfAborted(signal);
      if (!svc.repo.dataset(volume.id)) throw unprocessable(`The XRM volume "${volume.name}" was deleted while it was being predicted; nothing was stored.`);
      throw inWords(svc, err, [[storePath, volume.name]]);
    }
    for (const w of ['labels', 'probabilities', 'uncertainty'] as const) forgetStore(predictionRel(svc, projectId, w));
    // deleted while the prediction ran (a delete that outwaited its stop): its result is stored nowhere
    throwIfAborted(signal);
    if (!svc.repo.dataset(volume.id) || !svc.repo.project(projectId)) throw unprocessable(`The XRM volume "${volume.name}" was deleted while it was being predicted; nothing was stored.`);
    const rec: PredictionRecord = { createdAt: Date.now(), modelCreatedAt: summary.createdAt, jobId, classes: summary.classes, seconds: (Date.now() - t0) / 1000, shape: meta.shape };
    svc.repo.setArtifact(projectId, 'prediction', rec);
    // the Results page's statistics are a job of their own, queued behind the prediction
    scheduleResultsStats(svc, projectId);
    onProgress(1, 'Prediction done');
    const doneMessage = newer
      ? `Finished with the model trained ${new Date(summary.createdAt).toISOString().slice(0, 16).replace('T', ' ')} UTC (job ${summary.jobId}): a training that ended while this prediction waited replaced the model in use when Predict was pressed`
      : undefined;
    return { seconds: rec.seconds, bricksDone: r.bricksDone, bricksSkipped: r.bricksSkipped, modelCreatedAt: summary.createdAt, ...(doneMessage ? { doneMessage } : {}) };
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
