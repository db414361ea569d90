/**
 * The one read-through chunk cache in front of a zarr store: halo blocks for readers that read box
 * after box. The halos of neighbouring bricks overlap (a 64^3 brick with a 66-voxel halo reads
 * 196^3 voxels), so a reader that keeps the chunks it decoded reads each chunk a few times instead
 * of tens of times. Same box/halo semantics as the store (reflect at the borders), at every
 * pyramid level; least recently used chunks are dropped beyond `maxBytes`. Used by the prediction
 * threads (brick-write-node.ts), the feature workers (lib/parallel/features.worker.ts) and the
 * server's scan reader (server/storage/open-stores.ts).
 *
 * One thread reading brick after brick (the default) allocates nothing per read. A prediction
 * thread used to allocate per brick the block it returned (~7 MB for a 64 x 128 x 128 uint16
 * brick with its halo), its reflected copy at the volume's borders, and two arrays per decoded
 * chunk (zarrita's and readBlock's copy of it, 2 MB each): V8 ran about one major GC per brick for
 * that external memory. Here a zstd chunk is read into a reused file buffer and decoded
 * (zstd-into-node.ts) into the buffer of a chunk the cache dropped; other codecs, chunks never
 * written and damaged chunks go through the store (ZarrVolumeStore.readChunk: the same values, its
 * errors). The arrays that readBlock / readBlockF32 return live in buffers this reader reuses:
 * **an array it returns is valid until the next read of the same channel** (either call), so the
 * caller must consume it (copy it into wasm memory, convert it) before it reads that channel
 * again. Level-0 and overview reads share the rule.
 *
 * `concurrent: true` is for readers whose reads overlap in time and which keep what they read (the
 * server's slices and histograms): every read returns a new array and a dropped chunk's buffer is
 * left to the GC instead of decoding a later chunk.
 *
 * writeBlock passes the write on to the store (which checks `wholeChunks`) after dropping the
 * cached chunks of that channel, so later reads see what was written.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { throwIfAborted } from '../../errors';
import { checkBox, normaliseHalo, planHalo, type HaloPlan } from '../reflect';
import type { ReadBlockOptions, VolumeStore, WriteBlockOptions } from '../store';
import { bytesPerVoxel, voxelCount, type AnyVoxelArray, type Box3, type DType, type Shape3 } from '../types';
import { READ_FLAGS } from './atomic-file-system-store-node';
import { chunkCap } from './capped-codecs';
import { copyBox, forEachChunk, sub } from './chunk-copy';
import type { ZarrVolumeStore } from './zarr-volume-store-node';
import { zstdInto } from './zstd-into-node';

export interface BrickReaderStats {
  hits: number;
  misses: number;
  /** of the misses, chunks decoded here into a recycled buffer (zstd-into-node.ts), not through the store */
  direct: number;
  /** bytes of decoded chunks held */
  bytes: number;
}

export type BrickReader = VolumeStore & { stats: BrickReaderStats };

type Ctor = new (buf: ArrayBuffer, offset: number, length: number) => AnyVoxelArray;
const ctorOf = (dtype: DType): Ctor => (dtype === 'uint8' ? Uint8Array : dtype === 'uint16' ? Uint16Array : Float32Array) as unknown as Ctor;

export interface BrickReaderOptions {
  /** bytes of decoded chunks kept (default 96 MiB) */
  maxBytes?: number;
  /** reads overlap in time and their arrays are kept: a new array per read, no recycled chunk buffers (default false) */
  concurrent?: boolean;
}

