/**
 * Import an XRM volume file into a chunked OME-Zarr store.
 *
 * Formats: multi-page TIFF, a folder of single-slice TIFFs, NRRD (raw/gzip, attached or detached),
 * MetaImage (.mha, .mhd + data file; raw or zlib), NIfTI-1 (.nii, .nii.gz), Zeiss .txm and headerless raw.
 * Voxels stream in z order, one chunk-slab (chunk z slices) at a time: memory stays bounded by one
 * slab whatever the volume size. The store is written under `<dest>.partial-<random>` and renamed to
 * `<dest>` at the end; on any failure the partial folder is removed.
 *
 * Hostile input (issue 12): every size a header declares is checked against `opts.limits` before
 * anything is allocated (one slice, one TIFF strip/tile, the slab of chunk slices) and the whole
 * store against the free disk before anything is created; a detached header may only name a file
 * in its own folder. Error messages name files by their base name only.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { availableParallelism } from 'node:os';
import * as nodePath from 'node:path';
import { invalidInput, isPetromapError, PetromapError, throwIfAborted, unsupported, type StageOptions } from '../errors';
import { checkDecodeBudget, checkDiskBudget, DEFAULT_LIMITS, safeMessage, type Limits } from '../limits';
import { Level0Writer, LEVEL0_THREAD_MIN_VOXELS } from '../parallel/level0-writer-node';
import { SOURCE_BYTES, type SourceDType } from './byte-readers-node';
import {
  isZarrFolder,
  openMeta,
  openNifti,
  openNrrd,
  openOmeZarr,
  openRaw,
  openTiff,
  openTiffFolder,
  openTxm,
  SUPPORTED_EXTENSIONS,
  type RawOptions,
  type VolumeFileDescription,
  type VolumeFormat,
  type VolumeReader,
} from './formats-node';
import { allocate, bytesPerVoxel, type DType, type Shape3, type VolumeMeta } from './types';
import { buildPyramid, createVolume, DEFAULT_CHUNK, PyramidSlabWriter, pyramidShapes, type Compression } from './zarr-store-node';

export type { VolumeFileDescription, VolumeFormat, RawOptions } from './formats-node';
export type { SourceDType } from './byte-readers-node';

export interface ImportVolumeOptions {
  format?: 'auto' | VolumeFormat;
  raw?: { shape: Shape3; dtype: DType | SourceDType; littleEndian: boolean; headerBytes?: number };
  /** overrides the voxel size read from the file, (z, y, x) µm */
  spacingUm?: [number, number, number];
  channelNames?: string[];
  /** the user's file name, used in messages (uploads arrive under temp names) */
  displayName?: string;
  /** store options (chunk: default DEFAULT_CHUNK, with fewer z slices when a slab of 64 slices would not fit the memory budget) */
  chunk?: Shape3;
  compression?: Compression;
  /** memory and disk budgets (default DEFAULT_LIMITS; the CLI and server pass limitsFromEnv()) */
  limits?: Limits;
  /** a header may name a data file in its folder (NRRD `data file`, MHD `ElementDataFile`); default true */
  allowDetachedData?: boolean;
  /** a warning about the imported data (an OME-Zarr source with missing chunks); also kept in the store (`sourceChunksMissing`) */
  onWarning?: (message: string) => void;
  /** threads writing level 0 besides the reading one (default: 2 where there are 2 cores, for scans of ≥ 2^26 voxels; 1: all in this thread) */
  threads?: number;
}

const EXT_FORMATS: [RegExp, VolumeFormat][] = [
  [/\.tiff?$/i, 'tiff'],
  [/\.(nrrd|nhdr)$/i, 'nrrd'],
  [/\.mha$/i, 'mha'],
  [/\.mhd$/i, 'mhd'],
  [/\.nii(\.gz)?$/i, 'nifti'],
  [/\.(raw|bin|vol|img)$/i, 'raw'],
  [/\.(txm|txrm|xrm)$/i, 'txm'],
];

function displayNameOf(source: string | string[], opts?: { displayName?: string }): string {
  if (opts?.displayName) return opts.displayName;
  const first = Array.isArray(source) ? source[0] : source;
  return nodePath.basename(first ?? 'volume');
}

