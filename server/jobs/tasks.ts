/**
 * Heavy job steps, run in a worker thread by runTask (server/jobs/run-task.ts). Each takes plain
 * JSON-able arguments (absolute paths inside the workspace, parameters) and returns plain data.
 * No server state here: no database, no Next.
 */
import type { Affine2, Affine2to3 } from '@/lib/coords';
import type { SurfacePlane } from '@/lib/classify/mirror';
import { predictSlice as predictSliceNode, type SliceAxis } from '@/lib/classify/predict-slice-node';
import { predictVolume as predictVolumeNode } from '@/lib/classify/predict-node';
import type { StageOptions } from '@/lib/errors';
import { loadMineralMap } from '@/lib/eds/store-node';
import type { FeatureSet } from '@/lib/features/types';
import { measureFeatureThroughput } from '@/lib/features/throughput-node';
import { runLithology } from '@/lib/pipeline/run-lithology';
import { labelledVoxels, trainFromLabels as trainFromLabelsStage, type EdsLabels } from '@/lib/pipeline/train-from-labels';
import { registerEdsToVolume, type ClassMap, type LandmarkPair, type SurfaceFit } from '@/lib/registration';
import type { Face } from '@/lib/registration/face-view';
import { openVolume } from '@/lib/volume/zarr-store-node';
import { readSlabFiles } from './tasks-correlate';

/** What a task receives besides its arguments (worker-entry.mjs). */
export type TaskOptions = StageOptions & { onEvent?: (e: unknown) => void };

export interface RegisterTaskArgs {
  storePath: string;
  mapDir: string;
  landmarks?: LandmarkPair[];
  model: 'similarity' | 'affine';
  surface?: SurfaceFit;
}

export async function register(a: RegisterTaskArgs, opts: StageOptions) {
  const store = await openVolume(a.storePath);
  const map = await loadMineralMap(a.mapDir);
  const r = await registerEdsToVolume(store, map, { landmarks: a.landmarks, model: a.model, surface: a.surface, signal: opts.signal, onProgress: opts.onProgress });
  const { slab: _slab, ...rest } = r;
  const { heightMap: _h, ...surface } = rest.surface;
  return { ...rest, surface };
}

export interface LithologyTaskArgs {
  /** absolute paths inside the workspace */
  scanPath: string;
  strokesPath: string;
  workDir: string;
  epochs?: number;
  classNames: string[];
  classCodes: number[];
}

/** Lithology: train on painted strokes, predict the whole volume (lib/pipeline runLithology). */
export async function lithologyTrainPredict(a: LithologyTaskArgs, opts: StageOptions) {
  const classNames = Object.fromEntries(a.classCodes.map((c, k) => [c, a.classNames[k] ?? `class ${c}`]));
  return runLithology(a.scanPath, a.strokesPath, a.workDir, { classNames, train: a.epochs ? { epochs: a.epochs } : undefined, signal: opts.signal, onProgress: opts.onProgress });
}

/** Import an uploaded file into a new dataset folder (server/storage/import-job.ts writes the row). */
export async function importDataset(a: import('../storage/datasets').ImportFilesArgs, opts: StageOptions) {
  const { importDatasetFiles } = await import('../storage/datasets');
  return importDatasetFiles(a, opts);
}
export { correlateSlab, correlateRegister } from './tasks-correlate'; // Correlate steps (server/pipeline/correlate.ts)
export { correlateScaleSearch } from './tasks-scale'; // Correlate's EDS pixel-size search (server/pipeline/correlate-scale.ts)
export { clusterWorkers } from './tasks-cluster'; // the Workers page (server/routers/workers.ts)
export { eraseAnnotationCode, scanProposals } from './tasks-annotate'; // Annotate steps (server/pipeline/annotate-jobs.ts)
export { multiscaleRegister, multiscaleUpscale } from './tasks-multiscale'; // Multi-scale steps (server/pipeline/multiscale.ts)

// ---------------------------------------------------------------- training, prediction, preview

/** A registered EDS map as files and numbers (the accepted registration of a project). */
export interface EdsLabelArgs {
  storePath: string;
  mapDir: string;
  /** the project folder with the Correlate step's slab (slab.json + slab.f32), used when it belongs to this volume */
  slabDir?: string;
  volumeId: string;
  edsToSlab: Affine2;
  fields?: import('@/lib/registration/types').FieldCorrection[];
  slabToVoxel: Affine2to3;
  surface: SurfacePlane;
  /** mineral phase id -> class code (null: dropped) */
  classMap: ClassMap;
  /** the face the map shows (default top); bottom: registration and slab (slabDir's slab-bottom) in the volume turned upside down */
  face?: Face;
  /** the name the map was uploaded under (the dataset's name): lib's messages name the map so, not by the file inside its zip */
  mapName?: string;
}

