/**
 * Read access to the top part of a volume, whether it is held in memory (DenseVolume) or on disk
 * (VolumeStore). Registration only ever needs a slab of slices near the surface.
 */
import type { DenseVolume, Shape3 } from '../volume/types';
import type { VolumeStore } from '../volume/store';
import { throwIfAborted } from '../errors';

export type VolumeSource = DenseVolume | VolumeStore;

/** Slices [z0, z1) of a volume as float32, shape (z1 - z0, ny, nx). */
export interface ZRange {
  z0: number;
  data: Float32Array;
  shape: Shape3;
}

function isStore(src: VolumeSource): src is VolumeStore {
  return typeof (src as VolumeStore).readBlockF32 === 'function';
}

export async function readZRange(src: VolumeSource, z0: number, z1: number, signal?: AbortSignal): Promise<ZRange> {
  const [nz, ny, nx] = src.meta.shape;
  z0 = Math.max(0, Math.min(nz, Math.floor(z0)));
  z1 = Math.max(z0, Math.min(nz, Math.ceil(z1)));
  const shape: Shape3 = [z1 - z0, ny, nx];
  throwIfAborted(signal);
  if (isStore(src)) {
    const data = await src.readBlockF32({ start: [z0, 0, 0], shape }, { signal });
    return { z0, data, shape };
  }
  const plane = ny * nx;
  const data = Float32Array.from(src.data.subarray(z0 * plane, z1 * plane));
  return { z0, data, shape };
}
