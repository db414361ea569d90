/**
 * The Results step's statistics (lib/report resultsStats: modal mineralogy, depth profile, grey
 * histograms per class, IoU vs a synthetic truth) and the coarse 3D-view label volume, computed
 * by a job ('results-stats', a worker-thread task) once per prediction and stored: the artifact
 * 'resultsStats' (JSON) and projects/<id>/results/labels-3d.nii. Requests only read them.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { PetromapError } from '@/lib/errors';
import type { ClassMap } from '@/lib/registration';
import { modalMineralogy, type ModalMineralogy, type ReportClass } from '@/lib/report/modal';
import { memoryVolumeStore } from '@/lib/volume/memory-store';
import type { ResultsStats } from '@/lib/report/results-stats';
import type { JobRecord } from '../db/repo';
import { runTask } from '../jobs/run-task';
import type { Services } from '../services';
import { mineralMap } from '../storage/open-stores';
import { projectClasses, projectClassMap, projectDatasets } from './project-inputs';
import { switchPending } from './switch-volume-pending';
import { acceptedBottomRegistration, predictionRel, type PredictionRecord } from './train-model';

export const STATS_KEY = 'resultsStats';
const STATS_JOB_KEY = 'resultsStatsJob';
/** bump when the stored statistics change shape: older ones are computed again */
const STATS_VERSION = 3;

export interface StoredResultsStats extends ResultsStats {
  version: number;
  predictionCreatedAt: number;
  /** workspace-relative NIfTI of the labels for the 3D view */
  overviewRel: string | null;
  /** the name of the map of the top face whose 2D shares are in `modal` (absent: no EDS map) */
  topEdsName?: string;
  /**
   * issue 15 §1: a model trained on both faces: the bottom face's map and its 2D EDS shares per
   * class (lib modalMineralogy's EDS part, the bottom face's class table; voxel counts are `modal`'s)
   */
  bottomEds?: { name: string; modal: ModalMineralogy };
}

export type StatsStatus =
  | { status: 'ready'; stats: StoredResultsStats }
  /** jobId null: not started while a volume switch of the project is being finished (it moves the files the job writes) */
  | { status: 'pending'; jobId: string | null; progress: number; message: string | null }
  | { status: 'failed'; jobId: string; error: string }
  | { status: 'none' };

export const overviewFile = (svc: Services, projectId: string) => path.join(/*turbopackIgnore: true*/ svc.ws.projectDir(projectId), 'results', 'labels-3d.nii');

/** The stored statistics if they belong to the project's current prediction. */
export function storedStats(svc: Services, projectId: string): StoredResultsStats | undefined {
  const pred = svc.repo.artifact(projectId, 'prediction');
  const st = svc.repo.artifact(projectId, STATS_KEY);
  return pred && st && st.version === STATS_VERSION && st.predictionCreatedAt === pred.createdAt ? st : undefined;
}

/** Absolute path of the stored 3D-view labels of the current prediction, if there. */
export function storedOverview(svc: Services, projectId: string): string | undefined {
  const st = storedStats(svc, projectId);
  const p = st?.overviewRel ? svc.ws.abs(st.overviewRel) : undefined;
  return p && existsSync(/*turbopackIgnore: true*/ p) ? p : undefined;
}

/** A new prediction replaces the current one: stop the statistics job that reads it (it would fail on the missing files). */
export function cancelResultsStats(svc: Services, projectId: string): void {
  const ref = svc.repo.artifact(projectId, STATS_JOB_KEY);
  if (ref && svc.jobs.isActive(ref.jobId)) svc.jobs.cancel(ref.jobId);
}

/**
 * Queue the statistics job for the project's current prediction (unless it is queued or running
 * already, or a volume switch is being finished; `force` also after a failure). Call when a prediction has been stored. Returns the
 * job, or undefined without a prediction or with up-to-date statistics.
 */
export function scheduleResultsStats(svc: Services, projectId: string, opts: { force?: boolean } = {}): JobRecord | undefined {
  const pred = svc.repo.artifact(projectId, 'prediction');
  // nor while a volume switch is being finished: it moves labels-3d.nii, which the job writes
  if (!pred || storedStats(svc, projectId) || switchPending(svc, projectId)) return undefined;
  const ref = svc.repo.artifact(projectId, STATS_JOB_KEY);
  if (ref && ref.predictionCreatedAt === pred.createdAt) {
    const j = svc.repo.job(ref.jobId);
    if (j && svc.jobs.isActive(j.id)) return j;
    if (j && j.state === 'failed' && !opts.force) return j;
  }
  // the datasets read are named in the parameters: deleting one cancels the job (JobRunner.stopDataset)
  const { volume, eds } = projectDatasets(svc, projectId);
  const bottomId = bottomFaceRegistration(svc, projectId)?.edsId;
  const params = { predictionCreatedAt: pred.createdAt, volumeId: volume?.id ?? null, edsId: eds?.id ?? null, ...(bottomId ? { bottomEdsId: bottomId } : {}) };
  const job = svc.jobs.start('results-stats', projectId, params, async ({ signal, onProgress }) => {
    const args = await taskArgs(svc, projectId, pred);
    const r = await runTask('resultsStats', args, { signal, onProgress });
    // a new prediction may have replaced this one meanwhile: keep nothing then
    if (svc.repo.artifact(projectId, 'prediction')?.createdAt !== pred.createdAt) return { discarded: true };
    const { overviewBytes, ...stats } = r;
    const bottomEds = await bottomFaceShares(svc, projectId, args.classes);
    const rec: StoredResultsStats = {
      ...stats, version: STATS_VERSION, predictionCreatedAt: pred.createdAt, overviewRel: overviewBytes === null ? null : svc.ws.rel(args.overviewPath!),
      ...(args.mapDir && eds ? { topEdsName: eds.name } : {}), ...(bottomEds ? { bottomEds } : {}),
    };
    svc.repo.setArtifact(projectId, STATS_KEY, rec);
    return { seconds: stats.seconds };
  });
  svc.repo.setArtifact(projectId, STATS_JOB_KEY, { jobId: job.id, predictionCreatedAt: pred.createdAt });
  return job;
}

