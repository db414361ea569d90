/**
 * The volume switch loses nothing (datasets.useVolume / datasets.delete, pipeline/switch-volume.ts):
 * a switch that stops half way (a failure injected at switchHooks' points) is finished by the next
 * one and deletes no set-aside work; a second switch started during one waits for it (the project's
 * lock) and checks the jobs again; deleting the volume in use never puts a set-aside model over the
 * model in use, and a deleted volume's set-aside model is kept when the project has none; set-aside
 * rows naming paths petromap does not write are not taken back; what is not taken back stays in its
 * folder and is named; a switch that stopped half way is finished by opening the project or by the
 * server's start; a model whose own record names the chosen volume stays in use. Real SQLite and
 * files, no job runs.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '@/server/db/repo';
import type { Services } from '@/server/services';
import { projectDatasets } from '@/server/pipeline/project-inputs';
import { finishPendingSwitches, switchHooks } from '@/server/pipeline/switch-volume';
import type { RegistrationRecord } from '@/server/pipeline/correlate';
import { createCaller } from '@/server/routers/_app';
import { addMapRow, addSmallVolume, modelSummary, putProjectFile, registrationRecord } from './switch-fixtures';
import { tempWorkspace, type TempWorkspace } from './temp-workspace';

let t: TempWorkspace;
let svc: Services;
let caller: ReturnType<typeof createCaller>;

const addVolume = (projectId: string, name: string) => addSmallVolume(svc, projectId, name);

const addMap = (projectId: string, name: string) => addMapRow(svc, projectId, name);

const registration = (volumeId: string, edsId: string): RegistrationRecord => registrationRecord(volumeId, edsId, { createdAt: 1 });
const model = modelSummary;
const put = (projectId: string, rel: string, text: string) => putProjectFile(svc, projectId, rel, text);
const read = (projectId: string, rel: string) => readFileSync(path.join(svc.ws.projectDir(projectId), rel), 'utf8');
const aside = (projectId: string, volumeId: string, rel = '') => path.join(svc.ws.projectDir(projectId), `switched-${volumeId}`, rel);

/** A project on volume A with a registration (and overlay), a model j0 and a prediction of A; volumes B and C unused. */
async function project(name: string) {
  const projectId = svc.repo.createProject(name, 'mineralogy').id;
  const a = await addVolume(projectId, 'scan-A.nrrd');
  const b = await addVolume(projectId, 'scan-B.nrrd');
  const c = await addVolume(projectId, 'scan-C.nrrd');
  const top = addMap(projectId, 'top-map.zip');
  svc.repo.setArtifact(projectId, 'registration', registration(a, top));
  put(projectId, 'eds-on-slab.u8', 'overlay of A');
  train(projectId, 'j0', 'A');
  svc.repo.setArtifact(projectId, 'predictionRun', { modelCreatedAt: 1, volumeId: a });
  svc.repo.setArtifact(projectId, 'prediction', { createdAt: 6, modelCreatedAt: 1, jobId: 'j1', classes: [1, 2], seconds: 1, shape: [8, 16, 16] });
  put(projectId, 'prediction/labels.ome.zarr/zarr.json', '{"of":"A"}');
  expect(projectDatasets(svc, projectId).volume?.id).toBe(a);
  return { projectId, a, b, c, top };
}
function train(projectId: string, jobId: string, of: string) {
  svc.repo.setArtifact(projectId, 'model', model(projectId, jobId));
  svc.repo.setArtifact(projectId, 'trainHistory', { jobId, epochs: [], maxEpochs: null });
  put(projectId, `model-${jobId}/model.json`, `{"of":"${of}"}`);
}
/** A's work is all back and intact. */
function expectAOf(projectId: string, a: string) {
  expect(projectDatasets(svc, projectId).volume?.id).toBe(a);
  expect(svc.repo.artifact(projectId, 'registration')?.volumeId).toBe(a);
  expect(read(projectId, 'eds-on-slab.u8')).toBe('overlay of A');
  expect(svc.repo.artifact(projectId, 'model')?.jobId).toBe('j0');
  expect(read(projectId, 'model-j0/model.json')).toBe('{"of":"A"}');
  expect(svc.repo.artifact(projectId, 'predictionRun')?.volumeId).toBe(a);
  expect(read(projectId, 'prediction/labels.ome.zarr/zarr.json')).toBe('{"of":"A"}');
}

beforeAll(() => {
  t = tempWorkspace({ prefix: 'petromap-switch-safety-' });
  ({ svc } = t);
  caller = createCaller({ svc });
});
afterEach(() => {
  delete switchHooks.step;
});
afterAll(() => {
  svc?.repo.db.close();
  t?.cleanup();
});

