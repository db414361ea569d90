/**
 * The multi-scale chain (one entry for the CLI, the server's jobs and the benchmark):
 *   register each interior scan (lib/registration/register-3d) → segment and measure it per low-res
 *   footprint (measure-interior) → calibrate per lithology class (calibrate) → composite model
 *   (composite-node) → exports (lib/report/export-node), class table and depth profile (CSV),
 *   report.json (every figure, the registrations' quality, statements about uncovered classes).
 * Files in `outDir`: composite.ome.zarr (porosity, uncertainty), composite-porosity.<ext> per
 * format, classes.csv, depth.csv, footprints.csv, report.json. Each file is written under a temp
 * name and renamed; a composite store left by an earlier run is replaced only after the new one is
 * complete. What is already there under these names is replaced only when petromap wrote it
 * (output-guard-node: petromap's mark, or the folder's record of the last run, .petromap-upscale.json);
 * another program's file or folder is refused in words before any work and left as it was.
 */
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { invalidInput, throwIfAborted, unprocessable, type OnProgress, type StageOptions } from '../errors';
import { registerInterior, type RegisterInteriorResult } from '../registration/register-3d';
import { csvFileText, toCsv } from '../report/csv';
import { exportVolume, writeTextAtomic, type ExportFormat } from '../report/export-node';
import { openVolume } from '../volume/zarr-store-node';
import { calibrateClass, type ClassCalibration } from './calibrate';
import { buildComposite, type CompositeResult } from './composite-node';
import { checkPoreLabels, CHORD_BINS, measureInterior, type Footprint, type InteriorMeasurement } from './measure-interior';
import { checkUpscaleOutputs, writeUpscaleRecord, type OutputSignatures } from './output-guard-node';
import type { Affine3, InteriorPose, Vec3 } from './interior-pose';

export interface UpscaleInterior {
  path: string;
  name?: string;
  /** rough position (low-res voxel index of the centre) and turn; default: from the store's origin */
  start?: { centre: Vec3; angleDeg?: number };
  /** an accepted registration: skips registering again */
  hiToLow?: Affine3;
  threshold?: number;
  poreLabels?: { path: string; poreCodes: number[] };
}

export interface UpscaleInput {
  volumePath: string;
  classesPath: string;
  classNames?: Record<number, string>;
  interiors: UpscaleInterior[];
  outDir: string;
  /** exports of the porosity channel (default all four) */
  formats?: ExportFormat[];
}

export interface UpscaleClassRow {
  code: number;
  name: string;
  voxels: number;
  volumeFraction: number;
  covered: boolean;
  calibration: Omit<ClassCalibration, 'draws'> | null;
  meanChordUm: number | null;
  chordHistogram: number[] | null;
  porosity: CompositeResult['classes'][number]['porosity'];
  statement: string | null;
}

export interface UpscaleResult {
  interiors: { name: string; pose: InteriorPose; hiToLow: Affine3; quality: RegisterInteriorResult['quality'] | null; threshold: number; thresholds: Record<number, number>; segmentation: string; footprints: number; hiVoxels: number }[];
  registrations: (RegisterInteriorResult | null)[];
  classes: UpscaleClassRow[];
  total: CompositeResult['total'];
  depth: CompositeResult['depth'];
  statements: string[];
  lowVoxelUm: number;
  chordUm: number;
  files: Record<string, string>;
}

const sub = (p: OnProgress | undefined, a: number, b: number): OnProgress | undefined => p && ((f, m) => p(a + (b - a) * f, m));

/** The centre of an interior from its stored origin (stage position, µm, in the large scan's frame). */
export function startFromOrigin(volumeMeta: { spacingUm: Vec3; originUm: Vec3 }, interiorMeta: { shape: Vec3; spacingUm: Vec3; originUm: Vec3 }): { centre: Vec3; angleDeg: number } {
  return {
    centre: [0, 1, 2].map((a) => (interiorMeta.originUm[a]! + ((interiorMeta.shape[a]! - 1) / 2) * interiorMeta.spacingUm[a]! - volumeMeta.originUm[a]!) / volumeMeta.spacingUm[a]!) as Vec3,
    angleDeg: 0,
  };
}

