/**
 * Overview levels of several stores, one job per (store, channel), on a pool of worker threads: a
 * prediction's outputs (labels, 5 class probabilities, uncertainty = 7 channels) are built by
 * 2 threads in about half the time of one (the pyramid took ~10 % of a prediction's CPU time, all
 * of it on one core while the other idled). Every channel's levels depend on that channel only,
 * and its chunks are files of their own, so no two threads write one chunk. The stores are marked
 * complete here, after the last job. Node only.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { throwIfAborted, type StageOptions } from '../errors';
import { buildPyramid, type ZarrVolumeStore } from '../volume/zarr-store-node';
import { createPool } from './pool-node';
import type { PyramidJob } from './pyramid.worker';

function workerEntry(): URL {
  const u = new URL('./pyramid.worker.ts', import.meta.url);
  return u.protocol === 'file:' ? u : pathToFileURL(join(/*turbopackIgnore: true*/ process.cwd(), 'lib/parallel/pyramid.worker.ts'));
}

/** Below this many level-0 voxels (all stores and channels) the pyramids are built in this thread: starting workers would cost more. */
const PYRAMID_THREADS_MIN_VOXELS = 2 ** 25;

export async function buildPyramidsInThreads(stores: ZarrVolumeStore[], threads: number, opts: StageOptions & { /** default PYRAMID_THREADS_MIN_VOXELS */ minVoxels?: number } = {}): Promise<void> {
  throwIfAborted(opts.signal);
  const jobs: PyramidJob[] = stores.flatMap((s) => (s.levels > 1 ? s.meta.channels.map((_, c) => ({ path: s.path, channels: [c] })) : []));
  const voxels = stores.reduce((a, s) => a + (s.levels > 1 ? s.meta.channels.length * s.meta.shape[0] * s.meta.shape[1] * s.meta.shape[2] : 0), 0);
  if (threads <= 1 || voxels < (opts.minVoxels ?? PYRAMID_THREADS_MIN_VOXELS)) {
    for (const s of stores) await buildPyramid(s, { signal: opts.signal });
  } else if (jobs.length) {
    const pool = createPool<PyramidJob, null>(workerEntry(), Math.max(1, Math.min(threads, jobs.length)));
    let done = 0;
    try {
      await Promise.all(jobs.map((j) => pool.run(j, [], opts.signal).then(() => opts.onProgress?.(++done / jobs.length, 'building the output pyramids'))));
    } finally {
      await pool.close();
    }
  }
  for (const s of stores) if (!s.pyramidComplete) await s.updateAttrs({ pyramidComplete: true });
}
