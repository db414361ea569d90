/**
 * Train and Predict name the datasets they use, and read the model when they start (reviewer R4):
 * - a Predict queued behind a Train predicts with the model that Train made (it failed: "The
 *   trained model is not on disk any more"), and says so in its finished message;
 * - deleting the volume (or the EDS map) stops a queued Predict (or Train): their parameters named
 *   no dataset, so the delete did not stop them;
 * - a volume deleted while its prediction ran (a delete that outwaited the stop) gets no stored
 *   prediction, and the failure names no folder of the machine (it printed
 *   /tmp/…/projects/…/prediction/bricks/…);
 * - a job that names a dataset once it runs (JobRunner.uses) is stopped by that dataset's delete.
 * Real SQLite, real files, the real compute worker; a small sample (16 × 48 × 48), 2 epochs.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCaller } from '@/server/routers/_app';
import { startPredict, startTrain } from '@/server/pipeline/train';
import type { JobEvent } from '@/server/jobs/runner';
import { makeSandstoneProject, storeTruthRegistration, type TrainFixture } from './train-fixture';

let tf: TrainFixture;
beforeAll(async () => {
  tf = await makeSandstoneProject({ shape: [16, 48, 48], seed: 5, grainDiameterVox: 10 });
  storeTruthRegistration(tf);
  const t = await tf.svc.jobs.wait(startTrain(tf.svc, tf.projectId, { epochs: 2 }).id);
  expect(t.state).toBe('done');
}, 120_000);
afterAll(() => tf?.cleanup());

/** A job on the compute queue that holds it until `open()`: what is started after it waits. */
function gate(svc = tf.svc) {
  let open!: () => void;
  const held = new Promise<void>((r) => (open = r));
  const job = svc.jobs.start('gate', null, {}, () => held);
  return { open, job };
}

const datasets = () => {
  const ds = tf.svc.repo.listDatasets(tf.projectId);
  return { volume: ds.find((d) => d.kind === 'volume')!, eds: ds.find((d) => d.kind === 'eds')! };
};

describe('Train and Predict with the datasets they use', () => {
  it('a Predict queued behind a Train predicts with the new model and says so', async () => {
    const { svc, projectId } = tf;
    const before = svc.repo.artifact(projectId, 'model')!;
    const g = gate();
    const train = startTrain(svc, projectId, { epochs: 2 });
    const predict = startPredict(svc, projectId);
    g.open();
    expect((await svc.jobs.wait(train.id)).state).toBe('done');
    const p = await svc.jobs.wait(predict.id);
    expect(p.error).toBeNull();
    expect(p.state).toBe('done');
    const model = svc.repo.artifact(projectId, 'model')!;
    expect(model.createdAt).not.toBe(before.createdAt);
    expect(svc.repo.artifact(projectId, 'prediction')?.modelCreatedAt).toBe(model.createdAt);
    expect(p.message).toMatch(/^Finished with the model trained .* \(job j[0-9a-f]+\): a training that ended while this prediction waited replaced the model in use when Predict was pressed$/);
    expect(p.message).toContain(model.jobId);
    expect(predict.params).toMatchObject({ modelCreatedAt: before.createdAt, volumeId: datasets().volume.id });
  }, 120_000);

  it('a job that names a dataset once it runs is stopped by that dataset\'s delete', async () => {
    const { svc } = tf;
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    const job = svc.jobs.start('reads later', null, {}, async ({ signal, jobId }) => {
      svc.jobs.uses(jobId, ['d00000000aa']);
      started();
      await new Promise<void>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error)));
    }, 'io');
    await running;
    const other = await svc.jobs.stopDataset('d00000000bb', 1000);
    expect(other.stopped).toEqual([]);
    const stop = await svc.jobs.stopDataset('d00000000aa', 5000);
    expect(stop.stopped).toEqual([job.id]);
    expect((await svc.jobs.wait(job.id)).state).toBe('cancelled');
  });

  it('a volume deleted while its prediction runs: no prediction is stored, and the failure names no folder', async () => {
    const { svc, projectId } = tf;
    const vol = svc.repo.listDatasets(projectId).find((d) => d.kind === 'volume')!;
    const predict = startPredict(svc, projectId);
    // as a delete that outwaited its stop: the row and the files go while the bricks are predicted
    let deleted = false;
    svc.jobs.events.on(`job:${predict.id}`, (e: JobEvent) => {
      if (deleted || e.state !== 'running' || !(e.progress > 0)) return;
      deleted = true;
      svc.repo.deleteDataset(vol.id);
      rmSync(svc.ws.datasetDir(vol.id), { recursive: true, force: true });
    });
    const p = await svc.jobs.wait(predict.id);
    expect(deleted).toBe(true);
    expect(p.state).toBe('failed');
    expect(p.error).toBe('The XRM volume "sandstone.nrrd" was deleted while it was being predicted; nothing was stored.');
    expect(p.error).not.toContain(svc.ws.root);
    expect(svc.repo.artifact(projectId, 'prediction')).toBeUndefined();
  }, 120_000);
});

describe('deleting a dataset with queued jobs that use it', () => {
  let fx: TrainFixture;
  afterAll(() => fx?.cleanup());

  it('deleting the EDS map stops a queued Train; deleting the volume stops a queued Predict', async () => {
    // a project of its own, with the trained model's row (the jobs are stopped before they run)
    fx = await makeSandstoneProject({ shape: [16, 32, 32], seed: 6, grainDiameterVox: 8 });
    storeTruthRegistration(fx);
    const { svc, projectId } = fx;
    svc.repo.setArtifact(projectId, 'model', tf.svc.repo.artifact(tf.projectId, 'model')!);
    const caller = createCaller({ svc });
    const ds = svc.repo.listDatasets(projectId);
    const volume = ds.find((d) => d.kind === 'volume')!, eds = ds.find((d) => d.kind === 'eds')!;
    const g = gate(svc);
    // the jobs stay queued behind the gate until the end (the delete must not wait for them to run)
    setTimeout(() => g.open(), 20_000).unref();
    const train = startTrain(svc, projectId, { epochs: 2 });
    await caller.datasets.delete({ id: eds.id });
    const t = await svc.jobs.wait(train.id);
    expect(t.state).toBe('cancelled');

    const predict = startPredict(svc, projectId);
    await caller.datasets.delete({ id: volume.id });
    const p = await svc.jobs.wait(predict.id);
    expect(p.state).toBe('cancelled');
    expect(p.error).toBeNull();
    g.open();
    expect((await svc.jobs.wait(g.job.id)).state).toBe('done');
    expect(train.params).toMatchObject({ epochs: 2, volumeId: volume.id, edsId: eds.id });
  }, 120_000);
});
