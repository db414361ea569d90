/**
 * Finishing a volume switch that stopped half way never holds up the pages (pipeline/switch-volume
 * finishPendingOnOpen): opening the project (projects.byId, which the Data and Results pages call)
 * returns while someone holds the project's lock (the erasing of a class holds it for its whole
 * run), with an unreadable record (said once on the log) as with a readable one (finished on a
 * later opening); the jobs that write what a switch moves are not started while a switch waits to
 * be finished (the Results statistics, the Train page's label count), and start once it is; deleting
 * the project waits for a switch being finished (it would write into the removed folders). Real
 * SQLite, files and job runner; no job runs to its end.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { newId } from '@/server/db/repo';
import type { Services } from '@/server/services';
import { projectLockUsers, withProjectLock } from '@/server/pipeline/annotate';
import { projectDatasets } from '@/server/pipeline/project-inputs';
import { scheduleResultsStats, statsStatus } from '@/server/pipeline/results-stats';
import { switchHooks } from '@/server/pipeline/switch-volume';
import { trainState } from '@/server/pipeline/train-state';
import { createCaller } from '@/server/routers/_app';
import { addSmallVolume, modelSummary, putProjectFile, registrationRecord } from './switch-fixtures';
import { tempWorkspace, type TempWorkspace } from './temp-workspace';

let t: TempWorkspace;
let svc: Services;
let caller: ReturnType<typeof createCaller>;

beforeAll(() => {
  t = tempWorkspace({ prefix: 'petromap-switch-open-' });
  ({ svc } = t);
  caller = createCaller({ svc });
});
afterEach(() => {
  delete switchHooks.step;
  vi.restoreAllMocks();
});
afterAll(() => {
  svc?.repo.db.close();
  t?.cleanup();
});

const addVolume = (projectId: string, name: string) => addSmallVolume(svc, projectId, name);
const pendingOf = (projectId: string) => path.join(svc.ws.projectDir(projectId), 'switching.json');
const activeKinds = (projectId: string) => svc.repo.listJobs(projectId, ['queued', 'running']).map((j) => j.kind);

/** Holds the project's lock (as the erasing of a class does for its whole run) until `release()`. */
function holdLock(projectId: string) {
  let release!: () => void;
  const held = withProjectLock(projectId, () => new Promise<void>((r) => (release = r)));
  return { held, release: () => release() };
}

/** A project on volume A (registration, model j0, a prediction) whose switch to B stopped right after its renames. */
async function interrupted(name: string) {
  const projectId = svc.repo.createProject(name, 'mineralogy').id;
  const a = await addVolume(projectId, 'scan-A.nrrd');
  const b = await addVolume(projectId, 'scan-B.nrrd');
  const top = newId('d');
  svc.repo.insertDataset({ id: top, projectId, name: 'top-map.zip', kind: 'eds', status: 'ready', relPath: svc.ws.rel(svc.ws.datasetDir(top)), info: null });
  svc.repo.setArtifact(projectId, 'registration', registrationRecord(a, top, { createdAt: 1 }));
  putProjectFile(svc, projectId, 'eds-on-slab.u8', 'overlay of A');
  svc.repo.setArtifact(projectId, 'model', modelSummary(projectId, 'j0'));
  putProjectFile(svc, projectId, 'model-j0/model.json', '{"of":"A"}');
  svc.repo.setArtifact(projectId, 'predictionRun', { modelCreatedAt: 1, volumeId: a });
  svc.repo.setArtifact(projectId, 'prediction', { createdAt: 6, modelCreatedAt: 1, jobId: 'j1', classes: [1, 2], seconds: 1, shape: [8, 16, 16] });
  putProjectFile(svc, projectId, 'prediction/labels.ome.zarr/zarr.json', '{"of":"A"}');
  switchHooks.step = (s) => {
    if (s === 'aside-moved') throw new Error('killed');
  };
  await expect(caller.datasets.useVolume({ projectId, id: b })).rejects.toThrow(/stopped half way/);
  delete switchHooks.step;
  expect(existsSync(pendingOf(projectId))).toBe(true);
  expect(projectDatasets(svc, projectId).volume?.id).toBe(a);
  return { projectId, a, b };
}

