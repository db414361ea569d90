/**
 * The folders where a volume switch (switch-volume.ts) sets aside what belongs to a volume
 * (`projects/<id>/switched-<volumeId>/`: its rows in state.json, its files beside them), how a
 * set-aside row is read back and checked (its key's schema, and only the names petromap writes for
 * that volume), and how it comes back into the project's live slots (never over work in use).
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { decodeProjectState, type ProjectState, type ProjectStateKey } from '../db/project-state';
import type { Services } from '../services';
import { slabPaths } from '../jobs/tasks-correlate';
import { writeFileAtomic } from '../storage/atomic';
import { overlayFile, registrationKey } from './correlate';
import { FACE_NAMES } from './project-inputs';
import { overviewFile, STATS_KEY } from './results-stats';
import { predictionDir } from './train-model';

/** The folder where a switch sets aside what belongs to volume `volumeId`. */
export const switchedDir = (svc: Services, projectId: string, volumeId: string) =>
  path.join(/*turbopackIgnore: true*/ svc.ws.projectDir(projectId), `switched-${volumeId}`);

/** The rows a switch moves, in the order they are restored. */
export const PREDICTION_KEYS = ['prediction', 'predictionRun', STATS_KEY, 'resultsStatsJob'] as const;
export type MovedKey = 'registration' | 'bottomRegistration' | 'annotations' | 'lithologyPrediction' | 'model' | 'trainHistory' | (typeof PREDICTION_KEYS)[number];
export type Aside = { [K in MovedKey]?: ProjectState[K] };

export const when = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');

const SAFE_JOB_ID = /^[A-Za-z0-9_-]{1,64}$/;
const MOVED_KEYS: MovedKey[] = ['registration', 'bottomRegistration', 'annotations', 'lithologyPrediction', 'model', 'trainHistory', ...PREDICTION_KEYS];

