/**
 * Heavy job steps, run in a worker thread by runTask (server/jobs/run-task.ts). Each takes plain
 * JSON-able arguments (absolute paths inside the workspace, parameters) and returns plain data.
 * No server state here: no database, no Next.
 */
import type { StageOptions } from '@/lib/errors';
import { loadMineralMap } from '@/lib/eds/store-node';
import { runLithology } from '@/lib/pipeline/run-lithology';
import { registerEdsToVolume, type LandmarkPair, type SurfaceFit } from '@/lib/registration';
import { openVolume } from '@/lib/volume/zarr-store-node';

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

/** Statistics of a prediction for the Results step and its 3D-view labels (server/pipeline/results-stats.ts). */
export { resultsStatsFromFiles as resultsStats } from '@/lib/report/results-stats-node';
