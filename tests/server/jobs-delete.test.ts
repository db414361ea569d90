/**
 * Deleting a project or dataset while its jobs run (issue 12, item 13): the delete cancels the
 * jobs and waits for them, so no job recreates the folders that the delete removed; a project
 * being deleted takes no new job; and the trained model's files and its row stay consistent
 * (each run writes its own folder, the row switches over, folders without a row are removed).
 */
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPetromapError, throwIfAborted } from '@/lib/errors';
import { createCaller } from '@/server/routers/_app';
import { addClass, startTrainFromStrokes, writeAnnotationSlice } from '@/server/pipeline/annotate';
import { projectModel, startTrain, trainState } from '@/server/pipeline/train';
import type { JobEvent } from '@/server/jobs/runner';
import type { Services } from '@/server/services';
import type { Shape3 } from '@/lib/volume/types';
import { addVolume, layeredPhantom, makeServices, sleep, until, type Fixture } from './annotate-helpers';
import { makeSandstoneProject, storeTruthRegistration, type TrainFixture } from './train-fixture';

let fx: Fixture;
let svc: Services;
let caller: ReturnType<typeof createCaller>;
beforeAll(() => {
  fx = makeServices();
  svc = fx.svc;
  caller = createCaller({ svc });
});
afterAll(() => fx.cleanup());

/** A lithology project with a volume and strokes of two classes, ready to train. */
async function paintedProject(name: string) {
  const shape: Shape3 = [16, 48, 48];
  const [, ny, nx] = shape;
  const id = svc.repo.createProject(name, 'lithology').id;
  const vol = await addVolume(svc, id, shape, layeredPhantom(shape, 12).data);
  addClass(svc, id, { name: 'porous', color: [66, 135, 245] });
  addClass(svc, id, { name: 'tight', color: [230, 159, 0] });
  const s = new Uint8Array(ny * nx);
  for (let y = 4; y < 44; y++) {
    for (let x = 2; x < 10; x++) s[y * nx + x] = 1;
    for (let x = 14; x < 22; x++) s[y * nx + x] = 2;
  }
  await writeAnnotationSlice(svc, id, 'z', 5, s);
  return { id, vol };
}

/** The last state the runner announced for a job (its row goes with a deleted project). */
function lastState(jobId: string) {
  const seen: JobEvent['state'][] = [];
  svc.jobs.events.on(`job:${jobId}`, (e: JobEvent) => seen.push(e.state));
  return () => seen.at(-1);
}

describe('deleting a project while its jobs run', () => {
  it('cancels the running train+predict job, waits for it, and the folders stay gone', async () => {
    const { id, vol } = await paintedProject('Delete me');
    const job = startTrainFromStrokes(svc, id, { epochs: 100 });
    const state = lastState(job.id);
    // a second job queued behind it
    const queued = svc.jobs.start('later', id, {}, async ({ signal }) => {
      throwIfAborted(signal);
      await mkdir(svc.ws.projectDir(id), { recursive: true });
      await writeFile(path.join(svc.ws.projectDir(id), 'late.txt'), 'should never be written');
    });
    const queuedState = lastState(queued.id);
    await until('the job to run', () => svc.repo.job(job.id)?.state === 'running');
    await sleep(500); // inside the worker: features, training

    const r = await caller.projects.delete({ id });
    expect(r).toMatchObject({ ok: true, cancelledJobs: 2 });
    // awaited: nothing of the project is still running when delete returns
    expect(svc.jobs.isActive(job.id)).toBe(false);
    expect(svc.jobs.isActive(queued.id)).toBe(false);
    expect(state()).toBe('cancelled');
    expect(queuedState()).toBe('cancelled');
    expect(svc.repo.project(id)).toBeUndefined();
    expect(svc.repo.listJobs(id)).toHaveLength(0);
    await sleep(1000);
    expect(existsSync(svc.ws.projectDir(id))).toBe(false);
    expect(existsSync(svc.ws.datasetDir(vol.id))).toBe(false);
  });

  it('waits for a job that stops late, so it cannot recreate the folder afterwards', async () => {
    const id = svc.repo.createProject('Slow to stop', 'mineralogy').id;
    const dir = svc.ws.projectDir(id);
    const job = svc.jobs.start('stubborn', id, {}, async ({ signal }) => {
      while (!signal.aborted) await sleep(20);
      await sleep(400); // finishing a step before it notices
      await mkdir(dir, { recursive: true });
      await writeFile(path.join(dir, 'result.json'), '{}');
    });
    await until('the job to run', () => svc.repo.job(job.id)?.state === 'running');
    await caller.projects.delete({ id });
    expect(existsSync(dir)).toBe(false);
    await sleep(300);
    expect(existsSync(dir)).toBe(false);
  });

  it('a project being deleted takes no new job', async () => {
    const id = svc.repo.createProject('Closing', 'mineralogy').id;
    const job = svc.jobs.start('slow', id, {}, async ({ signal }) => {
      while (!signal.aborted) await sleep(20);
      await sleep(200);
    });
    await until('the job to run', () => svc.repo.job(job.id)?.state === 'running');
    const deleting = caller.projects.delete({ id });
    await sleep(50);
    let err: unknown;
    try {
      svc.jobs.start('sneaky', id, {}, async () => undefined);
    } catch (e) {
      err = e;
    }
    expect(isPetromapError(err, 'Conflict')).toBe(true);
    await deleting;
  });

  it('stopProject reports a job that overruns the wait, and settles when it ends', async () => {
    const id = svc.repo.createProject('Overrun', 'mineralogy').id;
    const dir = svc.ws.projectDir(id);
    const job = svc.jobs.start('very stubborn', id, {}, async ({ signal }) => {
      while (!signal.aborted) await sleep(20);
      await sleep(300);
      await mkdir(dir, { recursive: true });
      await writeFile(path.join(dir, 'late.bin'), 'x');
    });
    await until('the job to run', () => svc.repo.job(job.id)?.state === 'running');
    const stop = await svc.jobs.stopProject(id, 50);
    expect(stop.overran).toEqual([job.id]);
    let settled = false;
    void stop.settled.then(() => (settled = true));
    expect(settled).toBe(false);
    await stop.settled;
    expect(svc.jobs.isActive(job.id)).toBe(false);
  });
});

