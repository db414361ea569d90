/**
 * An in-memory VolumeStore (one pyramid level) with the same box/halo semantics as the on-disk
 * OME-Zarr store. Meant for tests and small volumes; data arrays are used directly (not copied).
 */
import { invalidInput, throwIfAborted } from '../errors';
import { checkBox, dtypeOfArray, extractBox, gatherHalo, insertBox, normaliseHalo, planHalo, toFloat32 } from './reflect';
import type { ReadBlockOptions, VolumeStore } from './store';
import { voxelCount, type AnyVoxelArray, type Box3, type DenseVolume, type Shape3, type VolumeMeta } from './types';

export function memoryVolumeStore(src: DenseVolume | { meta: VolumeMeta; channels: AnyVoxelArray[] }, path = 'memory'): VolumeStore {
  const meta = src.meta;
  const channels = 'channels' in src ? src.channels : [src.data];
  const n = voxelCount(meta.shape);
  if (channels.length < 1) throw invalidInput(`In-memory volume "${path}": at least one channel is needed.`);
  channels.forEach((c, i) => {
    if (c.length !== n) {
      throw invalidInput(
        `In-memory volume "${path}": channel ${i} has ${c.length} voxels but the shape (${meta.shape.join(' x ')}) needs ${n}.`,
      );
    }
    if (dtypeOfArray(c) !== meta.dtype) {
      throw invalidInput(`In-memory volume "${path}": channel ${i} holds ${dtypeOfArray(c)} values but the volume is ${meta.dtype}.`);
    }
  });
  const fullMeta: VolumeMeta = {
    ...meta,
    channels: meta.channels.length === channels.length ? meta.channels : channels.map((_, i) => meta.channels[i] ?? `channel ${i}`),
  };

  function channelData(opts: { channel?: number; level?: number } | undefined, what: string): AnyVoxelArray {
    const level = opts?.level ?? 0;
    if (level !== 0) throw invalidInput(`${what} "${path}": only level 0 exists in an in-memory volume (asked for level ${level}).`);
    const c = opts?.channel ?? 0;
    const data = channels[c];
    if (!data) throw invalidInput(`${what} "${path}": there is no channel ${c} (the volume has ${channels.length}).`);
    return data;
  }

  const store: VolumeStore = {
    path,
    meta: fullMeta,
    levels: 1,
    levelShape(level: number): Shape3 {
      if (level !== 0) throw invalidInput(`Volume "${path}" has only level 0 (asked for level ${level}).`);
      return [...meta.shape];
    },
    async readBlock(box: Box3, opts?: ReadBlockOptions): Promise<AnyVoxelArray> {
      throwIfAborted(opts?.signal);
      const data = channelData(opts, 'Reading volume');
      checkBox(box, meta.shape, `Reading volume "${path}"`);
      const plan = planHalo(box, normaliseHalo(opts?.halo), meta.shape);
      const inner = extractBox(data, meta.shape, plan.inner, meta.dtype);
      return gatherHalo(plan, inner, meta.dtype);
    },
    async readBlockF32(box: Box3, opts?: ReadBlockOptions): Promise<Float32Array> {
      return toFloat32(await store.readBlock(box, opts));
    },
    async writeBlock(box: Box3, data: AnyVoxelArray, opts?: { channel?: number; level?: number }): Promise<void> {
      const dst = channelData(opts, 'Writing volume');
      checkBox(box, meta.shape, `Writing volume "${path}"`);
      if (data.length !== voxelCount(box.shape)) {
        throw invalidInput(`Writing volume "${path}": the block has ${data.length} values but its size (${box.shape.join(' x ')}) needs ${voxelCount(box.shape)}.`);
      }
      if (dtypeOfArray(data) !== meta.dtype) {
        throw invalidInput(`Writing volume "${path}": the block holds ${dtypeOfArray(data)} values but the volume stores ${meta.dtype}.`);
      }
      insertBox(dst, meta.shape, box, data);
    },
  };
  return store;
}
