/**
 * Volume exports as byte streams: NRRD (raw), NIfTI-1 (.nii) and an uncompressed multi-page
 * TIFF stack, each a header (volume-headers.ts) followed by the voxels read a slab of slices at a
 * time, and an OME-Zarr store folder as a zip (stored, read file by file). One exporter for the
 * files the CLI writes (export-node.ts writes these streams to a temp name and renames) and the
 * downloads the web app streams; nothing holds a whole volume in memory.
 *
 * Several channels (e.g. class probabilities): NRRD 4D with the channel axis fastest
 * (interleaved), NIfTI 4D with the channels along the 4th axis (one after the other), TIFF pages
 * in ImageJ hyperstack order (the channels of a slice together).
 */
import { createReadStream } from 'node:fs';
import { open, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Zip, ZipPassThrough } from 'fflate';
import { PetromapError, invalidInput, throwIfAborted, unsupported, type StageOptions } from '../errors';
import type { VolumeStore } from '../volume/store';
import { bytesPerVoxel, type AnyVoxelArray, type Shape3 } from '../volume/types';
import { assumedSpacingWords, ASSUMED_SPACING_NOTE, classicTiffFits, niftiHeader, nrrdHeader, tiffFileHeader, tiffPageBeforeData, tiffTags } from './volume-headers';

export type StreamFormat = 'nrrd' | 'nifti' | 'tiff';

export interface ByteStream {
  /** file name extension without the dot */
  extension: string;
  contentType: string;
  /** exact number of bytes `body` yields */
  length: number;
  body: AsyncGenerator<Uint8Array>;
}

export interface StreamOptions extends StageOptions {
  /** one channel, or all of them (default 0 for a single-channel store, else 'all') */
  channel?: number | 'all';
  /** NRRD comment / NIfTI descrip (default "petromap export") */
  description?: string;
  /** bytes read at a time, at most (default 64 MiB; at least one slice of every channel exported) */
  slabBytes?: number;
}

const SLAB_BYTES = 64 * 2 ** 20;

const bytesOf = (a: AnyVoxelArray) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

function channelsOf(store: VolumeStore, channel: StreamOptions['channel']): number[] {
  const nc = store.meta.channels.length;
  if (channel === undefined || channel === 'all') return Array.from({ length: nc }, (_, c) => c);
  if (!(Number.isInteger(channel) && channel >= 0 && channel < nc)) throw invalidInput(`${store.path} has ${nc} channel(s); channel ${channel} does not exist.`);
  return [channel];
}

interface Plan {
  store: VolumeStore;
  chans: number[];
  slabZ: number;
  opts: StreamOptions;
}

function plan(store: VolumeStore, chans: number[], opts: StreamOptions): Plan {
  const [nz, ny, nx] = store.meta.shape;
  const slice = ny * nx * bytesPerVoxel(store.meta.dtype) * chans.length;
  return { store, chans, slabZ: Math.max(1, Math.min(nz, Math.floor((opts.slabBytes ?? SLAB_BYTES) / slice))), opts };
}

/** Slabs of `slabZ` slices, the data of each channel in `chans`. */
async function* eachSlab(p: Plan, chans: number[]): AsyncGenerator<{ z0: number; depth: number; data: AnyVoxelArray[] }> {
  const [nz, ny, nx] = p.store.meta.shape;
  for (let z0 = 0; z0 < nz; z0 += p.slabZ) {
    throwIfAborted(p.opts.signal);
    const depth = Math.min(p.slabZ, nz - z0);
    const box = { start: [z0, 0, 0] as Shape3, shape: [depth, ny, nx] as Shape3 };
    const data: AnyVoxelArray[] = [];
    for (const c of chans) data.push(await p.store.readBlock(box, { channel: c, signal: p.opts.signal }));
    yield { z0, depth, data };
  }
}

/** Channel after channel, each z-major. */
async function* channelMajor(p: Plan): AsyncGenerator<Uint8Array> {
  const nz = p.store.meta.shape[0];
  for (const [k, c] of p.chans.entries()) {
    for await (const s of eachSlab(p, [c])) {
      yield bytesOf(s.data[0]!);
      p.opts.onProgress?.((k * nz + s.z0 + s.depth) / (p.chans.length * nz), `exported channel ${k + 1} of ${p.chans.length}, slice ${s.z0 + s.depth} of ${nz}`);
    }
  }
}