/** Guess the format from the path (folder, extension, then the first bytes). */
export async function detectVolumeFormat(path: string, name = nodePath.basename(path)): Promise<VolumeFormat> {
  const st = await fs.promises.stat(path).catch(() => null);
  if (!st) throw new PetromapError('NotFound', `${name} does not exist.`);
  if (st.isDirectory()) return (await isZarrFolder(path)) ? 'ome-zarr' : 'tiff-folder';
  for (const [re, f] of EXT_FORMATS) if (re.test(path)) return f;
  if (st.size === 0) throw invalidInput(`${name} is empty (0 bytes). Copy the file again.`);
  const fh = await fs.promises.open(path, 'r');
  const head = Buffer.alloc(352);
  const { bytesRead } = await fh.read(head, 0, 352, 0).finally(() => fh.close());
  const s = head.subarray(0, bytesRead).toString('latin1');
  if (s.startsWith('II*\0') || s.startsWith('MM\0*') || s.startsWith('II+\0') || s.startsWith('MM\0+')) return 'tiff';
  if (s.startsWith('NRRD')) return 'nrrd';
  if (s.startsWith('\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1')) return 'txm';
  if (/^(ObjectType|NDims)\s*=/.test(s)) return 'mha';
  if (bytesRead >= 348 && (head.readInt32LE(0) === 348 || head.readInt32BE(0) === 348)) return 'nifti';
  throw unsupported(`${name}: unknown volume file type. Supported: ${SUPPORTED_EXTENSIONS}.`);
}

async function openReader(source: string | string[], opts: ImportVolumeOptions): Promise<VolumeReader> {
  const name = displayNameOf(source, opts);
  const o = { limits: opts.limits ?? DEFAULT_LIMITS, allowDetachedData: opts.allowDetachedData, spacingUm: opts.spacingUm };
  let format = opts.format && opts.format !== 'auto' ? opts.format : undefined;
  if (Array.isArray(source)) {
    if (source.length === 0) throw invalidInput('No slice files were given.');
    if (source.length === 1 && format !== 'tiff-folder') source = source[0]!;
    else format = 'tiff-folder';
  }
  if (typeof source === 'string' && !format) format = opts.raw ? 'raw' : await detectVolumeFormat(source, name);
  switch (format) {
    case 'tiff':
      return openTiff(source as string, name, o);
    case 'tiff-folder':
      return openTiffFolder(source, name, o);
    case 'nrrd':
      return openNrrd(source as string, name, o);
    case 'mha':
    case 'mhd':
      return openMeta(source as string, name, o);
    case 'nifti':
      return openNifti(source as string, name, o);
    case 'txm':
      return openTxm(source as string, name, o);
    case 'ome-zarr':
      return openOmeZarr(source as string, name, o);
    case 'raw':
      return openRaw(source as string, name, opts.raw as RawOptions | undefined, o);
    default:
      throw unsupported(`${name}: unknown volume format "${String(format)}". Supported: ${SUPPORTED_EXTENSIONS}.`);
  }
}

/** Read only the header: shape, voxel type, spacing (µm) and notes. */
export async function describeVolumeFile(source: string | string[], opts: ImportVolumeOptions = {}): Promise<VolumeFileDescription> {
  try {
    const r = await openReader(source, opts);
    await r.close();
    return applyOverrides(r.desc, opts);
  } catch (err) {
    throw cleanError(err, displayNameOf(source, opts));
  }
}

/**
 * The error as the user sees it: a PetromapError with one line, no absolute path, bounded length
 * (the readers quote header text; paths come from lower layers).
 */
function cleanError(err: unknown, name: string): PetromapError {
  if (isPetromapError(err)) {
    const msg = safeMessage(err.message);
    return msg === err.message ? err : new PetromapError(err._tag, msg, { cause: err, details: err.details });
  }
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return new PetromapError('DiskFull', `The disk filled up while importing ${name}. Free some space and try again.`, { cause: err });
  return invalidInput(safeMessage(`Could not import ${name}: ${(err as Error)?.message ?? String(err)}`), { cause: err });
}

/**
 * The chunk to store with: the caller's, or DEFAULT_CHUNK with fewer z slices (even, ≥ 2) while
 * one slab (chunk-z slices in the stored type, plus the source-type copy a conversion reads into)
 * exceeds the memory budget. Throws when even that does not fit.
 */