/** `store` read through a cache of decoded chunks of at most `maxBytes`, into reused block buffers unless `concurrent`. */
export function brickReader(store: ZarrVolumeStore, opts: BrickReaderOptions = {}): BrickReader {
  const maxBytes = opts.maxBytes ?? 96 * 2 ** 20;
  const concurrent = opts.concurrent ?? false;
  const meta = store.meta;
  const bpv = bytesPerVoxel(meta.dtype);
  const cache = new Map<string, AnyVoxelArray>(); // insertion order = LRU order
  const stats: BrickReaderStats = { hits: 0, misses: 0, direct: 0, bytes: 0 };
  // buffers of dropped chunks, by byte length, for the next chunks decoded here
  const free = new Map<number, ArrayBuffer[]>();
  const recycle = (b: ArrayBuffer) => {
    if (!concurrent) (free.get(b.byteLength) ?? free.set(b.byteLength, []).get(b.byteLength)!).push(b);
  };
  const decoder = store.compression === 'zstd' ? zstdInto() : Promise.resolve(null);
  const fileBufs: Buffer[] = []; // compressed chunks are read into these (one per read in flight)
  const maxFileBytes = (n: number) => chunkCap({ shape: [n], dataType: meta.dtype })?.cap ?? n * bpv;

  /** A zstd chunk read into a reused buffer and decoded into a recycled one; null where the store must read it. */
  async function readDirect(level: number, c: number, cc: Shape3, chunk: Shape3, signal?: AbortSignal): Promise<AnyVoxelArray | null> {
    const dec = await decoder;
    if (!dec) return null;
    const n = voxelCount(chunk);
    let fileBuf = fileBufs.pop() ?? Buffer.alloc(0);
    let fh: FileHandle | undefined;
    let buf: ArrayBuffer | undefined;
    try {
      throwIfAborted(signal);
      // not a link (O_NOFOLLOW), a regular file, no larger than its chunk can be: else the store's read says why
      fh = await open(store.chunkFile(cc, level, c), READ_FLAGS);
      const st = await fh.stat();
      const size = st.size;
      if (!st.isFile() || size > maxFileBytes(n)) return null;
      if (fileBuf.length < size) fileBuf = Buffer.allocUnsafe(Math.ceil(size * 1.25));
      for (let off = 0; off < size; ) {
        const { bytesRead } = await fh.read(fileBuf, off, size - off, off);
        if (!bytesRead) return null;
        off += bytesRead;
      }
      buf = free.get(n * bpv)?.pop() ?? new ArrayBuffer(n * bpv);
      dec.decode(fileBuf.subarray(0, size), new Uint8Array(buf, 0, n * bpv));
      stats.direct++;
      return new (ctorOf(meta.dtype))(buf, 0, n);
    } catch {
      // a chunk never written (the fill value), unreadable or damaged: the store's read says which
      if (buf) recycle(buf);
      return null;
    } finally {
      fileBufs.push(fileBuf);
      await fh?.close();
    }
  }
  // reused buffers by role and channel: 'i' the in-volume block, 'o' its reflected halo, 'f' float32
  const buffers = new Map<string, ArrayBuffer>();
  const scratch = (key: string, ctor: Ctor, bytesPer: number, n: number): AnyVoxelArray => {
    if (concurrent) return new ctor(new ArrayBuffer(n * bytesPer), 0, n);
    let b = buffers.get(key);
    if (!b || b.byteLength < n * bytesPer) {
      b = new ArrayBuffer(n * bytesPer);
      buffers.set(key, b);
    }
    return new ctor(b, 0, n);
  };

  async function getChunk(level: number, c: number, cc: Shape3, chunk: Shape3, signal?: AbortSignal): Promise<AnyVoxelArray> {
    const key = `${c}/${level}/${cc[0]}/${cc[1]}/${cc[2]}`;
    let data = cache.get(key);
    if (data) {
      stats.hits++;
      cache.delete(key);
      cache.set(key, data);
      return data;
    }
    stats.misses++;
    data = (await readDirect(level, c, cc, chunk, signal)) ?? (await store.readChunk(cc, { channel: c, level, signal }));
    cache.set(key, data);
    stats.bytes += data.length * bpv;
    for (const [k, v] of cache) {
      if (stats.bytes <= maxBytes) break;
      drop(k, v);
    }
    return data;
  }

  function drop(key: string, v: AnyVoxelArray): void {
    cache.delete(key);
    stats.bytes -= v.length * bpv;
    // its buffer decodes a later chunk (the caller copies a chunk out before it asks for the next)
    if (v.byteOffset === 0 && v.byteLength === v.buffer.byteLength) recycle(v.buffer as ArrayBuffer);
  }

  async function readBlock(box: Box3, opts?: ReadBlockOptions): Promise<AnyVoxelArray> {
    const level = opts?.level ?? 0;
    const shape = store.levelShape(level);
    throwIfAborted(opts?.signal);
    checkBox(box, shape, `Reading volume "${store.path}"`);
    const plan = planHalo(box, normaliseHalo(opts?.halo), shape);
    const inner = plan.inner;
    const c = opts?.channel ?? 0;
    const chunk = store.levelChunk(level);
    const ctor = ctorOf(meta.dtype);
    const buf = scratch(`i${c}`, ctor, bpv, voxelCount(inner.shape));
    const pieces: [Shape3, Shape3, Shape3][] = [];
    forEachChunk(inner, chunk, (cc, p0, p1) => pieces.push([cc, p0, p1]));
    for (const [cc, p0, p1] of pieces) {
      const data = await getChunk(level, c, cc, chunk, opts?.signal);
      // a stored chunk has the whole chunk shape, also at the volume's edge
      copyBox(data, chunk, sub(p0, [cc[0] * chunk[0], cc[1] * chunk[1], cc[2] * chunk[2]]), buf, inner.shape, sub(p0, inner.start), sub(p1, p0));
    }
    if (plan.identity) return buf;
    const out = scratch(`o${c}`, ctor, bpv, voxelCount(plan.outShape));
    gatherInto(plan, buf, out);
    return out;
  }

  return {
    path: store.path,
    meta,
    levels: store.levels,
    spacingAssumed: store.spacingAssumed,
    stats,
    levelShape: (level: number) => store.levelShape(level),
    readBlock,
    async readBlockF32(box: Box3, opts?: ReadBlockOptions): Promise<Float32Array> {
      const a = await readBlock(box, opts);
      if (a instanceof Float32Array) return a;
      const f = scratch(`f${opts?.channel ?? 0}`, Float32Array as unknown as Ctor, 4, a.length) as Float32Array;
      f.set(a);
      return f;
    },
    async writeBlock(box: Box3, data: AnyVoxelArray, wopts?: WriteBlockOptions): Promise<void> {
      // keep the cache honest: drop the cached chunks of that channel (every level)
      const prefix = `${wopts?.channel ?? 0}/`;
      for (const [k, v] of [...cache]) if (k.startsWith(prefix)) drop(k, v);
      return store.writeBlock(box, data, wopts);
    },
  };
}

