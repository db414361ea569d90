/**
 * `--export` of `petromap run` and `petromap predict`: the predicted labels written beside the
 * OME-Zarr outputs in the formats other tools open, through the one exporter the web app's
 * downloads use (lib/report/export-node exportVolume, its EXPORT_FORMATS and their file endings):
 * labels.nrrd, labels.nii, labels.tif, labels.ome.zarr, labels.v2.ome.zarr in the output folder.
 * A scan whose voxel size was assumed at import exports with it, marked as assumed in every file,
 * and a warning on stderr names the files.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { OnProgress, StageOptions } from '../errors';
import { EXPORT_FORMATS, exportVolume, type ExportFormat } from '../report/export-node';
import { bytesPerVoxel } from '../volume/types';
import { openVolume } from '../volume/zarr-store-node';

/** What `--export` accepts (checked before any work). */
export const LABEL_EXPORT_FORMATS = Object.keys(EXPORT_FORMATS) as ExportFormat[];

const fileName = (f: ExportFormat) => `labels${EXPORT_FORMATS[f].extension}`;

export interface LabelExport {
  format: string;
  path: string;
  bytes: number;
  /** the scan's voxel size was assumed at import (1 µm): the file holds it, marked as assumed */
  spacingAssumed?: true;
}

/**
 * The stderr warning for exports that carry an assumed voxel size (undefined when none does): a
 * file opened in Fiji, Avizo, Dragonfly or Slicer would otherwise read as measured micrometres.
 */
export function assumedSpacingExportWarning(exports: readonly LabelExport[]): string | undefined {
  const marked = exports.filter((e) => e.spacingAssumed);
  if (!marked.length) return undefined;
  return `petromap --export: warning: ${marked.map((e) => basename(e.path)).join(', ')} carry the voxel size assumed at import, not a measured one: `
    + 'each file says so (NRRD: a comment and its content field; NIfTI: descrip, units unknown; TIFF: ImageJ unit pixel; OME-Zarr: petromap.spacingAssumed), '
    + 'and a length, area or volume measured in it rests on that guess, not on a measurement. Import the scan again with its real voxel size (petromap import <scan> --spacing z,y,x --out <new store>) to export micrometres.';
}

/**
 * A store folder an earlier petromap export wrote, told by petromap's own mark in its metadata
 * (Zarr v3: zarr.json's attributes.petromap; Zarr v2: .zattrs multiscales[0].metadata.method
 * "petromap …"): replaced by a new export. A Zarr folder another tool wrote under the same name
 * (a hand segmentation, say) has no such mark and is refused, left as it is: `.zgroup` and
 * `.zattrs` alone were taken for an earlier export and the folder was removed.
 */
function isEarlierExport(path: string, fmt: ExportFormat): boolean {
  const meta = (file: string): Record<string, unknown> | undefined => {
    const f = join(path, file);
    try {
      // metadata of a few kB; a file far larger than any we write is not ours
      if (statSync(f).size > 1 << 20) return undefined;
      const o: unknown = JSON.parse(readFileSync(f, 'utf8'));
      return o && typeof o === 'object' ? (o as Record<string, unknown>) : undefined;
    } catch {
      return undefined;
    }
  };
  if (fmt === 'ome-zarr') {
    const attrs = meta('zarr.json')?.attributes as Record<string, unknown> | undefined;
    return !!attrs && typeof attrs.petromap === 'object' && attrs.petromap !== null;
  }
  if (fmt === 'ome-zarr-v2') {
    if (!existsSync(join(path, '.zgroup'))) return false;
    const ms = meta('.zattrs')?.multiscales;
    const method = Array.isArray(ms) ? (ms[0] as { metadata?: { method?: unknown } } | undefined)?.metadata?.method : undefined;
    return typeof method === 'string' && method.startsWith('petromap ');
  }
  return false;
}

/**
 * Export the label store at `labelsPath` once per format into `outDir` (each file written to a temp
 * name and renamed). `petromap predict` keeps its labels as <out>/labels.ome.zarr, the very name of
 * the OME-Zarr export: that store is the export (a Zarr v3 OME-Zarr 0.5 with its pyramid), not copied
 * onto itself (before, `predict --export ome-zarr` was always refused: "the folder already exists").
 * A store folder an earlier export of this command left is replaced as a file export is, so running
 * the same command again (the way to resume an interrupted one) does not stop at it.
 */
export async function exportLabels(labelsPath: string, formats: readonly string[], outDir: string, opts: StageOptions = {}): Promise<LabelExport[]> {
  const done: LabelExport[] = [];
  if (!formats.length) return done;
  const store = await openVolume(labelsPath);
  const assumed = store.spacingAssumed ? { spacingAssumed: true as const } : {};
  for (const [i, f] of formats.entries()) {
    const fmt = f as ExportFormat;
    const sub: OnProgress | undefined = opts.onProgress && ((p, m) => opts.onProgress!((i + p) / formats.length, m ?? `exporting ${fileName(fmt)}`));
    const target = join(outDir, fileName(fmt));
    if (fmt === 'ome-zarr' && resolve(target) === resolve(labelsPath)) {
      done.push({ format: fmt, path: target, bytes: store.meta.shape.reduce((a, n) => a * n, 1) * bytesPerVoxel(store.meta.dtype), ...assumed });
      continue;
    }
    if (isEarlierExport(target, fmt)) {
      const fresh = `${target}.new-${process.pid}-${Date.now().toString(36)}`;
      const r = await exportVolume(store, fmt, fresh, { signal: opts.signal, onProgress: sub }).catch(async (err: unknown) => {
        await rm(fresh, { recursive: true, force: true });
        throw err;
      });
      const old = `${target}.old-${process.pid}-${Date.now().toString(36)}`;
      await rename(target, old);
      await rename(fresh, target);
      await rm(old, { recursive: true, force: true });
      done.push({ format: fmt, path: target, bytes: r.bytes, ...assumed });
      continue;
    }
    const r = await exportVolume(store, fmt, target, { signal: opts.signal, onProgress: sub });
    done.push({ format: fmt, path: r.path, bytes: r.bytes, ...(r.spacingAssumed ? { spacingAssumed: true as const } : {}) });
  }
  const w = assumedSpacingExportWarning(done);
  if (w) process.stderr.write(`${w}\n`);
  return done;
}
