/**
 * OME-Zarr 0.4 on Zarr v2: the export for the many viewers and libraries that cannot open a Zarr
 * v3 store yet (zarr-python 2.x, older napari / Fiji MoBIE / neuroglancer builds). Same pyramid,
 * axes, units and coordinate transformations as the v3 store's OME-Zarr 0.5 metadata
 * (lib/volume/zarr/store-attrs.ts omeAttributes), written the v2 way:
 *   .zgroup {"zarr_format": 2}, .zattrs {"multiscales": [{"version": "0.4", ...}], "omero": ...}
 *   <level>/.zarray (C order, "/" dimension separator, zlib or no compressor), <level>/<c>/<z>/<y>/<x>
 * Chunks are whole (edge chunks padded with the fill value 0), as Zarr v2 requires.
 *
 * The files come from one generator (`omeZarrV2Files`), read a slab of chunk rows at a time; the
 * CLI writes them to a folder (`writeOmeZarrV2`: temp folder, renamed when complete) and the web
 * download zips them as they are made (`omeZarrV2Zip`).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { deflateSync } from 'node:zlib';
import { invalidInput, isPetromapError, PetromapError, throwIfAborted, type StageOptions } from '../errors';
import { checkDiskBudget, DEFAULT_LIMITS, type Limits } from '../limits';
import type { VolumeStore } from '../volume/store';
import { allocate, bytesPerVoxel, type AnyVoxelArray, type DType, type Shape3 } from '../volume/types';
import { omeAttributes, type Downsample } from '../volume/zarr/store-attrs';
import { ZarrVolumeStore } from '../volume/zarr-store-node';
import { zipStream } from './export-stream-node';
import { assumedSpacingWords, ASSUMED_SPACING_NOTE } from './volume-headers';

export interface OmeZarrV2Options extends StageOptions {
  /** one channel, or all (default all) */
  channel?: number | 'all';
  /** default 'zlib' (level 1; numcodecs' zlib codec) */
  compression?: 'zlib' | 'none';
  /** chunk (z, y, x); default the store's chunk, else 64^3 */
  chunk?: Shape3;
  /** multiscales name (default: the store's folder name) */
  name?: string;
  /** disk budget of writeOmeZarrV2 (default DEFAULT_LIMITS) */
  limits?: Limits;
}

const V2_DTYPE: Record<DType, string> = { uint8: '|u1', uint16: '<u2', float32: '<f4' };

const json = (o: unknown) => new TextEncoder().encode(JSON.stringify(o, null, 2));

/** The levels to export: all of a complete pyramid, else level 0 only. */
function levelShapes(store: VolumeStore): Shape3[] {
  const complete = !(store instanceof ZarrVolumeStore) || store.pyramidComplete;
  const n = complete ? store.levels : 1;
  return Array.from({ length: n }, (_, k) => store.levelShape(k));
}

/** Display range of the omero channels: the type's range (labels and uint8 scans), 0–1 for float. */
const WINDOW: Record<DType, [number, number]> = { uint8: [0, 255], uint16: [0, 65535], float32: [0, 1] };

/**
 * The `.zattrs` of the group: OME-Zarr 0.4 multiscales (version inside each multiscale; the same
 * axes, units, transformations and `metadata` as the v3 store's 0.5 metadata), and omero channels
 * with the window and colour 0.4 requires. A voxel size assumed at import is marked as the v3
 * store marks it (`petromap.spacingAssumed`), with a note in words.
 */
export function omeZarrV2Attributes(name: string, meta: VolumeStore['meta'], channels: string[], shapes: Shape3[], downsample: Downsample, spacingAssumed = false) {
  const v05 = omeAttributes(name, { ...meta, channels }, shapes, downsample);
  const [min, max] = WINDOW[meta.dtype];
  return {
    multiscales: v05.multiscales.map((m) => ({ version: '0.4', ...m })),
    omero: { channels: channels.map((label) => ({ label, active: true, color: 'FFFFFF', window: { min, max, start: min, end: max } })) },
    ...(spacingAssumed ? { petromap: { spacingAssumed: true, note: `${ASSUMED_SPACING_NOTE}: ${assumedSpacingWords(meta.spacingUm)}` } } : {}),
  };
}

