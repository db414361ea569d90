/**
 * Features of a whole stored volume, brick by brick, in worker threads, with bounded memory: at
 * most `threads * 2` bricks are being computed or waiting for `onBrick` at any time. Node only.
 *
 * Writers: the workers only read the volume. `onBrick` runs in the calling thread, one call at a
 * time, so whatever it writes is written by a single sequential writer and the default balanced
 * bricks (brickGrid, which straddle chunks) are safe for it. A consumer that hands bricks on to
 * parallel writers must pass `bricks: chunkGrid(shape, outputChunk)` and write with
 * `wholeChunks: true` (see ZarrVolumeStore.writeBlock).
 */
import { brickForMemory, brickGrid, featureHalo, featureNames, featuresForBox } from '../features';
import type { BrickFeatures, FeatureSet } from '../features/types';
import { PetromapError, throwIfAborted, type OnProgress } from '../errors';
import type { Box3 } from '../volume/types';
import { openVolume } from '../volume/zarr-store-node';
import type { FeatureJob } from './features.worker';
import { createPool } from './pool-node';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export interface StreamFeaturesOptions {
  /** worker threads; 0 computes in the calling thread (default: 1) */
  threads?: number;
  /** boxes to compute (default: brickGrid of the volume with bricks of brickForMemory(nFeatures, brickBytes)) */
  bricks?: Box3[];
  /** memory bound of one brick's features when bricks are not given (default 64 MiB) */
  brickBytes?: number;
  signal?: AbortSignal;
  onProgress?: OnProgress;
  /** called once per brick, one call at a time (never concurrently), in completion order */
  onBrick: (box: Box3, features: BrickFeatures) => Promise<void> | void;
}

export interface StreamFeaturesResult {
  bricks: number;
  voxels: number;
  nFeatures: number;
  names: string[];
  /** largest number of bricks in flight (computing or waiting for onBrick) */
  maxInFlight: number;
}

/** The worker entry (repo path from the working directory if a bundler rewrote import.meta.url). */
function workerEntry(): URL {
  const u = new URL('./features.worker.ts', import.meta.url);
  return u.protocol === 'file:' ? u : pathToFileURL(join(process.cwd(), 'lib/parallel/features.worker.ts'));
}

export async function streamFeatures(storePath: string, set: FeatureSet, opts: StreamFeaturesOptions): Promise<StreamFeaturesResult> {
  const { signal, onProgress, onBrick } = opts;
  const threads = opts.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 0) throw new PetromapError('InvalidInput', `Computing features: the number of threads must be a whole number ≥ 0, got ${threads}.`);
  throwIfAborted(signal);
  const store = await openVolume(storePath);
  const meta = store.meta;
  featureHalo(set, meta.spacingUm); // validates the set against the voxel size
  const names = featureNames(set, meta.channels);
  const bricks = opts.bricks ?? brickGrid(meta.shape, brickForMemory(names.length, opts.brickBytes));
  const limit = Math.max(1, threads * 2);
  const pool = threads > 0 ? createPool<FeatureJob, BrickFeatures>(workerEntry(), threads) : undefined;
  const local = new AbortController();
  const onAbort = () => local.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });

  let inFlight = 0;
  let maxInFlight = 0;
  let done = 0;
  let voxels = 0;
  let failure: unknown;
  let consume = Promise.resolve();
  let wake: (() => void) | undefined;
  const settled = new Set<Promise<void>>();

  const compute = (box: Box3): Promise<BrickFeatures> =>
    pool ? pool.run({ storePath, box, set }, [], local.signal) : featuresForBox(store, box, set, { signal: local.signal });

  try {
    onProgress?.(0, `computing features of ${bricks.length} bricks`);
    for (const box of bricks) {
      while (inFlight >= limit && !failure) await new Promise<void>((r) => (wake = r));
      if (failure) break;
      throwIfAborted(signal);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      const p: Promise<void> = compute(box)
        .then((features) => {
          consume = consume.then(async () => {
            if (failure) return;
            await onBrick(box, features);
            done++;
            voxels += box.shape[0] * box.shape[1] * box.shape[2];
            onProgress?.(done / bricks.length, `features: ${done} of ${bricks.length} bricks`);
          });
          return consume;
        })
        .catch((err) => {
          if (!failure) {
            failure = err;
            local.abort(err);
          }
        })
        .finally(() => {
          inFlight--;
          settled.delete(p);
          wake?.();
        });
      settled.add(p);
    }
    await Promise.all([...settled]);
    await consume.catch(() => {});
    if (failure) throw failure;
    throwIfAborted(signal);
    return { bricks: done, voxels, nFeatures: names.length, names, maxInFlight };
  } finally {
    signal?.removeEventListener('abort', onAbort);
    await pool?.close();
  }
}
