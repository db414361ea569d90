/**
 * Choosing which of a project's XRM volumes its steps use (the Data step's "Use this volume").
 *
 * Everything the steps derived from the volume left behind is set aside with it, and whatever was
 * set aside for the chosen volume comes back: switching A → B → A gives A's work back unchanged,
 * and nothing of A is shown or used as if it were B's. What moves:
 *  - Correlate: each face's registration made on the volume with its EDS-on-slab overlay file, and
 *    each face's surface slab found in it;
 *  - Train: the trained model (its folder and row, with the training's live curve), which learnt
 *    the grey values of that volume;
 *  - Train / Results: the whole-volume prediction of it, its statistics and 3D-view file;
 *  - Annotate (lithology): the record of the strokes painted on it and of the lithology map
 *    predicted from them (their files already carry the volume's id and stay where they are).
 * Multi-scale's composite model and interior registrations record their large scan already: they
 * stay, read as out of date while another scan is the large one; the plan names them.
 * The label counts and the scan proposals are keyed by the volume already and need no move.
 *
 * Set aside means: the rows go into `projects/<id>/switched-<volumeId>/state.json` and the files
 * into that folder (renames in one file system: nothing heavy). A row set aside is checked with its
 * key's schema when read back, as any stored row (one that does not parse is left out, as a row an
 * older petromap wrote would be). Deleting the volume removes its folder (forget-volume.ts).
 *
 * Refused while a job of the project is queued or running (it would write what it computes from
 * one volume after the switch, into the other's place), and for a lithology project when the
 * chosen volume is placed as an interior scan on Multi-scale. Not for a job that only reads the
 * volume in use and writes nothing a switch moves (the label count the Train page starts by
 * itself): the switch stops it and goes on; the Train page counts again for the chosen volume.
 */
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { invalidInput, notFound, PetromapError } from '@/lib/errors';
import type { DatasetRecord, JobRecord } from '../db/repo';
import type { Services } from '../services';
import { readSlabRecord, slabPaths } from '../jobs/tasks-correlate';
import { writeFileAtomic } from '../storage/atomic';
import { forgetStore } from '../storage/open-stores';
import { tryProjectLock, withProjectLock } from './annotate';
import { overlayFile, registrationKey } from './correlate';
import { isInterior, multiscaleState } from './multiscale';
import { FACE_NAMES, projectDatasets } from './project-inputs';
import { overviewFile } from './results-stats';
import { modelDir, predictionDir, predictionRel } from './train-model';
import {
  asideWords, move, PREDICTION_KEYS, readAside, readAsideRaw, restoreAside, switchedDir, switchHooks, when, type MovedKey,
} from './switch-volume-aside';
import { pendingFile, readPending, type Pending } from './switch-volume-pending';

export { keepAsideModel, restoreAside, switchedDir, switchHooks } from './switch-volume-aside';

/** A job's kind in the words the pages use (the Jobs page shows the kind itself). */
const JOB_NAMES: Record<string, string> = {
  import: 'an import', slab: 'the surface search', register: 'the registration', 'train-prepare': 'the count of labelled voxels',
  train: 'the training', predict: 'the whole-volume prediction', 'results-stats': 'the Results statistics',
  'annotate-train': 'the lithology prediction', 'annotate-erase-class': 'the erasing of a class', 'annotate-proposals': 'the scan proposals',
  'multiscale-register': 'an interior scan\'s registration', 'multiscale-upscale': 'the composite model', 'multiscale-pores': 'an interior scan\'s pore training',
};
export const jobName = (kind: string) => JOB_NAMES[kind] ?? `the ${kind} job`;

interface Plan {
  keys: MovedKey[];
  /** [from, name in the folder] */
  files: [string, string][];
  /** what goes, in words */
  words: string[];
}

/**
 * What belongs to `volumeId` in the project's live slots (its rows and files), and the words for it.
 * The model goes with it unless its own record (`trainedOn`) names the chosen volume `toId`: then it
 * was trained on that one and stays in use. A model without the record (trained before it was kept)
 * goes with the volume in use, as it always did.
 */