describe('deleting a dataset while a job uses it', () => {
  it('cancels the jobs naming it and its folder stays gone; other jobs go on', async () => {
    const { id, vol } = await paintedProject('Dataset delete');
    const dsDir = svc.ws.datasetDir(vol.id);
    const writer = svc.jobs.start('uses volume', id, { volumeId: vol.id }, async ({ signal }) => {
      for (let i = 0; ; i++) {
        await mkdir(dsDir, { recursive: true });
        await writeFile(path.join(dsDir, `cache-${i % 3}.bin`), 'x');
        throwIfAborted(signal);
        await sleep(20);
      }
    }, 'io');
    const other = svc.jobs.start('unrelated', id, { volumeId: 'dother' }, async ({ signal }) => {
      for (let i = 0; i < 20; i++) (throwIfAborted(signal), await sleep(20));
      return 'done';
    });
    await until('the job to run', () => svc.repo.job(writer.id)?.state === 'running' && svc.repo.job(other.id)?.state === 'running');
    await caller.datasets.delete({ id: vol.id });
    expect(svc.repo.job(writer.id)!.state).toBe('cancelled');
    await sleep(200);
    expect(existsSync(dsDir)).toBe(false);
    expect((await svc.jobs.wait(other.id)).state).toBe('done');
    await caller.projects.delete({ id });
  });
});

describe('model files and row', () => {
  let tf: TrainFixture;
  beforeAll(async () => {
    tf = await makeSandstoneProject({ shape: [24, 64, 64], seed: 5, grainDiameterVox: 12 });
    storeTruthRegistration(tf);
  });
  afterAll(() => tf?.cleanup());

  const modelFolders = () => readdirSync(tf.svc.ws.projectDir(tf.projectId)).filter((n) => n === 'model' || n.startsWith('model-')).sort();

  it('each run writes its own folder; the row names it; earlier folders and folders without a row are removed', async () => {
    const { svc, projectId } = tf;
    // a folder left by a run that stopped between writing its files and its row: garbage
    await mkdir(path.join(svc.ws.projectDir(projectId), 'model-jcrashed'), { recursive: true });
    await writeFile(path.join(svc.ws.projectDir(projectId), 'model-jcrashed', 'model.json'), '{}');
    const j1 = await svc.jobs.wait(startTrain(svc, projectId, { epochs: 3 }).id);
    expect(j1.error).toBeNull();
    const s1 = svc.repo.artifact(projectId, 'model')!;
    expect(s1.modelRel).toBe(path.join('projects', projectId, `model-${j1.id}`));
    expect(projectModel(svc, projectId)!.dir).toBe(svc.ws.abs(s1.modelRel!));
    expect(modelFolders()).toEqual([`model-${j1.id}`]);

    // a cancelled run leaves the model and its row as they were, and no folder of its own
    const j2 = startTrain(svc, projectId, { epochs: 100 });
    await until('the second run to start', () => svc.repo.job(j2.id)?.state === 'running');
    await sleep(300);
    svc.jobs.cancel(j2.id);
    expect((await svc.jobs.wait(j2.id)).state).toBe('cancelled');
    expect(svc.repo.artifact(projectId, 'model')!.createdAt).toBe(s1.createdAt);
    expect(modelFolders()).toEqual([`model-${j1.id}`]);
    expect((await trainState(svc, projectId)).model!.createdAt.getTime()).toBe(s1.createdAt);
  });
});
