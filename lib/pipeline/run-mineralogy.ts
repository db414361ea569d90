/**
 * The whole mineralogy chain on stored inputs (Node): register the EDS map onto the volume's
 * polished surface, transfer its labels to the voxels just below it, build a class-balanced,
 * spatially split training set (features mirrored above the surface), train the MLP, predict the
 * whole volume blockwise (resumable; started as soon as the model is saved, beside the training's
 * quality estimate), and report modal mineralogy and depth profiles.
 *
 * Files in `outDir`: registration.json, model/, prediction/ (labels, probabilities, uncertainty
 * OME-Zarr), modal.csv, depth.csv, report.json.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { SANDSTONE_CLASSES, defaultClassFor } from '../classes';
import type { TrainOptions, Validation } from '../classify/model';
import { predictVolume, type PredictResult } from '../classify/predict-node';
import type { ClassCount } from '../classify/training-set';
import type { MineralMap } from '../eds/types';
import { throwIfAborted, unprocessable, type OnProgress, type StageOptions } from '../errors';
import type { FeatureSet } from '../features/types';
import { registerEdsToVolume, type RegisterOptions } from '../registration/register-eds';
import { registerMoreMaps, type MoreMap } from './more-maps';
import type { ClassMap } from '../registration/transfer-labels';
import type { QualityEstimate } from '../classify/quality-estimate';
import { lapClock, trainFromLabels, type StageTime } from './train-from-labels';
import type { Registration } from '../registration/types';
import { csvFileText, depthCsv, modalCsv } from '../report/csv';
import { depthProfile, type DepthProfile } from '../report/depth';
import { writeTextAtomic } from '../report/export-node';
import { labelCensus } from '../report/label-census';
import { modalMineralogy, type ModalMineralogy, type ReportClass } from '../report/modal';
import type { Shape3 } from '../volume/types';
import { openVolume } from '../volume/zarr-store-node';

export interface RunMineralogyOptions extends StageOptions {
  /** class code -> name (default: the sandstone class names for codes 1..5, else "class N") */
  classes?: ReportClass[];
  register?: Omit<RegisterOptions, 'signal' | 'onProgress'>;
  /** default: classifierFeatureSet(volume spacing) (lib/classify/feature-sets.ts) */
  featureSet?: FeatureSet;
  /** labelled voxel layers below the surface plane (default: lib/classify/training-set SURFACE_LABEL_LAYERS) */
  labelLayers?: number;
  maxPerClass?: number;
  /** train on the voxels at EDS phase boundaries with their candidate classes (default true; lib/classify/training-set surfaceTrainingVoxels) */
  boundaryLabels?: boolean;
  /** cap of those voxels (default: as many as the labelled training voxels) */
  maxPartial?: number;
  /** sd of the Gaussian footprint of a boundary pixel, slab pixels (default BOUNDARY_FOOTPRINT_SD) */
  boundaryFootprintSd?: number;
  /** experiments (bench pipeline --prior-shift): trainFromLabels priorShift */
  priorShift?: boolean;
  /** experiments (bench pipeline --no-match-shares): trainFromLabels matchEdsShares (default on) */
  matchEdsShares?: boolean;
  /** experiments (bench pipeline --depth-transfer): trainFromLabels depthTransfer */
  depthTransfer?: import('./train-from-labels').TrainFromLabelsOptions['depthTransfer'];
  /** experiments (bench pipeline --no-guard): trainFromLabels bankGuard (default on) */
  bankGuard?: boolean;
  train?: Omit<TrainOptions, 'signal' | 'onProgress'>;
  /** more EDS maps of the sample (the bottom face, ...): registered onto their face and trained on with the first (lib/pipeline/more-maps.ts) */
  moreMaps?: MoreMap[];
  /**
   * called once every registration is written, before training: throwing stops the run there
   * (petromap run on a doubtful registration, lib/cli/registration-doubt.ts)
   */
  afterRegister?: (registrations: RunMineralogyResult['registration'][]) => void | Promise<void>;
  threads?: number;
  brick?: Shape3;
  /** null: predict without the model's mirror above the surface (petromap run --mirror none); default: the model's */
  mirrorSurface?: null;
  seed?: number;
}

