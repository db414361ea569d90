/**
 * ZarrVolumeStore: the VolumeStore over one `<name>.ome.zarr/` folder (layout: ../zarr-store-node.ts).
 *
 * Writers: one store instance may write anything (partly covered chunks are read-modify-written,
 * serialised per chunk within the instance). Several concurrent writers (threads, processes,
 * instances) must each own whole chunks: writeBlock(..., { wholeChunks: true }) with bricks from
 * chunkGrid. See ZarrVolumeStore.writeBlock.
 */
import * as nodePath from 'node:path';
import GZip from 'numcodecs/gzip';
import * as zarr from 'zarrita';
import { invalidInput, isPetromapError, throwIfAborted } from '../../errors';
import { checkBox, dtypeOfArray, gatherHalo, normaliseHalo, planHalo, toFloat32 } from '../reflect';
import type { ReadBlockOptions, VolumeStore, WriteBlockOptions } from '../store';
import { allocate, voxelCount, type AnyVoxelArray, type Box3, type DType, type Shape3, type VolumeMeta } from '../types';
import { storageError, type AtomicFileSystemStore } from './atomic-file-system-store-node';
import { assertWholeChunks, CHUNK_CONCURRENCY, copyBox, forEachChunk, runPool, sub } from './chunk-copy';
import { codecsFor, omeAttributes, type Compression, type Downsample, type PetromapStoreAttrs } from './store-attrs';

// zarrita's own gzip codec only decodes; numcodecs' one also encodes.
zarr.registry.set('gzip', async () => GZip as never);

export type ZArray = zarr.Array<DType, AtomicFileSystemStore>;

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
  }

  get downsample(): Downsample {
    return this.#attrs.downsample ?? 'mean';
  }

  get pyramidComplete(): boolean {
    return this.#attrs.pyramidComplete;
  }

  levelShape(level: number): Shape3 {
    const s = this.#shapes[level];
    if (!s) throw invalidInput(`Volume "${this.path}" has ${this.levels} pyramid level(s); level ${level} does not exist.`);
    return [...s];
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
    const { arr, channel, shape } = this.#array(opts);
    checkBox(box, shape, `Reading volume "${this.path}"`);
    const plan = planHalo(box, normaliseHalo(opts?.halo), shape);
    const inner = plan.inner;
    const out = allocate(this.meta.dtype, voxelCount(inner.shape));
    const c = arr.chunks.slice(1) as Shape3;
    const jobs: (() => Promise<void>)[] = [];
    forEachChunk(inner, c, (cc, p0, p1) => {
      jobs.push(async () => {
        throwIfAborted(opts?.signal);
        let chunk: AnyVoxelArray;
        try {
          chunk = (await arr.getChunk([channel, ...cc], { signal: opts?.signal })).data as AnyVoxelArray;
        } catch (err) {
          throwIfAborted(opts?.signal);
          throw invalidInput(
            `Could not read volume "${this.path}" (chunk ${cc.join('/')}): ${(err as Error)?.message ?? String(err)}. The store may be damaged; re-import the scan.`,
            { cause: err },
          );
        }
        copyBox(chunk, c, sub(p0, cc.map((k, a) => k * c[a]!)), out, inner.shape, sub(p0, inner.start), sub(p1, p0));
      });
    });
    await runPool(jobs, CHUNK_CONCURRENCY);
    return gatherHalo(plan, out, this.meta.dtype);
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
    forEachChunk(box, c, (cc, p0, p1) => {
      const c0 = cc.map((k, a) => k * c[a]!) as Shape3;
      // the part of the chunk inside the array: if the piece covers it, no need to read the old chunk
      const covers = c0.every((o, a) => p0[a] === o && p1[a] === Math.min(o + c[a]!, shape[a]!));
      const key = `${level}/${channel}/${cc.join('/')}`;
      jobs.push(() =>
        this.#withLock(key, async () => {
          const chunk = covers ? allocate(this.meta.dtype, voxelCount(c)) : ((await arr.getChunk([channel, ...cc])).data as AnyVoxelArray);
          if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs)); // test hook: widen the read -> write window
          copyBox(data, box.shape, sub(p0, box.start), chunk, c, sub(p0, c0), sub(p1, p0));
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
      const meta = codecsFor(this.compression)[1]!;
      const entry = await zarr.registry.get(meta.name)!();
      return entry.fromConfig(meta.configuration, undefined as never) as unknown as { encode(b: Uint8Array): Promise<Uint8Array> };
    })());
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
  async updateAttrs(patch: Partial<Pick<PetromapStoreAttrs, 'pyramidComplete'>>): Promise<void> {
    this.#attrs = { ...this.#attrs, ...patch };
    await writeGroup(this.#fsStore, this.path, this.#attrs, this.#shapes);
  }
}

export async function writeGroup(fsStore: AtomicFileSystemStore, path: string, attrs: PetromapStoreAttrs, shapes: Shape3[]): Promise<void> {
  await zarr.create(zarr.root(fsStore), {
    attributes: { ome: omeAttributes(attrs.name ?? nodePath.basename(path), attrs.meta, shapes, attrs.downsample ?? 'mean'), petromap: attrs },
  });
}