/** All channels of a voxel together (NRRD's fastest axis). */
async function* interleaved(p: Plan): AsyncGenerator<Uint8Array> {
  const nc = p.chans.length;
  if (nc === 1) return yield* channelMajor(p);
  for await (const s of eachSlab(p, p.chans)) {
    const first = s.data[0]!;
    const out = new (first.constructor as new (n: number) => AnyVoxelArray)(first.length * nc);
    for (let c = 0; c < nc; c++) {
      const d = s.data[c]!;
      for (let i = 0; i < d.length; i++) out[i * nc + c] = d[i]!;
    }
    yield bytesOf(out);
    slabDone(p, s);
  }
}

function slabDone(p: Plan, s: { z0: number; depth: number }) {
  const nz = p.store.meta.shape[0];
  p.opts.onProgress?.((s.z0 + s.depth) / nz, `exported slice ${s.z0 + s.depth} of ${nz}`);
}

/**
 * ImageJ's description: stack layout, unit, z spacing (x and y are the resolution tags) and the
 * origin as ImageJ keeps it (xorigin/yorigin/zorigin in voxels: µm = (index - origin) * spacing).
 * A voxel size assumed at import (1 µm) is written as ImageJ's uncalibrated unit, `unit=pixel`
 * (Fiji then measures in voxels and says so), with a `petromap=` line saying why; an assumed size
 * other than 1 keeps `unit=micron` (pixel units must be 1) and the line.
 */
export function imageJDescription(nz: number, nc: number, spacingUm: readonly number[], originUm: readonly number[], spacingAssumed = false): string {
  const stack = nc > 1 ? `channels=${nc}\nslices=${nz}\nhyperstack=true\nmode=grayscale\n` : `slices=${nz}\n`;
  const origin = ['z', 'y', 'x']
    .map((a, i) => (originUm[i] ? `${a}origin=${-originUm[i]! / spacingUm[i]!}\n` : ''))
    .reverse()
    .join('');
  const unit = spacingAssumed && spacingUm.every((v) => v === 1) ? 'pixel' : 'micron';
  const why = spacingAssumed ? `petromap=${ASSUMED_SPACING_NOTE}: ${assumedSpacingWords(spacingUm as [number, number, number])}\n` : '';
  return `ImageJ=1.11a\nimages=${nz * nc}\n${stack}unit=${unit}\nspacing=${spacingUm[0]}\n${origin}loop=false\n${why}`;
}

function tiffStream(p: Plan): { length: number; body: AsyncGenerator<Uint8Array> } {
  const meta = p.store.meta;
  const [nz, ny, nx] = meta.shape;
  const nc = p.chans.length;
  const pages = nz * nc;
  const pageBytes = ny * nx * bytesPerVoxel(meta.dtype);
  if (!classicTiffFits(pages, pageBytes)) {
    throw unsupported(`${nx} x ${ny} x ${nz} ${meta.dtype} voxels x ${nc} channel(s) do not fit a classic TIFF (4 GB limit); export as NRRD, NIfTI or OME-Zarr instead.`);
  }
  // every page as [IFD + values][pixels][pad]: all offsets are known before the pixels are read
  const extraTags = [tiffTags.newSubfileType(), ...tiffTags.resolutionPerUm(meta.spacingUm[2], meta.spacingUm[1]), tiffTags.sampleFormat(meta.dtype)];
  const desc = imageJDescription(nz, nc, meta.spacingUm, meta.originUm, p.store.spacingAssumed === true);
  const layout: { header: Uint8Array; padAfter: number }[] = [];
  let off = 8;
  for (let k = 0; k < pages; k++) {
    const page = tiffPageBeforeData({ width: nx, height: ny, dtype: meta.dtype, pageStart: off, last: k === pages - 1, description: k === 0 ? desc : null, extraTags });
    layout.push({ header: page.header, padAfter: page.padAfter });
    off = page.nextPageStart;
  }
  async function* body() {
    yield tiffFileHeader(8);
    let k = 0;
    for await (const s of eachSlab(p, p.chans)) {
      for (let z = 0; z < s.depth; z++) for (let c = 0; c < nc; c++) {
        const page = layout[k++]!;
        yield page.header;
        yield bytesOf(s.data[c]!).subarray(z * pageBytes, (z + 1) * pageBytes);
        if (page.padAfter) yield new Uint8Array(page.padAfter);
      }
      slabDone(p, s);
    }
  }
  return { length: off, body: body() };
}

