/**
 * `--export` of `petromap run` and `petromap predict`: the predicted labels written beside the
 * OME-Zarr outputs in the formats other tools open, through the one exporter the web app's
 * downloads use (lib/report/export-node exportVolume, its EXPORT_FORMATS and their file endings):
 * labels.nrrd, labels.nii, labels.tif, labels.ome.zarr, labels.v2.ome.zarr in the output folder.
 * A scan whose voxel size was assumed at import exports with it, marked as assumed in every file,
 * and a warning on stderr names the files.
 */
import { basename, join } from 'node:path';
import type { OnProgress, StageOptions } from '../errors';
import { EXPORT_FORMATS, exportVolume, type ExportFormat } from '../report/export-node';
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

/** Export the label store at `labelsPath` once per format into `outDir` (each file written to a temp name and renamed). */
export async function exportLabels(labelsPath: string, formats: readonly string[], outDir: string, opts: StageOptions = {}): Promise<LabelExport[]> {
  const done: LabelExport[] = [];
  if (!formats.length) return done;
  const store = await openVolume(labelsPath);
  for (const [i, f] of formats.entries()) {
    const fmt = f as ExportFormat;
    const sub: OnProgress | undefined = opts.onProgress && ((p, m) => opts.onProgress!((i + p) / formats.length, m ?? `exporting ${fileName(fmt)}`));
    const r = await exportVolume(store, fmt, join(outDir, fileName(fmt)), { signal: opts.signal, onProgress: sub });
    done.push({ format: fmt, path: r.path, bytes: r.bytes, ...(r.spacingAssumed ? { spacingAssumed: true as const } : {}) });
  }
  const w = assumedSpacingExportWarning(done);
  if (w) process.stderr.write(`${w}\n`);
  return done;
}
