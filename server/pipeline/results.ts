/**
 * The Results step: statistics of the predicted 3D mineral map (modal mineralogy below the
 * surface next to the EDS surface areas, depth profile, grey-value histograms per class, IoU vs
 * the synthetic truth when the project has one), label / uncertainty slice images, and exports
 * streamed to the browser (OME-Zarr as zip, NRRD, NIfTI, TIFF stack; tables as CSV) without
 * holding a whole volume in memory.
 */
import { createReadStream, existsSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { Zip, ZipPassThrough } from 'fflate';
import { encode } from 'fast-png';
import { invalidInput, unprocessable, unsupported } from '@/lib/errors';
import { brickGrid } from '@/lib/features';
import type { VolumeStore } from '@/lib/volume/store';
import type { Box3, Shape3 } from '@/lib/volume/types';
import { openVolume } from '@/lib/volume/zarr-store-node';
import type { Services } from '../services';
import { mineralMap, volumeStore } from '../storage/open-stores';
import { readSlice, type Axis } from '../render/slice';
import { predictionRel, predictionStores, type ModelSummary, type PredictionRecord } from './train';
import { modalMineralogy, type ModalMineralogy, type ReportClass } from '@/lib/report/modal';
import { depthProfile, type DepthProfile } from '@/lib/report/depth';
import { classicTiffFits, niftiHeader, nrrdHeader, tiffFileHeader, tiffPageBeforeData } from '@/lib/report/volume-headers';
import type { ClassMap } from '@/lib/registration';
import { projectClasses, projectClassMap, projectDatasets, type ClassDef } from './project-inputs';

export type VolumeWhat = 'labels' | 'probabilities' | 'uncertainty';
export type VolumeFormat = 'ome-zarr' | 'nrrd' | 'nifti' | 'tiff';
export type TableWhat = 'modal' | 'depth' | 'histograms' | 'metrics';

export interface ResultsStats {
  predictionCreatedAt: number;
  /** lib/report modalMineralogy: volume % below the surface next to the EDS area % of the same classes */
  modal: ModalMineralogy;
  /** lib/report depthProfile: class fractions per depth below the surface */
  depth: DepthProfile;
  histograms: { lo: number; hi: number; bins: number; counts: Record<number, number[]> };
  /** per-class IoU vs the synthetic truth (demo projects) */
  truthIoU: Record<number, number> | null;
  seconds: number;
}

const HIST_BINS = 96;
const DEPTH_BINS_MAX = 60;

async function truthStore(svc: Services, projectId: string): Promise<VolumeStore | undefined> {
  const p = path.join(svc.ws.projectDir(projectId), 'truth-labels.ome.zarr');
  return existsSync(p) ? openVolume(p).catch(() => undefined) : undefined;
}

/** One pass over the labels (and the scan) brick by brick; cached per prediction. */
export async function resultsStats(svc: Services, projectId: string): Promise<ResultsStats | undefined> {
  const ps = await predictionStores(svc, projectId);
  if (!ps) return undefined;
  const cached = svc.repo.artifact<ResultsStats>(projectId, 'resultsStats');
  if (cached && cached.predictionCreatedAt === ps.rec.createdAt && cached.modal) return cached;
  const t0 = Date.now();
  const { volume } = projectDatasets(svc, projectId);
  if (!volume) return undefined;
  const scan = await volumeStore(svc, volume.id);
  const summary = svc.repo.artifact<ModelSummary>(projectId, 'model');
  const surf = summary?.mirrorSurface ?? { a: 0, b: 0, c: 0 };
  const [nz, ny, nx] = scan.meta.shape;
  // grey range of the whole scan (a first pass: rare bright minerals such as pyrite must not
  // pile up in a clipped last bin)
  let lo = Infinity, hi = -Infinity;
  for (const box of brickGrid(scan.meta.shape, [64, 64, 64])) {
    const grey = await scan.readBlock(box);
    for (let i = 0; i < grey.length; i++) {
      const v = grey[i]!;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  if (!(hi > lo)) hi = lo + 1;
  hi += (hi - lo) * 1e-6;
  const classes = ps.rec.classes;
  const defs = projectClasses(svc, projectId);
  const rc: ReportClass[] = classes.map((c) => ({ code: c, name: defs.find((d) => d.code === c)?.name ?? `class ${c}` }));
  const { eds } = projectDatasets(svc, projectId);
  const map = eds ? await mineralMap(svc, eds.id) : undefined;
  const cm: ClassMap = {};
  if (map) for (const e of projectClassMap(svc, projectId, map.legend)) cm[e.phaseId] = e.classCode;
  const modal = await modalMineralogy(ps.labels, rc, { map, classMap: cm, surface: surf });
  // about 60 depth bins over the sample's thickness below the surface
  const zs = [surf.c, surf.a * (nx - 1) + surf.c, surf.b * (ny - 1) + surf.c, surf.a * (nx - 1) + surf.b * (ny - 1) + surf.c];
  const binVox = Math.max(1, Math.ceil(Math.max(1, nz - Math.min(...zs)) / DEPTH_BINS_MAX));
  const depth = await depthProfile(ps.labels, surf, rc, { binVox });
  const hist: Record<number, number[]> = {};
  for (const c of classes) hist[c] = new Array(HIST_BINS).fill(0);
  const truth = await truthStore(svc, projectId);
  const inter: Record<number, number> = {}, union: Record<number, number> = {};
  for (const c of classes) (inter[c] = 0), (union[c] = 0);
  const k = HIST_BINS / (hi - lo || 1);
  for (const box of brickGrid(scan.meta.shape, [64, 64, 64])) {
    const lab = await ps.labels.readBlock(box);
    const grey = await scan.readBlock(box);
    const tr = truth ? await truth.readBlock(box) : undefined;
    for (let i = 0; i < lab.length; i++) {
      const c = lab[i];
      if (tr) {
        const t = tr[i];
        if (t) {
          if (t === c) inter[c] = (inter[c] ?? 0) + 1;
          if (c) union[c] = (union[c] ?? 0) + 1;
          if (t !== c && union[t] !== undefined) union[t]++;
        }
      }
      if (!c || hist[c] === undefined) continue;
      const b = Math.floor((grey[i] - lo) * k);
      hist[c][b < 0 ? 0 : b >= HIST_BINS ? HIST_BINS - 1 : b]++;
    }
  }
  const st: ResultsStats = {
    predictionCreatedAt: ps.rec.createdAt,
    modal,
    depth,
    histograms: { lo, hi, bins: HIST_BINS, counts: hist },
    truthIoU: truth ? Object.fromEntries(classes.map((c) => [c, union[c] ? inter[c] / union[c] : 0])) : null,
    seconds: (Date.now() - t0) / 1000,
  };
  svc.repo.setArtifact(projectId, 'resultsStats', st);
  return st;
}

export async function resultsState(svc: Services, projectId: string) {
  const classes = projectClasses(svc, projectId);
  const pred = svc.repo.artifact<PredictionRecord>(projectId, 'prediction');
  const summary = svc.repo.artifact<ModelSummary>(projectId, 'model');
  const { volume, eds } = projectDatasets(svc, projectId);
  const store = volume ? await volumeStore(svc, volume.id) : undefined;
  const base = {
    classes,
    volume: volume && store ? { id: volume.id, name: volume.name, shape: store.meta.shape, spacingUm: store.meta.spacingUm, levels: store.levels } : null,
    eds: eds ? { id: eds.id, name: eds.name } : null,
    validation: summary?.validation ?? null,
    /** z of the first full rock layer at the centre of the volume (the slice the EDS map lies on) */
    surfaceZ: summary && store
      ? Math.round(summary.mirrorSurface.a * (store.meta.shape[2] / 2) + summary.mirrorSurface.b * (store.meta.shape[1] / 2) + summary.mirrorSurface.c) + 1
      : null,
  };
  const stats = pred ? await resultsStats(svc, projectId) : undefined;
  if (!pred || !stats) return { ...base, prediction: null, modal: [], depth: null, histograms: null, truthIoU: null, exports: [] };
  const modal = stats.modal.rows.map((r) => ({ code: r.class, name: r.name, volumePct: r.volumePercent, edsAreaPct: r.edsAreaPercent ?? null, voxels: r.voxels }));
  const cls = stats.depth.classes.map((c) => c.code);
  const depth = {
    binUm: stats.depth.binUm,
    depthsUm: stats.depth.depthUm.map((d) => d - stats.depth.binUm / 2),
    fractions: stats.depth.fractions.map((row) => Object.fromEntries(cls.map((c, k) => [c, row[k] ?? 0])) as Record<number, number>),
    voxels: stats.depth.totals,
  };
  return {
    ...base,
    prediction: { createdAt: new Date(pred.createdAt), seconds: pred.seconds, classes: pred.classes, shape: pred.shape, levels: (await predictionStores(svc, projectId))?.labels.levels ?? 1, upToDate: !!summary && summary.createdAt === pred.modelCreatedAt },
    modal,
    depth,
    histograms: stats.histograms,
    truthIoU: stats.truthIoU,
    exports: exportList(projectId),
  };
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
    { format: 'nrrd', label: 'NRRD' },
    { format: 'nifti', label: 'NIfTI' },
    { format: 'tiff', label: 'TIFF stack' },
  ];
  const tables: { table: TableWhat; label: string }[] = [
    { table: 'modal', label: 'Modal mineralogy (3D volume % vs EDS area %)' },
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
  if (!ps) throw unprocessable('There is no prediction yet: click "Predict whole volume" on the Train step.');
  const lvl = Math.min(level, ps.labels.levels - 1);
  const { data, width, height } = await readSlice(ps.labels, { axis, index, level: lvl, channel: 0 });
  const hidden = new Set(hide);
  const colors = new Map(projectClasses(svc, projectId).filter((c) => !hidden.has(c.code)).map((c) => [c.code, c.color]));
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    const c = colors.get(data[i]);
    if (!c) continue;
    rgba.set([c[0], c[1], c[2], 255], i * 4);
  }
  return encode({ width, height, data: rgba, channels: 4, depth: 8 });
}

/** Uncertainty as a heat overlay: transparent where certain, yellow → red and opaque where not. */
export async function uncertaintySlicePng(svc: Services, projectId: string, axis: Axis, index: number, level: number): Promise<Uint8Array> {
  const ps = await predictionStores(svc, projectId);
  if (!ps) throw unprocessable('There is no prediction yet: click "Predict whole volume" on the Train step.');
  const u = await ps.uncertainty();
  const lvl = Math.min(level, u.levels - 1);
  const { data, width, height } = await readSlice(u, { axis, index, level: lvl, channel: 0 });
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    const v = data[i] / 255;
    if (v <= 0) continue;
    rgba.set([255, Math.round(230 * (1 - v)), 0, Math.round(255 * Math.min(1, v * 1.2))], i * 4);
  }
  return encode({ width, height, data: rgba, channels: 4, depth: 8 });
}

// ---------------------------------------------------------------- exports (streams)

const enc = new TextEncoder();

async function openWhat(svc: Services, projectId: string, what: VolumeWhat): Promise<VolumeStore> {
  const ps = await predictionStores(svc, projectId);
  if (!ps) throw unprocessable('There is no prediction to export yet: click "Predict whole volume" on the Train step.');
  return what === 'labels' ? ps.labels : what === 'probabilities' ? ps.probabilities() : ps.uncertainty();
}

/** z slices of every channel of level 0, channel-major (c, z), as uint8 bytes. */
async function* slices(store: VolumeStore, order: 'channel-major' | 'interleaved', signal?: AbortSignal): AsyncGenerator<Uint8Array> {
  const [nz, ny, nx] = store.meta.shape;
  const nc = store.meta.channels.length;
  const read = async (c: number, z: number) => {
    const d = await store.readBlock({ start: [z, 0, 0], shape: [1, ny, nx] }, { channel: c });
    return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
  };
  if (order === 'channel-major' || nc === 1) {
    for (let c = 0; c < nc; c++) for (let z = 0; z < nz; z++) {
      if (signal?.aborted) return;
      yield await read(c, z);
    }
    return;
  }
  for (let z = 0; z < nz; z++) {
    if (signal?.aborted) return;
    const parts = [];
    for (let c = 0; c < nc; c++) parts.push(await read(c, z));
    const out = new Uint8Array(ny * nx * nc);
    for (let i = 0; i < ny * nx; i++) for (let c = 0; c < nc; c++) out[i * nc + c] = parts[c][i];
    yield out;
  }
}

async function* zipDir(dir: string, prefix: string): AsyncGenerator<Uint8Array> {
  const files: string[] = [];
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (!e.name.startsWith('.')) files.push(p);
    }
  };
  await walk(dir);
  const queue: Uint8Array[] = [];
  let failed: Error | null = null;
  const zip = new Zip((err, data) => {
    if (err) failed = err;
    else queue.push(data);
  });
  for (const f of files) {
    const entry = new ZipPassThrough(`${prefix}/${path.relative(dir, f).split(path.sep).join('/')}`);
    zip.add(entry);
    for await (const chunk of createReadStream(f)) {
      entry.push(chunk as Uint8Array);
      while (queue.length) yield queue.shift()!;
    }
    entry.push(new Uint8Array(0), true);
    while (queue.length) yield queue.shift()!;
    if (failed) throw failed;
  }
  zip.end();
  while (queue.length) yield queue.shift()!;
}

