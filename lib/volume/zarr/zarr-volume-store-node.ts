/**
 * ZarrVolumeStore: the VolumeStore over one `<name>.ome.zarr/` folder (layout: ../zarr-store-node.ts).
 *
 * Writers: one store instance may write anything (partly covered chunks are read-modify-written,
 * serialised per chunk within the instance). Several concurrent writers (threads, processes,
 * instances) must each own whole chunks: writeBlock(..., { wholeChunks: true }) with bricks from
 * chunkGrid. See ZarrVolumeStore.writeBlock.
 */
import * as nodePath from 'node:path';
import * as zarr from 'zarrita';
import { invalidInput, isPetromapError, throwIfAborted, type PetromapError } from '../../errors';
import { checkBox, dtypeOfArray, gatherHalo, normaliseHalo, planHalo, toFloat32 } from '../reflect';
import type { ReadBlockOptions, VolumeStore, WriteBlockOptions } from '../store';
import { allocate, bytesPerVoxel, voxelCount, type AnyVoxelArray, type Box3, type DType, type Shape3, type VolumeMeta } from '../types';
import { storageError, type AtomicFileSystemStore } from './atomic-file-system-store-node';
import { chunkTooLarge, installCappedCodecs, isDamagedChunk } from './capped-codecs';
import { assertWholeChunks, CHUNK_CONCURRENCY, copyBox, forEachChunk, runPool, sub } from './chunk-copy';
import { codecsFor, omeAttributes, type Compression, type Downsample, type PetromapStoreAttrs } from './store-attrs';
import { zstdInto } from './zstd-into-node';

// every chunk decodes with a cap of its declared size (a store copied in or damaged on disk is not
// trusted); gzip is numcodecs' codec, which also encodes (zarrita's own only decodes)
installCappedCodecs();

export type ZArray = zarr.Array<DType, AtomicFileSystemStore>;

const viewOf = (dtype: DType, buf: ArrayBufferLike, n: number): AnyVoxelArray =>
  dtype === 'uint8' ? new Uint8Array(buf, 0, n) : dtype === 'uint16' ? new Uint16Array(buf, 0, n) : new Float32Array(buf, 0, n);

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('petromap volume stores need a little-endian host');

/**
 * Test hook: PETROMAP_TEST_WRITE_DELAY_MS (milliseconds, default 0) delays every chunk write
 * between reading (or allocating) the chunk and writing it back, so tests can make write races
 * between threads deterministic. Read at each writeBlock call; never set it in production.
 */
function testWriteDelayMs(): number {
  const v = Number(process.env.PETROMAP_TEST_WRITE_DELAY_MS ?? 0);
  return Number.isFinite(v) && v > 0 ? Math.min(v, 10_000) : 0;
}

export class ZarrVolumeStore implements VolumeStore {
  readonly path: string;
  readonly meta: VolumeMeta;
  readonly levels: number;
  readonly chunk: Shape3;
  readonly compression: Compression;
  #attrs: PetromapStoreAttrs;
  #fsStore: AtomicFileSystemStore;
  #arrays: ZArray[];
  #shapes: Shape3[];
  #locks = new Map<string, Promise<void>>();

  constructor(path: string, fsStore: AtomicFileSystemStore, attrs: PetromapStoreAttrs, arrays: ZArray[]) {
    this.path = path;
    this.meta = attrs.meta;
    this.levels = arrays.length;
    this.chunk = attrs.chunk;
    this.compression = attrs.compression;
    this.#attrs = attrs;
    this.#fsStore = fsStore;
    this.#arrays = arrays;
    this.#shapes = arrays.map((a) => a.shape.slice(1) as Shape3);
    fsStore.missingChunk = (rel) => this.#missingChunk(rel);
  }

