/**
 * The Annotate step's passes over a whole volume, run as jobs (never inside a request):
 *
 * - deleting a class whose strokes must be erased: the job ('annotate-erase-class', task
 *   eraseAnnotationCode) rewrites the painted volume under the project lock (the one writer of
 *   that store), then stores the exact stroke counts it measured and drops the class. While it
 *   is queued or running the artifact 'eraseClassJob' names it, and painting, clearing, training
 *   and proposing are refused with a message saying so (annotate.ts refuseWhileErasing).
 * - scan-location proposals for a field of view: the job ('annotate-proposals', task
 *   scanProposals) stores its result as the artifact 'scanProposals', keyed by what it was
 *   computed from (the prediction or the strokes version, the field of view, the classes). The
 *   proposals query and the CSV route only read that artifact and the job's progress.
 */
import { invalidInput, notFound, PetromapError, unprocessable } from '@/lib/errors';
import { proposalsCsv, type ProposalClass, type ProposeResult } from '@/lib/report/proposals';
import { runTask } from '../jobs/run-task';
import type { Services } from '../services';
import {
  annotationClasses, currentRecord, predictionRecord, refuseWhileErasing, saveRecord, withProjectLock, type AnnotationsRecord,
} from './annotate';

type Fov = [number, number, number];

// ---------------------------------------------------------------- delete a class (erase job)

/**
 * Delete a class. Without painted voxels it goes at once ({ jobId: null }). With painted voxels
 * they must be erased with it (eraseStrokes: true): that starts the erase job ({ jobId }); the
 * class list and the stroke counts change when the job ends.
 */
export async function deleteClass(svc: Services, projectId: string, code: number, eraseStrokes: boolean): Promise<{ jobId: string | null }> {
  if (!annotationClasses(svc, projectId).some((c) => c.code === code)) throw notFound(`There is no class with code ${code} in this project.`);
  refuseWhileErasing(svc, projectId, 'deleting another class');
  // under the lock: a slice write that is being saved now counts before the decision
  return withProjectLock(projectId, async () => {
    refuseWhileErasing(svc, projectId, 'deleting another class');
    const classes = annotationClasses(svc, projectId);
    const old = classes.find((c) => c.code === code);
    if (!old) throw notFound(`There is no class with code ${code} in this project.`);
    const rec = currentRecord(svc, projectId);
    const painted = rec?.counts[code] ?? 0;
    if (!rec || painted === 0) {
      svc.repo.setArtifact(projectId, 'classes', classes.filter((c) => c.code !== code));
      return { jobId: null };
    }
    if (!eraseStrokes) {
      throw invalidInput(`Class "${old.name}" has ${painted.toLocaleString('en')} painted voxels. Erase them with the class (confirm) or repaint them with another class first.`);
    }
    // the volume is named in the parameters: deleting it cancels the job (JobRunner.stopDataset)
    const job = svc.jobs.start('annotate-erase-class', projectId, { volumeId: rec.volumeId, code, name: old.name }, ({ signal, onProgress }) =>
      withProjectLock(projectId, () => eraseClass(svc, projectId, code, { signal, onProgress })), 'io');
    svc.repo.setArtifact(projectId, 'eraseClassJob', { jobId: job.id, code, name: old.name });
    return { jobId: job.id };
  });
}

/** The erase job's body, under the project lock (single writer of the painted volume). */
async function eraseClass(svc: Services, projectId: string, code: number, opts: { signal: AbortSignal; onProgress: (f: number, m?: string) => void }) {
  const alive = () => !!svc.repo.project(projectId);
  const dropClass = () => svc.repo.setArtifact(projectId, 'classes', annotationClasses(svc, projectId).filter((c) => c.code !== code));
  try {
    const rec = currentRecord(svc, projectId);
    if (!rec) {
      dropClass();
      return { erased: 0 };
    }
    let erased = 0;
    try {
      const r = await runTask('eraseAnnotationCode', { storePath: svc.ws.abs(rec.relPath), code }, {
        signal: opts.signal, onProgress: opts.onProgress, onEvent: (e) => (erased = (e as { erased: number }).erased),
      });
      if (!alive()) return { erased: r.erased };
      // the pass read every voxel: its counts are exact (nobody else wrote meanwhile: the lock)
      saveRecord(svc, projectId, { ...rec, counts: r.counts });
      dropClass();
      return { erased: r.erased, counts: r.counts };
    } catch (err) {
      // the rows stored before the failure are erased: keep the counts exact, the class stays
      if (erased && alive()) saveRecord(svc, projectId, withErased(rec, code, erased));
      throw err;
    }
  } finally {
    if (alive()) svc.repo.deleteArtifact(projectId, 'eraseClassJob');
  }
}