export interface ExportStream {
  filename: string;
  contentType: string;
  /** exact byte length when known up front */
  length?: number;
  body: AsyncGenerator<Uint8Array>;
}

export async function exportVolumeStream(svc: Services, projectId: string, what: VolumeWhat, format: VolumeFormat, signal?: AbortSignal): Promise<ExportStream> {
  const store = await openWhat(svc, projectId, what);
  const [nz, ny, nx] = store.meta.shape;
  const nc = store.meta.channels.length;
  const stem = `${what}`;
  const dataBytes = nz * ny * nx * nc;
  if (format === 'nrrd') {
    const head = enc.encode(nrrdHeader({ ...store.meta, dtype: 'uint8', comment: `petromap export: ${what} of project ${projectId}` }));
    return {
      filename: `${stem}.nrrd`, contentType: 'application/octet-stream', length: head.length + dataBytes,
      body: (async function* () {
        yield head;
        yield* slices(store, 'interleaved', signal);
      })(),
    };
  }
  if (format === 'nifti') {
    const head = niftiHeader({ ...store.meta, dtype: 'uint8', channels: nc, units: 'mm', description: `petromap ${what}` });
    return {
      filename: `${stem}.nii`, contentType: 'application/octet-stream', length: head.length + dataBytes,
      body: (async function* () {
        yield head;
        yield* slices(store, 'channel-major', signal);
      })(),
    };
  }
  if (format === 'tiff') {
    const pages = nz * nc;
    if (!classicTiffFits(pages, ny * nx)) throw unsupported(`${nx} x ${ny} x ${nz} voxels x ${nc} channel(s) do not fit a classic TIFF (4 GB limit); export as NRRD, NIfTI or OME-Zarr instead.`);
    const desc = (p: number) => (p === 0 ? JSON.stringify({ petromap: what, shape: [nz, ny, nx], channels: store.meta.channels, spacingUm: store.meta.spacingUm }) : null);
    return {
      filename: `${stem}.tif`, contentType: 'image/tiff',
      body: (async function* () {
        yield tiffFileHeader(8);
        // each page: its IFD (offsets known up front), the pixels, a pad byte if the next IFD would start odd
        let off = 8, p = 0;
        for await (const s of slices(store, 'channel-major', signal)) {
          const page = tiffPageBeforeData({ width: nx, height: ny, pageStart: off, last: p === pages - 1, description: desc(p) });
          yield page.header;
          yield s;
          if (page.padAfter) yield new Uint8Array(page.padAfter);
          off = page.nextPageStart;
          p++;
        }
      })(),
    };
  }
  if (format === 'ome-zarr') {
    const dir = svc.ws.abs(predictionRel(svc, projectId, what));
    return { filename: `${stem}.ome.zarr.zip`, contentType: 'application/zip', body: zipDir(dir, `${stem}.ome.zarr`) };
  }
  throw invalidInput(`Unknown export format "${format}" (use ome-zarr, nrrd, nifti or tiff).`);
}

