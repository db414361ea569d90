/**
 * The Correlate step's remedy for a wrong EDS pixel size: "Find the EDS pixel size" runs lib's
 * pixel-size search (lib/registration/scale-search.ts) on the project's stored slab of a face as a
 * job (server/jobs/tasks-scale.ts: progress, cancel, the result stored in the job's row), and
 * "Register at X µm" starts the registration job at the size found, from the pose found there
 * (startAutoRegister with a RegisterStart). The pose and size are taken from the stored job row,
 * never from the request, and only while the volume, the map and the slab are still those searched.
 */
import { unprocessable } from '@/lib/errors';
import type { JobRecord } from '../db/repo';
import { runTask } from '../jobs/run-task';
import type { ScaleSearchOutcome } from '../jobs/tasks-scale';
import type { Services } from '../services';
import type { VolumeInfoOut } from '../routers/datasets';
import { currentSlab, startAutoRegister } from './correlate';
import { faceDatasets, type Face } from './project-inputs';

/** Job kind of the pixel-size search. */
export const SCALE_JOB = 'pixel-size';

const ACTIVE = new Set(['queued', 'running']);

interface ScaleParams { volumeId?: string; edsId?: string; face?: Face }

function inputs(svc: Services, projectId: string, face: Face) {
  const { volume, eds } = faceDatasets(svc, projectId, face);
  if (!volume || !eds) throw unprocessable(`This project needs an XRM volume and an EDS map${face === 'bottom' ? ' of the bottom face' : ''} before the map's pixel size can be searched: add them on the Data step.`);
  return { volume, eds };
}

/** The latest pixel-size search of this face's volume and map (running, or how the last one ended), or undefined. */
export function latestScaleJob(svc: Services, projectId: string, volumeId: string, edsId: string, face: Face = 'top'): JobRecord | undefined {
  const j = svc.repo.listJobs(projectId).find((r) => {
    const p = r.params as ScaleParams | null;
    return r.kind === SCALE_JOB && p?.volumeId === volumeId && p.edsId === edsId && (p.face ?? 'top') === face;
  });
  // a row left queued/running by a server that stopped is no longer active here
  if (j && ACTIVE.has(j.state) && !svc.jobs.isActive(j.id)) return { ...j, state: 'interrupted' };
  return j;
}

/** What the Correlate page shows of the latest search: its job (progress, how it ended) and, when done, what it found. */
export function scaleSearchState(svc: Services, projectId: string, volumeId: string, edsId: string, face: Face = 'top') {
  const j = latestScaleJob(svc, projectId, volumeId, edsId, face);
  if (!j) return null;
  const r = j.state === 'done' ? (j.result as ScaleSearchOutcome | null) : null;
  return {
    jobId: j.id, state: j.state, progress: j.progress, message: j.message, error: j.error,
    result: r ? { givenPixelUm: r.givenPixelUm, pixelUm: r.pixelUm, factor: r.factor, distinct: r.distinct, distinctRatio: r.distinctRatio, plausible: r.plausible, scoreRatio: r.scoreRatio, skippedPixelUm: r.skippedPixelUm } : null,
  };
}

/**
 * Start the pixel-size search of a face's map on its stored slab (or return the one already
 * running). The slab must have been found: the pose found is in its frame.
 */
export async function startScaleSearch(svc: Services, projectId: string, face: Face = 'top'): Promise<JobRecord> {
  const { volume, eds } = inputs(svc, projectId, face);
  const cur = latestScaleJob(svc, projectId, volume.id, eds.id, face);
  if (cur && ACTIVE.has(cur.state)) return cur;
  if (!(await currentSlab(svc, projectId, volume.id, face))) throw unprocessable('The surface has not been found yet: wait for the surface job on the Correlate step (or click Find surface), then search the pixel size.');
  const voxelSizeAssumed = (volume.info as VolumeInfoOut | null)?.spacingAssumed === true;
  return svc.jobs.start(SCALE_JOB, projectId, { volumeId: volume.id, edsId: eds.id, ...(face === 'bottom' ? { face } : {}) }, ({ signal, onProgress }) =>
    runTask('correlateScaleSearch', {
      storePath: svc.ws.abs(volume.relPath), mapDir: svc.ws.abs(eds.relPath), projectDir: svc.ws.projectDir(projectId), volumeId: volume.id, face, voxelSizeAssumed, mapName: eds.name,
    }, { signal, onProgress }));
}

/**
 * "Register at X µm": the registration job at the pixel size a finished search found, starting
 * from its pose. Refused when the search is not this face's latest finished one, found no distinct
 * match, or the volume, map or slab changed since it ran.
 */
export async function registerAtFoundSize(svc: Services, projectId: string, jobId: string, face: Face = 'top'): Promise<JobRecord> {
  const { volume, eds } = inputs(svc, projectId, face);
  const j = svc.repo.job(jobId);
  const p = j?.params as ScaleParams | null | undefined;
  if (!j || j.projectId !== projectId || j.kind !== SCALE_JOB || (p?.face ?? 'top') !== face) throw unprocessable('There is no pixel-size search of this face to register from: click "Find the EDS pixel size" first.');
  if (j.state !== 'done') throw unprocessable(`The pixel-size search ${j.state === 'failed' ? `failed (${j.error ?? 'unknown error'})` : `is ${j.state}`}: there is no pixel size to register at.`);
  if (p?.volumeId !== volume.id || p.edsId !== eds.id) throw unprocessable('The volume or the EDS map changed since the pixel size was searched: search it again.');
  const r = j.result as ScaleSearchOutcome;
  if (!r.distinct) throw unprocessable('The pixel-size search found no pixel size at which the map matches the surface distinctly: there is none to register at. Check that the map shows this face of this sample, or place it with 3 landmark pairs.');
  const slab = await currentSlab(svc, projectId, volume.id, face);
  if (!slab || slab.surface.a !== r.surface.a || slab.surface.b !== r.surface.b || slab.surface.c !== r.surface.c) {
    throw unprocessable('The surface was found again since the pixel size was searched: search it again.');
  }
  return startAutoRegister(svc, projectId, undefined, 'auto', undefined, face, {
    pixelUm: r.pixelUm, givenPixelUm: r.givenPixelUm, edsToSlab: r.edsToSlab, mi: r.mi, secondMi: r.chance,
  });
}