  /**
   * A chunk file missing from a complete store (attrs.complete: every chunk was written) is
   * refused as damage; elsewhere (a sparse store, an overview level not built yet) it is the fill value.
   */
  #missingChunk(rel: string): PetromapError | undefined {
    if (this.#attrs.complete !== true) return undefined;
    const m = /^(\d+)\/c\/(\d+)\/(\d+)\/(\d+)\/(\d+)$/.exec(rel);
    if (!m) return undefined;
    const [level, channel, z, y, x] = m.slice(1).map(Number) as [number, number, number, number, number];
    if (level > 0 && !this.#attrs.pyramidComplete) return undefined;
    const ch = this.meta.channels.length > 1 ? `, channel "${this.meta.channels[channel] ?? channel}"` : '';
    return invalidInput(
      `Could not read volume "${this.path}": chunk ${z}/${y}/${x} of pyramid level ${level}${ch} is missing on disk, although every chunk of this volume was written (a file deleted or not copied). ` +
        `Re-import the scan (or run the prediction again, for a prediction's output), or restore the volume's folder from a backup.`,
    );
  }

  /** every chunk was written (see PetromapStoreAttrs.complete): a missing chunk file is refused */
  get complete(): boolean {
    return this.#attrs.complete === true;
  }

  /** the id given at the store's creation (undefined in stores written before it) */
  get storeId(): string | undefined {
    return typeof this.#attrs.storeId === 'string' ? this.#attrs.storeId : undefined;
  }

  /** OME-Zarr import: the source's chunks that were missing (read as its fill value); 0 otherwise */
  get sourceChunksMissing(): number {
    return this.#attrs.sourceChunksMissing ?? 0;
  }

  get downsample(): Downsample {
    return this.#attrs.downsample ?? 'mean';
  }

  get pyramidComplete(): boolean {
    return this.#attrs.pyramidComplete;
  }

  /** the imported file gave no voxel size: meta.spacingUm is an assumed 1 µm (stores written before this: false) */
  get spacingAssumed(): boolean {
    return this.#attrs.spacingAssumed === true;
  }

  levelShape(level: number): Shape3 {
    const s = this.#shapes[level];
    if (!s) throw invalidInput(`Volume "${this.path}" has ${this.levels} pyramid level(s); level ${level} does not exist.`);
    return [...s];
  }

  /** The file of a chunk (it exists once the chunk is written; zarr v3 keys, '/'-separated). */
  chunkFile(cc: Shape3, level = 0, channel = 0): string {
    return nodePath.join(/*turbopackIgnore: true*/ this.path, String(level), 'c', String(channel), String(cc[0]), String(cc[1]), String(cc[2]));
  }

  /** Chunk shape of a level's array (z, y, x): `chunk`, cut to the level's shape where that is smaller. */
  levelChunk(level: number): Shape3 {
    return this.#array({ level }).arr.chunks.slice(1) as Shape3;
  }

  #array(opts: { channel?: number; level?: number } | undefined): { arr: ZArray; channel: number; level: number; shape: Shape3 } {
    const level = opts?.level ?? 0;
    const channel = opts?.channel ?? 0;
    const shape = this.levelShape(level);
    if (!Number.isInteger(channel) || channel < 0 || channel >= this.meta.channels.length) {
      throw invalidInput(`Volume "${this.path}" has ${this.meta.channels.length} channel(s) (${this.meta.channels.join(', ')}); channel ${channel} does not exist.`);
    }
    return { arr: this.#arrays[level]!, channel, level, shape };
  }

  async readBlock(box: Box3, opts?: ReadBlockOptions): Promise<AnyVoxelArray> {
    throwIfAborted(opts?.signal);
    const { arr, channel, level, shape } = this.#array(opts);
    checkBox(box, shape, `Reading volume "${this.path}"`);
    const plan = planHalo(box, normaliseHalo(opts?.halo), shape);
    const inner = plan.inner;
    const out = allocate(this.meta.dtype, voxelCount(inner.shape));
    const c = arr.chunks.slice(1) as Shape3;
    const jobs: (() => Promise<void>)[] = [];
    forEachChunk(inner, c, (cc, p0, p1) => {
      jobs.push(() =>
        this.#withChunk(arr, level, channel, cc, opts?.signal, (chunk) => {
          copyBox(chunk, c, sub(p0, cc.map((k, a) => k * c[a]!)), out, inner.shape, sub(p0, inner.start), sub(p1, p0));
        }),
      );
    });
    await runPool(jobs, CHUNK_CONCURRENCY);
    return gatherHalo(plan, out, this.meta.dtype);
  }

  /**
   * One stored chunk, decoded, as it is stored: the whole chunk shape (levelChunk(level), z-major; a
   * chunk at the volume's edge is padded), the fill value where the chunk was never written. A new array per
   * call, without readBlock's copy into a block: for readers that keep whole chunks
   * (brick-reader-node.ts).
   */
  async readChunk(cc: Shape3, opts?: { channel?: number; level?: number; signal?: AbortSignal }): Promise<AnyVoxelArray> {
    const { arr, channel, level } = this.#array(opts);
    return this.#getChunk(arr, level, channel, cc, opts?.signal);
  }

  /**
   * Calls `use` with a stored chunk (levelChunk(level) shape, as readChunk gives it) and waits for
   * it. `use` runs synchronously and must keep no view of the chunk: its buffer may be the next
   * chunk's. For passes over whole chunks without readBlock's copy into a block (buildPyramid).
   */
  withChunk(cc: Shape3, opts: { channel?: number; level?: number; signal?: AbortSignal } | undefined, use: (chunk: AnyVoxelArray) => void): Promise<void> {
    const { arr, channel, level } = this.#array(opts);
    return this.#withChunk(arr, level, channel, cc, opts?.signal, use);
  }

  #scratch = new Uint8Array(0);

  /**
   * Calls `use` with a stored chunk (as readChunk gives it), synchronously: `use` must copy what it
   * needs and keep no view. A zstd chunk is decoded into a scratch buffer of this instance
   * (zstd-into-node.ts: no new 2 MB array per chunk, no byte-by-byte copy into numcodecs' heap);
   * the next chunk reuses the buffer, so concurrent jobs are safe only because the decode and `use`
   * run without an await between them. Other codecs, chunks never written (the fill value) and
   * chunks that do not decode go through zarrita (its values, its errors).
   */
  async #withChunk(arr: ZArray, level: number, channel: number, cc: Shape3, signal: AbortSignal | undefined, use: (chunk: AnyVoxelArray) => void): Promise<void> {
    const dec = this.compression === 'zstd' ? await zstdInto() : null;
    if (dec) {
      throwIfAborted(signal);
      const bytes = await this.#fsStore.get(`/${level}/c/${channel}/${cc.join('/')}` as zarr.AbsolutePath).catch(() => undefined);
      if (bytes) {
        const n = voxelCount(arr.chunks.slice(1) as Shape3);
        const nb = n * bytesPerVoxel(this.meta.dtype);
        if (this.#scratch.byteLength < nb) this.#scratch = new Uint8Array(nb);
        let ok = true;
        try {
          dec.decode(bytes, this.#scratch.subarray(0, nb));
        } catch {
          ok = false;
        }
        if (ok) return use(viewOf(this.meta.dtype, this.#scratch.buffer, n));
      }
    }
    use(await this.#getChunk(arr, level, channel, cc, signal));
  }

  async #getChunk(arr: ZArray, level: number, channel: number, cc: Shape3, signal: AbortSignal | undefined): Promise<AnyVoxelArray> {
    throwIfAborted(signal);
    let data: AnyVoxelArray;
    try {
      data = (await arr.getChunk([channel, ...cc], { signal })).data as AnyVoxelArray;
    } catch (err) {
      throwIfAborted(signal);
      // the store's own refusal of the chunk's file (a link, not a file, too large) says it all
      if (isPetromapError(err)) throw err;
      const inner = chunkTooLarge(err);
      // a zstd chunk changed on disk since it was written: its checksum (stores written since it came in) or its decoding says so
      if (isDamagedChunk(inner)) throw this.#damaged(level, channel, cc, inner!.message, err);
      const why = inner?.message.replace(/; the file is damaged\.$/, '.') ?? `${(err as Error)?.message ?? String(err)}.`;
      throw invalidInput(
        `Could not read volume "${this.path}" (chunk ${cc.join('/')}): ${why} The store may be damaged; re-import the scan.`,
        { cause: err },
      );
    }
    // a chunk file cut short (an empty file left by a crash, a frame of fewer bytes, half an
    // uncompressed chunk) decodes to fewer voxels than its chunk: never read as zeros
    const n = voxelCount(arr.chunks.slice(1) as Shape3);
    if (data.length !== n) {
      const bpv = bytesPerVoxel(this.meta.dtype);
      throw this.#damaged(level, channel, cc, `it holds ${(data.length * bpv).toLocaleString('en')} of its ${(n * bpv).toLocaleString('en')} bytes`);
    }
    return data;
  }

  #damaged(level: number, channel: number, cc: Shape3, why: string, cause?: unknown) {
    const ch = this.meta.channels.length > 1 ? `, channel "${this.meta.channels[channel]}"` : '';
    return invalidInput(
      `Could not read volume "${this.path}" (chunk ${cc.join('/')} of pyramid level ${level}${ch}): the chunk is damaged on disk (${why}). Re-import the scan, or restore the volume's folder from a backup.`,
      cause === undefined ? undefined : { cause },
    );
  }

  async readBlockF32(box: Box3, opts?: ReadBlockOptions): Promise<Float32Array> {
    return toFloat32(await this.readBlock(box, opts));
  }

  /**
   * Write a box. Chunks are encoded and written a few at a time.
   *
   * Invariant (who may write what): a chunk that the box covers only partly is read, patched and
   * written back (read-modify-write). That is correct for ONE writer: calls on this instance that
   * touch the same chunk are serialised here, which is all that single-writer uses need (import
   * slabs, annotation slice edits, pyramid building, exports). It is NOT correct for two writers
   * in different threads, processes or store instances: both read the old chunk, each writes back
   * its own part, and the last rename wins, silently dropping the other's voxels. Blockwise
   * parallel writers therefore own whole chunks: they take their bricks from chunkGrid
   * (lib/features) with this store's chunk shape and pass `wholeChunks: true`, which writes the
   * chunks without reading them and throws an internal error for a box that does not cover whole
   * chunks (boxes may end at the volume's edge).
   */
  async writeBlock(box: Box3, data: AnyVoxelArray, opts?: WriteBlockOptions): Promise<void> {
    const { arr, channel, level, shape } = this.#array(opts);
    checkBox(box, shape, `Writing volume "${this.path}"`);
    if (data.length !== voxelCount(box.shape)) {
      throw invalidInput(`Writing volume "${this.path}": the block has ${data.length} values but its size (${box.shape.join(' x ')}) needs ${voxelCount(box.shape)}.`);
    }
    if (dtypeOfArray(data) !== this.meta.dtype) {
      throw invalidInput(`Writing volume "${this.path}": the block holds ${dtypeOfArray(data)} values but the volume stores ${this.meta.dtype}.`);
    }
    const c = arr.chunks.slice(1) as Shape3;
    if (opts?.wholeChunks) assertWholeChunks(box, c, shape, `${this.path} (level ${level})`);
    const codec = await this.#codec();
    const delayMs = testWriteDelayMs();
    const jobs: (() => Promise<void>)[] = [];
    // a box that is exactly one chunk (a prediction brick of the outputs' chunk shape) is that chunk's bytes
    const exact = box.shape.every((n, a) => n === c[a] && box.start[a]! % c[a]! === 0);
    forEachChunk(box, c, (cc, p0, p1) => {
      const c0 = cc.map((k, a) => k * c[a]!) as Shape3;
      // the part of the chunk inside the array: if the piece covers it, no need to read the old chunk
      const covers = c0.every((o, a) => p0[a] === o && p1[a] === Math.min(o + c[a]!, shape[a]!));
      const key = `${level}/${channel}/${cc.join('/')}`;
      jobs.push(() =>
        this.#withLock(key, async () => {
          // the box is this one whole chunk: encode the caller's array as it is (no new chunk, no copy)
          const chunk = exact ? data : covers ? allocate(this.meta.dtype, voxelCount(c)) : await this.#getChunk(arr, level, channel, cc, undefined);
          if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs)); // test hook: widen the read -> write window
          if (!exact) copyBox(data, box.shape, sub(p0, box.start), chunk, c, sub(p0, c0), sub(p1, p0));
          const bytes = await codec.encode(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
          await this.#fsStore.set(`/${level}/c/${channel}/${cc.join('/')}` as zarr.AbsolutePath, bytes);
        }),
      );
    });
    await runPool(jobs, CHUNK_CONCURRENCY);
  }

  #codecPromise?: Promise<{ encode(b: Uint8Array): Promise<Uint8Array> | Uint8Array }>;
  #codec() {
    return (this.#codecPromise ??= (async () => {
      if (this.compression === 'none') return { encode: (b: Uint8Array) => b };
      // the compressor's settings as the level's metadata states them (zstd: with or without its
      // checksum, as the store was created), so a store keeps writing the chunks it was made with
      const meta = (await this.#levelCodec()) ?? codecsFor(this.compression)[1]!;
      const entry = await zarr.registry.get(meta.name)!();
      return entry.fromConfig(meta.configuration, undefined as never) as unknown as { encode(b: Uint8Array): Promise<Uint8Array> };
    })());
  }

  /** The compressor (second codec) in level 0's zarr.json, or undefined when it cannot be read as one of this store's compression. */
  async #levelCodec(): Promise<zarr.CodecMetadata | undefined> {
    try {
      const raw = await this.#fsStore.get('/0/zarr.json' as zarr.AbsolutePath);
      const codec = (JSON.parse(Buffer.from(raw!.buffer, raw!.byteOffset, raw!.byteLength).toString('utf8')) as { codecs?: zarr.CodecMetadata[] }).codecs?.[1];
      return codec?.name === this.compression ? codec : undefined;
    } catch {
      return undefined;
    }
  }

  async #withLock(key: string, fn: () => Promise<void>): Promise<void> {
    const prev = this.#locks.get(key);
    const run = (prev ? prev.catch(() => {}) : Promise.resolve()).then(fn);
    this.#locks.set(key, run);
    try {
      await run;
    } catch (err) {
      if (isPetromapError(err)) throw err;
      throw storageError(err, nodePath.join(this.path, String(key)));
    } finally {
      if (this.#locks.get(key) === run) this.#locks.delete(key);
    }
  }

  /** Rewrite the group attributes (atomically). */
  async updateAttrs(patch: Partial<Pick<PetromapStoreAttrs, 'pyramidComplete' | 'complete' | 'sourceChunksMissing'>>): Promise<void> {
    this.#attrs = { ...this.#attrs, ...patch };
    await writeGroup(this.#fsStore, this.path, this.#attrs, this.#shapes);
  }
}

export async function writeGroup(fsStore: AtomicFileSystemStore, path: string, attrs: PetromapStoreAttrs, shapes: Shape3[]): Promise<void> {
  await zarr.create(zarr.root(fsStore), {
    attributes: { ome: omeAttributes(attrs.name ?? nodePath.basename(path), attrs.meta, shapes, attrs.downsample ?? 'mean'), petromap: attrs },
  });
}