// ---------------------------------------------------------------- CSV tables

const csvCell = (v: unknown) => {
  const s = v == null ? '' : typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(6)) : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};
export const toCsv = (header: string[], rows: unknown[][]) => [header, ...rows].map((r) => r.map(csvCell).join(',')).join('\n') + '\n';

export async function reportCsv(svc: Services, projectId: string, table: TableWhat): Promise<{ filename: string; csv: string }> {
  const st = await resultsState(svc, projectId);
  const name = (c: number) => st.classes.find((d: ClassDef) => d.code === c)?.name ?? `class ${c}`;
  if (table === 'metrics') {
    const v = st.validation;
    if (!v) throw unprocessable('There is no trained model yet, so no validation metrics: train one on the Train step.');
    return {
      filename: 'validation-metrics.csv',
      csv: toCsv(['class_code', 'class', 'precision', 'recall', 'f1', 'iou', 'support'], v.perClass.map((m) => [m.class, name(m.class), m.precision, m.recall, m.f1, m.iou, m.support])),
    };
  }
  if (!st.prediction) throw unprocessable('There is no prediction yet: click "Predict whole volume" on the Train step.');
  if (table === 'modal') {
    return {
      filename: 'modal-mineralogy.csv',
      csv: toCsv(['class_code', 'class', 'volume_percent_3d', 'eds_area_percent_2d', 'voxels'], st.modal.map((m) => [m.code, m.name, m.volumePct, m.edsAreaPct, m.voxels])),
    };
  }
  if (table === 'depth') {
    const cls = st.prediction.classes;
    return {
      filename: 'depth-profile.csv',
      csv: toCsv(['depth_um', 'voxels', ...cls.map((c) => `${name(c)}_fraction`)], st.depth!.depthsUm.map((d, j) => [d, st.depth!.voxels[j], ...cls.map((c) => st.depth!.fractions[j][c])])),
    };
  }
  if (table === 'histograms') {
    const h = st.histograms!;
    const cls = st.prediction.classes;
    const w = (h.hi - h.lo) / h.bins;
    return {
      filename: 'grey-histograms.csv',
      csv: toCsv(['grey_from', 'grey_to', ...cls.map((c) => `${name(c)}_voxels`)], Array.from({ length: h.bins }, (_, b) => [h.lo + b * w, h.lo + (b + 1) * w, ...cls.map((c) => h.counts[c][b])])),
    };
  }
  throw invalidInput(`Unknown table "${table}" (use modal, depth, histograms or metrics).`);
}