describe('a volume switch that stops half way', () => {
  it('after the files moved: says so, the next try finishes it, and the set-aside work comes back', async () => {
    const { projectId, a, b } = await project('Crash after the moves');
    switchHooks.step = (s) => {
      if (s === 'aside-moved') throw new Error('disk went away');
    };
    const err = await caller.datasets.useVolume({ projectId, id: b }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    delete switchHooks.step;
    // the retry finishes the switch (before: it removed switched-A, with A's model and prediction)
    await caller.datasets.useVolume({ projectId, id: b });
    expect(projectDatasets(svc, projectId).volume?.id).toBe(b);
    for (const k of ['registration', 'model', 'prediction', 'predictionRun'] as const) expect(svc.repo.artifact(projectId, k), k).toBeUndefined();
    expect(readFileSync(aside(projectId, a, 'model/model.json'), 'utf8')).toBe('{"of":"A"}');
    await caller.datasets.useVolume({ projectId, id: a });
    expectAOf(projectId, a);
    expect(existsSync(aside(projectId, a))).toBe(false);
    expect((err as Error).message).toMatch(/switch to scan-B\.nrrd stopped half way \(disk went away\)\. Nothing was deleted: choose scan-B\.nrrd again/);
  });

  it('while restoring: the pick is already the chosen volume and the next try brings the rest back, nothing of the other volume taken as its own', async () => {
    const { projectId, a, b } = await project('Crash while restoring');
    await caller.datasets.useVolume({ projectId, id: b });
    train(projectId, 'j5', 'B');
    await caller.datasets.useVolume({ projectId, id: a });
    expect(svc.repo.artifact(projectId, 'model')?.jobId).toBe('j0');
    switchHooks.step = (s) => {
      if (s === 'restoring') throw new Error('power cut');
    };
    await expect(caller.datasets.useVolume({ projectId, id: b })).rejects.toThrow(/power cut/);
    delete switchHooks.step;
    // before: the pick stayed on A while B's model was back, and the retry set B's model aside as A's
    expect(projectDatasets(svc, projectId).volume?.id).toBe(b);
    await caller.datasets.useVolume({ projectId, id: b });
    expect(svc.repo.artifact(projectId, 'model')?.jobId).toBe('j5');
    expect(read(projectId, 'model-j5/model.json')).toBe('{"of":"B"}');
    expect(existsSync(aside(projectId, b))).toBe(false);
    await caller.datasets.useVolume({ projectId, id: a });
    expectAOf(projectId, a);
  });
});

describe('a switch that stopped half way is finished without waiting for the next one', () => {
  /** a switch from A to B stopped right after its renames (A's files in switched-A, A's rows still live, the pick still A) */
  async function interrupted(name: string) {
    const p = await project(name);
    switchHooks.step = (s) => {
      if (s === 'aside-moved') throw new Error('killed');
    };
    await expect(caller.datasets.useVolume({ projectId: p.projectId, id: p.b })).rejects.toThrow(/stopped half way/);
    delete switchHooks.step;
    const pending = path.join(svc.ws.projectDir(p.projectId), 'switching.json');
    expect(existsSync(pending)).toBe(true);
    // the half state: the pick still A, A's model row live while its folder is already aside
    expect(projectDatasets(svc, p.projectId).volume?.id).toBe(p.a);
    expect(existsSync(path.join(svc.ws.projectDir(p.projectId), 'model-j0'))).toBe(false);
    return { ...p, pending };
  }
  /** The switch to B is finished and A's work is whole in its folder (and all back once A is chosen again). */
  async function expectFinished(p: Awaited<ReturnType<typeof interrupted>>) {
    expect(existsSync(p.pending)).toBe(false);
    expect(projectDatasets(svc, p.projectId).volume?.id).toBe(p.b);
    for (const k of ['registration', 'model', 'trainHistory', 'prediction', 'predictionRun'] as const) expect(svc.repo.artifact(p.projectId, k), k).toBeUndefined();
    expect(readFileSync(aside(p.projectId, p.a, 'model/model.json'), 'utf8')).toBe('{"of":"A"}');
    expect(readFileSync(aside(p.projectId, p.a, 'prediction/labels.ome.zarr/zarr.json'), 'utf8')).toBe('{"of":"A"}');
    await caller.datasets.useVolume({ projectId: p.projectId, id: p.a });
    expectAOf(p.projectId, p.a);
  }

  it('opening the project finishes it under the project lock, with nothing lost', async () => {
    const p = await interrupted('Opened after a crash');
    // before: opening showed the half state until the next switch or delete
    expect((await caller.projects.byId({ id: p.projectId })).id).toBe(p.projectId);
    await expectFinished(p);
    // opening again: nothing pending, nothing moves
    await caller.projects.byId({ id: p.projectId });
    expectAOf(p.projectId, p.a);
  });

  it('not while a job of the project runs; the opening after it ends finishes it', async () => {
    const p = await interrupted('Opened during a job');
    const jobId = svc.repo.insertJob({ id: newId('j'), projectId: p.projectId, kind: 'train', params: {} }).id;
    svc.repo.updateJob(jobId, { state: 'running', progress: 0.2, started: true });
    await caller.projects.byId({ id: p.projectId });
    expect(existsSync(p.pending)).toBe(true);
    expect(projectDatasets(svc, p.projectId).volume?.id).toBe(p.a);
    svc.repo.updateJob(jobId, { state: 'done', finished: true });
    await caller.projects.byId({ id: p.projectId });
    await expectFinished(p);
  });

  it('a record of a switch that cannot be read: the project still opens, nothing moves, the record stays', async () => {
    const { projectId, a } = await project('Unreadable record');
    const f = put(projectId, 'switching.json', '{"to": "../../etc"}');
    expect((await caller.projects.byId({ id: projectId })).id).toBe(projectId);
    expect(readFileSync(f, 'utf8')).toBe('{"to": "../../etc"}');
    expectAOf(projectId, a);
    rmSync(f);
  });

  it('the server\'s start finishes every project\'s unfinished switch', async () => {
    const p = await interrupted('Server restarted');
    expect(await finishPendingSwitches(svc)).toBe(1);
    await expectFinished(p);
    expect(await finishPendingSwitches(svc)).toBe(0);
  });
});

describe('the model\'s own record of its volume', () => {
  it('a model whose record names the chosen volume stays in use; one without the record or naming the volume left goes aside with it', async () => {
    const { projectId, a, b, c } = await project('Model knows its volume');
    // j0 records nothing (trained before the record): it goes aside with A, as before
    const plan = await caller.datasets.volumeSwitch({ projectId, id: b });
    expect(plan.aside.join(' | ')).toMatch(/the model trained 2026-12-07 14:05 UTC \(it learnt this volume's grey values\)/);
    await caller.datasets.useVolume({ projectId, id: b });
    expect(svc.repo.artifact(projectId, 'model')).toBeUndefined();
    // a model trained on C (its record says so) is in use while B is (e.g. kept when a volume was deleted)
    svc.repo.setArtifact(projectId, 'model', { ...model(projectId, 'j7'), trainedOn: { volume: 'scan-C.nrrd', volumeId: c, shape: [8, 16, 16], spacingUm: [2, 2, 2], featureVersion: 2 } });
    put(projectId, 'model-j7/model.json', '{"of":"C"}');
    // switching to C: before, the model went aside with B as B's
    await caller.datasets.useVolume({ projectId, id: c });
    expect(svc.repo.artifact(projectId, 'model')?.jobId).toBe('j7');
    expect(svc.repo.artifact(projectId, 'model')?.trainedOn?.volumeId).toBe(c);
    expect(read(projectId, 'model-j7/model.json')).toBe('{"of":"C"}');
    // leaving C for A: the model trained on C goes aside with C, and A's model comes back
    await caller.datasets.useVolume({ projectId, id: a });
    expectAOf(projectId, a);
    expect(readFileSync(aside(projectId, c, 'model/model.json'), 'utf8')).toBe('{"of":"C"}');
  });
});

describe('two requests at once', () => {
  it('a second switch started during one waits for it, checks the jobs again, and loses nothing', async () => {
    const { projectId, a, b, c } = await project('Two clicks');
    let second: Promise<unknown> | undefined;
    // the first switch pauses after its files moved (its rows not yet removed) while the second is asked for
    switchHooks.step = async (s) => {
      if (s !== 'aside-moved' || second) return;
      second = caller.datasets.useVolume({ projectId, id: c });
      await new Promise((r) => setTimeout(r, 100));
    };
    await caller.datasets.useVolume({ projectId, id: b });
    expect(second).toBeDefined();
    await second;
    expect(projectDatasets(svc, projectId).volume?.id).toBe(c);
    delete switchHooks.step;
    await caller.datasets.useVolume({ projectId, id: a });
    expectAOf(projectId, a);

    // a job started while a switch runs and a second one waits: the waiting switch refuses (its check is made under the lock, right before moving)
    let third: Promise<unknown> | undefined;
    let jobId = '';
    switchHooks.step = async (s) => {
      if (s !== 'aside-moved' || third) return;
      third = caller.datasets.useVolume({ projectId, id: c }).finally(() => svc.repo.updateJob(jobId, { state: 'done', finished: true }));
      await new Promise((r) => setTimeout(r, 100));
      jobId = svc.repo.insertJob({ id: newId('j'), projectId, kind: 'predict', params: {} }).id;
      svc.repo.updateJob(jobId, { state: 'running', progress: 0.1, started: true });
    };
    await caller.datasets.useVolume({ projectId, id: b });
    await expect(third).rejects.toThrow(/cannot switch to scan-C\.nrrd now: the whole-volume prediction is running/);
    expect(projectDatasets(svc, projectId).volume?.id).toBe(b);
    delete switchHooks.step;
    await caller.datasets.useVolume({ projectId, id: a });
    expectAOf(projectId, a);
  });
});

describe('deleting a volume keeps the models', () => {
  it('deleting the volume in use keeps the model in use; the next volume\'s set-aside model stays aside and is named', async () => {
    const { projectId, a, b } = await project('Delete in use');
    await caller.datasets.useVolume({ projectId, id: b });
    train(projectId, 'j5', 'B');
    await caller.datasets.useVolume({ projectId, id: a });
    await caller.datasets.delete({ id: a });
    expect(projectDatasets(svc, projectId).volume?.id).toBe(b);
    // before: B's set-aside model was put over the model in use, which the dialog promises to keep
    expect(svc.repo.artifact(projectId, 'model')?.jobId).toBe('j0');
    expect(read(projectId, 'model-j0/model.json')).toBe('{"of":"A"}');
    expect(readFileSync(aside(projectId, b, 'model/model.json'), 'utf8')).toBe('{"of":"B"}');
    expect(svc.repo.artifact(projectId, 'registration')).toBeUndefined();
  });

  it('deleting a volume not in use: its set-aside model becomes the project\'s model when there is none', async () => {
    const { projectId, a, b } = await project('Delete aside');
    await caller.datasets.useVolume({ projectId, id: b });
    // B has no model; A's model j0 is set aside with A: deleting A keeps it (before: it was deleted)
    await caller.datasets.delete({ id: a });
    expect(svc.repo.artifact(projectId, 'model')?.jobId).toBe('j0');
    expect(read(projectId, 'model-j0/model.json')).toBe('{"of":"A"}');
    expect(svc.repo.artifact(projectId, 'prediction')).toBeUndefined();
    expect(existsSync(aside(projectId, a))).toBe(false);
  });
});

describe('a set-aside record petromap did not write', () => {
  it('takes back no row naming paths outside petromap\'s names, keeps the folder with what did not come back, and says so', async () => {
    const projectId = svc.repo.createProject('Edited aside', 'mineralogy').id;
    await addVolume(projectId, 'scan-A.nrrd');
    const b = await addVolume(projectId, 'scan-B.nrrd');
    const other = svc.repo.createProject('Another', 'mineralogy').id;
    const strokes = { volumeId: b, relPath: path.join('projects', other, `annotations-${b}.ome.zarr`), shape: [8, 16, 16], counts: { 1: 3 }, updatedAt: 1 };
    const lith = { volumeId: b, relPath: path.join('projects', projectId, `lithology-${b}`, '..', '..', other, 'x.ome.zarr'), jobId: 'j7', classes: [], strokeCounts: {}, heldOutAccuracy: null, perClass: [], fractions: {}, createdAt: 1 };
    // a model row of the wrong shape, with its folder
    put(projectId, `switched-${b}/state.json`, JSON.stringify({ annotations: strokes, lithologyPrediction: lith, model: { jobId: 'j9' } }));
    put(projectId, `switched-${b}/model/model.json`, '{"of":"B"}');
    const r = await caller.datasets.useVolume({ projectId, id: b });
    expect(projectDatasets(svc, projectId).volume?.id).toBe(b);
    expect(svc.repo.artifact(projectId, 'annotations')).toBeUndefined();
    expect(svc.repo.artifact(projectId, 'lithologyPrediction')).toBeUndefined();
    expect(svc.repo.artifact(projectId, 'model')).toBeUndefined();
    // before: the folder was removed with the model's files
    expect(readFileSync(aside(projectId, b, 'model/model.json'), 'utf8')).toBe('{"of":"B"}');
    expect(r.kept).toEqual([`3 records petromap cannot take back (annotations, lithologyPrediction, model): kept in ${path.join('projects', projectId, `switched-${b}`)}`]);
  });
});
