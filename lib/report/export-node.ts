/**
 * Export a stored volume (e.g. predicted labels) to formats other tools read: OME-Zarr (copy with
 * pyramid), NRRD (raw), NIfTI-1 (.nii) and a multi-page TIFF stack with an ImageJ description
 * (µm spacing); their headers come from volume-headers.ts. NRRD, NIfTI and TIFF are streamed a
 * slab of slices at a time; every file is written under a temp name and renamed when complete.
 * Every export is a single sequential writer (one slab after the other, one store instance); the
 * OME-Zarr copy writes slabs of whole chunks of the new store (wholeChunks: true) anyway.
 */
import { open, rename, rm, writeFile } from 'node:fs/promises';
import { PetromapError, invalidInput, throwIfAborted, unsupported, type StageOptions } from '../errors';
import type { VolumeStore } from '../volume/store';
import { bytesPerVoxel, type AnyVoxelArray, type Shape3, type VolumeMeta } from '../volume/types';
import { buildPyramid, createVolume, ZarrVolumeStore } from '../volume/zarr-store-node';
import { classicTiffFits, niftiHeader as niftiHeaderFor, nrrdHeader, tiffFileHeader, tiffNextIfdField, tiffPageIfd, tiffTags } from './volume-headers';

export type ExportFormat = 'ome-zarr' | 'nrrd' | 'nifti' | 'tiff';

export interface ExportOptions extends StageOptions {
  channel?: number;
  /** slices read at a time (default 16) */
  slabZ?: number;
}

export interface ExportResult {
  path: string;
  format: ExportFormat;
  bytes: number;
}

/** Write text to a temp name and rename (a failure leaves the previous file intact). */
export async function writeTextAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  await writeFile(tmp, text);
  await rename(tmp, path);
}

function diskError(err: unknown, path: string): unknown {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return new PetromapError('DiskFull', `The disk is full while exporting to ${path}. Free some space and try again.`, { cause: err });
  return err;
}

async function forEachSlab(store: VolumeStore, opts: ExportOptions, visit: (data: AnyVoxelArray, z0: number, depth: number) => Promise<void>): Promise<void> {
  const [nz, ny, nx] = store.meta.shape;
  const slab = opts.slabZ ?? 16;
  for (let z0 = 0; z0 < nz; z0 += slab) {
    throwIfAborted(opts.signal);
    const d = Math.min(slab, nz - z0);
    const data = await store.readBlock({ start: [z0, 0, 0], shape: [d, ny, nx] as Shape3 }, { channel: opts.channel ?? 0, signal: opts.signal });
    await visit(data, z0, d);
    opts.onProgress?.((z0 + d) / nz, `exported slice ${z0 + d} of ${nz}`);
  }
}

const bytesOf = (a: AnyVoxelArray) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** The 352-byte NIfTI-1 single-file header (348 + empty extension flag), units micrometres. */
export function niftiHeader(meta: VolumeMeta): Uint8Array {
  return niftiHeaderFor({ shape: meta.shape, spacingUm: meta.spacingUm, originUm: meta.originUm, dtype: meta.dtype, units: 'um', description: 'petromap export' });
}