/** The bytes of `store` in `format`, streamed; `length` is exact. */
export function volumeByteStream(store: VolumeStore, format: StreamFormat, opts: StreamOptions = {}): ByteStream {
  throwIfAborted(opts.signal);
  const chans = channelsOf(store, opts.channel ?? (store.meta.channels.length === 1 ? 0 : 'all'));
  const p = plan(store, chans, opts);
  const meta = store.meta;
  const [nz, ny, nx] = meta.shape;
  const dataBytes = nz * ny * nx * chans.length * bytesPerVoxel(meta.dtype);
  const description = opts.description ?? 'petromap export';
  // a voxel size assumed at import is written, but marked as assumed in each header (volume-headers.ts)
  const spacingAssumed = store.spacingAssumed === true;
  if (format === 'nrrd') {
    const names = chans.map((c) => meta.channels[c] ?? `channel ${c}`);
    const units = spacingAssumed ? 'units are micrometres of an assumed voxel size' : 'units are micrometres';
    const head = new TextEncoder().encode(nrrdHeader({ shape: meta.shape, spacingUm: meta.spacingUm, originUm: meta.originUm, dtype: meta.dtype, channels: chans.length > 1 ? names : undefined, comment: `${description}; ${units}`, spacingAssumed }));
    return { extension: 'nrrd', contentType: 'application/octet-stream', length: head.length + dataBytes, body: (async function* () { yield head; yield* interleaved(p); })() };
  }
  if (format === 'nifti') {
    const head = niftiHeader({ shape: meta.shape, spacingUm: meta.spacingUm, originUm: meta.originUm, dtype: meta.dtype, channels: chans.length, units: 'mm', description, spacingAssumed });
    return { extension: 'nii', contentType: 'application/octet-stream', length: head.length + dataBytes, body: (async function* () { yield head; yield* channelMajor(p); })() };
  }
  if (format === 'tiff') return { extension: 'tif', contentType: 'image/tiff', ...tiffStream(p) };
  throw unsupported(`Export format "${String(format)}" is not supported; use ome-zarr, nrrd, nifti or tiff.`);
}

/** One zip entry: its name and its bytes (one buffer, or pieces as they are read). */
export interface ZipEntrySource {
  name: string;
  body: Uint8Array | AsyncIterable<Uint8Array>;
}

/** A zip of stored (uncompressed) entries, made as the entries' bytes arrive. */
export async function* zipStream(entries: AsyncIterable<ZipEntrySource> | Iterable<ZipEntrySource>, opts: Pick<StageOptions, 'signal'> = {}): AsyncGenerator<Uint8Array> {
  const queue: Uint8Array[] = [];
  let failed: Error | null = null;
  const zip = new Zip((err, data) => {
    if (err) failed = err;
    else queue.push(data);
  });
  for await (const e of entries) {
    throwIfAborted(opts.signal);
    const entry = new ZipPassThrough(e.name);
    zip.add(entry);
    if (e.body instanceof Uint8Array) entry.push(e.body, true);
    else {
      for await (const chunk of e.body) {
        entry.push(chunk);
        while (queue.length) yield queue.shift()!;
      }
      entry.push(new Uint8Array(0), true);
    }
    while (queue.length) yield queue.shift()!;
    if (failed) throw failed;
  }
  zip.end();
  while (queue.length) yield queue.shift()!;
}

/** The files of `dir` (hidden ones left out) as a zip of stored entries under `prefix/`, read as they are sent. */
export async function* zipDirectory(dir: string, prefix: string, opts: Pick<StageOptions, 'signal'> = {}): AsyncGenerator<Uint8Array> {
  const files: string[] = [];
  const walk = async (d: string) => {
    const entries = await readdir(/*turbopackIgnore: true*/ d, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const p = path.join(/*turbopackIgnore: true*/ d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) files.push(p);
    }
  };
  await walk(dir);
  // each file is opened when its entry starts
  function* entries(): Generator<ZipEntrySource> {
    for (const f of files) yield { name: `${prefix}/${path.relative(dir, f).split(path.sep).join('/')}`, body: createReadStream(/*turbopackIgnore: true*/ f) as AsyncIterable<Uint8Array> };
  }
  yield* zipStream(entries(), opts);
}

/** Write a byte stream to `outPath` through a temp name (a failure leaves what was there before); returns the bytes written. */
export async function writeStreamAtomic(body: AsyncIterable<Uint8Array>, outPath: string): Promise<number> {
  const tmp = `${outPath}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  const fh = await open(/*turbopackIgnore: true*/ tmp, 'w');
  let pos = 0;
  try {
    for await (const b of body) {
      await fh.write(b, 0, b.length, pos);
      pos += b.length;
    }
    await fh.close();
    await rename(/*turbopackIgnore: true*/ tmp, outPath);
    return pos;
  } catch (err) {
    await fh.close().catch(() => {});
    await rm(tmp, { force: true });
    const code = (err as NodeJS.ErrnoException)?.code;
    if (code === 'ENOSPC' || code === 'EDQUOT') throw new PetromapError('DiskFull', `The disk is full while exporting to ${outPath}. Free some space and try again.`, { cause: err });
    throw err;
  }
}
