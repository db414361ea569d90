/**
 * Chunk bookkeeping shared by the store's reads and writes: which chunks a box overlaps, copying a
 * sub-box between z-major arrays, a small job pool, and the whole-chunk check of parallel writers.
 */
import type { AnyVoxelArray, Box3, Shape3 } from '../types';

/** Chunks read or written at the same time by one call (bounds memory: ~this many chunks in flight). */
export const CHUNK_CONCURRENCY = 8;

export function sub(a: readonly number[], b: readonly number[]): Shape3 {
  return [a[0]! - b[0]!, a[1]! - b[1]!, a[2]! - b[2]!];
}

/** Calls fn for every chunk overlapping box: chunk coords, piece start and end (absolute voxel coords). */
export function forEachChunk(box: Box3, c: Shape3, fn: (cc: Shape3, p0: Shape3, p1: Shape3) => void): void {
  const lo = box.start.map((s, a) => Math.floor(s / c[a]!));
  const hi = box.start.map((s, a) => Math.floor((s + box.shape[a]! - 1) / c[a]!));
  for (let cz = lo[0]!; cz <= hi[0]!; cz++) {
    for (let cy = lo[1]!; cy <= hi[1]!; cy++) {
      for (let cx = lo[2]!; cx <= hi[2]!; cx++) {
        const cc: Shape3 = [cz, cy, cx];
        const p0 = cc.map((k, a) => Math.max(k * c[a]!, box.start[a]!)) as Shape3;
        const p1 = cc.map((k, a) => Math.min((k + 1) * c[a]!, box.start[a]! + box.shape[a]!)) as Shape3;
        fn(cc, p0, p1);
      }
    }
  }
}

/** Copy a box of size n from src (z-major, shape ss) at s0 into dst (shape ds) at d0. */
export function copyBox(src: AnyVoxelArray, ss: Shape3, s0: Shape3, dst: AnyVoxelArray, ds: Shape3, d0: Shape3, n: Shape3): void {
  const [nz, ny, nx] = n;
  for (let z = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      const si = ((s0[0] + z) * ss[1] + s0[1] + y) * ss[2] + s0[2];
      const di = ((d0[0] + z) * ds[1] + d0[1] + y) * ds[2] + d0[2];
      if (nx === 1) dst[di] = src[si]!;
      else dst.set(src.subarray(si, si + nx) as never, di);
    }
  }
}

export async function runPool(jobs: (() => Promise<void>)[], k: number): Promise<void> {
  if (jobs.length <= 1) {
    if (jobs[0]) await jobs[0]();
    return;
  }
  let next = 0;
  let failed: unknown;
  const worker = async () => {
    while (next < jobs.length && failed === undefined) {
      const job = jobs[next++]!;
      try {
        await job();
      } catch (err) {
        failed ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(k, jobs.length) }, worker));
  if (failed !== undefined) throw failed;
}

/**
 * Throws (internal error: a bug in the caller, not in the data) unless `box` covers whole chunks of
 * an array of `shape` chunked `chunk`: per axis it starts on a chunk boundary and ends on one or at
 * the array's edge.
 */
export function assertWholeChunks(box: Box3, chunk: Shape3, shape: Shape3, what: string): void {
  for (let a = 0; a < 3; a++) {
    const s = box.start[a]!, e = s + box.shape[a]!;
    if (s % chunk[a]! !== 0 || (e % chunk[a]! !== 0 && e !== shape[a]!)) {
      throw new Error(
        `Internal error: a parallel writer of ${what} wrote the box at (${box.start.join(', ')}) of size (${box.shape.join(', ')}), ` +
          `which does not cover whole chunks of (${chunk.join(', ')}) in a volume of (${shape.join(', ')}); two writers could then overwrite each other's voxels. ` +
          'Parallel writers must take their bricks from chunkGrid with the store\'s chunk shape.',
      );
    }
  }
}
