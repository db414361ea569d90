/**
 * The record of the volume a model was trained on (`trainedOn` in the model folder's model.json
 * and in the server's model row): its name, dataset id, shape, voxel size and feature definition
 * version; and the check that refuses predicting a volume of another geometry with it. No TF.js
 * here (nor in the model file's format name): the server and `petromap info` read and compare
 * records without loading a model.
 */
import { invalidInput, PetromapError, type PetromapReason } from '../errors';
import type { FeatureSet } from '../features/types';
import type { Shape3, VolumeMeta } from '../volume/types';

/** model.json's `format` (model-io-node). */
export const MODEL_FORMAT = 'petromap-voxel-classifier';

/** The volume a model was trained on, as the model folder (and the server's model row) records it. */
export interface TrainedOn {
  /** the volume's name as the user knows it (the dataset's name, or the store folder's name) */
  volume: string;
  /** the server's dataset id of the volume, when trained in a project */
  volumeId?: string;
  /** the store's shape (z, y, x) in voxels */
  shape: Shape3;
  /** the store's voxel size (z, y, x) in µm */
  spacingUm: [number, number, number];
  /** the feature definition version the model computes (FeatureSet.version; 1 when absent) */
  featureVersion: number;
}

/**
 * A model file's `trainedOn` checked: undefined when absent (an older model), the record when it
 * is whole; a record that is there but not whole is refused (InvalidInput), not half trusted.
 */
export function readTrainedOn(raw: unknown, where: string): TrainedOn | undefined {
  if (raw === undefined || raw === null) return undefined;
  const r = raw as Partial<Record<keyof TrainedOn, unknown>>;
  const three = (v: unknown, ok: (n: number) => boolean) => Array.isArray(v) && v.length === 3 && v.every((n) => typeof n === 'number' && ok(n));
  const whole = typeof raw === 'object' && !Array.isArray(raw) && typeof r.volume === 'string' && r.volume.length <= 1000
    && (r.volumeId === undefined || (typeof r.volumeId === 'string' && r.volumeId.length <= 64))
    && three(r.shape, (n) => Number.isInteger(n) && n > 0) && three(r.spacingUm, (n) => Number.isFinite(n) && n > 0)
    && typeof r.featureVersion === 'number' && Number.isInteger(r.featureVersion) && r.featureVersion >= 1;
  if (!whole) throw invalidInput(`${where}: its record of the volume it was trained on ("trainedOn") is damaged; train the model again.`);
  return raw as TrainedOn;
}

/** The record of volume `meta` (named `volume`) for a model computing `featureSet`. */
export function trainedOnRecord(meta: Pick<VolumeMeta, 'shape' | 'spacingUm'>, volume: string, featureSet: FeatureSet | undefined, volumeId?: string): TrainedOn {
  return { volume, ...(volumeId ? { volumeId } : {}), shape: [...meta.shape], spacingUm: [...meta.spacingUm], featureVersion: featureSet?.version ?? 1 };
}

/** Voxel sizes differing by more than this (relative, on any axis) are another geometry. */
export const SPACING_TOLERANCE = 0.01;

const dims = (s: readonly number[]) => s.join(' × ');
const um = (s: readonly number[]) => `${s.map((v) => Number(v.toPrecision(7))).join(' × ')} µm`;

/**
 * Refuses (Conflict, in words) predicting volume `target` (its store's meta, named `targetName`)
 * with a model whose record says it was trained on another geometry: another voxel size (the
 * features' scales are in µm and the grey values' texture changes with it: the map would be wrong
 * without an error), another shape while the model mirrors the volume above its training volume's
 * surface (a plane in that volume's voxels), or a feature definition version other than the one
 * its feature set computes (the file was changed). A model without the record (saved before it
 * existed) is not refused: its training volume is unknown.
 */
export function checkTrainedOn(rec: TrainedOn | undefined, target: Pick<VolumeMeta, 'shape' | 'spacingUm'>, o: { targetName: string; featureSet?: FeatureSet; mirrors: boolean }): void {
  if (!rec) return;
  const on = `This classifier was trained on ${rec.volume} (${dims(rec.shape)} voxels of ${um(rec.spacingUm)})`;
  const version = o.featureSet?.version ?? 1;
  if (rec.featureVersion !== version) {
    throw new PetromapError('Conflict', `${on} with feature definition version ${rec.featureVersion}, but its feature set says version ${version}: the model file was changed after training. Train the model again.`);
  }
  const off = rec.spacingUm.some((v, a) => !(Math.abs(v - target.spacingUm[a]!) <= SPACING_TOLERANCE * Math.max(Math.abs(v), Math.abs(target.spacingUm[a]!))));
  if (off) {
    throw new PetromapError('Conflict', `${on}; ${o.targetName} has voxels of ${um(target.spacingUm)}. Its filters measure the grey values at the training voxel size, so the mineral map of this volume would be wrong: train a model on ${o.targetName} (or on a scan of the same voxel size).`);
  }
  if (o.mirrors && rec.shape.some((v, a) => v !== target.shape[a])) {
    throw new PetromapError('Conflict', `${on}; ${o.targetName} is ${dims(target.shape)} voxels. The model mirrors the volume above the polished surface it found in ${rec.volume}, a plane in that volume's voxels, not known to lie on ${o.targetName}'s surface: train a model on ${o.targetName}.`, { details: { reason: 'model-mirrors-other-shape' satisfies PetromapReason } });
  }
}
