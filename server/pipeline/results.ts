/**
 * The Results step, as a thin adapter over lib/report: the page's state (statistics of the
 * predicted 3D mineral map, read from what the 'results-stats' job stored: results-stats.ts),
 * label / uncertainty slice images, the coarse label volume of the 3D view, and the downloads
 * (results-export.ts). No numerical work happens in a request beyond colouring one slice.
 */
import { readFile } from 'node:fs/promises';
import { encode } from 'fast-png';
import { unprocessable } from '@/lib/errors';
import { labelsOverviewNifti, OVERVIEW_MAX_EDGE } from '@/lib/report/labels-overview';
import { uncertaintyRgba } from '@/lib/report/overlays';
import type { Services } from '../services';
import { volumeStore } from '../storage/open-stores';
import { labelPng, readSlice, type Axis } from '../render/slice';
import { predictionStores } from './train';
import { projectClasses, projectDatasets } from './project-inputs';
import { NO_PREDICTION, type TableWhat, type VolumeFormat, type VolumeWhat } from './results-export';
import { statsStatus, storedOverview } from './results-stats';

export { exportVolumeStream, reportCsv, VOLUME_FORMATS, type ExportStream, type TableWhat, type VolumeFormat, type VolumeWhat } from './results-export';
export { scheduleResultsStats } from './results-stats';

export async function resultsState(svc: Services, projectId: string) {
  const classes = projectClasses(svc, projectId);
  const pred = svc.repo.artifact(projectId, 'prediction');
  const summary = svc.repo.artifact(projectId, 'model');
  const { volume, eds } = projectDatasets(svc, projectId);
  const store = volume ? await volumeStore(svc, volume.id) : undefined;
  const base = {
    classes,
    volume: volume && store ? { id: volume.id, name: volume.name, shape: store.meta.shape, spacingUm: store.meta.spacingUm, levels: store.levels } : null,
    eds: eds ? { id: eds.id, name: eds.name } : null,
    validation: summary?.validation ?? null,
    quality: summary?.quality ?? null,
    /** the volume the model was trained on (its name, shape, voxel size); null: no model, or one trained before petromap recorded it */
    trainedOn: summary?.trainedOn ?? null,
    /** z of the first full rock layer at the centre of the volume (the slice the EDS map lies on) */
    surfaceZ: summary && store
      ? Math.round(summary.mirrorSurface.a * (store.meta.shape[2] / 2) + summary.mirrorSurface.b * (store.meta.shape[1] / 2) + summary.mirrorSurface.c) + 1
      : null,
  };
  const ps = pred ? await predictionStores(svc, projectId) : undefined;
  const empty = { modal: [], modalEdsApart: null, modalFaces: null, depth: null, histograms: null, truthIoU: null };
  if (!pred || !ps) return { ...base, prediction: null, stats: { status: 'none' as const }, ...empty, exports: [] };
  const prediction = {
    createdAt: new Date(pred.createdAt), seconds: pred.seconds, classes: pred.classes, shape: pred.shape, levels: ps.labels.levels, upToDate: !!summary && summary.createdAt === pred.modelCreatedAt,
    /** the scan's voxel size was assumed at import: the downloads carry it, marked as assumed (the page says so) */
    spacingAssumed: ps.labels.spacingAssumed === true,
  };
  const s = statsStatus(svc, projectId);
  if (s.status !== 'ready') {
    const stats = s.status === 'pending' ? { status: s.status, jobId: s.jobId, progress: s.progress, message: s.message } : s.status === 'failed' ? { status: s.status, jobId: s.jobId, error: s.error } : { status: s.status };
    return { ...base, prediction, stats, ...empty, exports: exportList(projectId) };
  }
  const st = s.stats;
  const name = (c: number, fallback: string) => classes.find((d) => d.code === c)?.name ?? fallback;
  const bottom = st.bottomEds?.modal;
  const modal = st.modal.rows.map((r) => ({
    code: r.class, name: name(r.class, r.name), volumePct: r.volumePercent, edsAreaPct: r.edsAreaPercent ?? null, voxels: r.voxels,
    /** issue 15 §1: the bottom face's 2D share (null: one face) */
    edsBottomPct: bottom ? (bottom.rows.find((b) => b.class === r.class)?.edsAreaPercent ?? 0) : null,
  }));
  const apart = (m: typeof st.modal) => {
    const mapPx = m.edsMapPixels;
    return mapPx ? { unclassified: (m.edsUnclassifiedPixels ?? 0) / mapPx, notMeasured: (m.edsNotMeasuredPixels ?? 0) / mapPx, dropped: (m.edsDroppedPixels ?? 0) / mapPx } : null;
  };
  const modalEdsApart = apart(st.modal);
  /** the maps whose 2D shares the modal table shows, by face (bottom: null with one face) */
  const modalFaces = { top: st.topEdsName ?? null, bottom: st.bottomEds?.name ?? null, bottomApart: bottom ? apart(bottom) : null };
  const cls = st.depth.classes.map((c) => c.code);
  const depth = {
    binUm: st.depth.binUm,
    depthsUm: st.depth.depthUm.map((d) => d - st.depth.binUm / 2),
    fractions: st.depth.fractions.map((row) => Object.fromEntries(cls.map((c, k) => [c, row[k] ?? 0])) as Record<number, number>),
    voxels: st.depth.totals,
    /** issue 15 §1, two faces: the bottom face's depth below the top surface at the volume's centre (µm), where the profile marks it */
    bottomFaceUm: bottom && store && summary ? bottomFaceDepthUm(summary.mirrorSurface, svc.repo.artifact(projectId, 'bottomRegistration'), volume!.id, store.meta) : null,
  };
  return { ...base, prediction, stats: { status: 'ready' as const, seconds: st.seconds }, modal, modalEdsApart, modalFaces, depth, histograms: st.histograms, truthIoU: st.truthIoU, exports: exportList(projectId) };
}