describe('opening a project never waits for its lock', () => {
  it('an unreadable switch record: the project opens while the lock is held, the record stays, the log says it once', async () => {
    const projectId = svc.repo.createProject('Unreadable record, lock held', 'lithology').id;
    const f = putProjectFile(svc, projectId, 'switching.json', '{"to": "../../etc"}');
    const log = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const lock = holdLock(projectId);
    let released = false;
    void lock.held.then(() => (released = true));
    // before: byId waited for the holder of the lock (the erase job: its whole run), and logged on every opening
    expect((await caller.projects.byId({ id: projectId })).id).toBe(projectId);
    expect((await caller.projects.byId({ id: projectId })).id).toBe(projectId);
    expect(released).toBe(false);
    lock.release();
    await lock.held;
    await caller.projects.byId({ id: projectId });
    expect(readFileSync(f, 'utf8')).toBe('{"to": "../../etc"}');
    const said = log.mock.calls.filter((c) => String(c[0]).includes(`unfinished volume switch of project ${projectId}`));
    expect(said).toHaveLength(1);
    expect(String(said[0]![1])).toMatch(/cannot be read; nothing was moved/);
  });

  it('a readable record while the lock is held: the project opens at once with nothing moved; the opening after finishes the switch', async () => {
    const p = await interrupted('Readable record, lock held');
    const lock = holdLock(p.projectId);
    let released = false;
    void lock.held.then(() => (released = true));
    expect((await caller.projects.byId({ id: p.projectId })).id).toBe(p.projectId);
    expect(released).toBe(false);
    expect(existsSync(pendingOf(p.projectId))).toBe(true);
    expect(projectDatasets(svc, p.projectId).volume?.id).toBe(p.a);
    lock.release();
    await lock.held;
    await caller.projects.byId({ id: p.projectId });
    expect(existsSync(pendingOf(p.projectId))).toBe(false);
    expect(projectDatasets(svc, p.projectId).volume?.id).toBe(p.b);
    expect(readFileSync(path.join(svc.ws.projectDir(p.projectId), `switched-${p.a}`, 'model', 'model.json'), 'utf8')).toBe('{"of":"A"}');
  });
});

describe('jobs that write what a switch moves wait for it to be finished', () => {
  it('the Results statistics (they write labels-3d.nii) are not started while a switch waits; the page is told it is pending', async () => {
    const p = await interrupted('Results during a switch');
    // before: results.state started the statistics job of the half-switched prediction
    expect(scheduleResultsStats(svc, p.projectId)).toBeUndefined();
    expect(statsStatus(svc, p.projectId)).toMatchObject({ status: 'pending', jobId: null });
    expect(activeKinds(p.projectId)).not.toContain('results-stats');
    expect(existsSync(pendingOf(p.projectId))).toBe(true);
  });

  it('the Train page\'s label count (it reads the slab files a switch moves) is not started while a switch waits; its state query finishes the switch, then counts', async () => {
    const projectId = svc.repo.createProject('Train during a switch', 'mineralogy').id;
    await addVolume(projectId, 'scan-A.nrrd');
    const b = await addVolume(projectId, 'scan-B.nrrd');
    putProjectFile(svc, projectId, 'switching.json', JSON.stringify({ from: null, to: b, phase: 'aside' }));
    // before: the count (here: this machine's feature speed, measured on the volume) started at once
    expect((await trainState(svc, projectId)).volume).not.toBeNull();
    expect(activeKinds(projectId)).not.toContain('train-prepare');
    await caller.train.state({ projectId });
    expect(existsSync(pendingOf(projectId))).toBe(false);
    expect(projectDatasets(svc, projectId).volume?.id).toBe(b);
    const prep = svc.repo.artifact(projectId, 'trainPrepareJob');
    expect(prep && svc.repo.job(prep.id)?.kind).toBe('train-prepare');
    await svc.jobs.stopProject(projectId);
  });
});

describe('deleting a project while its switch is being finished', () => {
  it('the delete waits for the finish (the project lock) and nothing is written into the removed folders after it', async () => {
    const p = await interrupted('Deleted during the finish');
    let resume!: () => void;
    let paused!: () => void;
    const atPause = new Promise<void>((r) => (paused = r));
    switchHooks.step = (s) => {
      if (s !== 'aside-moved') return;
      paused();
      return new Promise<void>((r) => (resume = r));
    };
    const open = caller.projects.byId({ id: p.projectId });
    await atPause;
    let deleted = false;
    const del = caller.projects.delete({ id: p.projectId }).then(() => (deleted = true));
    // the delete either waits behind the finish (the lock has a second user) or, before, went ahead at once
    await Promise.race([del, new Promise<void>((r) => {
      const poll = () => (projectLockUsers(p.projectId) >= 2 ? r() : setImmediate(poll));
      poll();
    })]);
    expect(deleted).toBe(false);
    expect(svc.repo.project(p.projectId)).toBeDefined();
    resume();
    await open;
    await del;
    expect(svc.repo.project(p.projectId)).toBeUndefined();
    expect(existsSync(svc.ws.projectDir(p.projectId))).toBe(false);
  });
});
