/** Writing a whole in-memory volume to a new store (demo, tests). */
import { invalidInput, throwIfAborted, type StageOptions } from '../../errors';
import { voxelCount, type AnyVoxelArray, type DenseVolume, type VolumeMeta } from '../types';
import { buildPyramid } from './build-pyramid-node';
import { createVolume } from './create-volume-node';
import { PyramidSlabWriter } from './pyramid-slab-writer';
import type { CreateVolumeOptions } from './store-attrs';
import type { ZarrVolumeStore } from './zarr-volume-store-node';

/** Write an in-memory volume to a new store and build its pyramid (demo, tests). */
export async function writeDenseVolume(
  path: string,
  dense: DenseVolume | { meta: VolumeMeta; channels: AnyVoxelArray[] },
  opts: CreateVolumeOptions & StageOptions = {},
): Promise<ZarrVolumeStore> {
  const channels = 'channels' in dense ? dense.channels : [dense.data];
  const meta: VolumeMeta = { ...dense.meta, channels: dense.meta.channels.length === channels.length ? dense.meta.channels : channels.map((_, i) => `channel ${i}`) };
  const n = voxelCount(meta.shape);
  channels.forEach((c, i) => {
    if (c.length !== n) throw invalidInput(`Volume "${path}": channel ${i} has ${c.length} voxels but the shape (${meta.shape.join(' x ')}) needs ${n}.`);
  });
  const store = await createVolume(path, meta, opts);
  const [nz, ny, nx] = meta.shape;
  const slab = store.chunk[0];
  const streaming = PyramidSlabWriter.supports(store);
  const steps = channels.length * Math.ceil(nz / slab);
  let step = 0;
  for (let c = 0; c < channels.length; c++) {
    const writer = streaming ? new PyramidSlabWriter(store, c) : null;
    for (let z = 0; z < nz; z += slab) {
      throwIfAborted(opts.signal);
      const dz = Math.min(slab, nz - z);
      const data = channels[c]!.subarray(z * ny * nx, (z + dz) * ny * nx);
      if (writer) await writer.push(z, dz, data);
      else await store.writeBlock({ start: [z, 0, 0], shape: [dz, ny, nx] }, data, { channel: c });
      opts.onProgress?.((streaming ? 1 : 0.5) * (++step / steps), 'writing the volume');
    }
    await writer?.finish();
  }
  if (!streaming) await buildPyramid(store, { signal: opts.signal, onProgress: (f, m) => opts.onProgress?.(0.5 + 0.5 * f, m) });
  // every chunk of every level is written: a chunk file missing later is damage, not zeros
  await store.updateAttrs({ complete: true });
  opts.onProgress?.(1, 'volume written');
  return store;
}
