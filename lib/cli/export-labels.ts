/**
 * `--export` of `petromap run` and `petromap predict`: the predicted labels written beside the
 * OME-Zarr outputs in the formats other tools open, through the one exporter the web app's
 * downloads use (lib/report/export-node exportVolume → export-stream-node). Files:
 * labels.nrrd, labels.nii, labels.tif, labels.ome.zarr in the output folder.
 */
import { join } from 'node:path';
import type { OnProgress, StageOptions } from '../errors';
import { exportVolume, type ExportFormat } from '../report/export-node';
import { openVolume } from '../volume/zarr-store-node';

/** What `--export` accepts (checked before any work). */
export const LABEL_EXPORT_FORMATS = ['nrrd', 'nifti', 'tiff', 'ome-zarr'] as const satisfies readonly ExportFormat[];

const FILE_NAME: Record<(typeof LABEL_EXPORT_FORMATS)[number], string> = {
  nrrd: 'labels.nrrd',
  nifti: 'labels.nii',
  tiff: 'labels.tif',
  'ome-zarr': 'labels.ome.zarr',
};

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
    const fmt = f as (typeof LABEL_EXPORT_FORMATS)[number];
    const sub: OnProgress | undefined = opts.onProgress && ((p, m) => opts.onProgress!((i + p) / formats.length, m ?? `exporting ${FILE_NAME[fmt]}`));
    const r = await exportVolume(store, fmt, join(outDir, FILE_NAME[fmt]), { signal: opts.signal, onProgress: sub });
    done.push({ format: fmt, path: r.path, bytes: r.bytes });
  }
  return done;
}