const CLASS_COLUMNS = ['class', 'name', 'low_res_voxels', 'volume_fraction', 'covered', 'footprints', 'high_res_voxels', 'measured_porosity_mean', 'measured_porosity_std',
  'calibration_alpha', 'calibration_beta_per_grey', 'calibration_r2', 'residual_std', 'segmentation_shift', 'mean_pore_chord_um',
  'composite_porosity', 'composite_ci95_low', 'composite_ci95_high', 'note'];
const DEPTH_COLUMNS = ['z', 'depth_um', 'porosity', 'covered_fraction'];
const FOOTPRINT_COLUMNS = ['z', 'y', 'x', 'class', 'grey', 'porosity', 'porosity_threshold_minus', 'porosity_threshold_plus', 'high_res_voxels'];
/** how an earlier run's tables and report.json are told from another program's files (output-guard-node) */
const SIGNATURES: OutputSignatures = {
  csvHeaders: { 'classes.csv': CLASS_COLUMNS.join(','), 'depth.csv': DEPTH_COLUMNS.join(','), 'footprints.csv': FOOTPRINT_COLUMNS.join(',') },
  reportFields: ['interiors', 'classes', 'total', 'lowVoxelUm'],
};
const EXTENSION: Partial<Record<ExportFormat, string>> = { 'ome-zarr': 'ome.zarr', nrrd: 'nrrd', nifti: 'nii', tiff: 'tif' };
const DEFAULT_FORMATS: ExportFormat[] = ['ome-zarr', 'nrrd', 'nifti', 'tiff'];
const exportName = (f: ExportFormat) => `composite-porosity.${EXTENSION[f] ?? f}`;

/** Every name a run writes in its output folder (with `formats`' exports). */
export const upscaleOutputNames = (formats: readonly ExportFormat[]) => ['composite.ome.zarr', ...formats.map(exportName), 'classes.csv', 'depth.csv', 'footprints.csv', 'report.json'];