/** The slab the map was registered on (the Correlate step's slab files), else the volume's XY geometry. */
async function edsLabels(a: EdsLabelArgs): Promise<EdsLabels> {
  const map = await loadMineralMap(a.mapDir);
  if (a.mapName) map.source = a.mapName;
  const stored = a.slabDir ? await readSlabFiles(a.slabDir, a.face) : undefined;
  let slab: EdsLabels['slab'];
  if (stored && stored.volumeId === a.volumeId) slab = { width: stored.width, height: stored.height, data: stored.data };
  else {
    const [, ny, nx] = (await openVolume(a.storePath)).meta.shape;
    slab = { width: nx, height: ny };
  }
  const { a: pa, b: pb, c: pc } = a.surface;
  return { kind: 'eds', map, edsToSlab: a.edsToSlab, fields: a.fields, slabToVoxel: a.slabToVoxel, surface: { a: pa, b: pb, c: pc }, slab, classMap: a.classMap, ...(a.face === 'bottom' ? { face: a.face } : {}) };
}

/** Labelled voxels per class code and the boundary (soft-label) voxels of a registered map (and of `more` maps: the bottom face), as training will see them. */
export async function labelCounts(a: EdsLabelArgs & { more?: EdsLabelArgs[] }, opts: TaskOptions) {
  const store = await openVolume(a.storePath);
  const counts: Record<number, number> = {};
  let boundary = 0;
  for (const m of [a, ...(a.more ?? [])]) {
    const { labelled, partial } = await labelledVoxels(store, await edsLabels(m), { signal: opts.signal });
    for (const v of labelled) counts[v.cls] = (counts[v.cls] ?? 0) + 1;
    boundary += partial.length;
  }
  return { counts, boundary };
}

export interface TrainTaskArgs extends EdsLabelArgs {
  modelDir: string;
  /** unset: the stage's defaults (lib/pipeline/train-from-labels, lib/classify/model) */
  featureSet?: FeatureSet;
  hidden?: number[];
  epochs?: number;
  maxPerClass?: number;
  seed?: number;
  classNames: Record<number, string>;
  source: string;
  /** further registered maps of the sample (the bottom face, issue 15 §1): one model on every map's labels */
  more?: EdsLabelArgs[];
  /** the volume's dataset name, recorded in the model folder with its id (model-io-node TrainedOn) */
  volumeName?: string;
}

/** lib/pipeline trainFromLabels on a registered EDS map (or several); every epoch goes out as an event { epoch }. */
export async function trainFromLabels(a: TrainTaskArgs, opts: TaskOptions) {
  const first = await edsLabels(a);
  const labels = a.more?.length ? [first, ...(await Promise.all(a.more.map(edsLabels)))] : first;
  const train = a.hidden || a.epochs ? { ...(a.hidden ? { hidden: a.hidden } : {}), ...(a.epochs ? { epochs: a.epochs } : {}) } : undefined;
  return trainFromLabelsStage(a.storePath, labels, a.modelDir, {
    featureSet: a.featureSet, classNames: a.classNames, maxPerClass: a.maxPerClass, train, seed: a.seed, source: a.source,
    ...(a.volumeName ? { volume: { name: a.volumeName, id: a.volumeId } } : {}),
    signal: opts.signal, onProgress: opts.onProgress, onEpoch: (epoch) => opts.onEvent?.({ epoch }),
  });
}

/** lib/classify predictVolume (its own worker threads, resumable brick by brick). */
export async function predictVolume(a: { storePath: string; modelDir: string; outDir: string; threads?: number; volumeName?: string }, opts: TaskOptions) {
  const r = await predictVolumeNode(a.storePath, a.modelDir, a.outDir, { threads: a.threads, signal: opts.signal, onProgress: opts.onProgress, volumeName: a.volumeName });
  return { bricksDone: r.bricksDone, bricksSkipped: r.bricksSkipped, bricksTotal: r.bricksTotal, classes: r.classes, verifiedVoxels: r.verifiedVoxels };
}

/** The model on one slice (lib/classify predictSlice: the brick path of predictVolume). */
export async function predictSlice(a: { storePath: string; modelDir: string; axis: SliceAxis; index: number; level: number; volumeName?: string }, opts: TaskOptions) {
  return predictSliceNode(a.storePath, a.modelDir, a.axis, a.index, { level: a.level, signal: opts.signal, volumeName: a.volumeName });
}

/** How fast this machine computes features (lib/features measureFeatureThroughput). */
export async function featureThroughput(a: { storePath: string }, opts: TaskOptions) {
  return measureFeatureThroughput(a.storePath, { signal: opts.signal });
}

/** Statistics of a prediction for the Results step and its 3D-view labels (server/pipeline/results-stats.ts). */
export { resultsStatsFromFiles as resultsStats } from '@/lib/report/results-stats-node';