/** The rows set aside for a volume, each checked with its key's schema (one that does not parse is left out, as a stored row would be). */
export async function readAside(svc: Services, projectId: string, volumeId: string): Promise<Aside> {
  const text = await readFile(path.join(/*turbopackIgnore: true*/ switchedDir(svc, projectId, volumeId), 'state.json'), 'utf8').catch(() => null);
  let raw: unknown;
  try {
    raw = text ? JSON.parse(text) : null;
  } catch {
    raw = null;
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return {};
  const out: Record<string, unknown> = {};
  for (const k of MOVED_KEYS) {
    const v = (raw as Record<string, unknown>)[k];
    if (v === undefined) continue;
    const r = decodeProjectState(k, JSON.stringify(v));
    if (r.ok && ours(svc, projectId, volumeId, k, r.value)) out[k] = r.value;
  }
  return out as Aside;
}

/**
 * Is a set-aside row one petromap wrote for this volume? Its paths must be the names petromap
 * gives them in `projects/<id>/` (a model's folder is named by its job id), and a row that records
 * its volume must record this one: a row naming anything else is left out (and left in the folder).
 */
function ours(svc: Services, projectId: string, volumeId: string, k: MovedKey, v: unknown): boolean {
  const proj = path.join('projects', projectId);
  const rec = v as { volumeId?: string; relPath?: string; overviewRel?: string | null; jobId?: string };
  if ('volumeId' in rec && rec.volumeId !== volumeId) return false;
  if (k === 'model') return SAFE_JOB_ID.test(rec.jobId ?? '');
  if (k === 'annotations') return rec.relPath === path.join(proj, `annotations-${volumeId}.ome.zarr`);
  if (k === 'lithologyPrediction') {
    const inside = path.join(proj, `lithology-${volumeId}`) + path.sep;
    return !!rec.relPath && path.normalize(rec.relPath) === rec.relPath && rec.relPath.startsWith(inside);
  }
  if (k === STATS_KEY) return rec.overviewRel === null || rec.overviewRel === svc.ws.rel(overviewFile(svc, projectId));
  return true;
}

/** The words for what was set aside for a volume (what a switch to it brings back). */
export function asideWords(svc: Services, aside: Aside): string[] {
  const out: string[] = [];
  for (const face of FACE_NAMES) {
    const rec = aside[registrationKey(face)];
    if (rec) out.push(`the ${rec.accepted ? 'accepted ' : ''}registration of the ${face} face's map ${svc.repo.dataset(rec.edsId)?.name ?? 'a deleted map'}`);
  }
  if (aside.model) out.push(`the model trained ${when(aside.model.createdAt)} UTC`);
  if (aside.prediction) out.push('the whole-volume prediction with its Results statistics');
  if (aside.annotations) out.push(`${Object.values(aside.annotations.counts).reduce((a, b) => a + b, 0).toLocaleString('en')} painted voxels`);
  if (aside.lithologyPrediction) out.push('the lithology map predicted from the strokes');
  return out;
}

/** Move `from` to `to` when it exists (a folder or a file; what is at `to` goes first). */
export async function move(from: string, to: string) {
  if (!existsSync(/*turbopackIgnore: true*/ from)) return false;
  await rm(to, { recursive: true, force: true });
  await mkdir(path.dirname(to), { recursive: true });
  await rename(from, to);
  return true;
}

/**
 * Points a test can make fail (a crash half way): 'aside-moved' after the files of the volume left
 * went into its folder (its rows not yet removed), 'restoring' after the first row came back.
 */
export const switchHooks: { step?: (name: 'aside-moved' | 'restoring') => void | Promise<void> } = {};

/** The rows in a volume's folder as stored (unchecked), or {}. */
export async function readAsideRaw(dir: string): Promise<Record<string, unknown>> {
  const text = await readFile(path.join(/*turbopackIgnore: true*/ dir, 'state.json'), 'utf8').catch(() => null);
  try {
    const raw: unknown = text ? JSON.parse(text) : null;
    return raw && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/**
 * Bring back what a switch set aside for volume `volumeId` (rows checked by their key's schema and
 * names) into the project's live slots, never over work in use there (a slot holding the same row
 * counts as restored: a retry after a crash). Also after the volume in use was deleted, for the
 * volume that takes its place (datasets.delete). The folder goes when everything came back;
 * otherwise it stays with what did not, and the words for that are returned.
 */
export async function restoreAside(svc: Services, projectId: string, volumeId: string): Promise<string[]> {
  const dir = switchedDir(svc, projectId, volumeId);
  if (!existsSync(/*turbopackIgnore: true*/ dir)) return [];
  const raw = await readAsideRaw(dir);
  const aside = await readAside(svc, projectId, volumeId);
  const back = (name: string, to: string) => move(path.join(/*turbopackIgnore: true*/ dir, name), to);
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  /** may `key`'s row come back: its slot is empty, or holds this very row (then it counts as back) */
  const free = (key: MovedKey, value: unknown = aside[key]) => {
    const live = svc.repo.artifact(projectId, key as ProjectStateKey);
    if (live !== undefined && same(live, value)) delete raw[key];
    return live === undefined;
  };
  let first = true;
  const restore = <K extends MovedKey>(key: K, value = aside[key]) => {
    if (value === undefined || value === null || !free(key, value)) return false;
    svc.repo.setArtifact(projectId, key as ProjectStateKey & K, value as ProjectState[K]);
    delete raw[key];
    if (first) {
      first = false;
      void switchHooks.step?.('restoring');
    }
    return true;
  };
  const pdir = svc.ws.projectDir(projectId);
  for (const face of FACE_NAMES) {
    const key = registrationKey(face);
    if (aside[key] && free(key)) {
      await back(`overlay-${face}.u8`, overlayFile(svc, projectId, face));
      restore(key);
    }
    const p = slabPaths(pdir, face);
    // a slab found in another volume stays where it is; this one then stays aside
    if (existsSync(/*turbopackIgnore: true*/ path.join(dir, `slab-${face}.json`)) && !existsSync(/*turbopackIgnore: true*/ p.json)) {
      await back(`slab-${face}.data`, p.data);
      await back(`slab-${face}.json`, p.json);
    }
  }
  if (aside.model) {
    // the model's folder goes back under its own name (model-<jobId>: the next training's prune keeps only the model in use)
    const rel = path.join('projects', projectId, `model-${aside.model.jobId}`);
    const row = { ...aside.model, modelRel: rel };
    if (free('model', row)) {
      await back('model', svc.ws.abs(rel));
      if (existsSync(/*turbopackIgnore: true*/ svc.ws.abs(rel))) restore('model', row);
    }
  }
  if (raw.model === undefined) restore('trainHistory');
  if (aside.prediction && free('prediction')) {
    await back('prediction', predictionDir(svc, projectId));
    if (existsSync(/*turbopackIgnore: true*/ predictionDir(svc, projectId))) {
      await back('labels-3d.nii', overviewFile(svc, projectId));
      for (const k of PREDICTION_KEYS) restore(k);
    }
  } else if (raw.prediction === undefined) for (const k of PREDICTION_KEYS) restore(k);
  restore('annotations');
  restore('lithologyPrediction');

  // what did not come back stays in the folder (its record rewritten with only that), and is named
  const files = (await readdir(/*turbopackIgnore: true*/ dir)).filter((f) => f !== 'state.json');
  const rows = Object.keys(raw);
  if (!rows.length && !files.length) {
    await rm(dir, { recursive: true, force: true });
    return [];
  }
  await writeFileAtomic(path.join(/*turbopackIgnore: true*/ dir, 'state.json'), JSON.stringify(raw));
  const left: Aside = {};
  for (const k of rows) if (k in aside) (left as Record<string, unknown>)[k] = aside[k as MovedKey];
  const words = asideWords(svc, left);
  const unread = rows.filter((k) => !(k in aside));
  if (unread.length) words.push(`${unread.length === 1 ? 'a record' : `${unread.length} records`} petromap cannot take back (${unread.join(', ')})`);
  if (!words.length) words.push(`the files ${files.join(', ')}`);
  return words.map((w) => `${w}: kept in ${svc.ws.rel(dir)}`);
}

/**
 * Deleting volume `volumeId` (forget-volume.ts): the model set aside with it becomes the project's
 * model when the project has none (a trained model stays, as the delete dialog says); true if so.
 * With a model in use, the set-aside one goes with the volume (the dialog says that too).
 */
export async function keepAsideModel(svc: Services, projectId: string, volumeId: string): Promise<boolean> {
  if (svc.repo.artifact(projectId, 'model')) return false;
  const aside = await readAside(svc, projectId, volumeId);
  if (!aside.model) return false;
  const rel = path.join('projects', projectId, `model-${aside.model.jobId}`);
  await move(path.join(/*turbopackIgnore: true*/ switchedDir(svc, projectId, volumeId), 'model'), svc.ws.abs(rel));
  if (!existsSync(/*turbopackIgnore: true*/ svc.ws.abs(rel))) return false;
  svc.repo.setArtifact(projectId, 'model', { ...aside.model, modelRel: rel });
  if (aside.trainHistory) svc.repo.setArtifact(projectId, 'trainHistory', aside.trainHistory);
  return true;
}
