/**
 * OME-Zarr (zarr v3) chunk store for volumes, via zarrita and @zarrita/storage's FileSystemStore.
 *
 * Layout of `<name>.ome.zarr/`:
 *   zarr.json            group; attributes.ome = OME-Zarr 0.5 multiscales (axes c,z,y,x in micrometres,
 *                        a scale + translation per level), attributes.petromap = { meta, chunk, ... }
 *   0/, 1/, ...          one array per pyramid level, shape (c, z, y, x), chunks (1, cz, cy, cx)
 *
 * Every file (chunks and metadata) is written to a temporary name in the same folder and renamed,
 * so an interrupted write leaves the previous content readable.
 *
 * Writers: one store instance may write anything (partly covered chunks are read-modify-written,
 * serialised per chunk within the instance). Several concurrent writers (threads, processes,
 * instances) must each own whole chunks: writeBlock(..., { wholeChunks: true }) with bricks from
 * chunkGrid. See ZarrVolumeStore.writeBlock.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import FileSystemStore from '@zarrita/storage/fs';
import GZip from 'numcodecs/gzip';
import * as zarr from 'zarrita';
import { invalidInput, isPetromapError, notFound, PetromapError, throwIfAborted, type StageOptions } from '../errors';
import { checkBox, dtypeOfArray, gatherHalo, normaliseHalo, planHalo, toFloat32 } from './reflect';
import type { ReadBlockOptions, VolumeStore, WriteBlockOptions } from './store';
import { allocate, bytesPerVoxel, voxelCount, type AnyVoxelArray, type Box3, type DenseVolume, type DType, type Shape3, type VolumeMeta } from './types';

export type Compression = 'zstd' | 'gzip' | 'none';

export interface CreateVolumeOptions {
  /** chunk shape (z, y, x), default [64, 64, 64] */
  chunk?: Shape3;
  /** number of pyramid levels; default: halve until the largest axis is ≤ 64 */
  levels?: number;
  /** chunk compression, default 'zstd' (level 1; ~250 MB/s per core) */
  compression?: Compression;
  /** name recorded in the OME multiscales metadata (default: the folder name) */
  name?: string;
  /**
   * How overview levels are made: 'mean' for grey values (default), 'mode' (most frequent value of
   * each 2x2x2 block) for label and class volumes, where averaging codes would invent classes.
   */
  downsample?: Downsample;
}

export type Downsample = 'mean' | 'mode';

/** What we keep in attributes.petromap of the group. */
export interface PetromapStoreAttrs {
  formatVersion: 1;
  name: string;
  meta: VolumeMeta;
  chunk: Shape3;
  levels: number;
  compression: Compression;
  /** absent in stores written before this option: 'mean' */
  downsample?: Downsample;
  /** false until buildPyramid has filled levels ≥ 1 */
  pyramidComplete: boolean;
}

export const DEFAULT_CHUNK: Shape3 = [64, 64, 64];
const STOP_SIZE = 64;

// zarrita's own gzip codec only decodes; numcodecs' one also encodes.
zarr.registry.set('gzip', async () => GZip as never);