function chunkWithinBudget(desc: VolumeFileDescription, requested: Shape3 | undefined, name: string, limits: Limits): Shape3 {
  const [nz, ny, nx] = desc.shape;
  const direct = desc.dtype === desc.sourceType;
  const perVoxel = bytesPerVoxel(desc.dtype) + (direct ? 0 : SOURCE_BYTES[desc.sourceType]);
  const slabBytes = (cz: number) => Math.min(cz, nz) * ny * nx * perVoxel;
  const chunk: Shape3 = requested ? [...requested] : [...DEFAULT_CHUNK];
  if (!requested) while (chunk[0] > 2 && slabBytes(chunk[0]) > limits.maxDecodeBytes) chunk[0] = Math.max(2, chunk[0] >> 1);
  checkDecodeBudget(`${name}: ${Math.min(chunk[0], nz)} slices of ${nx} x ${ny} voxels`, slabBytes(chunk[0]), limits);
  return chunk;
}

function applyOverrides(desc: VolumeFileDescription, opts: ImportVolumeOptions): VolumeFileDescription {
  if (!opts.spacingUm) return desc;
  const s = opts.spacingUm;
  if (!(Array.isArray(s) && s.length === 3 && s.every((v) => Number.isFinite(v) && v > 0))) {
    throw invalidInput(`The voxel size must be three positive numbers in µm (z, y, x), got ${JSON.stringify(s)}.`);
  }
  return { ...desc, spacingUm: [...s], spacingKnown: true, notes: desc.notes.filter((n) => !/voxel size|unit|pixel width was used for z/.test(n)) };
}

/** Total bytes of all pyramid levels, uncompressed. */
export function storeBytesEstimate(meta: VolumeMeta, chunk: Shape3 = DEFAULT_CHUNK): number {
  return pyramidShapes(meta.shape, chunk).reduce((s, sh) => s + sh[0] * sh[1] * sh[2], 0) * bytesPerVoxel(meta.dtype) * meta.channels.length;
}

async function checkDiskSpace(folder: string, needed: number, name: string, limits: Limits): Promise<void> {
  try {
    await checkDiskBudget(`Importing ${name} (uncompressed, with its overview levels)`, folder, needed, limits);
  } catch (err) {
    if (isPetromapError(err)) throw err;
    // statfs unsupported here: the write itself reports ENOSPC
  }
}

/** The stored volume's metadata; an OME-Zarr source's missing chunk files (imported as its fill value) are counted when there were any. */
export type ImportedMeta = VolumeMeta & { sourceChunksMissing?: number };

/** The warning of an OME-Zarr import whose source lacks chunk files (read as the fill value, as Zarr says). */
export function missingChunksWarning(name: string, g: { missing: number; read: number; fillValue: number }): string {
  const pct = (100 * g.missing) / Math.max(1, g.read);
  return `${name}: ${g.missing.toLocaleString('en')} of its ${g.read.toLocaleString('en')} chunk files (${pct < 0.1 ? pct.toPrecision(1) : pct.toFixed(1)} %) are missing; ` +
    `they were imported as ${g.fillValue} (the array's fill value: by the Zarr rules a chunk never written holds it). ` +
    'If the tool that wrote it did not leave them out on purpose (empty background), copy the folder again.';
}

/**
 * Import `source` (a file, a folder of TIFF slices, or a list of slice files) into a new store at
 * `destPath`. Returns the stored volume's metadata.
 */
export async function importVolume(source: string | string[], destPath: string, opts: ImportVolumeOptions & StageOptions = {}): Promise<ImportedMeta> {
  const name = displayNameOf(source, opts);
  try {
    return await importVolumeInner(source, destPath, name, opts);
  } catch (err) {
    throw cleanError(err, name);
  }
}