function withErased(rec: AnnotationsRecord, code: number, erased: number): AnnotationsRecord {
  const counts = { ...rec.counts };
  const left = (counts[code] ?? 0) - erased;
  if (left > 0) counts[code] = left;
  else delete counts[code];
  return { ...rec, counts };
}

// ---------------------------------------------------------------- scan proposals (job + stored result)

/** Artifact 'scanProposals': the proposals of one field of view and what they were computed from. */
export interface StoredProposals {
  /** proposalsKey of the inputs */
  key: string;
  source: 'prediction' | 'strokes';
  /** the prediction (job and time) or the strokes (volume and last edit) they were computed from */
  version: string;
  /** field of view, µm (z, y, x) */
  fovUm: Fov;
  classes: ProposalClass[];
  result: ProposeResult;
  jobId: string;
  createdAt: number;
}

interface ProposalInputs {
  source: 'prediction' | 'strokes';
  version: string;
  labelsRel: string;
  volumeId: string;
  classes: ProposalClass[];
}

/** What proposals would be computed from now: the predicted map, else the strokes (undefined: neither). */
function proposalInputs(svc: Services, projectId: string): ProposalInputs | undefined {
  const classes = annotationClasses(svc, projectId).map((c) => ({ code: c.code, name: c.name }));
  const pred = predictionRecord(svc, projectId);
  if (pred) return { source: 'prediction', version: `prediction ${pred.jobId} ${pred.createdAt}`, labelsRel: pred.relPath, volumeId: pred.volumeId, classes };
  const rec = currentRecord(svc, projectId);
  if (rec) return { source: 'strokes', version: `strokes ${rec.volumeId} ${rec.updatedAt}`, labelsRel: rec.relPath, volumeId: rec.volumeId, classes };
  return undefined;
}

const proposalsKey = (inp: ProposalInputs, fovUm: Fov) => JSON.stringify([inp.source, inp.version, fovUm, inp.classes.map((c) => [c.code, c.name])]);

const fovText = (f: Fov) => `${f[2]} × ${f[1]} × ${f[0]} µm (x × y × z)`;
const NOTHING = 'There is nothing to propose scan locations from yet: paint some strokes (and predict the lithology map) first.';

export type ProposalsStatus =
  | { status: 'ready'; source: 'prediction' | 'strokes'; fovUm: Fov; fovVox: ProposeResult['fovVox']; proposals: ProposeResult['proposals']; absent: ProposeResult['absent']; createdAt: number }
  | { status: 'pending'; jobId: string; progress: number; message: string | null }
  | { status: 'failed'; jobId: string; error: string }
  | { status: 'none'; message: string };

function checkFov(fovUm: Fov) {
  if (!fovUm.every((v) => Number.isFinite(v) && v > 0)) throw invalidInput(`The field of view must be three sizes in µm greater than 0 (z, y, x), got ${fovUm.join(' × ')}.`);
}