/** FileSystemStore whose writes go to a temp file in the same folder and are renamed into place. */
class AtomicFileSystemStore extends FileSystemStore {
  override async set(key: zarr.AbsolutePath, value: Uint8Array): Promise<void> {
    const fp = nodePath.join(this.root, key.replace(/^\/+/, ''));
    await fs.promises.mkdir(nodePath.dirname(fp), { recursive: true });
    const tmp = `${fp}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      await fs.promises.writeFile(tmp, value);
      await fs.promises.rename(tmp, fp);
    } catch (err) {
      await fs.promises.rm(tmp, { force: true }).catch(() => {});
      throw storageError(err, fp);
    }
  }
}

function storageError(err: unknown, file: string): PetromapError {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new PetromapError('DiskFull', `The disk is full while writing "${file}". Free some space and try again.`, { cause: err });
  }
  return new PetromapError('InvalidInput', `Could not write "${file}": ${(err as Error)?.message ?? String(err)}`, { cause: err });
}

/** Shapes of all pyramid levels (level 0 first). */
export function pyramidShapes(shape: Shape3, chunk: Shape3 = DEFAULT_CHUNK, levels?: number): Shape3[] {
  const out: Shape3[] = [[...shape]];
  for (;;) {
    const prev = out[out.length - 1]!;
    if (levels !== undefined ? out.length >= levels : Math.max(...prev) <= STOP_SIZE) break;
    if (prev[1] === 1 && prev[2] === 1 && prev[0] <= chunk[0]) break; // nothing left to halve
    out.push([prev[0] > chunk[0] ? Math.ceil(prev[0] / 2) : prev[0], Math.ceil(prev[1] / 2), Math.ceil(prev[2] / 2)]);
  }
  return out;
}

/** Downsampling factor of each level relative to level 0, (z, y, x). */
function levelFactors(shapes: Shape3[]): Shape3[] {
  const f: Shape3[] = [[1, 1, 1]];
  for (let k = 1; k < shapes.length; k++) {
    const p = f[k - 1]!;
    f.push([shapes[k]![0] === shapes[k - 1]![0] ? p[0] : p[0] * 2, p[1] * 2, p[2] * 2]);
  }
  return f;
}

function omeAttributes(name: string, meta: VolumeMeta, shapes: Shape3[], downsample: Downsample) {
  const factors = levelFactors(shapes);
  return {
    version: '0.5',
    multiscales: [
      {
        name,
        type: `${downsample} (2x2x2 blocks; 1x2x2 where z is no longer halved)`,
        axes: [
          { name: 'c', type: 'channel' },
          { name: 'z', type: 'space', unit: 'micrometer' },
          { name: 'y', type: 'space', unit: 'micrometer' },
          { name: 'x', type: 'space', unit: 'micrometer' },
        ],
        datasets: factors.map((f, k) => ({
          path: String(k),
          coordinateTransformations: [
            { type: 'scale', scale: [1, ...f.map((fa, a) => meta.spacingUm[a]! * fa)] },
            // the centre of a mean-downsampled voxel sits half a block in
            { type: 'translation', translation: [0, ...f.map((fa, a) => meta.originUm[a]! + ((fa - 1) / 2) * meta.spacingUm[a]!)] },
          ],
        })),
      },
    ],
    omero: { channels: meta.channels.map((label) => ({ label, active: true })) },
  };
}

function codecsFor(compression: Compression): zarr.CodecMetadata[] {
  const bytes = { name: 'bytes', configuration: { endian: 'little' } };
  if (compression === 'zstd') return [bytes, { name: 'zstd', configuration: { level: 1, checksum: false } }];
  if (compression === 'gzip') return [bytes, { name: 'gzip', configuration: { level: 1 } }];
  return [bytes];
}

function checkMeta(path: string, meta: VolumeMeta): void {
  const ok3 = (v: unknown, pred: (x: number) => boolean) => Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'number' && pred(x));
  if (!ok3(meta.shape, (x) => Number.isInteger(x) && x >= 1)) throw invalidInput(`Volume "${path}": the size must be three whole numbers ≥ 1 (z, y, x), got ${JSON.stringify(meta.shape)}.`);
  if (!ok3(meta.spacingUm, (x) => Number.isFinite(x) && x > 0)) throw invalidInput(`Volume "${path}": the voxel size must be three positive numbers in µm (z, y, x), got ${JSON.stringify(meta.spacingUm)}.`);
  if (!ok3(meta.originUm, (x) => Number.isFinite(x))) throw invalidInput(`Volume "${path}": the origin must be three numbers in µm (z, y, x), got ${JSON.stringify(meta.originUm)}.`);
  if (!['uint8', 'uint16', 'float32'].includes(meta.dtype)) throw invalidInput(`Volume "${path}": voxel type "${meta.dtype}" is not supported (uint8, uint16 or float32).`);
  if (!Array.isArray(meta.channels) || meta.channels.length < 1) throw invalidInput(`Volume "${path}": a volume needs at least one channel name.`);
}

type ZArray = zarr.Array<DType, AtomicFileSystemStore>;

/** Chunks read or written at the same time by one call (bounds memory: ~this many chunks in flight). */
const CHUNK_CONCURRENCY = 8;

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('petromap volume stores need a little-endian host');

function sub(a: readonly number[], b: readonly number[]): Shape3 {
  return [a[0]! - b[0]!, a[1]! - b[1]!, a[2]! - b[2]!];
}

/** Calls fn for every chunk overlapping box: chunk coords, piece start and end (absolute voxel coords). */
function forEachChunk(box: Box3, c: Shape3, fn: (cc: Shape3, p0: Shape3, p1: Shape3) => void): void {
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
function copyBox(src: AnyVoxelArray, ss: Shape3, s0: Shape3, dst: AnyVoxelArray, ds: Shape3, d0: Shape3, n: Shape3): void {
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

async function runPool(jobs: (() => Promise<void>)[], k: number): Promise<void> {
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

async function writeGroup(fsStore: AtomicFileSystemStore, path: string, attrs: PetromapStoreAttrs, shapes: Shape3[]): Promise<void> {
  await zarr.create(zarr.root(fsStore), {
    attributes: { ome: omeAttributes(attrs.name ?? nodePath.basename(path), attrs.meta, shapes, attrs.downsample ?? 'mean'), petromap: attrs },
  });
}

/** Create an empty volume store at `path` (a new folder, conventionally `<name>.ome.zarr`). */
export async function createVolume(path: string, meta: VolumeMeta, opts: CreateVolumeOptions = {}): Promise<ZarrVolumeStore> {
  checkMeta(path, meta);
  const chunk: Shape3 = opts.chunk ? [...opts.chunk] : [...DEFAULT_CHUNK];
  if (!chunk.every((x) => Number.isInteger(x) && x >= 1)) throw invalidInput(`Volume "${path}": the chunk size must be three whole numbers ≥ 1, got ${JSON.stringify(opts.chunk)}.`);
  if (opts.levels !== undefined && !(Number.isInteger(opts.levels) && opts.levels >= 1)) {
    throw invalidInput(`Volume "${path}": the number of pyramid levels must be a whole number ≥ 1, got ${opts.levels}.`);
  }
  const compression = opts.compression ?? 'zstd';
  const existing = await fs.promises.readdir(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw storageError(err, path);
  });
  if (existing && existing.length > 0) {
    throw new PetromapError('Conflict', `Cannot create volume "${path}": the folder already exists and is not empty. Choose another name or delete it first.`);
  }
  await fs.promises.mkdir(path, { recursive: true }).catch((err) => {
    throw storageError(err, path);
  });
  const fsStore = new AtomicFileSystemStore(path);
  const shapes = pyramidShapes(meta.shape, chunk, opts.levels);
  const attrs: PetromapStoreAttrs = {
    formatVersion: 1,
    name: opts.name ?? nodePath.basename(path).replace(/\.ome\.zarr$/, ''),
    meta: { shape: [...meta.shape], spacingUm: [...meta.spacingUm], originUm: [...meta.originUm], dtype: meta.dtype, channels: [...meta.channels] },
    chunk,
    levels: shapes.length,
    compression,
    downsample: opts.downsample ?? 'mean',
    pyramidComplete: shapes.length === 1,
  };
  const nc = meta.channels.length;
  const arrays: ZArray[] = [];
  for (let k = 0; k < shapes.length; k++) {
    const s = shapes[k]!;
    const arr = await zarr.create(zarr.root(fsStore).resolve(String(k)), {
      shape: [nc, ...s],
      chunkShape: [1, ...s.map((n, a) => Math.min(n, chunk[a]!))],
      dtype: meta.dtype,
      codecs: codecsFor(compression),
      fillValue: 0,
      dimensionNames: ['c', 'z', 'y', 'x'],
    });
    arrays.push(arr as ZArray);
  }
  await writeGroup(fsStore, path, attrs, shapes);
  return new ZarrVolumeStore(path, fsStore, attrs, arrays);
}

/** Open an existing petromap volume store. */
export async function openVolume(path: string): Promise<ZarrVolumeStore> {
  const stat = await fs.promises.stat(path).catch(() => null);
  if (!stat) throw notFound(`Volume "${path}" does not exist.`);
  if (!stat.isDirectory()) throw invalidInput(`"${path}" is a file, not a petromap volume (an .ome.zarr folder). Import it first with "petromap import".`);
  const fsStore = new AtomicFileSystemStore(path);
  const notOurs = (why: string, cause?: unknown) =>
    invalidInput(`"${path}" is not a petromap volume (${why}). Import the scan with "petromap import" to create one.`, { cause });
  let group: zarr.Group<AtomicFileSystemStore>;
  try {
    group = await zarr.open.v3(zarr.root(fsStore), { kind: 'group' });
  } catch (err) {
    throw notOurs('no readable zarr v3 group metadata, zarr.json', err);
  }
  const attrs = group.attrs.petromap as PetromapStoreAttrs | undefined;
  if (!attrs || typeof attrs !== 'object' || !attrs.meta) throw notOurs('its zarr.json has no "petromap" attribute');
  checkMeta(path, attrs.meta);
  const arrays: ZArray[] = [];
  for (let k = 0; k < attrs.levels; k++) {
    let arr: zarr.Array<zarr.DataType, AtomicFileSystemStore>;
    try {
      arr = await zarr.open.v3(group.resolve(String(k)), { kind: 'array' });
    } catch (err) {
      throw invalidInput(`Volume "${path}" is damaged: pyramid level ${k} is missing or unreadable. Re-import the scan.`, { cause: err });
    }
    if (arr.dtype !== attrs.meta.dtype || arr.shape.length !== 4 || arr.shape[0] !== attrs.meta.channels.length) {
      throw invalidInput(`Volume "${path}" is damaged: pyramid level ${k} has voxel type ${arr.dtype} and shape (${arr.shape.join(', ')}), which does not match its description.`);
    }
    arrays.push(arr as ZArray);
  }
  if (arrays[0]!.shape.slice(1).some((n, a) => n !== attrs.meta.shape[a])) {
    throw invalidInput(`Volume "${path}" is damaged: level 0 has shape (${arrays[0]!.shape.slice(1).join(', ')}) but the volume should be (${attrs.meta.shape.join(', ')}).`);
  }
  return new ZarrVolumeStore(path, fsStore, attrs, arrays);
}

export interface BuildPyramidOptions extends StageOptions {
  /** how many target blocks are processed concurrently (default 2) */
  concurrency?: number;
  /** default: what the store was created with ('mean' unless created with downsample: 'mode') */
  downsample?: Downsample;
}

/**
 * Fill levels ≥ 1 from level 0 by mean downsampling (2x2x2, or 1x2x2 where z is not halved),
 * block by block: memory stays bounded by a few source blocks. A single writer: run it only when
 * every writer of level 0 has finished (it reads level 0), through one store instance (its
 * concurrent jobs write different whole chunks of a level, serialised per chunk anyway).
 */
export async function buildPyramid(store: VolumeStore, opts: BuildPyramidOptions = {}): Promise<void> {
  const { signal, onProgress } = opts;
  const chunk = store instanceof ZarrVolumeStore ? store.chunk : DEFAULT_CHUNK;
  const nc = store.meta.channels.length;
  type Job = { level: number; channel: number; box: Box3 };
  const jobsPerLevel: Job[][] = [];
  let total = 0;
  for (let k = 1; k < store.levels; k++) {
    const t = store.levelShape(k);
    const jobs: Job[] = [];
    for (let channel = 0; channel < nc; channel++) {
      for (let z = 0; z < t[0]; z += chunk[0]) {
        for (let y = 0; y < t[1]; y += chunk[1]) {
          for (let x = 0; x < t[2]; x += chunk[2]) {
            jobs.push({ level: k, channel, box: { start: [z, y, x], shape: [Math.min(chunk[0], t[0] - z), Math.min(chunk[1], t[1] - y), Math.min(chunk[2], t[2] - x)] } });
          }
        }
      }
    }
    jobsPerLevel.push(jobs);
    total += jobs.length;
  }
  let done = 0;
  onProgress?.(0, 'building the pyramid');
  const concurrency = Math.max(1, opts.concurrency ?? 2);
  const method: Downsample = opts.downsample ?? (store instanceof ZarrVolumeStore ? store.downsample : 'mean');
  for (const jobs of jobsPerLevel) {
    // levels depend on the previous one: finish a level before starting the next
    let next = 0;
    const worker = async () => {
      while (next < jobs.length) {
        const job = jobs[next++]!;
        throwIfAborted(signal);
        await downsampleBlock(store, job.level, job.channel, job.box, method, signal);
        done++;
        onProgress?.(done / total, `building the pyramid (level ${job.level} of ${store.levels - 1})`);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
  }
  if (store instanceof ZarrVolumeStore && !store.pyramidComplete) await store.updateAttrs({ pyramidComplete: true });
  onProgress?.(1, 'pyramid built');
}

async function downsampleBlock(store: VolumeStore, level: number, channel: number, box: Box3, method: Downsample, signal?: AbortSignal): Promise<void> {
  const src = store.levelShape(level - 1);
  const dst = store.levelShape(level);
  const fz = src[0] === dst[0] ? 1 : 2;
  const f: Shape3 = [fz, 2, 2];
  const s0 = box.start.map((s, a) => s * f[a]!) as Shape3;
  const s1 = box.start.map((s, a) => Math.min((s + box.shape[a]!) * f[a]!, src[a]!)) as Shape3;
  const sShape = sub(s1, s0);
  const data = await store.readBlock({ start: s0, shape: sShape }, { channel, level: level - 1, signal });
  const out = downsample2x(data, sShape, fz === 2, store.meta.dtype, method);
  await store.writeBlock(box, out, { channel, level });
}

/**
 * Mean of 2x2x2 (or 1x2x2 when !halveZ) blocks of a z-major block; odd edges average the voxels
 * that exist. Output shape: (ceil(nz/2) or nz, ceil(ny/2), ceil(nx/2)).
 */
export function downsample2x(data: AnyVoxelArray, shape: Shape3, halveZ: boolean, dtype: DType, method: Downsample = 'mean'): AnyVoxelArray {
  const [nz, ny, nx] = shape;
  const oz = halveZ ? Math.ceil(nz / 2) : nz;
  const oy = Math.ceil(ny / 2);
  const ox = Math.ceil(nx / 2);
  const out = allocate(dtype, oz * oy * ox);
  if (method === 'mode') {
    modeDownsample(data, shape, halveZ, out, [oz, oy, ox]);
    return out;
  }
  const round = dtype !== 'float32';
  let o = 0;
  for (let z = 0; z < oz; z++) {
    const z0 = halveZ ? 2 * z : z;
    const z1 = halveZ && z0 + 1 < nz ? z0 + 1 : z0;
    for (let y = 0; y < oy; y++) {
      const y0 = 2 * y;
      const y1 = y0 + 1 < ny ? y0 + 1 : y0;
      // duplicated rows/columns (odd edges) count twice in both sum and divisor: the mean is unchanged
      const r0 = (z0 * ny + y0) * nx;
      const r1 = (z0 * ny + y1) * nx;
      const r2 = (z1 * ny + y0) * nx;
      const r3 = (z1 * ny + y1) * nx;
      for (let x = 0; x < ox; x++) {
        const a = 2 * x;
        const b = a + 1 < nx ? a + 1 : a;
        const sum = data[r0 + a]! + data[r0 + b]! + data[r1 + a]! + data[r1 + b]! + data[r2 + a]! + data[r2 + b]! + data[r3 + a]! + data[r3 + b]!;
        out[o++] = round ? Math.round(sum / 8) : sum / 8;
      }
    }
  }
  return out;
}

/** Most frequent value of each block (ties: the value met first, in z, y, x order). */
function modeDownsample(data: AnyVoxelArray, shape: Shape3, halveZ: boolean, out: AnyVoxelArray, os: Shape3): void {
  const [nz, ny, nx] = shape;
  const [oz, oy, ox] = os;
  const v = new Float64Array(8);
  let o = 0;
  for (let z = 0; z < oz; z++) {
    const z0 = halveZ ? 2 * z : z;
    const zs = halveZ && z0 + 1 < nz ? 2 : 1;
    for (let y = 0; y < oy; y++) {
      const ys = 2 * y + 1 < ny ? 2 : 1;
      for (let x = 0; x < ox; x++) {
        const xs = 2 * x + 1 < nx ? 2 : 1;
        let n = 0;
        for (let dz = 0; dz < zs; dz++)
          for (let dy = 0; dy < ys; dy++) {
            const row = ((z0 + dz) * ny + 2 * y + dy) * nx + 2 * x;
            for (let dx = 0; dx < xs; dx++) v[n++] = data[row + dx]!;
          }
        let best = v[0]!;
        let bestCount = 0;
        for (let i = 0; i < n; i++) {
          let c = 0;
          for (let j = i; j < n; j++) if (v[j] === v[i]) c++;
          if (c > bestCount) (best = v[i]!), (bestCount = c);
        }
        out[o++] = best;
      }
    }
  }
}

/**
 * Writes level 0 slab by slab (in z order, each slab starting at a multiple of the chunk z) and
 * builds every pyramid level on the fly from the slabs in memory: no second pass over the store.
 * Extra memory: at most one slab per level (each 1/4 of the one below).
 */
export class PyramidSlabWriter {
  readonly #store: ZarrVolumeStore;
  readonly #channel: number;
  readonly #shapes: Shape3[];
  readonly #cz: number;
  /** per level ≥ 1: pending slices (z-major), their first z, and how many are filled */
  readonly #buf: { data: AnyVoxelArray | null; z0: number; filled: number }[];
  #nextZ = 0;

  constructor(store: ZarrVolumeStore, channel = 0) {
    this.#store = store;
    this.#channel = channel;
    this.#shapes = Array.from({ length: store.levels }, (_, k) => store.levelShape(k));
    this.#cz = store.chunk[0];
    this.#buf = this.#shapes.map(() => ({ data: null, z0: 0, filled: 0 }));
  }

  /** Push the next level-0 slab: `dz` slices starting at z0 (z0 = previous end). */
  async push(z0: number, dz: number, data: AnyVoxelArray): Promise<void> {
    if (z0 !== this.#nextZ) throw new Error(`PyramidSlabWriter: slabs must come in order (expected z ${this.#nextZ}, got ${z0})`);
    this.#nextZ += dz;
    await this.#writeSlab(0, z0, dz, data);
  }

  async #writeSlab(level: number, z0: number, dz: number, data: AnyVoxelArray): Promise<void> {
    const [, ny, nx] = this.#shapes[level]!;
    await this.#store.writeBlock({ start: [z0, 0, 0], shape: [dz, ny, nx] }, data, { channel: this.#channel, level });
    if (level + 1 >= this.#shapes.length) return;
    const next = this.#shapes[level + 1]!;
    const halveZ = next[0] !== this.#shapes[level]![0];
    // slabs start at even z (multiples of the chunk z, or of an even chunk z / 2), so pairs never straddle two slabs
    const down = downsample2x(data, [dz, ny, nx], halveZ, this.#store.meta.dtype, this.#store.downsample);
    const downZ = halveZ ? Math.ceil(dz / 2) : dz;
    const downZ0 = halveZ ? z0 / 2 : z0;
    await this.#append(level + 1, downZ0, downZ, down);
  }

  async #append(level: number, z0: number, dz: number, data: AnyVoxelArray): Promise<void> {
    const [nz, ny, nx] = this.#shapes[level]!;
    const b = this.#buf[level]!;
    const plane = ny * nx;
    let off = 0;
    while (off < dz) {
      if (!b.data) {
        b.data = allocate(this.#store.meta.dtype, Math.min(this.#cz, nz) * plane);
        b.z0 = z0 + off;
        b.filled = 0;
      }
      const cap = Math.min(this.#cz, nz - b.z0);
      const k = Math.min(cap - b.filled, dz - off);
      b.data.set(data.subarray(off * plane, (off + k) * plane) as never, b.filled * plane);
      b.filled += k;
      off += k;
      if (b.filled === cap) await this.#flush(level);
    }
  }

  async #flush(level: number): Promise<void> {
    const b = this.#buf[level]!;
    if (!b.data || b.filled === 0) return;
    const plane = this.#shapes[level]![1] * this.#shapes[level]![2];
    const data = b.data.subarray(0, b.filled * plane);
    const { z0, filled } = b;
    b.data = null;
    b.filled = 0;
    await this.#writeSlab(level, z0, filled, data);
  }

  /** Flush partly filled slabs (the last ones of each level) and mark the pyramid complete. */
  async finish(): Promise<void> {
    if (this.#nextZ !== this.#shapes[0]![0]) throw new Error(`PyramidSlabWriter: only ${this.#nextZ} of ${this.#shapes[0]![0]} slices were pushed`);
    for (let k = 1; k < this.#shapes.length; k++) await this.#flush(k);
    if (this.#channel === this.#store.meta.channels.length - 1 && !this.#store.pyramidComplete) await this.#store.updateAttrs({ pyramidComplete: true });
  }

  /** Streaming needs slabs that start at even z; otherwise use writeBlock + buildPyramid. */
  static supports(store: ZarrVolumeStore): boolean {
    return store.chunk[0] % 2 === 0 || store.levels === 1;
  }
}

/** Write an in-memory volume to a new store and build its pyramid (demo, tests). */
export async function writeDenseVolume(
  path: string,
  dense: DenseVolume | { meta: VolumeMeta; channels: AnyVoxelArray[] },
  opts: CreateVolumeOptions & StageOptions = {},
): Promise<ZarrVolumeStore> {
  const channels = 'channels' in dense ? dense.channels : [dense.data];
  const meta: VolumeMeta = { ...dense.meta, channels: dense.meta.channels.length === channels.length ? dense.meta.channels : channels.map((_, i) => `channel ${i}`) };
  const n = voxelCount(meta.shape);
  channels.forEach((c, i) => {
    if (c.length !== n) throw invalidInput(`Volume "${path}": channel ${i} has ${c.length} voxels but the shape (${meta.shape.join(' x ')}) needs ${n}.`);
  });
  const store = await createVolume(path, meta, opts);
  const [nz, ny, nx] = meta.shape;
  const slab = store.chunk[0];
  const streaming = PyramidSlabWriter.supports(store);
  const steps = channels.length * Math.ceil(nz / slab);
  let step = 0;
  for (let c = 0; c < channels.length; c++) {
    const writer = streaming ? new PyramidSlabWriter(store, c) : null;
    for (let z = 0; z < nz; z += slab) {
      throwIfAborted(opts.signal);
      const dz = Math.min(slab, nz - z);
      const data = channels[c]!.subarray(z * ny * nx, (z + dz) * ny * nx);
      if (writer) await writer.push(z, dz, data);
      else await store.writeBlock({ start: [z, 0, 0], shape: [dz, ny, nx] }, data, { channel: c });
      opts.onProgress?.((streaming ? 1 : 0.5) * (++step / steps), 'writing the volume');
    }
    await writer?.finish();
  }
  if (!streaming) await buildPyramid(store, { signal: opts.signal, onProgress: (f, m) => opts.onProgress?.(0.5 + 0.5 * f, m) });
  opts.onProgress?.(1, 'volume written');
  return store;
}

/** Uncompressed size of a volume's level 0 in bytes. */
export function uncompressedBytes(meta: VolumeMeta): number {
  return voxelCount(meta.shape) * bytesPerVoxel(meta.dtype) * meta.channels.length;
}