export async function runUpscale(input: UpscaleInput, opts: StageOptions = {}): Promise<UpscaleResult> {
  const { signal, onProgress } = opts;
  if (!input.interiors.length) throw invalidInput('Give at least one interior scan (--interior).');
  const volume = await openVolume(input.volumePath), classes = await openVolume(input.classesPath);
  const vname = path.basename(input.volumePath);
  if (classes.meta.shape.some((n, a) => n !== volume.meta.shape[a])) {
    throw invalidInput(`The lithology labels ${path.basename(input.classesPath)} (${classes.meta.shape.join(' × ')}) do not have the shape of the scan ${vname} (${volume.meta.shape.join(' × ')}).`);
  }
  if (classes.meta.dtype !== 'uint8') throw invalidInput(`The lithology labels ${path.basename(input.classesPath)} must be a label volume (uint8), not ${classes.meta.dtype}.`);
  await mkdir(input.outDir, { recursive: true });
  // refused before any work: an output name another program's file or folder holds (left as it is)
  const formats = input.formats ?? DEFAULT_FORMATS;
  await checkUpscaleOutputs(input.outDir, upscaleOutputNames(formats), SIGNATURES);
  const k = input.interiors.length;
  const footprints: Footprint[] = [];
  const chords = new Map<number, Float64Array>();
  const surface = new Map<number, { s: number; n: number }>();
  const out: UpscaleResult['interiors'] = [], regs: (RegisterInteriorResult | null)[] = [];
  let chordUm = NaN;
  for (let i = 0; i < k; i++) {
    throwIfAborted(signal);
    const it = input.interiors[i]!, name = it.name ?? path.basename(it.path);
    const interior = await openVolume(it.path);
    // pore labels are checked before the registration's work
    const labels = it.poreLabels ? { store: await openVolume(it.poreLabels.path), poreCodes: it.poreLabels.poreCodes } : undefined;
    if (labels) checkPoreLabels(labels.store, interior, name);
    let reg: RegisterInteriorResult | null = null, hiToLow = it.hiToLow;
    if (!hiToLow) {
      const start = it.start ?? startFromOrigin(volume.meta, interior.meta);
      reg = await registerInterior(volume, interior, { start, signal, interiorName: name, volumeName: vname, onProgress: sub(onProgress, (0.6 * i) / k, (0.6 * i + 0.4) / k) });
      hiToLow = reg.hiToLow;
    }
    const m: InteriorMeasurement = await measureInterior(volume, classes, interior, hiToLow, {
      threshold: it.threshold, labels, interiorName: name, signal, onProgress: sub(onProgress, (0.6 * i + 0.4) / k, (0.6 * (i + 1)) / k),
    });
    if (!m.footprints.length) throw unprocessable(`Interior scan ${name} covers no whole voxel of ${vname}: it lies outside the scan or is smaller than one of its voxels.`);
    for (const f of m.footprints) footprints.push(f); // not push(...): hundreds of thousands overflow the stack
    for (const [code, h] of Object.entries(m.chords)) {
      const acc = chords.get(Number(code)) ?? new Float64Array(CHORD_BINS);
      h.forEach((v, b) => (acc[b] += v));
      chords.set(Number(code), acc);
    }
    chordUm = m.chordUm;
    for (const [code, sv] of Object.entries(m.surfacePerVoxel)) {
      const w = m.footprints.filter((f) => f.cls === Number(code)).length, acc = surface.get(Number(code)) ?? { s: 0, n: 0 };
      surface.set(Number(code), { s: acc.s + sv * w, n: acc.n + w });
    }
    regs.push(reg);
    out.push({
      name, hiToLow, pose: reg?.pose ?? { centre: [NaN, NaN, NaN], angleDeg: NaN, scale: [NaN, NaN, NaN] }, quality: reg?.quality ?? null,
      threshold: m.threshold, thresholds: m.thresholds, segmentation: m.segmentation, footprints: m.footprints.length, hiVoxels: m.voxelsUsed,
    });
  }
  // calibrate each class with footprints (class 0 = unlabelled is never calibrated)
  const byClass = new Map<number, Footprint[]>();
  for (const f of footprints) if (f.cls) { if (!byClass.has(f.cls)) byClass.set(f.cls, []); byClass.get(f.cls)!.push(f); }
  const cals = [...byClass.entries()].map(([code, fp]) => {
    const sv = surface.get(code);
    return calibrateClass(code, fp, { surfacePerVoxel: sv && sv.n ? sv.s / sv.n : 0 });
  });
  const tmpStore = path.join(input.outDir, `composite.ome.zarr.tmp-${process.pid}`);
  await rm(tmpStore, { recursive: true, force: true });
  const comp = await buildComposite(volume, classes, cals, tmpStore, { signal, onProgress: sub(onProgress, 0.6, 0.8) });
  const storePath = path.join(input.outDir, 'composite.ome.zarr');
  // again before replacing: a file put under an output name while the run measured is not lost
  await checkUpscaleOutputs(input.outDir, upscaleOutputNames(formats), SIGNATURES).catch(async (err: unknown) => {
    await rm(tmpStore, { recursive: true, force: true });
    throw err;
  });
  await rm(storePath, { recursive: true, force: true });
  await rename(tmpStore, storePath);
  const composite = await openVolume(storePath);
  const files: Record<string, string> = { composite: storePath };
  for (let j = 0; j < formats.length; j++) {
    const f = formats[j]!;
    const p = path.join(input.outDir, exportName(f));
    if (f.startsWith('ome-zarr')) await rm(p, { recursive: true, force: true });
    await exportVolume(composite, f, p, { channel: 0, signal, onProgress: sub(onProgress, 0.8 + (0.15 * j) / formats.length, 0.8 + (0.15 * (j + 1)) / formats.length) });
    files[f] = p;
  }
  const result = assemble(input, volume.meta.shape, volume.meta.spacingUm[0], comp, cals, chords, chordUm, out, regs, files);
  await writeTables(input.outDir, result, footprints);
  await writeUpscaleRecord(input.outDir, Object.values(result.files));
  onProgress?.(1, 'composite model written');
  return result;
}

