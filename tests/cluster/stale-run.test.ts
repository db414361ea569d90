/**
 * Bricks of an abandoned distributed prediction must not land in a new run's output (R4): a
 * coordinator died (server killed) with run A's bricks still queued; the server deleted the output
 * folder and started run B there with another model. The worker refuses A's bricks (predict.json
 * names run B: every brick job carries its run's id), so B's labels are those of a clean run of B,
 * bit for bit. Before, A's bricks were written into B's stores and their markers made B skip them
 * (50 % of the voxels differed). redis-server on a free loopback port, one `petromap worker`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FlowProducer } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trainClassifier } from '../../lib/classify/model';
import { saveModel } from '../../lib/classify/model-io-node';
import { predictVolume } from '../../lib/classify/predict-node';
import { IDENTITY, KEYS, QUEUE_BRICKS, QUEUE_RUNS, boxKey, type BrickJobData } from '../../lib/cluster/config';
import { connectionOptions, openRedis } from '../../lib/cluster/redis-node';
import { chunkGrid } from '../../lib/features';
import { buildTrainingSet, featureFnFor, surfaceLabelVoxels } from '../../lib/classify/training-set';
import type { Shape3 } from '../../lib/volume/types';
import { openVolume, writeDenseVolume } from '../../lib/volume/zarr-store-node';
import { TEST_SET } from '../lib/classify/helpers';
import { fixture } from '../lib/classify/sample';
import { startWorker, type WorkerProc } from './fixture';
import { REDIS_SERVER, startRedis, type RedisProc } from './redis-server';

const BRICK: Shape3 = [16, 32, 32];

describe.skipIf(!REDIS_SERVER)('a distributed prediction run abandoned on the queue', () => {
  const ws = mkdtempSync(join(tmpdir(), 'petromap-stale-run-'));
  const { sample, surfaceLabels } = fixture();
  const shape = sample.volume.meta.shape;
  const storePath = join(ws, 'volume.ome.zarr');
  let redis: RedisProc;
  let worker: WorkerProc | undefined;

  beforeAll(async () => {
    redis = await startRedis();
    const store = await writeDenseVolume(storePath, sample.volume, { chunk: [32, 64, 64] });
    const ts = await buildTrainingSet(store, surfaceLabelVoxels(surfaceLabels, shape), { features: featureFnFor(TEST_SET), featureSet: TEST_SET, mirrorSurface: sample.truth.surface, maxPerClass: 1000 });
    for (const [name, epochs] of [['mA', 2], ['mB', 6]] as const) {
      const tm = await trainClassifier(ts, { epochs, seed: epochs });
      await saveModel(join(ws, name), tm, { classNames: ts.classes.map((c) => `class ${c}`) });
    }
  }, 120_000);

  afterAll(async () => {
    if (worker && worker.child.exitCode === null && !worker.child.signalCode) worker.child.kill('SIGKILL');
    await redis?.stop();
    rmSync(ws, { recursive: true, force: true });
  });

  it('a worker refuses the old run\'s bricks: the new run\'s labels are a clean run\'s', async () => {
    const out = join(ws, 'out'), clean = join(ws, 'clean');
    const all = { start: [0, 0, 0] as Shape3, shape };
    const labels = async (dir: string) => Buffer.from(((await (await openVolume(join(dir, 'labels.ome.zarr'))).readBlock(all)) as Uint8Array).buffer);
    const cleanB = predictVolume(storePath, join(ws, 'mB'), clean, { threads: 1, brick: BRICK, cluster: null, pyramids: false });

    // run A: its folder and its bricks on the queue, as a coordinator killed mid-run leaves them
    const a = await predictVolume(storePath, join(ws, 'mA'), out, { threads: 1, brick: BRICK, cluster: null, pyramids: false });
    const flowId = 'abandoned-flow';
    const r = openRedis(redis.url);
    await r.set(KEYS.version, JSON.stringify(IDENTITY));
    r.disconnect();
    const flow = new FlowProducer({ connection: connectionOptions(redis.url) });
    const todo = chunkGrid(shape, BRICK);
    await flow.add({
      name: 'predict', queueName: QUEUE_RUNS, data: { runId: flowId, outDir: 'out', bricks: todo.length, identity: IDENTITY }, opts: { jobId: flowId },
      children: todo.map((box) => ({
        name: 'brick', queueName: QUEUE_BRICKS, opts: { jobId: `${flowId}.${boxKey(box)}`, attempts: 2, failParentOnFailure: true },
        data: { runId: flowId, outRunId: a.runId, identity: IDENTITY, storePath: 'volume.ome.zarr', modelDir: 'mA', outDir: 'out', box, mirror: sample.truth.surface } satisfies BrickJobData,
      })),
    });
    await flow.close();

    // the server deletes the folder and starts run B there with model B; a worker comes up
    rmSync(out, { recursive: true, force: true });
    worker = startWorker(redis.url, ws);
    await worker.ready;
    const b = await predictVolume(storePath, join(ws, 'mB'), out, { brick: BRICK, cluster: { redisUrl: redis.url, workspace: ws }, pyramids: false });
    await cleanB;
    expect(b.runId).not.toBe(a.runId);
    expect(b.bricksDone + b.bricksSkipped).toBe(b.bricksTotal);
    expect((await labels(out)).equals(await labels(clean))).toBe(true);
    // the worker took run A's bricks and refused each, before any work
    const ofA = worker.events.filter((e) => e.runId === flowId);
    expect(ofA.filter((e) => e.event === 'brick-stale').length).toBeGreaterThan(0);
    expect(ofA.filter((e) => e.event === 'brick-start' || e.event === 'brick-done')).toEqual([]);
    expect(String(ofA.find((e) => e.event === 'brick-stale')!.error)).toMatch(/no longer holds the prediction run this brick belongs to \(run [0-9a-f-]+; the folder's predict\.json names (run [0-9a-f-]+|no run)\)/);
  }, 180_000);
});