export interface RunMineralogyResult {
  registration: Omit<Registration, 'surface'> & { surface: Omit<Registration['surface'], 'heightMap'> };
  /** the registrations of opts.moreMaps, in order (files registration-2.json, ...) */
  moreRegistrations?: RunMineralogyResult['registration'][];
  labelledVoxels: number;
  /** voxels at EDS phase boundaries trained on with soft targets */
  boundaryVoxels: number;
  trainingCounts: ClassCount[];
  validation: Validation;
  /** the truth-free 3D quality estimate of the model (lib/classify/quality-estimate) */
  quality: QualityEstimate | null;
  /** the feature definition guard's verdict (lib/pipeline/bank-guard; null when it did not apply) */
  bankGuard: import('./bank-guard').BankGuardVerdict | null;
  modelDir: string;
  prediction: PredictResult;
  modal: ModalMineralogy;
  depth: DepthProfile;
  /**
   * wall time per stage, seconds; the prediction starts when the model is saved, during the
   * training stage's last part (the quality estimate): 'predict' is the time after that part
   */
  seconds: Record<'register' | 'train' | 'predict' | 'report', number>;
  /** CPU time per stage, seconds (process.cpuUsage: every thread of the process, prediction's workers included, so 'train' holds their first seconds) */
  cpuSeconds: Record<'register' | 'train' | 'predict' | 'report', number>;
  /** the training stage's parts (lib/pipeline/train-from-labels profile) */
  trainProfile: StageTime[];
  files: Record<string, string>;
}

const sub = (p: OnProgress | undefined, from: number, to: number): OnProgress | undefined => p && ((f, m) => p(from + (to - from) * f, m));

export function classNamesFor(codes: number[], classes?: ReportClass[]): ReportClass[] {
  return codes.map((code) => ({
    code,
    name: classes?.find((c) => c.code === code)?.name ?? SANDSTONE_CLASSES.find((c) => c.code === code)?.name ?? `class ${code}`,
  }));
}