async function exportStream(store: VolumeStore, format: 'nrrd' | 'nifti' | 'tiff', outPath: string, opts: ExportOptions): Promise<number> {
  const meta = store.meta;
  const [nz, ny, nx] = meta.shape;
  const bpv = bytesPerVoxel(meta.dtype);
  const pageBytes = ny * nx * bpv;
  if (format === 'tiff' && !classicTiffFits(nz, pageBytes)) {
    throw unsupported(`${meta.shape.join('x')} ${meta.dtype} voxels do not fit a classic TIFF (4 GB limit); export as NRRD, NIfTI or OME-Zarr instead.`);
  }
  const tmp = `${outPath}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  const fh = await open(tmp, 'w');
  let pos = 0;
  const put = async (b: Uint8Array, at = pos) => {
    await fh.write(b, 0, b.length, at);
    if (at === pos) pos += b.length;
  };
  try {
    if (format === 'nrrd') {
      await put(Buffer.from(nrrdHeader({ ...meta, channels: undefined, comment: 'written by petromap export; units are micrometres' }), 'latin1'));
      await forEachSlab(store, opts, async (d) => put(bytesOf(d)));
    } else if (format === 'nifti') {
      await put(niftiHeader(meta));
      await forEachSlab(store, opts, async (d) => put(bytesOf(d)));
    } else {
      await put(tiffFileHeader()); // first IFD offset patched below
      let prevNext = 4; // where the offset of the next IFD goes
      const desc = `ImageJ=1.11a\nimages=${nz}\nslices=${nz}\nunit=micron\nspacing=${meta.spacingUm[0]}\nloop=false\n`;
      // pixels first, then the page's IFD (patched into the previous IFD's next-IFD field)
      const extraTags = [tiffTags.newSubfileType(), ...tiffTags.resolutionPerUm(meta.spacingUm[2], meta.spacingUm[1]), tiffTags.sampleFormat(meta.dtype)];
      await forEachSlab(store, opts, async (d, z0, depth) => {
        for (let k = 0; k < depth; k++) {
          const dataOffset = pos;
          await put(bytesOf(d).subarray(k * pageBytes, (k + 1) * pageBytes));
          if (pos & 1) await put(new Uint8Array(1));
          const ifdAt = pos;
          const ifd = tiffPageIfd({ width: nx, height: ny, dtype: meta.dtype, ifdOffset: ifdAt, dataOffset, description: z0 + k === 0 ? desc : null, extraTags });
          await put(ifd);
          const p = new Uint8Array(4);
          new DataView(p.buffer).setUint32(0, ifdAt, true);
          await fh.write(p, 0, 4, prevNext);
          prevNext = ifdAt + tiffNextIfdField(ifd);
        }
      });
    }
    await fh.close();
    await rename(tmp, outPath);
    return pos;
  } catch (err) {
    await fh.close().catch(() => {});
    await rm(tmp, { force: true });
    throw diskError(err, outPath);
  }
}

export async function exportVolume(store: VolumeStore, format: ExportFormat, outPath: string, opts: ExportOptions = {}): Promise<ExportResult> {
  throwIfAborted(opts.signal);
  const ch = opts.channel ?? 0;
  if (!(ch >= 0 && ch < store.meta.channels.length)) throw invalidInput(`${store.path} has ${store.meta.channels.length} channel(s); channel ${ch} does not exist.`);
  if (format === 'ome-zarr') {
    const chunk = store instanceof ZarrVolumeStore ? store.chunk : ([64, 64, 64] as Shape3);
    const downsample = store instanceof ZarrVolumeStore ? store.downsample : 'mean';
    const meta: VolumeMeta = { ...store.meta, channels: [store.meta.channels[ch]] };
    const out = await createVolume(outPath, meta, { chunk, downsample });
    const [nz, ny, nx] = meta.shape;
    let bytes = 0;
    for (let z = 0; z < nz; z += chunk[0]) {
      throwIfAborted(opts.signal);
      const box = { start: [z, 0, 0] as Shape3, shape: [Math.min(chunk[0], nz - z), ny, nx] as Shape3 };
      const d = await store.readBlock(box, { channel: ch, signal: opts.signal });
      await out.writeBlock(box, d, { wholeChunks: true }); // slabs of chunk[0] slices x full y, x: whole chunks
      bytes += d.byteLength;
      opts.onProgress?.((0.9 * Math.min(nz, z + chunk[0])) / nz, `copied slice ${Math.min(nz, z + chunk[0])} of ${nz}`);
    }
    await buildPyramid(out, { signal: opts.signal });
    opts.onProgress?.(1, 'exported');
    return { path: outPath, format, bytes };
  }
  if (format !== 'nrrd' && format !== 'nifti' && format !== 'tiff') throw unsupported(`Export format "${String(format)}" is not supported; use ome-zarr, nrrd, nifti or tiff.`);
  const bytes = await exportStream(store, format, outPath, opts);
  return { path: outPath, format, bytes };
}