/**
 * The depth of the bottom face below the top surface at the volume's centre, measured as the depth
 * profile measures (lib/report depthProfile: along the top plane's normal from its air/rock edge,
 * plane c − 0.5). The bottom registration's surface is in the volume turned upside down (z' = nz − 1 − z).
 */
export function bottomFaceDepthUm(top: { a: number; b: number; c: number }, bottomReg: { volumeId: string; surface: { a: number; b: number; c: number } } | undefined, volumeId: string, meta: { shape: number[]; spacingUm: number[] }): number | null {
  if (!bottomReg || bottomReg.volumeId !== volumeId) return null;
  const [nz, ny, nx] = meta.shape as [number, number, number];
  const cx = nx / 2, cy = ny / 2;
  const topEdge = top.a * cx + top.b * cy + top.c - 0.5;
  const b = bottomReg.surface;
  const bottomEdge = nz - 1 - (b.a * cx + b.b * cy + b.c - 0.5);
  const norm = Math.sqrt(1 + top.a * top.a + top.b * top.b);
  return ((bottomEdge - topEdge) / norm) * meta.spacingUm[0]!;
}

export function exportList(projectId: string) {
  const base = `/api/projects/${projectId}`;
  const vols: { what: VolumeWhat; label: string }[] = [
    { what: 'labels', label: 'Class labels (uint8 class codes)' },
    { what: 'probabilities', label: 'Class probabilities (uint8 0–255, one channel per class)' },
    { what: 'uncertainty', label: 'Uncertainty (uint8, 255 × (1 − margin of the two best classes))' },
  ];
  const fmts: { format: VolumeFormat; label: string }[] = [
    { format: 'ome-zarr', label: 'OME-Zarr (zip)' },
    { format: 'ome-zarr-v2', label: 'OME-Zarr 0.4 / Zarr v2 (zip, for older viewers)' },
    { format: 'nrrd', label: 'NRRD' },
    { format: 'nifti', label: 'NIfTI' },
    { format: 'tiff', label: 'TIFF stack' },
  ];
  const tables: { table: TableWhat; label: string }[] = [
    { table: 'modal', label: 'Modal mineralogy (3D volume % vs EDS area % of each mapped face)' },
    { table: 'depth', label: 'Depth profile (class fractions per depth)' },
    { table: 'histograms', label: 'Grey-value histograms per class' },
    { table: 'metrics', label: 'Validation metrics per class' },
  ];
  return [
    ...vols.flatMap((v) => fmts.map((f) => ({ kind: 'volume' as const, label: `${v.label} — ${f.label}`, what: v.what, format: f.format, href: `${base}/export?what=${v.what}&format=${f.format}` }))),
    ...tables.map((t) => ({ kind: 'table' as const, label: `${t.label} — CSV`, what: t.table, format: 'csv' as const, href: `${base}/report.csv?table=${t.table}` })),
  ];
}

// ---------------------------------------------------------------- slice images

export async function labelSlicePng(svc: Services, projectId: string, axis: Axis, index: number, level: number, hide: number[]): Promise<Uint8Array> {
  const ps = await predictionStores(svc, projectId);
  if (!ps) throw unprocessable(NO_PREDICTION);
  const { data, width, height } = await readSlice(ps.labels, { axis, index, level: Math.min(level, ps.labels.levels - 1), channel: 0 });
  const hidden = new Set(hide);
  const colors = new Map(projectClasses(svc, projectId).filter((c) => !hidden.has(c.code)).map((c) => [c.code, c.color]));
  return labelPng(data, width, height, colors);
}

/** Uncertainty as a heat overlay: transparent where certain, yellow → red and opaque where not. */
export async function uncertaintySlicePng(svc: Services, projectId: string, axis: Axis, index: number, level: number): Promise<Uint8Array> {
  const ps = await predictionStores(svc, projectId);
  if (!ps) throw unprocessable(NO_PREDICTION);
  const u = await ps.uncertainty();
  const { data, width, height } = await readSlice(u, { axis, index, level: Math.min(level, u.levels - 1), channel: 0 });
  return encode({ width, height, data: uncertaintyRgba(data), channels: 4, depth: 8 });
}

// ---------------------------------------------------------------- labels.nii for the 3D view

/**
 * The label volume with its longest axis ≤ maxEdge voxels, as NIfTI: the file the statistics job
 * stored for the current prediction, else read from the label pyramid (lib/report
 * labelsOverviewNifti: bounded by about maxEdge × (2 maxEdge)² voxels whatever the volume's size).
 */
export async function labelsNifti(svc: Services, projectId: string, maxEdge = OVERVIEW_MAX_EDGE): Promise<Uint8Array> {
  const ps = await predictionStores(svc, projectId);
  if (!ps) throw unprocessable(NO_PREDICTION);
  const stored = maxEdge === OVERVIEW_MAX_EDGE ? storedOverview(svc, projectId) : undefined;
  if (stored) {
    const buf = await readFile(/*turbopackIgnore: true*/ stored).catch(() => undefined);
    if (buf) return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  return labelsOverviewNifti(ps.labels, { maxEdge });
}
