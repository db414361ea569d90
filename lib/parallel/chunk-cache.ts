/**
 * A read-through cache of whole chunks in front of a VolumeStore, for brick streaming: the halos of
 * neighbouring bricks overlap (a 64^3 brick with a 66-voxel halo reads 196^3 voxels), so a worker
 * that keeps the chunks it decoded reads each chunk a few times instead of tens of times.
 * Same box/halo semantics as the store (reflect at the borders), at every pyramid level (the
 * server's slice reader uses it too). Least recently used chunks are dropped beyond `maxBytes`.
 */
import { throwIfAborted } from '../errors';
import { checkBox, gatherHalo, normaliseHalo, planHalo, toFloat32 } from '../volume/reflect';
import type { ReadBlockOptions, VolumeStore, WriteBlockOptions } from '../volume/store';
import { allocate, bytesPerVoxel, type AnyVoxelArray, type Box3, type Shape3 } from '../volume/types';
import { copyBox, forEachChunk, sub } from '../volume/zarr/chunk-copy';

export interface ChunkCacheStats {
  hits: number;
  misses: number;
  bytes: number;
}

export function withChunkCache(store: VolumeStore, chunk: Shape3, maxBytes = 96 * 2 ** 20): VolumeStore & { stats: ChunkCacheStats } {
  const meta = store.meta;
  const bpv = bytesPerVoxel(meta.dtype);
  const cache = new Map<string, AnyVoxelArray>(); // insertion order = LRU order
  const stats: ChunkCacheStats = { hits: 0, misses: 0, bytes: 0 };

  async function getChunk(level: number, c: number, iz: number, iy: number, ix: number, signal?: AbortSignal): Promise<{ box: Box3; data: AnyVoxelArray }> {
    const shape = store.levelShape(level);
    const start: Shape3 = [iz * chunk[0], iy * chunk[1], ix * chunk[2]];
    const box: Box3 = { start, shape: [0, 1, 2].map((a) => Math.min(chunk[a]!, shape[a]! - start[a]!)) as Shape3 };
    const key = `${c}/${level}/${iz}/${iy}/${ix}`;
    let data = cache.get(key);
    if (data) {
      stats.hits++;
      cache.delete(key);
      cache.set(key, data);
      return { box, data };
    }
    stats.misses++;
    data = await store.readBlock(box, { channel: c, level, signal });
    cache.set(key, data);
    stats.bytes += data.length * bpv;
    for (const [k, v] of cache) {
      if (stats.bytes <= maxBytes) break;
      cache.delete(k);
      stats.bytes -= v.length * bpv;
    }
    return { box, data };
  }

  async function readBlock(box: Box3, opts?: ReadBlockOptions): Promise<AnyVoxelArray> {
    const level = opts?.level ?? 0;
    const shape = store.levelShape(level);
    throwIfAborted(opts?.signal);
    checkBox(box, shape, `Reading volume "${store.path}"`);
    const plan = planHalo(box, normaliseHalo(opts?.halo), shape);
    const inner = plan.inner;
    const buf = allocate(meta.dtype, inner.shape[0] * inner.shape[1] * inner.shape[2]);
    const c = opts?.channel ?? 0;
    const pieces: [Shape3, Shape3, Shape3][] = [];
    forEachChunk(inner, chunk, (cc, p0, p1) => pieces.push([cc, p0, p1]));
    for (const [[iz, iy, ix], p0, p1] of pieces) {
      const { box: cb, data } = await getChunk(level, c, iz, iy, ix, opts?.signal);
      copyBox(data, cb.shape, sub(p0, cb.start), buf, inner.shape, sub(p0, inner.start), sub(p1, p0));
    }
    return gatherHalo(plan, buf, meta.dtype);
  }

  return {
    path: store.path,
    meta,
    levels: store.levels,
    stats,
    levelShape: (level: number) => store.levelShape(level),
    readBlock,
    async readBlockF32(box: Box3, opts?: ReadBlockOptions): Promise<Float32Array> {
      return toFloat32(await readBlock(box, opts));
    },
    async writeBlock(box: Box3, data: AnyVoxelArray, opts?: WriteBlockOptions): Promise<void> {
      // passes wholeChunks on: the underlying store checks the alignment of parallel writers
      // keep the cache honest: drop cached chunks of that channel
      for (const k of [...cache.keys()]) if (k.startsWith(`${opts?.channel ?? 0}/`)) {
        stats.bytes -= cache.get(k)!.length * bpv;
        cache.delete(k);
      }
      return store.writeBlock(box, data, opts);
    },
  };
}