/**
 * The halo plan's output from its in-volume block (what gatherHalo of ../reflect.ts returns) into
 * `out`: along x the unreflected middle of each row is one copy, the reflected ends voxel by voxel.
 */
function gatherInto(plan: HaloPlan, inner: AnyVoxelArray, out: AnyVoxelArray): void {
  const [oz, oy, ox] = plan.outShape;
  const [, iy, ix] = plan.inner.shape;
  const [mz, my, mx] = plan.maps;
  // the longest run of x where the map steps by +1 (the box itself and any halo inside the volume)
  let r0 = 0, r1 = 1;
  for (let a = 0, b = 1; b <= ox; b++) {
    if (b === ox || mx[b] !== mx[b - 1]! + 1) {
      if (b - a > r1 - r0) [r0, r1] = [a, b];
      a = b;
    }
  }
  let o = 0;
  for (let z = 0; z < oz; z++) {
    const zBase = mz[z]! * iy;
    for (let y = 0; y < oy; y++) {
      const rowBase = (zBase + my[y]!) * ix;
      for (let x = 0; x < r0; x++) out[o + x] = inner[rowBase + mx[x]!]!;
      out.set(inner.subarray(rowBase + mx[r0]!, rowBase + mx[r0]! + r1 - r0) as never, o + r0);
      for (let x = r1; x < ox; x++) out[o + x] = inner[rowBase + mx[x]!]!;
      o += ox;
    }
  }
}
