/**
 * The Workers view (issue 14): embedded mode without PETROMAP_REDIS_URL; with it, the workers
 * whose heartbeats are in Redis (a real redis-server on a free loopback port), and a clear
 * error instead of a failed page when Redis does not answer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRedis, waitConnected } from '@/lib/cluster/redis-node';
import { IDENTITY } from '@/lib/cluster/config';
import { writeHeartbeat } from '@/lib/cluster/heartbeat-node';
import { createCaller } from '@/server/routers/_app';
import { REDIS_SERVER, freePort, startRedis, type RedisProc } from '../cluster/redis-server';
import { makeServices } from './annotate-helpers';

let fx: ReturnType<typeof makeServices>;
let redis: RedisProc | undefined;
const saved = process.env.PETROMAP_REDIS_URL;

beforeAll(async () => {
  fx = makeServices();
  if (REDIS_SERVER) redis = await startRedis();
});
afterAll(async () => {
  if (saved === undefined) delete process.env.PETROMAP_REDIS_URL;
  else process.env.PETROMAP_REDIS_URL = saved;
  await redis?.stop();
  fx.cleanup();
});

describe('workers.list', () => {
  it('says jobs run in this server when no queue is configured', async () => {
    delete process.env.PETROMAP_REDIS_URL;
    const r = await createCaller({ svc: fx.svc }).workers.list();
    expect(r.mode).toBe('embedded');
    expect(r.workers).toEqual([]);
  });

  it.skipIf(!REDIS_SERVER)('lists the workers connected to Redis with host, threads, brick in hand and throughput', async () => {
    process.env.PETROMAP_REDIS_URL = redis!.url;
    const r0 = openRedis(redis!.url);
    await waitConnected(r0, redis!.url, 5000);
    const now = Date.now();
    await writeHeartbeat(r0, {
      id: 'w1', host: 'xrm-ws-2', pid: 4242, identity: IDENTITY, workspace: '/mnt/petromap', threads: 2, concurrency: 1,
      inHand: ['run1 64_0_128'], bricksDone: 17, bricksFailed: 0, voxelsPerSecond: 1.3e6, startedAt: now - 60_000, at: now,
    });
    r0.disconnect();
    const r = await createCaller({ svc: fx.svc }).workers.list();
    expect(r.mode).toBe('distributed');
    expect(r.error).toBeNull();
    expect(r.workers.map((w) => [w.host, w.threads, w.inHand[0], w.bricksDone])).toEqual([['xrm-ws-2', 2, 'run1 64_0_128', 17]]);
  });

  it('answers with the error when Redis does not answer', async () => {
    process.env.PETROMAP_REDIS_URL = `redis://127.0.0.1:${await freePort()}`;
    const r = await createCaller({ svc: fx.svc }).workers.list();
    expect(r.mode).toBe('distributed');
    expect(r.error).toBeTruthy();
    expect(r.workers).toEqual([]);
  });
});