export async function runMineralogy(volumePath: string, map: MineralMap, classMap: ClassMap, outDir: string, opts: RunMineralogyOptions = {}): Promise<RunMineralogyResult> {
  const { signal } = opts;
  // progress never goes back: the quality estimate reports (training's range) while the prediction already does (its own)
  let shown = 0;
  const onProgress: OnProgress | undefined = opts.onProgress && ((f, m) => opts.onProgress!((shown = Math.max(shown, f)), m));
  const seconds = { register: 0, train: 0, predict: 0, report: 0 };
  const cpuSeconds = { ...seconds };
  const clock = lapClock();
  const lap = (k: keyof typeof seconds) => {
    clock.lap(k);
    seconds[k] = clock.laps.at(-1)!.wall;
    cpuSeconds[k] = clock.laps.at(-1)!.cpu;
  };
  await mkdir(outDir, { recursive: true });
  const store = await openVolume(volumePath);

  onProgress?.(0, `registering ${map.source ?? 'the EDS map'} onto ${volumePath}`);
  const reg = await registerEdsToVolume(store, map, { ...opts.register, signal, onProgress: sub(onProgress, 0, 0.15) });
  const { slab, ...regRest } = reg;
  const registration = { ...regRest, surface: { ...reg.surface, heightMap: undefined } };
  // every map is registered before anything is written: a map that does not fit stops the run at once
  const more = await registerMoreMaps(store, opts.moreMaps ?? [], { ...opts.register, firstMi: reg.quality.miAfter, signal, onProgress: sub(onProgress, 0.15, 0.2) });
  await writeTextAtomic(join(outDir, 'registration.json'), JSON.stringify(registration, null, 2) + '\n');
  for (const [k, m] of more.entries()) await writeTextAtomic(join(outDir, `registration-${k + 2}.json`), JSON.stringify(m.registration, null, 2) + '\n');
  lap('register');
  await opts.afterRegister?.([registration, ...more.map((m) => m.registration)]);

  throwIfAborted(signal);
  const classNames = Object.fromEntries(classNamesFor(Object.values(classMap).filter((c): c is number => c !== null), opts.classes).map((c) => [c.code, c.name]));
  const modelDir = join(outDir, 'model');
  const first = { kind: 'eds' as const, map, edsToSlab: reg.edsToSlab, fields: reg.fields, slabToVoxel: reg.slabToVoxel, surface: reg.surface, slab, classMap };
  // the prediction starts as soon as the model is saved: its threads start and predict while this
  // thread estimates the 3D quality (which would otherwise leave the other core idle)
  const predictAbort = new AbortController();
  const onAbort = () => predictAbort.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  let predicting: Promise<PredictResult> | null = null;
  const startPredict = () => {
    predicting ??= predictVolume(volumePath, modelDir, join(outDir, 'prediction'), {
      threads: opts.threads, brick: opts.brick, signal: predictAbort.signal, onProgress: sub(onProgress, 0.45, 0.95),
      ...(opts.mirrorSurface === null ? { mirrorSurface: null } : {}),
    });
    predicting.catch(() => undefined); // awaited below; a training error stops it first
    return predicting;
  };
  let tr: Awaited<ReturnType<typeof trainFromLabels>>;
  let prediction: PredictResult;
  try {
    tr = await trainFromLabels(volumePath, more.length ? [first, ...more.map((m) => m.labels)] : first, modelDir, {
      featureSet: opts.featureSet, classNames, maxPerClass: opts.maxPerClass, labelLayers: opts.labelLayers, boundaryLabels: opts.boundaryLabels,
      maxPartial: opts.maxPartial, footprintSd: opts.boundaryFootprintSd, train: opts.train, seed: opts.seed, priorShift: opts.priorShift, matchEdsShares: opts.matchEdsShares, depthTransfer: opts.depthTransfer, bankGuard: opts.bankGuard, source: `EDS map ${map.source ?? ''}`.trim(),
      signal, onProgress: sub(onProgress, 0.2, 0.45), onModelSaved: startPredict,
    });
    lap('train');
    prediction = await startPredict();
    lap('predict');
  } catch (err) {
    predictAbort.abort(err);
    await (predicting as Promise<PredictResult> | null)?.catch(() => undefined); // set in startPredict (TS narrows the let to null here)
    throw err;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  const classes = classNamesFor(tr.classes, opts.classes);
  const validation = tr.validation;

  const labels = await openVolume(prediction.labelsPath);
  // one pass over the labels for both
  const census = await labelCensus(labels, reg.surface, { signal, onProgress: sub(onProgress, 0.95, 1) });
  const modal = await modalMineralogy(labels, classes, { map, classMap, census });
  const depth = await depthProfile(labels, reg.surface, classes, { census });
  const files = {
    registration: join(outDir, 'registration.json'),
    ...Object.fromEntries(more.map((_, k) => [`registration${k + 2}`, join(outDir, `registration-${k + 2}.json`)])),
    model: modelDir,
    labels: prediction.labelsPath,
    probabilities: prediction.probabilitiesPath,
    uncertainty: prediction.uncertaintyPath,
    modalCsv: join(outDir, 'modal.csv'),
    depthCsv: join(outDir, 'depth.csv'),
    report: join(outDir, 'report.json'),
  };
  await writeTextAtomic(files.modalCsv, csvFileText(modalCsv(modal)));
  await writeTextAtomic(files.depthCsv, csvFileText(depthCsv(depth)));
  lap('report');
  const result: RunMineralogyResult = { registration, ...(more.length ? { moreRegistrations: more.map((m) => m.registration) } : {}), labelledVoxels: tr.labelledVoxels, boundaryVoxels: tr.boundaryVoxels, trainingCounts: tr.counts, validation, quality: tr.quality, bankGuard: tr.bankGuard, modelDir, prediction, modal, depth, seconds, cpuSeconds, trainProfile: tr.profile, files };
  await writeTextAtomic(files.report, JSON.stringify(result, null, 2) + '\n');
  onProgress?.(1, 'mineralogy finished');
  return result;
}

/** A class table: which minerals of the EDS legend make each class (code 1..255). */
export interface ClassTableEntry {
  code: number;
  name: string;
  minerals: string[];
}

/** Parse a class table JSON (array of { code, name, minerals }); `source` names the file for messages. */
export function parseClassTable(json: unknown, source: string): ClassTableEntry[] {
  if (!Array.isArray(json)) throw unprocessable(`${source}: expected a JSON array of { "code": 1, "name": "quartz", "minerals": ["Quartz"] }.`);
  const seen = new Set<number>();
  return json.map((e, i) => {
    const o = e as Partial<ClassTableEntry>;
    if (!Number.isInteger(o.code) || o.code! < 1 || o.code! > 255) throw unprocessable(`${source}: entry ${i + 1} needs a class "code" between 1 and 255 (0 means "no label").`);
    if (seen.has(o.code!)) throw unprocessable(`${source}: class code ${o.code} is used twice.`);
    seen.add(o.code!);
    if (typeof o.name !== 'string' || !o.name) throw unprocessable(`${source}: entry ${i + 1} (code ${o.code}) needs a "name".`);
    if (!Array.isArray(o.minerals) || !o.minerals.every((m) => typeof m === 'string')) throw unprocessable(`${source}: class "${o.name}" needs "minerals", a list of legend names.`);
    return { code: o.code!, name: o.name, minerals: o.minerals };
  });
}

/**
 * ClassMap of a legend from a class table (minerals not listed are dropped). Without a table, the
 * default classes (lib/classes defaultClassFor: pore, quartz, feldspar, clay, pyrite), as in the
 * web app; a legend none of whose minerals has a default class needs a table.
 */
export function classMapFromTable(map: MineralMap, table?: ClassTableEntry[]): { classMap: ClassMap; classes: ReportClass[] } {
  const classMap: ClassMap = {};
  if (!table) {
    const used = new Set<number>();
    for (const p of map.legend) {
      if (p.id === 0) continue;
      const c = defaultClassFor(p.name);
      classMap[p.id] = c;
      if (c !== null) used.add(c);
    }
    if (!used.size) {
      throw unprocessable(`None of the minerals of ${map.source ?? 'the EDS map'} (${map.legend.slice(0, 8).map((p) => p.name).join(', ')}) has a default class (pore, quartz, feldspar, clay, pyrite): give a class table (--classes classes.json).`);
    }
    return { classMap, classes: SANDSTONE_CLASSES.filter((c) => used.has(c.code)).map((c) => ({ code: c.code, name: c.name })) };
  }
  const byName = new Map<string, number>();
  for (const e of table) for (const m of e.minerals) byName.set(m.toLowerCase(), e.code);
  const unknown = table.flatMap((e) => e.minerals).filter((m) => !map.legend.some((p) => p.name.toLowerCase() === m.toLowerCase()));
  if (unknown.length === table.flatMap((e) => e.minerals).length) {
    throw unprocessable(`None of the minerals of the class table (${unknown.slice(0, 5).join(', ')}) is in the legend of ${map.source ?? 'the EDS map'} (${map.legend.map((p) => p.name).join(', ')}).`);
  }
  for (const p of map.legend) classMap[p.id] = byName.get(p.name.toLowerCase()) ?? null;
  return { classMap, classes: table.map((e) => ({ code: e.code, name: e.name })) };
}