async function importVolumeInner(source: string | string[], destPath: string, name: string, opts: ImportVolumeOptions & StageOptions): Promise<ImportedMeta> {
  const { signal, onProgress } = opts;
  const limits = opts.limits ?? DEFAULT_LIMITS;
  const destName = nodePath.basename(destPath);
  throwIfAborted(signal);
  if (await fs.promises.stat(destPath).catch(() => null)) {
    throw new PetromapError('Conflict', `Cannot import ${name}: ${destName} already exists. Choose another destination or delete it first.`);
  }
  onProgress?.(0, `reading the header of ${name}`);
  const reader = await openReader(source, opts);
  let partial: string | undefined;
  try {
    const desc = applyOverrides(reader.desc, opts);
    const channels = opts.channelNames && opts.channelNames.length === 1 ? opts.channelNames : [name.replace(/\.(nii\.gz|[^.]+)$/i, '') || 'xrm'];
    if (opts.channelNames && opts.channelNames.length !== 1) throw invalidInput(`${name} holds one channel but ${opts.channelNames.length} channel names were given.`);
    const meta: VolumeMeta = { shape: desc.shape, spacingUm: desc.spacingUm, originUm: desc.originUm, dtype: desc.dtype, channels };
    const chunk = chunkWithinBudget(desc, opts.chunk, name, limits);
    const destDir = nodePath.dirname(nodePath.resolve(destPath));
    await fs.promises.mkdir(destDir, { recursive: true });
    await checkDiskSpace(destDir, storeBytesEstimate(meta, chunk), name, limits);
    partial = `${destPath}.partial-${randomBytes(4).toString('hex')}`;
    const store = await createVolume(partial, meta, { chunk, compression: opts.compression, name: nodePath.basename(destPath), spacingAssumed: !desc.spacingKnown });
    const [nz, ny, nx] = meta.shape;
    const slabVoxels = Math.min(chunk[0], nz) * ny * nx;
    // overview levels are built from the slabs in memory when the chunk z is even (the default)
    const writer = PyramidSlabWriter.supports(store) ? new PyramidSlabWriter(store) : null;
    const share = writer ? 1 : 0.85;
    // a large scan's level 0 is written by a second thread while this one reads and builds the overviews
    // (that holds up to three slabs' worth: within the decode budget, or one thread)
    const threads = opts.threads ?? (nz * ny * nx >= LEVEL0_THREAD_MIN_VOXELS ? Math.min(2, availableParallelism()) : 1);
    const threaded = writer && threads > 1 && 3 * slabVoxels * bytesPerVoxel(meta.dtype) <= limits.maxDecodeBytes;
    const level0 = threaded ? new Level0Writer(partial, meta.dtype, ny, chunk[1], threads, signal) : null;
    try {
      const slab = level0 ? null : allocate(meta.dtype, slabVoxels);
      for (let z = 0; z < nz; z += chunk[0]) {
        throwIfAborted(signal);
        const dz = Math.min(chunk[0], nz - z);
        const whole = slab ?? level0!.buffer(slabVoxels);
        const buf = dz * ny * nx === whole.length ? whole : whole.subarray(0, dz * ny * nx);
        await reader.readSlices(buf);
        throwIfAborted(signal);
        if (level0) {
          const overviews = writer!.pushOverviews(z, dz, buf); // reads buf before it returns
          await level0.write(z, dz, whole);
          await overviews;
        } else if (writer) await writer.push(z, dz, buf);
        else await store.writeBlock({ start: [z, 0, 0], shape: [dz, ny, nx] }, buf);
        onProgress?.((share * (z + dz)) / nz, `importing ${name}: slice ${z + dz} of ${nz}`);
      }
      await level0?.finish();
    } finally {
      await level0?.close();
    }
    const gaps = reader.missingChunks?.();
    await reader.close();
    if (writer) await writer.finish();
    else await buildPyramid(store, { signal, onProgress: (f) => onProgress?.(0.85 + 0.15 * f, `building the overview levels of ${name}`) });
    throwIfAborted(signal);
    // every chunk of every level is written (all-zero ones too): from now on a chunk file missing
    // from this store is damage, refused when read, not zeros; an OME-Zarr source's missing chunks
    // (its fill value, as the Zarr spec reads them) are counted in the store and said
    await store.updateAttrs({ complete: true, ...(gaps?.missing ? { sourceChunksMissing: gaps.missing } : {}) });
    if (gaps?.missing) opts.onWarning?.(missingChunksWarning(name, gaps));
    if (await fs.promises.stat(destPath).catch(() => null)) {
      throw new PetromapError('Conflict', `Cannot import ${name}: ${destName} appeared while importing. Choose another destination.`);
    }
    await fs.promises.rename(partial, destPath);
    partial = undefined;
    onProgress?.(1, gaps?.missing ? `imported ${name}; ${gaps.missing.toLocaleString('en')} of its chunk files were missing (imported as ${gaps.fillValue})` : `imported ${name}`);
    return gaps?.missing ? { ...meta, sourceChunksMissing: gaps.missing } : meta;
  } finally {
    await reader.close().catch(() => {});
    if (partial) await fs.promises.rm(partial, { recursive: true, force: true }).catch(() => {});
  }
}
