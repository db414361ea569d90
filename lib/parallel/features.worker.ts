/**
 * Worker entry of streamFeatures: opens the volume store by path (once per worker) and computes
 * the features of one box (featuresForBox, wasm kernels of this thread).
 */
import { featuresForBox } from '../features';
import type { BrickFeatures, FeatureSet } from '../features/types';
import type { Box3 } from '../volume/types';
import type { VolumeStore } from '../volume/store';
import { openVolume } from '../volume/zarr-store-node';
import { withChunkCache } from './chunk-cache';
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
    // chunks decoded for one brick's halo serve the next bricks too
    store = openVolume(job.storePath).then((s) => withChunkCache(s, s.chunk, CACHE_BYTES));
    stores.set(job.storePath, store);
    store.catch(() => stores.delete(job.storePath));
  }
  const res = await featuresForBox(await store, job.box, job.set);
  ctx.transfer([res.data.buffer]);
  return res;
});