async function belongingTo(svc: Services, projectId: string, volumeId: string, toId?: string): Promise<Plan> {
  const dir = svc.ws.projectDir(projectId);
  const plan: Plan = { keys: [], files: [], words: [] };
  for (const face of FACE_NAMES) {
    const key = registrationKey(face);
    const rec = svc.repo.artifact(projectId, key);
    if (rec?.volumeId === volumeId) {
      plan.keys.push(key);
      plan.files.push([overlayFile(svc, projectId, face), `overlay-${face}.u8`]);
      const map = svc.repo.dataset(rec.edsId)?.name ?? 'a deleted map';
      plan.words.push(`the ${rec.accepted ? 'accepted ' : ''}registration of the ${face} face's map ${map}${rec.landmarks.length ? ` (${rec.landmarks.length} landmark pairs)` : ''}`);
    }
    const slab = await readSlabRecord(dir, face).catch(() => undefined);
    if (slab?.volumeId === volumeId) {
      const p = slabPaths(dir, face);
      plan.files.push([p.json, `slab-${face}.json`], [p.data, `slab-${face}.data`]);
    }
  }
  const model = svc.repo.artifact(projectId, 'model');
  const on = model?.trainedOn;
  if (model && !(toId && on?.volumeId === toId)) {
    plan.keys.push('model', 'trainHistory');
    plan.files.push([modelDir(svc, projectId, model), 'model']);
    const of = on && on.volumeId !== volumeId ? ` on ${svc.repo.dataset(on.volumeId ?? '')?.name ?? on.volume}` : '';
    plan.words.push(`the model trained${of} ${when(model.createdAt)} UTC (${of ? 'the model in use with this volume' : "it learnt this volume's grey values"})`);
  }
  const run = svc.repo.artifact(projectId, 'predictionRun');
  if (svc.repo.artifact(projectId, 'prediction') && (!run || run.volumeId === volumeId)) {
    plan.keys.push(...PREDICTION_KEYS);
    plan.files.push([predictionDir(svc, projectId), 'prediction'], [overviewFile(svc, projectId), 'labels-3d.nii']);
    plan.words.push('the whole-volume prediction with its Results statistics');
  }
  const ann = svc.repo.artifact(projectId, 'annotations');
  if (ann?.volumeId === volumeId) {
    plan.keys.push('annotations');
    const n = Object.values(ann.counts).reduce((a, b) => a + b, 0);
    plan.words.push(`${n.toLocaleString('en')} painted voxels`);
  }
  const lith = svc.repo.artifact(projectId, 'lithologyPrediction');
  if (lith?.volumeId === volumeId) {
    plan.keys.push('lithologyPrediction');
    plan.words.push('the lithology map predicted from the strokes');
  }
  return plan;
}

/**
 * Jobs that only read the volume in use and write nothing a switch moves: 'train-prepare' writes
 * the label counts (keyed by the registration, so counts of the old volume are never read as the
 * new one's) and this machine's feature speed. It reads the slab files a switch moves, so a switch
 * stops it rather than letting it fail half way.
 */
const READ_ONLY_KINDS = new Set(['train-prepare']);
/** how long a switch waits for a stopped read-only job to end before it refuses as before */
const READER_STOP_MS = 10_000;

/** The project's queued or running jobs that a switch waits for (all but imports and read-only jobs). */
function activeJobs(svc: Services, projectId: string): JobRecord[] {
  return svc.repo.listJobs(projectId, ['queued', 'running']).filter((j) => j.kind !== 'import' && !READ_ONLY_KINDS.has(j.kind));
}

/**
 * Stop the project's read-only jobs and wait (at most READER_STOP_MS) for the running ones to end
 * (a queued one never starts once cancelled); the name of one still running after that, else null.
 */
