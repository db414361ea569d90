/**
 * Export a stored volume (e.g. predicted labels) to formats other tools read: OME-Zarr (copy with
 * pyramid; Zarr v3, or Zarr v2 / OME-Zarr 0.4 for older readers), NRRD (raw), NIfTI-1 (.nii) and a multi-page TIFF stack with an ImageJ description
 * (µm spacing). NRRD, NIfTI and TIFF are the byte streams of export-stream-node.ts (the same
 * bytes the web app's downloads send), written to a temp name and renamed when complete.
 * Every export is a single sequential writer (one slab after the other, one store instance); the
 * OME-Zarr copy writes slabs of whole chunks of the new store (wholeChunks: true) anyway.
 */
import { rename, writeFile } from 'node:fs/promises';
import { invalidInput, throwIfAborted, unsupported, type StageOptions } from '../errors';
import type { VolumeStore } from '../volume/store';
import { bytesPerVoxel, type Shape3, type VolumeMeta } from '../volume/types';
import { buildPyramid, createVolume, ZarrVolumeStore } from '../volume/zarr-store-node';
import { writeOmeZarrV2 } from './export-ome-zarr-v2-node';
import { volumeByteStream, writeStreamAtomic } from './export-stream-node';
import { niftiHeader as niftiHeaderFor } from './volume-headers';

/**
 * The formats `exportVolume` writes: 'ome-zarr' (Zarr v3, OME-Zarr 0.5, a chunk copy with its
 * pyramid), 'ome-zarr-v2' (Zarr v2, OME-Zarr 0.4: export-ome-zarr-v2-node.ts), 'nrrd', 'nifti'
 * (.nii) and 'tiff' (ImageJ stack). EXPORT_FORMATS lists them with their usual file name ending.
 */
export type ExportFormat = 'ome-zarr' | 'ome-zarr-v2' | 'nrrd' | 'nifti' | 'tiff';

export const EXPORT_FORMATS: Record<ExportFormat, { extension: string; about: string }> = {
  'ome-zarr': { extension: '.ome.zarr', about: 'OME-Zarr 0.5 (Zarr v3) folder with its pyramid' },
  'ome-zarr-v2': { extension: '.v2.ome.zarr', about: 'OME-Zarr 0.4 (Zarr v2) folder with its pyramid, for zarr-python 2 and older viewers' },
  nrrd: { extension: '.nrrd', about: 'NRRD (raw, µm)' },
  nifti: { extension: '.nii', about: 'NIfTI-1 (sform in mm)' },
  tiff: { extension: '.tif', about: 'ImageJ TIFF stack (µm spacing)' },
};

export interface ExportOptions extends StageOptions {
  channel?: number;
  /** slices read at a time (default 16) */
  slabZ?: number;
}

export interface ExportResult {
  path: string;
  format: ExportFormat;
  bytes: number;
  /** the voxel size in the file was assumed at import (1 µm), not measured; the file says so in its header */
  spacingAssumed?: true;
}

/** Write text to a temp name and rename (a failure leaves the previous file intact). */
export async function writeTextAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  await writeFile(tmp, text);
  await rename(tmp, path);
}

/** The 352-byte NIfTI-1 single-file header the exporter writes (units mm, as most tools assume). */
export function niftiHeader(meta: VolumeMeta): Uint8Array {
  return niftiHeaderFor({ shape: meta.shape, spacingUm: meta.spacingUm, originUm: meta.originUm, dtype: meta.dtype, units: 'mm', description: 'petromap export' });
}

export async function exportVolume(store: VolumeStore, format: ExportFormat, outPath: string, opts: ExportOptions = {}): Promise<ExportResult> {
  const r = await exportVolumeFile(store, format, outPath, opts);
  return store.spacingAssumed ? { ...r, spacingAssumed: true } : r;
}

async function exportVolumeFile(store: VolumeStore, format: ExportFormat, outPath: string, opts: ExportOptions): Promise<ExportResult> {
  throwIfAborted(opts.signal);
  const ch = opts.channel ?? 0;
  if (!(ch >= 0 && ch < store.meta.channels.length)) throw invalidInput(`${store.path} has ${store.meta.channels.length} channel(s); channel ${ch} does not exist.`);
  if (format === 'ome-zarr') {
    const chunk = store instanceof ZarrVolumeStore ? store.chunk : ([64, 64, 64] as Shape3);
    const downsample = store instanceof ZarrVolumeStore ? store.downsample : 'mean';
    const meta: VolumeMeta = { ...store.meta, channels: [store.meta.channels[ch]] };
    const out = await createVolume(outPath, meta, { chunk, downsample, spacingAssumed: store.spacingAssumed });
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
    await out.updateAttrs({ complete: true }); // every chunk written: a chunk file missing later is refused, not read as zeros
    opts.onProgress?.(1, 'exported');
    return { path: outPath, format, bytes };
  }
  if (format === 'ome-zarr-v2') {
    const bytes = await writeOmeZarrV2(store, outPath, { channel: ch, signal: opts.signal, onProgress: opts.onProgress });
    opts.onProgress?.(1, 'exported');
    return { path: outPath, format, bytes };
  }
  if (format !== 'nrrd' && format !== 'nifti' && format !== 'tiff') throw unsupported(`Export format "${String(format)}" is not supported; use ${Object.keys(EXPORT_FORMATS).join(', ')}.`);
  const [, ny, nx] = store.meta.shape;
  const slabBytes = (opts.slabZ ?? 16) * ny * nx * bytesPerVoxel(store.meta.dtype);
  const stream = volumeByteStream(store, format, { channel: ch, slabBytes, signal: opts.signal, onProgress: opts.onProgress });
  const bytes = await writeStreamAtomic(stream.body, outPath);
  return { path: outPath, format, bytes };
}
