/**
 * `--export` of `petromap run` and `petromap predict`: the predicted labels written beside the
 * OME-Zarr outputs in the formats other tools open, through the one exporter the web app's
 * downloads use (lib/report/export-node exportVolume, its EXPORT_FORMATS and their file endings):
 * labels.nrrd, labels.nii, labels.tif, labels.ome.zarr, labels.v2.ome.zarr in the output folder.
 */
import { join } from 'node:path';
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
    done.push({ format: fmt, path: r.path, bytes: r.bytes });
  }
  return done;
}
