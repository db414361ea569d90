/**
 * Downloads of a lithology project's map, the one painted and predicted on Annotate: the class
 * volume as OME-Zarr zip (the v3 store as it is, or an OME-Zarr 0.4 / Zarr v2 copy made as it is
 * sent), NRRD, NIfTI or TIFF stack, and its classes as CSV (code, name, share of the volume). Before,
 * the map could be looked at on the slices but not taken to Avizo, Dragonfly or Fiji. The bytes come
 * from lib/report, the exporter of the Results step and the CLI.
 */
import { invalidInput, unprocessable } from '@/lib/errors';
import { toCsv } from '@/lib/report/csv';
import { omeZarrV2Zip } from '@/lib/report/export-ome-zarr-v2-node';
import { volumeByteStream, zipDirectory } from '@/lib/report/export-stream-node';
import type { Services } from '../services';
import { storeAt } from '../storage/open-stores';
import { predictionRecord } from './annotate';
import { VOLUME_FORMATS, type ExportStream } from './results-export';

export const LITHOLOGY_FORMATS = [...VOLUME_FORMATS, 'csv'] as const;
export type LithologyFormat = (typeof LITHOLOGY_FORMATS)[number];

const NO_MAP = 'There is no predicted lithology map to download yet: paint strokes of two or more classes on the Annotate step and press "Train and predict".';

export async function exportLithologyStream(svc: Services, projectId: string, format: LithologyFormat, signal?: AbortSignal): Promise<ExportStream> {
  const pred = predictionRecord(svc, projectId);
  if (!pred) throw unprocessable(NO_MAP);
  if (!LITHOLOGY_FORMATS.includes(format)) throw invalidInput(`Unknown download format "${String(format)}" (use ${LITHOLOGY_FORMATS.join(', ')}).`);
  const store = await storeAt(svc, pred.relPath);
  const spacingAssumed = store.spacingAssumed === true;
  if (format === 'csv') {
    const rows = pred.classes.map((c) => [c.code, c.name, Math.round(10000 * (pred.fractions[c.code] ?? 0)) / 100]);
    const bytes = new TextEncoder().encode(toCsv(['code', 'name', 'volume_percent'], rows));
    return { filename: 'lithology-classes.csv', contentType: 'text/csv; charset=utf-8', length: bytes.length, body: (async function* () { yield bytes; })(), spacingAssumed };
  }
  if (format === 'ome-zarr') return { filename: 'lithology.ome.zarr.zip', contentType: 'application/zip', body: zipDirectory(svc.ws.abs(pred.relPath), 'lithology.ome.zarr', { signal }), spacingAssumed };
  if (format === 'ome-zarr-v2') return { filename: 'lithology.zarr-v2.ome.zarr.zip', contentType: 'application/zip', body: omeZarrV2Zip(store, 'lithology.ome.zarr', { signal }), spacingAssumed };
  const s = volumeByteStream(store, format, { channel: 'all', description: `petromap lithology map of project ${projectId}`, signal });
  return { filename: `lithology.${s.extension}`, contentType: s.contentType, length: s.length, body: s.body, spacingAssumed };
}
