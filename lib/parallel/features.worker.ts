/**
 * Worker entry of streamFeatures: opens the volume store by path (once per worker) and computes
 * the features of one box (featuresForBox, wasm kernels of this thread).
 */
import { featuresForBox } from '../features';
import type { BrickFeatures, FeatureSet } from '../features/types';
import type { Box3 } from '../volume/types';
import type { VolumeStore } from '../volume/store';
import { openVolume } from '../volume/zarr-store-node';
import { brickReader } from '../volume/zarr/brick-reader-node';
import { serveJobs } from './serve-node';

export interface FeatureJob {
  storePath: string;
  box: Box3;
  set: FeatureSet;
}

const stores = new Map<string, Promise<VolumeStore>>();
/** decoded chunks kept per worker */
const CACHE_BYTES = 96 * 2 ** 20;

serveJobs<FeatureJob, BrickFeatures>(async (job, ctx) => {
  let store = stores.get(job.storePath);
  if (!store) {
    // chunks decoded for one brick's halo serve the next bricks too; the worker answers one job at a
    // time and featuresForBox copies each channel's block into wasm memory before the next job
    // reads, so the reader's reused blocks are safe here
    store = openVolume(job.storePath).then((s) => brickReader(s, { maxBytes: CACHE_BYTES }));
    stores.set(job.storePath, store);
    store.catch(() => stores.delete(job.storePath));
  }
  const res = await featuresForBox(await store, job.box, job.set);
  ctx.transfer([res.data.buffer]);
  return res;
});