/** The accepted bottom registration when the current model was trained on both faces (its 2D shares go beside the top's). */
function bottomFaceRegistration(svc: Services, projectId: string) {
  return svc.repo.artifact(projectId, 'model')?.faces?.includes('bottom') ? acceptedBottomRegistration(svc, projectId) : undefined;
}

/**
 * The bottom face's 2D EDS shares per class: lib's modal mineralogy of its map under the bottom
 * face's class table (projectClassMap by mineral name), on an empty one-voxel label volume, so
 * only the map is counted (a pass over the 2D map, no volume read).
 */
async function bottomFaceShares(svc: Services, projectId: string, classes: ReportClass[]): Promise<StoredResultsStats['bottomEds']> {
  const rec = bottomFaceRegistration(svc, projectId);
  const ds = rec && svc.repo.dataset(rec.edsId);
  if (!ds) return undefined;
  const map = await mineralMap(svc, ds.id);
  const classMap: ClassMap = {};
  for (const e of projectClassMap(svc, projectId, map.legend, 'bottom')) classMap[e.phaseId] = e.classCode;
  const none = memoryVolumeStore({ meta: { shape: [1, 1, 1], spacingUm: [1, 1, 1], originUm: [0, 0, 0], dtype: 'uint8', channels: ['labels'] }, data: new Uint8Array(1) });
  return { name: ds.name, modal: await modalMineralogy(none, classes, { map, classMap }) };
}

/** The job's arguments: absolute paths and plain data from the project's state. */
async function taskArgs(svc: Services, projectId: string, pred: PredictionRecord) {
  const { volume, eds } = projectDatasets(svc, projectId);
  if (!volume) throw new PetromapError('Unprocessable', 'This project has no XRM volume any more: its statistics cannot be computed.');
  const defs = projectClasses(svc, projectId);
  const classes: ReportClass[] = pred.classes.map((c) => ({ code: c, name: defs.find((d) => d.code === c)?.name ?? `class ${c}` }));
  const map = eds ? await mineralMap(svc, eds.id).catch(() => undefined) : undefined;
  const classMap: ClassMap = {};
  if (map) for (const e of projectClassMap(svc, projectId, map.legend)) classMap[e.phaseId] = e.classCode;
  const truth = path.join(/*turbopackIgnore: true*/ svc.ws.projectDir(projectId), 'truth-labels.ome.zarr');
  const surface = svc.repo.artifact(projectId, 'model')?.mirrorSurface ?? { a: 0, b: 0, c: 0 };
  return {
    labelsPath: svc.ws.abs(predictionRel(svc, projectId, 'labels')),
    scanPath: svc.ws.abs(volume.relPath),
    truthPath: existsSync(/*turbopackIgnore: true*/ truth) ? truth : undefined,
    mapDir: map && eds ? svc.ws.abs(eds.relPath) : undefined,
    classMap,
    classes,
    surface,
    overviewPath: overviewFile(svc, projectId),
  };
}

/**
 * Where the statistics of the current prediction are: ready (stored), pending (the job's
 * progress), failed, or none (no prediction). Starts the job when there is a prediction but
 * neither statistics nor a job for it (predictions made before the job existed, a server restart
 * that interrupted it).
 */
export function statsStatus(svc: Services, projectId: string): StatsStatus {
  const stats = storedStats(svc, projectId);
  if (stats) return { status: 'ready', stats };
  if (svc.repo.artifact(projectId, 'prediction') && switchPending(svc, projectId)) return { status: 'pending', jobId: null, progress: 0, message: 'Waiting for the change of volume to finish' };
  const job = scheduleResultsStats(svc, projectId);
  if (!job) return { status: 'none' };
  const j = svc.repo.job(job.id) ?? job;
  if (j.state === 'failed') return { status: 'failed', jobId: j.id, error: j.error ?? 'failed' };
  return { status: 'pending', jobId: j.id, progress: j.progress, message: j.message };
}
