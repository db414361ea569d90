/**
 * resultsStats (results-stats.ts) on stores and a mineral map given by path, plus the coarse label
 * volume for a 3D view written as a NIfTI file: the Results step's job in one call that takes and
 * returns plain JSON (a worker-thread task of the server, usable from a CLI).
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { StageOptions } from '../errors';
import type { SurfacePlane } from '../classify/mirror';
import { loadMineralMap } from '../eds/store-node';
import type { ClassMap } from '../registration/transfer-labels';
import { openVolume } from '../volume/zarr-store-node';
import { labelsOverviewNifti, OVERVIEW_MAX_EDGE } from './labels-overview';
import type { ReportClass } from './modal';
import { resultsStats, type ResultsStats } from './results-stats';

export interface ResultsStatsFilesArgs {
  labelsPath: string;
  scanPath: string;
  truthPath?: string;
  /** folder of a saved mineral map (EDS), for the area % next to the volume % */
  mapDir?: string;
  classMap?: ClassMap;
  classes: ReportClass[];
  surface: SurfacePlane;
  /** where to write the labels overview NIfTI (none without) */
  overviewPath?: string;
  overviewMaxEdge?: number;
}

export interface ResultsStatsFilesResult extends ResultsStats {
  /** bytes of the overview file written, when `overviewPath` was given */
  overviewBytes: number | null;
}

export async function resultsStatsFromFiles(a: ResultsStatsFilesArgs, opts: StageOptions = {}): Promise<ResultsStatsFilesResult> {
  const labels = await openVolume(a.labelsPath);
  const scan = await openVolume(a.scanPath);
  // a truth that cannot be read (or has another shape) only loses the IoU figures
  const truth = a.truthPath ? await openVolume(a.truthPath).then((t) => (t.meta.shape.every((n, i) => n === labels.meta.shape[i]) ? t : undefined), () => undefined) : undefined;
  const map = a.mapDir ? await loadMineralMap(a.mapDir) : undefined;
  const p = opts.onProgress;
  const stats = await resultsStats(
    { labels, scan, truth, map, classMap: a.classMap, classes: a.classes, surface: a.surface },
    { signal: opts.signal, onProgress: p && ((f, m) => p(0.95 * f, m)) },
  );
  let overviewBytes: number | null = null;
  if (a.overviewPath) {
    const nii = await labelsOverviewNifti(labels, { maxEdge: a.overviewMaxEdge ?? OVERVIEW_MAX_EDGE, signal: opts.signal });
    await mkdir(path.dirname(a.overviewPath), { recursive: true });
    const tmp = `${a.overviewPath}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
    await writeFile(tmp, nii);
    await rename(tmp, a.overviewPath);
    overviewBytes = nii.length;
  }
  p?.(1, 'statistics done');
  return { ...stats, overviewBytes };
}
