/** createVolume / openVolume: the two ways to get a ZarrVolumeStore. */
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import * as zarr from 'zarrita';
import { invalidInput, notFound, PetromapError } from '../../errors';
import { limitsFromEnv, type Limits } from '../../limits';
import type { Shape3, VolumeMeta } from '../types';
import { AtomicFileSystemStore, storageError } from './atomic-file-system-store-node';
import { chunkCap } from './capped-codecs';
import { checkLevelMeta, checkStoreAttrs } from './store-checks-node';
import { checkMeta, codecsFor, DEFAULT_CHUNK, pyramidShapes, type CreateVolumeOptions, type PetromapStoreAttrs } from './store-attrs';
import { writeGroup, ZarrVolumeStore, type ZArray } from './zarr-volume-store-node';

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
  // its chunk files, read back by a partial write or a read, hold at most a chunk (chunkCap's bound)
  fsStore.maxChunkBytes = chunkCap({ shape: chunk, dataType: meta.dtype })?.cap ?? fsStore.maxChunkBytes;
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
    ...(opts.spacingAssumed ? { spacingAssumed: true } : {}),
    storeId: randomUUID(),
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

/**
 * Open an existing petromap volume store. A store copied in or damaged on disk is not trusted: a
 * link in it, attributes or level metadata petromap does not write, and chunks larger than
 * `limits.maxDecodeBytes` are refused before any chunk is read (store-checks-node.ts).
 */
export async function openVolume(path: string, opts: { limits?: Limits } = {}): Promise<ZarrVolumeStore> {
  const stat = await fs.promises.stat(path).catch(() => null);
  if (!stat) throw notFound(`Volume "${path}" does not exist.`);
  if (!stat.isDirectory()) throw invalidInput(`"${path}" is a file, not a petromap volume (an .ome.zarr folder). Import it first with "petromap import".`);
  const fsStore = new AtomicFileSystemStore(path);
  await fsStore.checkTree();
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
  checkStoreAttrs(path, attrs);
  const arrays: ZArray[] = [];
  let maxChunkFile = 0;
  const limits = opts.limits ?? limitsFromEnv(); // the message names PETROMAP_MAX_DECODE_MB: raising it must count
  for (let k = 0; k < attrs.levels; k++) {
    maxChunkFile = Math.max(maxChunkFile, await checkLevelMeta(path, fsStore, k, attrs, limits));
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
  fsStore.maxChunkBytes = maxChunkFile;
  return new ZarrVolumeStore(path, fsStore, attrs, arrays);
}