function status(svc: Services, projectId: string, fovUm: Fov): { out: ProposalsStatus; stored?: StoredProposals } {
  if (!svc.repo.project(projectId)) throw notFound(`There is no project ${projectId}.`);
  checkFov(fovUm);
  const inp = proposalInputs(svc, projectId);
  if (!inp) return { out: { status: 'none', message: NOTHING } };
  const key = proposalsKey(inp, fovUm);
  const st = svc.repo.artifact(projectId, 'scanProposals');
  if (st && st.key === key) {
    const { proposals, absent, fovVox } = st.result;
    return { out: { status: 'ready', source: st.source, fovUm: st.fovUm, fovVox, proposals, absent, createdAt: st.createdAt }, stored: st };
  }
  const ref = svc.repo.artifact(projectId, 'scanProposalsJob');
  if (ref && ref.key === key) {
    const j = svc.repo.job(ref.jobId);
    if (j && svc.jobs.isActive(j.id)) return { out: { status: 'pending', jobId: j.id, progress: j.progress, message: j.message } };
    if (j?.state === 'failed') return { out: { status: 'failed', jobId: j.id, error: j.error ?? 'failed' } };
  }
  const older = st && JSON.stringify(st.fovUm) === JSON.stringify(fovUm);
  return {
    out: {
      status: 'none',
      message: older
        ? `The scan proposals for ${fovText(fovUm)} were computed from ${st.source === 'prediction' ? 'an earlier prediction' : 'earlier strokes'} or classes: press Propose to compute them again.`
        : `There are no scan proposals for ${fovText(fovUm)} yet: press Propose on the Annotate step.`,
    },
  };
}

/** The proposals query: the stored result for these inputs, the job's progress, its error, or none. Reads state only. */
export function proposalsStatus(svc: Services, projectId: string, fovUm: Fov): ProposalsStatus {
  return status(svc, projectId, fovUm).out;
}

/**
 * Start the proposals job for a field of view (µm, z y x) on the predicted map, or on the strokes
 * while there is no prediction, unless its result is stored or being computed already. A job for
 * another field of view that still runs is cancelled (its result would be replaced at once).
 */
export function startProposals(svc: Services, projectId: string, fovUm: Fov): ProposalsStatus {
  const cur = status(svc, projectId, fovUm).out;
  if (cur.status === 'ready' || cur.status === 'pending') return cur;
  refuseWhileErasing(svc, projectId, 'proposing scan locations');
  const inp = proposalInputs(svc, projectId);
  if (!inp) throw unprocessable(NOTHING);
  if (!inp.classes.length) throw unprocessable('This project has no classes: add the lithologies and paint them before proposing scan locations.');
  const key = proposalsKey(inp, fovUm);
  const prev = svc.repo.artifact(projectId, 'scanProposalsJob');
  if (prev && svc.jobs.isActive(prev.jobId)) svc.jobs.cancel(prev.jobId);
  const job = svc.jobs.start('annotate-proposals', projectId, { volumeId: inp.volumeId, source: inp.source, fovUm }, async ({ signal, onProgress, jobId }) => {
    const result = await runTask('scanProposals', { labelsPath: svc.ws.abs(inp.labelsRel), classes: inp.classes, fovUm, source: inp.source }, { signal, onProgress });
    if (!svc.repo.project(projectId)) return { discarded: true };
    svc.repo.setArtifact(projectId, 'scanProposals', { key, source: inp.source, version: inp.version, fovUm, classes: inp.classes, result, jobId, createdAt: Date.now() });
    return { proposals: result.proposals.length, absent: result.absent.length };
  }, 'io');
  svc.repo.setArtifact(projectId, 'scanProposalsJob', { jobId: job.id, key, fovUm });
  return status(svc, projectId, fovUm).out;
}

/** The stored proposals of a field of view as CSV; NotFound (none yet) or Conflict (being computed, failed). */
export function storedProposalsCsv(svc: Services, projectId: string, fovUm: Fov): string {
  const { out, stored } = status(svc, projectId, fovUm);
  if (out.status === 'ready' && stored) return proposalsCsv(stored.result, stored.classes);
  if (out.status === 'pending') {
    throw new PetromapError('Conflict', `The scan proposals for ${fovText(fovUm)} are still being computed (${Math.round(out.progress * 100)} % done): download the CSV when they are listed.`);
  }
  if (out.status === 'failed') throw new PetromapError('Conflict', `Computing the scan proposals for ${fovText(fovUm)} failed: ${out.error.replace(/\.?\s*$/, '.')} Press Propose to try again.`);
  throw notFound(out.status === 'none' ? out.message : NOTHING);
}
