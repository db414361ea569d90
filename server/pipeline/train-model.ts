/**
 * The Train step's project state: the feature set kept per project, the accepted registration as
 * the arguments of the training stage, the model folders (one per training job, the 'model' row
 * is the switch) and the prediction folder. No numerical code: see lib/pipeline/train-from-labels.
 */
import { existsSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { unprocessable } from '@/lib/errors';
import type { QualityEstimate } from '@/lib/classify/quality-estimate';
import type { SurfacePlane } from '@/lib/classify/mirror';
import type { TrainedOn } from '@/lib/classify/trained-on';
import type { EpochInfo } from '@/lib/classify/model';
import { DEFAULT_BANK, featureBank } from '@/lib/classify/feature-banks';
import type { FeatureSet } from '@/lib/features/types';
import type { Shape3 } from '@/lib/volume/types';
import type { EdsLabelArgs } from '../jobs/tasks';
import type { Services } from '../services';
import { mineralMap } from '../storage/open-stores';
import type { RegistrationRecord } from './correlate';
import { doubtfulUnchecked } from './registration-confidence';
import { projectClassMap, projectDatasets, type Face } from './project-inputs';
import type { TrainFromLabelsResult } from '@/lib/pipeline/train-from-labels';

/** Threads the server gives a whole-volume prediction (2 cores; the estimate uses the same). */
export const PREDICT_THREADS = 2;

export function projectFeatureSet(svc: Services, projectId: string, spacingUm: [number, number, number]): FeatureSet {
  const saved = svc.repo.artifact(projectId, 'featureSet');
  return saved?.specs?.length ? saved : featureBank(DEFAULT_BANK.eds, spacingUm);
}

/** What a training run returned (lib/pipeline trainFromLabels), as the project keeps it. */
export interface ModelSummary extends Pick<TrainFromLabelsResult, 'features' | 'featureSet' | 'classes' | 'hidden' | 'bestEpoch' | 'history' | 'validation' | 'counts' | 'labelledVoxels'> {
  createdAt: number;
  jobId: string;
  mirrorSurface: SurfacePlane;
  trainSeconds: number;
  /** workspace-relative folder of this model's files (projects/<id>/model-<jobId>); older rows: projects/<id>/model */
  modelRel?: string;
  /** the faces whose EDS maps it was trained on (issue 15 §1); absent on older rows (the top face) */
  faces?: ('top' | 'bottom')[];
  /** the truth-free 3D quality estimate (lib/classify/quality-estimate); absent on older rows */
  quality?: QualityEstimate | null;
  /** the volume it was trained on (as its model folder records it); absent on older rows: unknown */
  trainedOn?: TrainedOn;
}

/** Parameters the user set on the Train step; unset = the training stage's defaults. */
export interface TrainParams {
  hidden?: number[];
  epochs?: number;
  maxPerClass?: number;
  seed?: number;
}

export interface LiveHistory {
  jobId: string;
  epochs: EpochInfo[];
  /** the epochs asked for, null when the stage's default applies */
  maxEpochs: number | null;
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
 * The folder of the model that the project's 'model' row describes. Each training writes its own
 * folder (model-<jobId>) and then the row: the row is the switch, so files and row always agree,
 * and a model folder without a row (a run stopped in between) is garbage (pruneModels).
 */
export const modelDir = (svc: Services, projectId: string, summary = svc.repo.artifact(projectId, 'model')) =>
  summary?.modelRel ? svc.ws.abs(summary.modelRel) : path.join(/*turbopackIgnore: true*/ svc.ws.projectDir(projectId), 'model');

/** This job's own model folder: the current model stays as it is until the row switches over. */
export const newModelDir = (svc: Services, projectId: string, jobId: string) => path.join(/*turbopackIgnore: true*/ svc.ws.projectDir(projectId), `model-${jobId}`);

/** Remove the project's model folders other than `keep` (earlier models, runs stopped before their row). */
export async function pruneModels(svc: Services, projectId: string, keep: string) {
  const dir = svc.ws.projectDir(projectId);
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const n of names) {
    if ((n === 'model' || n.startsWith('model-')) && path.join(/*turbopackIgnore: true*/ dir, n) !== keep) await rm(path.join(/*turbopackIgnore: true*/ dir, n), { recursive: true, force: true });
  }
}

export const predictionDir = (svc: Services, projectId: string) => path.join(/*turbopackIgnore: true*/ svc.ws.projectDir(projectId), 'prediction');
export const predictionRel = (svc: Services, projectId: string, what: 'labels' | 'probabilities' | 'uncertainty') =>
  svc.ws.rel(path.join(/*turbopackIgnore: true*/ predictionDir(svc, projectId), `${what}.ome.zarr`));

/** The trained model's summary if its files are on disk. */
export function projectModel(svc: Services, projectId: string): { dir: string; summary: ModelSummary } | undefined {
  const summary = svc.repo.artifact(projectId, 'model');
  const dir = modelDir(svc, projectId, summary);
  if (!summary || !existsSync(path.join(/*turbopackIgnore: true*/ dir, 'model.json'))) return undefined;
  return { dir, summary };
}

export function acceptedRegistration(svc: Services, projectId: string): RegistrationRecord {
  const rec = svc.repo.artifact(projectId, 'registration');
  const { volume, eds } = projectDatasets(svc, projectId);
  if (!volume || !eds) throw unprocessable('This project needs an XRM volume and an EDS mineral map: add them on the Data step.');
  if (!rec || !rec.accepted) throw unprocessable('There is no accepted registration of the EDS map to the volume: accept a registration on the Correlate step first.');
  if (rec.volumeId !== volume.id || rec.edsId !== eds.id) {
    throw unprocessable('The accepted registration belongs to another volume or EDS map than the ones now chosen: accept a registration on the Correlate step first.');
  }
  // accepted before its confidence was checked (or stored so by hand): a doubtful one the user did not confirm is not trained on
  const doubt = doubtfulUnchecked(rec);
  if (doubt) throw unprocessable(`Training was not started. ${doubt}`);
  return rec;
}

/**
 * The accepted registration of the bottom face's EDS map (issue 15 §1), when there is one for the
 * project's volume and bottom map: Train then trains on both faces' labels. Undefined otherwise
 * (a project with one map trains as it always did).
 */
export function acceptedBottomRegistration(svc: Services, projectId: string): RegistrationRecord | undefined {
  const rec = svc.repo.artifact(projectId, 'bottomRegistration');
  const { volume, bottomEds } = projectDatasets(svc, projectId);
  return rec?.accepted && volume && bottomEds && rec.volumeId === volume.id && rec.edsId === bottomEds.id ? rec : undefined;
}

export function mirrorPlane(rec: RegistrationRecord): SurfacePlane {
  return { a: rec.surface.a, b: rec.surface.b, c: rec.surface.c };
}

/**
 * The accepted registration, the project's slab and mineral -> class table as plain task arguments
 * (server/jobs/tasks.ts). `face` bottom: the bottom map's registration, slab (slab-bottom) and its
 * minerals' classes (by name from the top map's choices: project-inputs projectClassMap).
 */
export async function edsLabelArgs(svc: Services, projectId: string, rec: RegistrationRecord, face: Face = 'top'): Promise<EdsLabelArgs & { edsName: string }> {
  const vol = svc.repo.dataset(rec.volumeId);
  const eds = svc.repo.dataset(rec.edsId);
  if (!vol || !eds) throw unprocessable('The volume or EDS map of the accepted registration is gone: accept a registration on the Correlate step again.');
  const map = await mineralMap(svc, rec.edsId);
  const classMap: Record<number, number | null> = {};
  for (const e of projectClassMap(svc, projectId, map.legend, face)) classMap[e.phaseId] = e.classCode;
  return {
    storePath: svc.ws.abs(vol.relPath),
    mapDir: svc.ws.abs(eds.relPath),
    slabDir: svc.ws.projectDir(projectId),
    volumeId: rec.volumeId,
    edsToSlab: rec.edsToSlab,
    fields: rec.fields,
    slabToVoxel: rec.slabToVoxel,
    surface: mirrorPlane(rec),
    classMap,
    mapName: eds.name,
    edsName: eds.name,
    ...(face === 'bottom' ? { face } : {}),
  };
}

/** What the cached label counts depend on: the registration and the mineral -> class table. */
export function labelCountsKey(svc: Services, projectId: string, rec: RegistrationRecord, bottom?: RegistrationRecord): string {
  const k: unknown[] = [rec.createdAt, rec.volumeId, rec.edsId, svc.repo.artifact(projectId, 'classMap') ?? null];
  // a project with one map keeps its key; an accepted bottom face adds its registration
  if (bottom) k.push(['bottom', bottom.createdAt, bottom.edsId]);
  return JSON.stringify(k);
}