function assemble(
  input: UpscaleInput, shape: Vec3, lowVoxelUm: number, comp: CompositeResult, cals: ClassCalibration[], chords: Map<number, Float64Array>, chordUm: number,
  interiors: UpscaleResult['interiors'], registrations: (RegisterInteriorResult | null)[], files: Record<string, string>,
): UpscaleResult {
  const N = shape[0] * shape[1] * shape[2];
  const nameOf = (code: number) => input.classNames?.[code] ?? `class ${code}`;
  const statements: string[] = [];
  const classes: UpscaleClassRow[] = comp.classes.map((c) => {
    const cal = cals.find((x) => x.code === c.code) ?? null;
    const h = chords.get(c.code);
    let total = 0, sum = 0;
    h?.forEach((v, b) => { total += v; sum += v * (b + 1); });
    const frac = c.voxels / N;
    const statement = cal ? null
      : `Class "${nameOf(c.code)}" (${(100 * frac).toFixed(1)} % of the sample) has no high-resolution measurement: no interior scan covers a whole voxel of it, so its porosity is not estimated and the totals leave it out.`;
    if (statement) statements.push(statement);
    const { draws: _d, ...calibration } = cal ?? { draws: [] };
    return {
      code: c.code, name: nameOf(c.code), voxels: c.voxels, volumeFraction: frac, covered: !!cal,
      calibration: cal ? (calibration as Omit<ClassCalibration, 'draws'>) : null,
      meanChordUm: total ? (sum / total) * chordUm : null, chordHistogram: h ? Array.from(h) : null,
      porosity: c.porosity, statement,
    };
  });
  if (comp.total.coveredFraction < 1 && !statements.length) statements.push(`${(100 * (1 - comp.total.coveredFraction)).toFixed(1)} % of the sample is unlabelled and left out of the totals.`);
  return { interiors, registrations, classes, total: comp.total, depth: comp.depth, statements, lowVoxelUm, chordUm, files };
}

/** classes.csv, depth.csv, footprints.csv and report.json (temp name + rename each). */
async function writeTables(dir: string, r: UpscaleResult, footprints: Footprint[]) {
  const classCsv = toCsv(
    CLASS_COLUMNS,
    [
      ...r.classes.map((c) => [c.code, c.name, c.voxels, c.volumeFraction, c.covered ? 'yes' : 'no', c.calibration?.footprints ?? 0, c.calibration?.hiVoxels ?? 0,
        c.calibration?.mean, c.calibration?.std, c.calibration?.alpha, c.calibration?.beta, c.calibration?.r2, c.calibration?.residualStd, c.calibration?.segmentationShift,
        c.meanChordUm, c.porosity?.value, c.porosity?.low, c.porosity?.high, c.statement ?? '']),
      ['', 'whole sample (covered classes)', r.total.coveredVoxels, r.total.coveredFraction, '', '', '', '', '', '', '', '', '', '', '', r.total.value, r.total.low, r.total.high, r.statements.join(' ')],
    ],
  );
  const depthCsv = toCsv(DEPTH_COLUMNS, r.depth.map((d) => [d.z, d.z * r.lowVoxelUm, Number.isNaN(d.porosity) ? '' : d.porosity, d.covered]));
  const fpCsv = toCsv(FOOTPRINT_COLUMNS,
    footprints.map((f) => [f.z, f.y, f.x, f.cls, f.grey, f.porosity, f.porosityLo, f.porosityHi, f.voxels]));
  r.files.classes = path.join(dir, 'classes.csv');
  r.files.depth = path.join(dir, 'depth.csv');
  r.files.footprints = path.join(dir, 'footprints.csv');
  r.files.report = path.join(dir, 'report.json');
  await writeTextAtomic(r.files.classes, csvFileText(classCsv));
  await writeTextAtomic(r.files.depth, csvFileText(depthCsv));
  await writeTextAtomic(r.files.footprints, csvFileText(fpCsv));
  const { registrations, ...rest } = r;
  const report = { ...rest, registrations: registrations.map((g) => g && { pose: g.pose, quality: g.quality, factor: g.factor, coarse: g.coarse }) };
  await writeTextAtomic(r.files.report, JSON.stringify(report, null, 1) + '\n');
}