// ---------------------------------------------------------------- labels.nii for the 3D view

/** The label volume subsampled (nearest) so that its longest axis is ≤ maxEdge voxels, as NIfTI. */
export async function labelsNifti(svc: Services, projectId: string, maxEdge = 160): Promise<Uint8Array> {
  const ps = await predictionStores(svc, projectId);
  if (!ps) throw unprocessable('There is no prediction yet: click "Predict whole volume" on the Train step.');
  const store = ps.labels;
  const shape = store.meta.shape;
  const f = Math.max(1, Math.ceil(Math.max(...shape) / maxEdge));
  const out: Shape3 = shape.map((n) => Math.ceil(n / f)) as Shape3;
  // no origin: this file only feeds the 3D view
  const head = niftiHeader({ shape: out, spacingUm: store.meta.spacingUm.map((s) => s * f) as [number, number, number], units: 'mm', description: 'petromap labels' });
  const buf = new Uint8Array(head.length + out[0] * out[1] * out[2]);
  buf.set(head, 0);
  let o = head.length;
  for (let z = 0; z < out[0]; z++) {
    const box: Box3 = { start: [z * f, 0, 0], shape: [1, shape[1], shape[2]] };
    const s = await store.readBlock(box);
    for (let y = 0; y < out[1]; y++) for (let x = 0; x < out[2]; x++) buf[o++] = s[y * f * shape[2] + x * f];
  }
  return buf;
}

export async function fileSize(p: string) {
  return (await stat(p)).size;
}
