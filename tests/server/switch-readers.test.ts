/**
 * A volume switch does not wait for the label count the Train page starts by itself
 * ('train-prepare': it only reads the volume in use): the switch stops it and goes on, and the
 * record of that count goes with it (a count for the old volume is not reported later). A job that
 * writes (here a whole-volume prediction) still blocks the switch. Real JobRunner and SQLite.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '@/server/db/repo';
import { projectDatasets } from '@/server/pipeline/project-inputs';
import { createCaller } from '@/server/routers/_app';
import type { VolumeMeta } from '@/lib/volume/types';
import { addVolumeDataset, tempWorkspace, type TempWorkspace } from './temp-workspace';

let t: TempWorkspace;
let caller: ReturnType<typeof createCaller>;
const meta: VolumeMeta = { shape: [4, 8, 8], spacingUm: [2, 2, 2], originUm: [0, 0, 0], dtype: 'uint8', channels: ['grey'] };
const addVolume = async (projectId: string, name: string) =>
  (await addVolumeDataset(t.svc, projectId, { meta, data: new Uint8Array(4 * 8 * 8).fill(90) }, { name, chunk: [4, 8, 8] })).id;

beforeAll(() => {
  t = tempWorkspace({ prefix: 'petromap-switch-readers-' });
  caller = createCaller({ svc: t.svc });
});
afterAll(() => t.cleanup());

/** a train-prepare job that runs until it is cancelled (as a label count reading a large volume) */
function startCount(projectId: string, volumeId: string) {
  return t.svc.jobs.start('train-prepare', projectId, { volumeId }, ({ signal, onProgress }) => {
    onProgress(0.3, 'Counting the voxels the EDS map labels');
    return new Promise<void>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
  }, 'io');
}

async function running(id: string) {
  for (let i = 0; i < 200 && t.repo.job(id)?.state !== 'running'; i++) await new Promise((r) => setTimeout(r, 10));
  expect(t.repo.job(id)?.state).toBe('running');
}

describe('volume switch and the Train page\'s label count', () => {
  it('a running label count does not block the switch: it is stopped, its record goes', async () => {
    const projectId = t.repo.createProject('Counting', 'mineralogy').id;
    const a = await addVolume(projectId, 'scan-A.nrrd');
    const b = await addVolume(projectId, 'scan-B.nrrd');
    const job = startCount(projectId, a);
    t.repo.setArtifact(projectId, 'trainPrepareJob', { id: job.id, key: '["a"]' });
    await running(job.id);

    expect((await caller.datasets.volumeSwitch({ projectId, id: b })).blockedBy).toBeNull();
    const r = await caller.datasets.useVolume({ projectId, id: b });
    expect(r.changed).toBe(true);
    expect(projectDatasets(t.svc, projectId).volume?.id).toBe(b);
    const ended = await t.svc.jobs.wait(job.id);
    expect(ended.state).toBe('cancelled');
    expect(t.repo.artifact(projectId, 'trainPrepareJob')).toBeUndefined();

    // a queued count (behind another job of the light queue) is cancelled and never runs
    const blocker = startCount(projectId, b);
    await running(blocker.id);
    const queued = startCount(projectId, b);
    expect(t.repo.job(queued.id)?.state).toBe('queued');
    expect((await caller.datasets.useVolume({ projectId, id: a })).changed).toBe(true);
    expect((await t.svc.jobs.wait(queued.id)).state).toBe('cancelled');
    expect((await t.svc.jobs.wait(blocker.id)).state).toBe('cancelled');
  });

  it('a job that writes still blocks it, and a label count beside it is left running', async () => {
    const projectId = t.repo.createProject('Predicting', 'mineralogy').id;
    const a = await addVolume(projectId, 'scan-A.nrrd');
    const b = await addVolume(projectId, 'scan-B.nrrd');
    const count = startCount(projectId, a);
    await running(count.id);
    const predict = t.repo.insertJob({ id: newId('j'), projectId, kind: 'predict', params: {} });
    t.repo.updateJob(predict.id, { state: 'running', progress: 0.42, started: true });
    expect((await caller.datasets.volumeSwitch({ projectId, id: b })).blockedBy).toBe('the whole-volume prediction is running (42 %): switch when it has finished, or cancel it on the Jobs page.');
    await expect(caller.datasets.useVolume({ projectId, id: b })).rejects.toThrow(/cannot switch to scan-B\.nrrd now: the whole-volume prediction is running/);
    expect(projectDatasets(t.svc, projectId).volume?.id).toBe(a);
    expect(t.svc.jobs.isActive(count.id)).toBe(true);
    t.repo.updateJob(predict.id, { state: 'done', finished: true });
    t.svc.jobs.cancel(count.id);
    expect((await t.svc.jobs.wait(count.id)).state).toBe('cancelled');
  });
});
