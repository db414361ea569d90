/**
 * Distributed feature computation of a training set (issue 14): redis-server on a free loopback
 * port, 2 `petromap worker` processes. buildTrainingSet with a cluster target sends the boxes of a
 * large training set to the workers (kind 'features') and must return the in-process training set
 * bit for bit (rows of train, held-out and boundary voxels, positions, classes, targets), with the
 * surface mirror and its edge correction; a small one, or one with a FeatureFn of its own, stays in
 * process. Skips (with a message) when Debian's redis-server is not installed.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FEATURE_RUNS_DIR } from '../../lib/cluster/feature-queue-node';
import { CLUSTER_MIN_FEATURE_BOXES, brickGroups, buildTrainingSet, featureFnFor, surfaceTrainingVoxels, type BuildTrainingSetOptions, type TrainingSet } from '../../lib/classify/training-set';
import { featuresForBox } from '../../lib/features';
import type { VolumeStore } from '../../lib/volume/store';
import type { Shape3 } from '../../lib/volume/types';
import { writeDenseVolume } from '../../lib/volume/zarr-store-node';
import { TEST_SET } from '../lib/classify/helpers';
import { fixture } from '../lib/classify/sample';
import { startWorker, type WorkerProc as Proc } from './fixture';
import { REDIS_SERVER, startRedis, type RedisProc } from './redis-server';

const BRICK: Shape3 = [8, 16, 16];

if (!REDIS_SERVER) console.warn('tests/cluster: /usr/bin/redis-server is not installed (apt-get install redis-server): the training-feature cluster tests are skipped.');



const bytes = (a: ArrayBufferView | undefined) => (a ? Buffer.from(a.buffer, a.byteOffset, a.byteLength) : undefined);

/** Every array of a training set as bytes, the rest as JSON: equal means bit for bit. */
function expectSameTrainingSet(a: TrainingSet, b: TrainingSet) {
  for (const part of ['train', 'heldOut'] as const) {
    expect(b[part].n, part).toBe(a[part].n);
    for (const k of ['x', 'y', 'positions'] as const) expect(bytes(b[part][k])!.equals(bytes(a[part][k])!), `${part}.${k}`).toBe(true);
  }
  expect(!!b.partial).toBe(!!a.partial);
  if (a.partial) for (const k of ['x', 'positions', 'target'] as const) expect(bytes(b.partial![k])!.equals(bytes(a.partial[k])!), `partial.${k}`).toBe(true);
  expect(b.featureNames).toEqual(a.featureNames);
  expect({ ...b, train: 0, heldOut: 0, partial: 0 }).toEqual({ ...a, train: 0, heldOut: 0, partial: 0 });
}

describe.skipIf(!REDIS_SERVER)('training-set features on BullMQ/Redis', () => {
  const ws = mkdtempSync(join(tmpdir(), 'petromap-cluster-train-'));
  let redis: RedisProc;
  let store: VolumeStore;
  let base: Parameters<typeof buildTrainingSet>[1];
  let opts: BuildTrainingSetOptions;
  const workers: Proc[] = [];
  const featureEvents = () => workers.flatMap((w) => w.events).filter((e) => e.kind === 'features');

  beforeAll(async () => {
    redis = await startRedis();
    for (let i = 0; i < 2; i++) workers.push(startWorker(redis.url, ws));
    const { sample, surfaceLabels } = fixture();
    store = await writeDenseVolume(join(ws, 'train.ome.zarr'), sample.volume, { chunk: [16, 32, 32] });
    const v = surfaceTrainingVoxels(surfaceLabels, sample.volume.meta.shape, { boundary: true });
    base = v.labelled;
    opts = { features: featureFnFor(TEST_SET), featureSet: TEST_SET, mirrorSurface: sample.truth.surface, partial: v.partial, maxPerClass: 1500, brick: BRICK };
    await Promise.all(workers.map((w) => w.ready));
  }, 60_000);

  afterAll(async () => {
    for (const w of workers) if (w.child.exitCode === null && !w.child.signalCode) w.child.kill('SIGKILL');
    await redis?.stop();
    rmSync(ws, { recursive: true, force: true });
  });

  it('2 workers compute the boxes of a large training set; the set equals the in-process one bit for bit', async () => {
    const local = await buildTrainingSet(store, base, { ...opts, cluster: null });
    expect(local.partial?.n).toBeGreaterThan(0);
    expect(local.mirrorSurface?.edge).toBeDefined(); // the edge correction travels with the mirror
    const progress: string[] = [];
    const dist = await buildTrainingSet(store, base, { ...opts, cluster: { redisUrl: redis.url, workspace: ws }, onProgress: (_f, m) => { if (m) progress.push(m); } });
    expectSameTrainingSet(local, dist);

    // every box went to a worker, each written once, both workers took some
    const voxels = [...local.train.positions, ...local.heldOut.positions, ...local.partial!.positions];
    const all = Array.from({ length: voxels.length / 3 }, (_, i) => ({ z: voxels[3 * i]!, y: voxels[3 * i + 1]!, x: voxels[3 * i + 2]! }));
    const boxes = brickGroups(store, all, BRICK).length;
    expect(boxes).toBeGreaterThanOrEqual(CLUSTER_MIN_FEATURE_BOXES);
    const done = featureEvents().filter((e) => e.event === 'brick-done');
    expect(done.length).toBe(boxes);
    expect(new Set(done.map((e) => e.runId)).size).toBe(1);
    for (const w of workers) expect(w.events.filter((e) => e.kind === 'features' && e.event === 'brick-done').length).toBeGreaterThan(0);
    expect(progress.some((m) => /\(workers\)/.test(m))).toBe(true);
    // the run folder is gone
    expect(existsSync(join(ws, FEATURE_RUNS_DIR)) ? readdirSync(join(ws, FEATURE_RUNS_DIR)) : []).toEqual([]);
  }, 60_000);

  it('a small training set, or features of a FeatureFn of its own, stay in process', async () => {
    const before = featureEvents().length;
    const cluster = { redisUrl: redis.url, workspace: ws };
    // default brick: the few boxes of this sample are under the threshold
    const small = await buildTrainingSet(store, base, { ...opts, brick: undefined, cluster });
    const ref = await buildTrainingSet(store, base, { ...opts, brick: undefined, cluster: null });
    expectSameTrainingSet(ref, small);
    // a FeatureFn the workers cannot know
    const own = (s: VolumeStore, box: Parameters<typeof featuresForBox>[1], signal?: AbortSignal) => featuresForBox(s, box, TEST_SET, { signal });
    const custom = await buildTrainingSet(store, base, { ...opts, features: own, cluster });
    expect(custom.train.n).toBeGreaterThan(0);
    expect(featureEvents().length).toBe(before);
  }, 60_000);
});
