/**
 * Downloads of the Results step: a predicted volume (labels, probabilities, uncertainty) as
 * OME-Zarr zip (the v3 store, or an OME-Zarr 0.4 / Zarr v2 copy made as it is sent), NRRD, NIfTI or TIFF stack, and the result tables as CSV. The bytes come from
 * lib/report (export-stream-node.ts, csv.ts), the same code the CLI writes its files with; this
 * module only maps a project and the choice to a lib call.
 */
import { invalidInput, unprocessable } from '@/lib/errors';
import { depthCsv, histogramsCsv, metricsCsv, modalCsv, toCsv } from '@/lib/report/csv';
import { omeZarrV2Zip } from '@/lib/report/export-ome-zarr-v2-node';
import { volumeByteStream, zipDirectory } from '@/lib/report/export-stream-node';
import type { ReportClass } from '@/lib/report/modal';
import type { Services } from '../services';
import { projectClasses } from './project-inputs';
import { storedStats, statsStatus } from './results-stats';
import { predictionRel, predictionStores } from './train';

export type VolumeWhat = 'labels' | 'probabilities' | 'uncertainty';
/** The download formats (the route's choices): OME-Zarr as a zip of the v3 store or of an OME-Zarr 0.4 / Zarr v2 copy. */
export const VOLUME_FORMATS = ['ome-zarr', 'ome-zarr-v2', 'nrrd', 'nifti', 'tiff'] as const;
export type VolumeFormat = (typeof VOLUME_FORMATS)[number];
export type TableWhat = 'modal' | 'depth' | 'histograms' | 'metrics';

export const NO_PREDICTION = 'There is no prediction yet: click "Predict whole volume" on the Train step.';

export interface ExportStream {
  filename: string;
  contentType: string;
  /** exact byte length when known up front */
  length?: number;
  body: AsyncGenerator<Uint8Array>;
  /** the scan's voxel size was assumed at import: the file carries it, marked as assumed */
  spacingAssumed?: boolean;
}

export async function exportVolumeStream(svc: Services, projectId: string, what: VolumeWhat, format: VolumeFormat, signal?: AbortSignal): Promise<ExportStream> {
  const ps = await predictionStores(svc, projectId);
  if (!ps) throw unprocessable('There is no prediction to export yet: click "Predict whole volume" on the Train step.');
  if (format === 'ome-zarr') {
    const dir = svc.ws.abs(predictionRel(svc, projectId, what));
    return { filename: `${what}.ome.zarr.zip`, contentType: 'application/zip', body: zipDirectory(dir, `${what}.ome.zarr`, { signal }), spacingAssumed: ps.labels.spacingAssumed === true };
  }
  if (!VOLUME_FORMATS.includes(format)) throw invalidInput(`Unknown export format "${String(format)}" (use ${VOLUME_FORMATS.join(', ')}).`);
  const store = what === 'labels' ? ps.labels : what === 'probabilities' ? await ps.probabilities() : await ps.uncertainty();
  if (format === 'ome-zarr-v2') {
    return { filename: `${what}.zarr-v2.ome.zarr.zip`, contentType: 'application/zip', body: omeZarrV2Zip(store, `${what}.ome.zarr`, { signal }), spacingAssumed: store.spacingAssumed === true };
  }
  const s = volumeByteStream(store, format, { channel: 'all', description: `petromap ${what} of project ${projectId}`, signal });
  return { filename: `${what}.${s.extension}`, contentType: s.contentType, length: s.length, body: s.body, spacingAssumed: store.spacingAssumed === true };
}

/** The project's current names of the predicted classes. */
function reportClasses(svc: Services, projectId: string, codes: number[]): ReportClass[] {
  const defs = projectClasses(svc, projectId);
  return codes.filter((c) => c !== 0).map((c) => ({ code: c, name: defs.find((d) => d.code === c)?.name ?? `class ${c}` }));
}

export async function reportCsv(svc: Services, projectId: string, table: TableWhat): Promise<{ filename: string; csv: string }> {
  if (table === 'metrics') {
    const summary = svc.repo.artifact(projectId, 'model');
    if (!summary) throw unprocessable('There is no trained model yet, so no validation metrics: train one on the Train step.');
    return { filename: 'validation-metrics.csv', csv: metricsCsv(summary.validation, reportClasses(svc, projectId, summary.classes)) };
  }
  if (!(await predictionStores(svc, projectId))) throw unprocessable(NO_PREDICTION);
  const st = storedStats(svc, projectId);
  if (!st) {
    const s = statsStatus(svc, projectId);
    if (s.status === 'failed') throw unprocessable(`The statistics of the prediction could not be computed: ${s.error}`);
    const pct = s.status === 'pending' ? ` (${Math.round(100 * s.progress)} % done)` : '';
    throw unprocessable(`The statistics of the prediction are still being computed${pct}: download the table again in a moment.`);
  }
  const classes = reportClasses(svc, projectId, st.depth.classes.map((c) => c.code));
  const named = <T extends { code: number; name: string }>(c: T) => ({ ...c, name: classes.find((k) => k.code === c.code)?.name ?? c.name });
  if (table === 'modal') {
    const rows = st.modal.rows.map((r) => ({ ...r, name: named({ code: r.class, name: r.name }).name }));
    if (!st.bottomEds) return { filename: 'modal-mineralogy.csv', csv: modalCsv({ ...st.modal, rows }) };
    // two mapped faces (issue 15 §1): each face's 2D shares, named by face
    const b = new Map(st.bottomEds.modal.rows.map((r) => [r.class, r]));
    const header = ['class', 'name', 'voxels', 'volume_percent', 'top_eds_pixels', 'top_eds_area_percent', 'bottom_eds_pixels', 'bottom_eds_area_percent'];
    return {
      filename: 'modal-mineralogy.csv',
      csv: toCsv(header, rows.map((r) => [r.class, r.name, r.voxels, r.volumePercent, r.edsPixels, r.edsAreaPercent, b.get(r.class)?.edsPixels ?? 0, b.get(r.class)?.edsAreaPercent ?? 0])),
    };
  }
  if (table === 'depth') return { filename: 'depth-profile.csv', csv: depthCsv({ ...st.depth, classes: st.depth.classes.map(named) }) };
  if (table === 'histograms') return { filename: 'grey-histograms.csv', csv: histogramsCsv(st.histograms, classes) };
  throw invalidInput(`Unknown table "${String(table)}" (use modal, depth, histograms or metrics).`);
}
