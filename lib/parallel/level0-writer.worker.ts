/**
 * Worker entry of the import's level-0 writer (level0-writer-node.ts): writes rows y0 … y1 − 1 (a
 * whole number of chunks) of a level-0 slab that lives in shared memory, into a store whose chunks
 * of those rows only this thread writes.
 */
import { openVolume, type ZarrVolumeStore } from '../volume/zarr-store-node';
import { allocate, typedArrayOf, type DType } from '../volume/types';
import { serveJobs } from './serve-node';

export interface Level0Job {
  path: string;
  dtype: DType;
  /** the slab: dz slices of the whole plane, z-major */
  slab: SharedArrayBuffer;
  z0: number;
  dz: number;
  y0: number;
  y1: number;
}

let open: { path: string; store: Promise<ZarrVolumeStore> } | undefined;

serveJobs<Level0Job, null>(async (job) => {
  if (open?.path !== job.path) open = { path: job.path, store: openVolume(job.path) };
  const store = await open.store;
  const [, ny, nx] = store.meta.shape;
  const { dz, y0, y1 } = job;
  const slab = typedArrayOf(job.dtype, job.slab);
  const rows = y1 - y0;
  const part = allocate(job.dtype, dz * rows * nx);
  for (let z = 0; z < dz; z++) part.set(slab.subarray((z * ny + y0) * nx, (z * ny + y1) * nx) as never, z * rows * nx);
  await store.writeBlock({ start: [job.z0, y0, 0], shape: [dz, rows, nx] }, part, { level: 0 });
  return null;
});
