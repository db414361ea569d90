/**
 * Rows and files of a project on one volume, for the volume-switch tests (use-volume,
 * switch-volume-safety, switch-volume-open): a small volume, an EDS map row, a registration, a model
 * summary, and a file written in the project folder.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Affine2to3 } from '@/lib/coords';
import type { RegistrationRecord } from '@/server/pipeline/correlate';
import type { VolumeMeta } from '@/lib/volume/types';
import { newId } from '@/server/db/repo';
import type { ModelSummary } from '@/server/pipeline/train-model';
import type { Services } from '@/server/services';
import { addVolumeDataset } from './temp-workspace';

const SMALL: VolumeMeta = { shape: [8, 16, 16], spacingUm: [2, 2, 2], originUm: [0, 0, 0], dtype: 'uint8', channels: ['grey'] };

/** A uniform 8 x 16 x 16 volume of 2 µm voxels named `name` in the project; its dataset id. */
export const addSmallVolume = async (svc: Services, projectId: string, name: string) =>
  (await addVolumeDataset(svc, projectId, { meta: SMALL, data: new Uint8Array(8 * 16 * 16).fill(90) }, { name, chunk: [8, 16, 16] })).id;

/** A ready EDS map row named `name` (no files: a switch moves rows and folders, not a map's contents); its id. */
export function addMapRow(svc: Services, projectId: string, name: string) {
  const id = newId('d');
  svc.repo.insertDataset({ id, projectId, name, kind: 'eds', status: 'ready', relPath: svc.ws.rel(svc.ws.datasetDir(id)), info: null });
  return id;
}

/** An accepted registration of map `edsId` on volume `volumeId`, with `landmarks` pairs. */
export function registrationRecord(volumeId: string, edsId: string, opts: { createdAt: number; landmarks?: number }): RegistrationRecord {
  const surface = { a: 0, b: 0, c: 2, tiltDeg: 0, azimuthDeg: 0, residualRms: 0.1, inlierFraction: 1, threshold: 0.5 };
  return {
    volumeId, edsId, edsToSlab: [1, 0, 0, 0, 1, 0], edsToVoxel: [2, 0, 0, 0, 1, 0, 1, 0, 0] as Affine2to3, slabToVoxel: [0, 0, 2, 0, 1, 0, 1, 0, 0], surface,
    quality: { miBefore: 0.5, miAfter: 0.5, scoreAfter: 0.6, coverage: 1, initialisation: 'automatic', refinedBy: 'ratio' },
    landmarks: Array.from({ length: opts.landmarks ?? 0 }, (_, i) => ({ eds: [i, i] as [number, number], slab: [i, i + 1] as [number, number] })),
    source: 'auto', accepted: true, createdAt: opts.createdAt, overlay: { id: 1, width: 4, height: 4 },
  };
}

/** The summary of a model trained by job `jobId` (its folder: projects/<id>/model-<jobId>). */
export function modelSummary(projectId: string, jobId: string): ModelSummary {
  const validation = { classes: [1, 2], confusion: [[3, 1], [0, 4]], perClass: [], accuracy: 0.875, meanIoU: 0.7 };
  return {
    createdAt: Date.UTC(2026, 11, 7, 14, 5), jobId, features: ['intensity'], featureSet: { specs: [{ filter: 'intensity', sigmaUm: 0 }] }, classes: [1, 2], hidden: [8],
    bestEpoch: 2, history: [{ epoch: 0, loss: 1, valLoss: 1, valAccuracy: 0.5 }], validation, counts: [], labelledVoxels: 8, mirrorSurface: { a: 0, b: 0, c: 2 },
    trainSeconds: 3, modelRel: path.join('projects', projectId, `model-${jobId}`),
  };
}

/** Writes `text` at `rel` in the project's folder (folders made as needed); returns the file's path. */
export function putProjectFile(svc: Services, projectId: string, rel: string, text: string): string {
  const f = path.join(svc.ws.projectDir(projectId), rel);
  mkdirSync(path.dirname(f), { recursive: true });
  writeFileSync(f, text);
  return f;
}