/** Every file of the v2 store, in order (metadata first), as (relative path, bytes). */
export async function* omeZarrV2Files(store: VolumeStore, opts: OmeZarrV2Options = {}): AsyncGenerator<{ path: string; bytes: Uint8Array }> {
  const meta = store.meta;
  const nc = meta.channels.length;
  const chans = opts.channel === undefined || opts.channel === 'all' ? Array.from({ length: nc }, (_, c) => c) : [opts.channel];
  for (const c of chans) if (!(Number.isInteger(c) && c >= 0 && c < nc)) throw invalidInput(`${path.basename(store.path)} has ${nc} channel(s); channel ${c} does not exist.`);
  const chunk: Shape3 = opts.chunk ?? (store instanceof ZarrVolumeStore ? store.chunk : [64, 64, 64]);
  const compression = opts.compression ?? 'zlib';
  const downsample = store instanceof ZarrVolumeStore ? store.downsample : 'mean';
  const shapes = levelShapes(store);
  const name = opts.name ?? path.basename(store.path).replace(/\.ome\.zarr$/, '');
  yield { path: '.zgroup', bytes: json({ zarr_format: 2 }) };
  yield { path: '.zattrs', bytes: json(omeZarrV2Attributes(name, meta, chans.map((c) => meta.channels[c]!), shapes, downsample, store.spacingAssumed === true)) };
  const total = shapes.reduce((s, sh) => s + sh[0], 0) * chans.length;
  let done = 0;
  for (const [k, shape] of shapes.entries()) {
    const ch = shape.map((n, a) => Math.min(n, chunk[a]!)) as Shape3;
    yield {
      path: `${k}/.zarray`,
      bytes: json({
        zarr_format: 2,
        shape: [chans.length, ...shape],
        chunks: [1, ...ch],
        dtype: V2_DTYPE[meta.dtype],
        compressor: compression === 'zlib' ? { id: 'zlib', level: 1 } : null,
        fill_value: 0,
        order: 'C',
        filters: null,
        dimension_separator: '/',
      }),
    };
    const [nz, ny, nx] = shape;
    const chunkVoxels = ch[0] * ch[1] * ch[2];
    for (const [ci, c] of chans.entries()) {
      for (let z0 = 0; z0 < nz; z0 += ch[0]) {
        throwIfAborted(opts.signal);
        const dz = Math.min(ch[0], nz - z0);
        const slab = await store.readBlock({ start: [z0, 0, 0], shape: [dz, ny, nx] }, { channel: c, level: k, signal: opts.signal });
        for (let y0 = 0; y0 < ny; y0 += ch[1]) {
          for (let x0 = 0; x0 < nx; x0 += ch[2]) {
            const out = allocate(meta.dtype, chunkVoxels);
            const dy = Math.min(ch[1], ny - y0);
            const dx = Math.min(ch[2], nx - x0);
            for (let z = 0; z < dz; z++) {
              for (let y = 0; y < dy; y++) {
                const from = (z * ny + y0 + y) * nx + x0;
                out.set(slab.subarray(from, from + dx) as never, (z * ch[1] + y) * ch[2]);
              }
            }
            const raw = bytesOf(out);
            yield { path: `${k}/${ci}/${z0 / ch[0]}/${y0 / ch[1]}/${x0 / ch[2]}`, bytes: compression === 'zlib' ? deflateSync(raw, { level: 1 }) : raw };
          }
        }
        done += dz;
        opts.onProgress?.(done / total, `exported level ${k}, slice ${z0 + dz} of ${nz}`);
      }
    }
  }
}

const bytesOf = (a: AnyVoxelArray) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** Uncompressed size of what `omeZarrV2Files` writes (padded chunks of every level), for the disk check. */
export function omeZarrV2Bytes(store: VolumeStore, chunk: Shape3, channels: number): number {
  return levelShapes(store).reduce((s, sh) => {
    const ch = sh.map((n, a) => Math.min(n, chunk[a]!));
    return s + sh.reduce((p, n, a) => p * Math.ceil(n / ch[a]!) * ch[a]!, 1);
  }, 0) * channels * bytesPerVoxel(store.meta.dtype);
}

/** Write the v2 store to `outPath` (a new folder): into a temp folder beside it, renamed when complete. */
export async function writeOmeZarrV2(store: VolumeStore, outPath: string, opts: OmeZarrV2Options = {}): Promise<number> {
  if (await stat(/*turbopackIgnore: true*/ outPath).catch(() => null)) {
    throw new PetromapError('Conflict', `Cannot export to ${path.basename(outPath)}: it already exists. Choose another name or delete it first.`);
  }
  const chunk: Shape3 = opts.chunk ?? (store instanceof ZarrVolumeStore ? store.chunk : [64, 64, 64]);
  const channels = opts.channel === undefined || opts.channel === 'all' ? store.meta.channels.length : 1;
  const dir = path.dirname(path.resolve(outPath));
  await checkDiskBudget(`Exporting ${path.basename(outPath)}`, dir, omeZarrV2Bytes(store, chunk, channels), opts.limits ?? DEFAULT_LIMITS).catch((err: unknown) => {
    if (isPetromapError(err)) throw err; // statfs unsupported: the write itself reports ENOSPC
  });
  const tmp = `${outPath}.partial-${randomBytes(4).toString('hex')}`;
  let bytes = 0;
  try {
    await mkdir(/*turbopackIgnore: true*/ tmp, { recursive: true });
    const made = new Set<string>();
    for await (const f of omeZarrV2Files(store, opts)) {
      const file = path.join(/*turbopackIgnore: true*/ tmp, f.path);
      const dir = path.dirname(file);
      if (!made.has(dir)) (await mkdir(/*turbopackIgnore: true*/ dir, { recursive: true }), made.add(dir));
      await writeFile(/*turbopackIgnore: true*/ file, f.bytes);
      bytes += f.bytes.length;
    }
    await rename(/*turbopackIgnore: true*/ tmp, outPath);
    return bytes;
  } catch (err) {
    await rm(/*turbopackIgnore: true*/ tmp, { recursive: true, force: true });
    const code = (err as NodeJS.ErrnoException)?.code;
    if (code === 'ENOSPC' || code === 'EDQUOT') throw new PetromapError('DiskFull', `The disk is full while exporting to ${path.basename(outPath)}. Free some space and try again.`, { cause: err });
    throw err;
  }
}

/** The v2 store as a zip of stored entries under `prefix/`, made as it is sent (the web download). */
export function omeZarrV2Zip(store: VolumeStore, prefix: string, opts: OmeZarrV2Options = {}): AsyncGenerator<Uint8Array> {
  async function* entries() {
    for await (const f of omeZarrV2Files(store, opts)) yield { name: `${prefix}/${f.path}`, body: f.bytes };
  }
  return zipStream(entries(), opts);
}