async function stopReaders(svc: Services, projectId: string): Promise<string | null> {
  const readers = svc.repo.listJobs(projectId, ['queued', 'running']).filter((j) => READ_ONLY_KINDS.has(j.kind));
  const running = readers.filter((j) => svc.jobs.cancel(j.id) && j.state === 'running');
  const until = Date.now() + READER_STOP_MS;
  for (;;) {
    const left = running.find((j) => svc.jobs.isActive(j.id));
    if (!left) return null;
    if (Date.now() > until) return jobName(left.kind);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function target(svc: Services, projectId: string, volumeId: string): DatasetRecord {
  if (!svc.repo.project(projectId)) throw notFound(`There is no project ${projectId}.`);
  const d = svc.repo.dataset(volumeId);
  if (!d || d.projectId !== projectId) throw notFound(`There is no dataset ${volumeId} in this project.`);
  if (d.kind !== 'volume') throw invalidInput(`${d.name} is an EDS map, not an XRM volume.`);
  if (d.status !== 'ready') throw invalidInput(`${d.name} is not ready to use (${d.status}${d.error ? `: ${d.error}` : ''}).`);
  return d;
}

/**
 * What switching the project to volume `volumeId` would do, for the confirmation the user answers
 * first: the volume used now, what goes aside with it, what comes back with the chosen one, and
 * why the switch cannot happen now (a running job), if so. Reads only.
 */
export async function volumeSwitchPlan(svc: Services, projectId: string, volumeId: string) {
  const to = target(svc, projectId, volumeId);
  const from = projectDatasets(svc, projectId).volume;
  const same = from?.id === to.id;
  const leaving = from && !same ? await belongingTo(svc, projectId, from.id, to.id) : { words: [] as string[] };
  const back = same ? [] : asideWords(svc, await readAside(svc, projectId, to.id));
  const jobs = activeJobs(svc, projectId);
  let blockedBy: string | null = null;
  if (!same && jobs.length) {
    const j = jobs[0]!;
    blockedBy = `${jobName(j.kind)} is ${j.state === 'queued' ? 'waiting to run' : `running (${Math.round(j.progress * 100)} %)`}: switch when it has finished, or cancel it on the Jobs page.`;
  }
  const project = svc.repo.project(projectId)!;
  if (!same && !blockedBy && project.kind === 'lithology' && (await isInterior(svc, projectId, to.id))) {
    blockedBy = `${to.name} is placed as an interior scan on Multi-scale: remove it there (or delete it and upload it again) before making it the large scan.`;
  }
  // Multi-scale (lithology): what was made on the large scan stays in its file, read as out of date
  // while another scan is the large one (multiscaleState's stale flags), current again when it is back
  if (from && !same && project.kind === 'lithology') {
    const ms = await multiscaleState(svc, projectId);
    const made = [ms.result && !ms.result.stale ? 'the Multi-scale composite model' : null, ms.interiors.some((e) => e.registration && !e.stale) ? 'the interior scans\' registrations' : null].filter(Boolean);
    if (made.length) leaving.words.push(`${made.join(' and ')} (kept on Multi-scale, marked as made on ${from.name})`);
  }
  return {
    from: from ? { id: from.id, name: from.name } : null,
    to: { id: to.id, name: to.name },
    same,
    /** set aside with the volume used now (it comes back when that volume is chosen again) */
    aside: leaving.words,
    /** set aside earlier for the chosen volume: it comes back */
    back,
    blockedBy,
  };
}

/*
 * The record of a switch under way (switch-volume-pending.ts: `projects/<id>/switching.json`):
 * written before anything moves, removed when all has moved. A switch that stopped half way (a
 * crash, a rename that failed) is finished from it before the next switch or delete: phase 'aside'
 * sets aside what is left of the volume left (again: what moved already is not moved twice, what
 * its folder held is kept), then stores the pick; phase 'restore' brings back the chosen volume's work.
 */

/**
 * Set aside what belongs to volume `fromId` into its folder. What the folder holds already (work
 * of that volume that did not come back, or an earlier attempt of this switch) is kept: a row or
 * file it would replace with something else goes into an `earlier-<time>` folder inside it.
 */
async function setAside(svc: Services, projectId: string, fromId: string, toId: string) {
  const leaving = await belongingTo(svc, projectId, fromId, toId);
  const dir = switchedDir(svc, projectId, fromId);
  await mkdir(dir, { recursive: true });
  const held = await readAsideRaw(dir);
  const rows: Record<string, unknown> = {};
  for (const k of leaving.keys) rows[k] = svc.repo.artifact(projectId, k);
  const keepRows: Record<string, unknown> = {};
  for (const k of leaving.keys) {
    if (held[k] !== undefined && JSON.stringify(held[k]) !== JSON.stringify(rows[k])) {
      keepRows[k] = held[k];
      delete held[k];
    }
  }
  const keepFiles = leaving.files.filter(([from, name]) => existsSync(/*turbopackIgnore: true*/ from) && existsSync(/*turbopackIgnore: true*/ path.join(dir, name)));
  if (Object.keys(keepRows).length || keepFiles.length) {
    const earlier = path.join(/*turbopackIgnore: true*/ dir, `earlier-${Date.now()}`);
    await mkdir(earlier, { recursive: true });
    await writeFileAtomic(path.join(/*turbopackIgnore: true*/ earlier, 'state.json'), JSON.stringify(keepRows));
    for (const [, name] of keepFiles) await move(path.join(/*turbopackIgnore: true*/ dir, name), path.join(/*turbopackIgnore: true*/ earlier, name));
  }
  await writeFileAtomic(path.join(/*turbopackIgnore: true*/ dir, 'state.json'), JSON.stringify({ ...held, ...rows }));
  for (const w of ['labels', 'probabilities', 'uncertainty'] as const) forgetStore(predictionRel(svc, projectId, w));
  for (const [from, name] of leaving.files) await move(from, path.join(/*turbopackIgnore: true*/ dir, name));
  await switchHooks.step?.('aside-moved');
  for (const k of leaving.keys) svc.repo.deleteArtifact(projectId, k);
}

/** Do (or finish) the switch `p` describes; returns the words for what stayed set aside. */
async function completeSwitch(svc: Services, projectId: string, p: Pending): Promise<string[]> {
  if (p.phase === 'aside') {
    if (p.from) await setAside(svc, projectId, p.from, p.to);
    // the pick first: a crash while restoring leaves the project on the chosen volume, with its work coming back on the next try
    const picked = svc.repo.artifact(projectId, 'inputs') ?? {};
    svc.repo.setArtifact(projectId, 'inputs', { ...picked, volumeId: p.to });
    await writeFileAtomic(pendingFile(svc, projectId), JSON.stringify({ ...p, phase: 'restore' }));
  }
  const kept = await restoreAside(svc, projectId, p.to);
  await rm(pendingFile(svc, projectId), { force: true });
  return kept;
}

/**
 * A switch of this project that stopped half way is finished (call with the project's lock held):
 * before another switch and before a dataset is deleted. Returns the words for what stayed aside.
 */
export async function finishPendingSwitch(svc: Services, projectId: string): Promise<string[]> {
  const p = await readPending(svc, projectId);
  if (!p) return [];
  if (!svc.repo.dataset(p.to) && p.phase === 'aside') {
    // the chosen volume is gone: nothing to switch to; what moved of the volume left stays in its folder
    await rm(pendingFile(svc, projectId), { force: true });
    return [];
  }
  return completeSwitch(svc, projectId, p);
}

/** what finishPendingOnOpen logged already, by project: said once per process, not on every opening */
const logged = new Map<string, string>();
function logOnce(projectId: string, message: string) {
  if (logged.get(projectId) === message) return;
  logged.set(projectId, message);
  console.error(`petromap: could not finish the unfinished volume switch of project ${projectId}:`, message);
}
const jobsOfProject = (svc: Services, projectId: string) => svc.repo.listJobs(projectId, ['queued', 'running']).some((j) => j.kind !== 'import');

/**
 * Opening a project (projects.byId), the Train and Results pages' state queries, and the server's
 * start: a switch of the project that stopped half way is finished now, under the project's lock,
 * instead of showing its half state until the next switch or delete. Cheap when there is none (one
 * file check). Never waits: not while a job of the project is queued or running (it may be using
 * what would move), not when the record cannot be read (nothing would move: said once on the
 * server's log), not while anyone holds or waits for the project's lock (a switch, the erasing of a
 * class, a stroke being saved): the next opening, state query, switch or delete finishes it then.
 * Never throws: a switch that cannot be finished is left as it is (set-aside work stays in its
 * folder) and said on the server's log; returns whether one was finished.
 */
export async function finishPendingOnOpen(svc: Services, projectId: string): Promise<boolean> {
  if (!existsSync(/*turbopackIgnore: true*/ pendingFile(svc, projectId)) || !svc.repo.project(projectId) || jobsOfProject(svc, projectId)) return false;
  try {
    if (!(await readPending(svc, projectId))) return false;
  } catch (err) {
    logOnce(projectId, err instanceof Error ? err.message : String(err));
    return false;
  }
  const run = tryProjectLock(projectId, async () => {
    // again under the lock: a switch may have finished it meanwhile, or a job been started
    if (!existsSync(/*turbopackIgnore: true*/ pendingFile(svc, projectId)) || !svc.repo.project(projectId) || jobsOfProject(svc, projectId)) return false;
    await finishPendingSwitch(svc, projectId);
    logged.delete(projectId);
    return true;
  });
  return (run ?? Promise.resolve(false)).catch((err: unknown) => {
    logOnce(projectId, err instanceof Error ? err.message : String(err));
    return false;
  });
}

/** At the server's start: every project's unfinished volume switch (finishPendingOnOpen); how many were finished. */
export async function finishPendingSwitches(svc: Services): Promise<number> {
  let n = 0;
  for (const p of svc.repo.listProjects()) if (await finishPendingOnOpen(svc, p.id)) n++;
  return n;
}

/**
 * Make volume `volumeId` the one the project's steps use: what belongs to the volume used now is
 * set aside with it, what was set aside for the chosen one comes back, and the pick is stored.
 * One switch or delete of a project at a time (the project's lock, shared with the strokes'
 * writes); a switch that stopped half way is finished first. Returns what moved, in words, and
 * what stayed set aside (`kept`: it would have replaced work in use, or petromap cannot read it).
 */
export async function switchVolume(svc: Services, projectId: string, volumeId: string) {
  return withProjectLock(projectId, async () => {
    const earlier = await finishPendingSwitch(svc, projectId);
    const plan = await volumeSwitchPlan(svc, projectId, volumeId);
    if (plan.same) return { ...plan, changed: false, kept: earlier };
    if (plan.blockedBy) throw new PetromapError('Conflict', `The project cannot switch to ${plan.to.name} now: ${plan.blockedBy}`);
    const stuck = await stopReaders(svc, projectId);
    if (stuck) throw new PetromapError('Conflict', `The project cannot switch to ${plan.to.name} now: ${stuck} was stopped but has not ended yet: try again in a moment.`);
    // again right before anything moves: a job may have been started while the readers stopped
    const busy = activeJobs(svc, projectId)[0];
    if (busy) throw new PetromapError('Conflict', `The project cannot switch to ${plan.to.name} now: ${jobName(busy.kind)} was just started: switch when it has finished, or cancel it on the Jobs page.`);

    const pending: Pending = { from: plan.from?.id ?? null, to: volumeId, phase: 'aside' };
    await writeFileAtomic(pendingFile(svc, projectId), JSON.stringify(pending));
    // a job started while the record was written (its starters check the record: none after this)
    const late = activeJobs(svc, projectId)[0];
    if (late) {
      await rm(pendingFile(svc, projectId), { force: true });
      throw new PetromapError('Conflict', `The project cannot switch to ${plan.to.name} now: ${jobName(late.kind)} was just started: switch when it has finished, or cancel it on the Jobs page.`);
    }
    let kept: string[];
    try {
      kept = await completeSwitch(svc, projectId, pending);
    } catch (err) {
      throw new PetromapError('Internal', `The switch to ${plan.to.name} stopped half way (${err instanceof Error ? err.message : String(err)}). Nothing was deleted: choose ${plan.to.name} again to finish it.`);
    }
    // a label count the Train page started meanwhile (for the old volume) stops too, and the record
    // of the last one goes: a count that failed because its files moved is not reported later
    const prep = svc.repo.artifact(projectId, 'trainPrepareJob');
    if (prep) {
      svc.jobs.cancel(prep.id);
      svc.repo.deleteArtifact(projectId, 'trainPrepareJob');
    }
    return { ...plan, changed: true, kept: [...earlier, ...kept] };
  });
}
