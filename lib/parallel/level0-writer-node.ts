/**
 * Level 0 of a store being imported, written by worker threads while the importing thread reads
 * the next slab and builds the overview levels from it (PyramidSlabWriter.pushOverviews): the
 * chunks' compression is most of an import's CPU, and it ran on one core while the other idled.
 * Each worker writes its own band of rows (whole chunks: no chunk has two writers). The slab lives
 * in shared memory; one slab at a time is with the workers, so an import holds at most two slabs
 * (one read and downsampled, one written) plus each worker's copy of its band. Node only.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { bytesPerVoxel, typedArrayOf, type AnyVoxelArray, type DType } from '../volume/types';
import type { Level0Job } from './level0-writer.worker';
import { createPool, type Pool } from './pool-node';

function workerEntry(): URL {
  const u = new URL('./level0-writer.worker.ts', import.meta.url);
  return u.protocol === 'file:' ? u : pathToFileURL(join(/*turbopackIgnore: true*/ process.cwd(), 'lib/parallel/level0-writer.worker.ts'));
}

/** Below this many voxels an import writes level 0 in its own thread: starting workers would cost more. */
export const LEVEL0_THREAD_MIN_VOXELS = 2 ** 26;

export class Level0Writer {
  readonly #pool: Pool<Level0Job, null>;
  readonly #bands: [number, number][];
  readonly #spare: SharedArrayBuffer[] = [];
  #inFlight: Promise<void> = Promise.resolve();

  /** `rows`: the plane's rows; `chunkY`: the chunk's rows (bands are whole chunks). */
  constructor(
    readonly path: string,
    readonly dtype: DType,
    rows: number,
    chunkY: number,
    threads: number,
    readonly signal?: AbortSignal,
  ) {
    const chunks = Math.ceil(rows / chunkY);
    const n = Math.max(1, Math.min(threads, chunks));
    this.#bands = Array.from({ length: n }, (_, k) => [Math.min(rows, Math.round((k * chunks) / n) * chunkY), Math.min(rows, Math.round(((k + 1) * chunks) / n) * chunkY)]);
    this.#pool = createPool(workerEntry(), n);
  }

  /** An array of `n` voxels in shared memory for the next slab: one the workers are done with, or new. */
  buffer(n: number): AnyVoxelArray {
    const bytes = n * bytesPerVoxel(this.dtype);
    const b = this.#spare.pop();
    return typedArrayOf(this.dtype, b && b.byteLength === bytes ? b : new SharedArrayBuffer(bytes));
  }

  /**
   * Hand over slices z0 … z0 + dz − 1, the first dz slices of `slab` (an array from `buffer`,
   * whole; not to be touched until it comes back from `buffer`). Waits while the previous slab is
   * still being written; throws that slab's error.
   */
  async write(z0: number, dz: number, slab: AnyVoxelArray): Promise<void> {
    await this.#inFlight;
    const sab = slab.buffer as SharedArrayBuffer;
    const jobs = this.#bands.map(([y0, y1]) => this.#pool.run({ path: this.path, dtype: this.dtype, slab: sab, z0, dz, y0, y1 }, [], this.signal));
    this.#inFlight = Promise.all(jobs).then(() => void this.#spare.push(sab));
    this.#inFlight.catch(() => {}); // awaited by the next write or finish
  }

  /** Wait for the last slab; throws its error. */
  finish(): Promise<void> {
    return this.#inFlight;
  }

  /** Stop the workers (after finish, or to abandon the import). */
  close(): Promise<void> {
    return this.#pool.close();
  }
}
