/**
 * Distributed prediction (issue 14): redis-server on a free loopback port, 3 `petromap worker`
 * processes (node bin/petromap.mjs worker), one SIGKILLed while it holds a brick. The outputs must
 * equal an in-process run byte for byte (every chunk and metadata file of labels, probabilities and
 * uncertainty, pyramids included); every brick must be written exactly once successfully, and no
 * two attempts at one brick (the only writers of its chunks) may overlap in time.
 * Skips (with a message) when Debian's redis-server is not installed.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { predictVolume } from '../../lib/classify/predict-node';
import { KEYS } from '../../lib/cluster/config';
import { isPetromapError } from '../../lib/errors';
import { openRedis } from '../../lib/cluster/redis-node';
import { makeClusterFixture, outputFiles, startWorker as startWorkerProc, type ClusterFixture, type WorkerProc } from './fixture';
import { REDIS_SERVER, startRedis, type RedisProc } from './redis-server';

const root = fileURLToPath(new URL('../..', import.meta.url));
const SHAPE: [number, number, number] = [160, 256, 256];
const BRICK: [number, number, number] = [32, 64, 128];
const LOCK_MS = 4000, STALLED_MS = 1500;

if (!REDIS_SERVER) console.warn('tests/cluster: /usr/bin/redis-server is not installed (apt-get install redis-server): the cluster tests are skipped.');

type Proc = WorkerProc;


/** A worker with this test's short lock and stalled intervals (a killed worker's brick is taken over fast). */
const startWorker = (redisUrl: string, workspace: string, extra: string[] = []) => startWorkerProc(redisUrl, workspace, ['--lock-ms', String(LOCK_MS), '--stalled-ms', String(STALLED_MS), ...extra]);

describe.skipIf(!REDIS_SERVER)('distributed prediction on BullMQ/Redis', () => {
  const ws = mkdtempSync(join(tmpdir(), 'petromap-cluster-'));
  let fx: ClusterFixture;
  let redis: RedisProc;
  const workers: Proc[] = [];

  beforeAll(async () => {
    [fx, redis] = await Promise.all([makeClusterFixture(ws, SHAPE), startRedis()]);
  }, 60_000);

  afterAll(async () => {
    for (const w of workers) if (w.child.exitCode === null && !w.child.signalCode) w.child.kill('SIGKILL');
    await redis?.stop();
    rmSync(ws, { recursive: true, force: true });
  });

  it('3 workers, one SIGKILLed mid-brick, give the in-process outputs bit for bit; every brick written once, never twice at a time', async () => {
    for (let i = 0; i < 3; i++) workers.push(startWorker(redis.url, ws));
    const inProc = join(ws, 'out-local'), dist = join(ws, 'out-cluster');
    // the in-process reference runs while the workers start
    const [local] = await Promise.all([predictVolume(fx.storePath, fx.modelDir, inProc, { threads: 2, brick: BRICK, cluster: null }), ...workers.map((w) => w.ready)]);

    // SIGKILL worker 0 as soon as it takes a brick after a third of the bricks are done
    const victim = workers[0]!;
    let killedAt = 0, killedBox = '';
    const watcher = setInterval(() => {
      if (killedAt) return;
      const done = workers.reduce((n, w) => n + w.events.filter((e) => e.event === 'brick-done').length, 0);
      const last = victim.events.at(-1);
      if (done >= local.bricksDone / 3 && last?.event === 'brick-start' && Date.now() - last.t > 50) {
        killedAt = Date.now();
        killedBox = last.box!;
        victim.child.kill('SIGKILL');
      }
    }, 10);
    const progress: number[] = [];
    const r = await predictVolume(fx.storePath, fx.modelDir, dist, { brick: BRICK, cluster: { redisUrl: redis.url, workspace: ws }, onProgress: (f) => progress.push(f) }).finally(() => clearInterval(watcher));
    expect(killedAt).toBeGreaterThan(0);
    expect(r.bricksTotal).toBe(local.bricksTotal);
    expect(r.bricksDone + r.bricksSkipped).toBe(r.bricksTotal);
    expect(r.unlabelledVoxels).toBe(0);
    expect(progress.at(-1)).toBe(1);

    // outputs identical to the in-process run: every chunk (all pyramid levels) and metadata file
    const a = outputFiles(inProc), b = outputFiles(dist);
    expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
    const differ = [...a].filter(([k, v]) => !v.equals(b.get(k)!)).map(([k]) => k);
    expect(differ).toEqual([]);
    expect([...a.keys()].filter((k) => k.includes('/0/c/')).length).toBeGreaterThan(3 * r.bricksDone);

    // every brick written exactly once successfully; attempts at one brick never overlap in time
    const events = workers.flatMap((w) => w.events.map((e) => ({ ...e, killed: w === victim })));
    const byBox = new Map<string, { start: number; end: number; outcome: string; worker: string }[]>();
    const open = new Map<string, { start: number; box: string; worker: string }>();
    for (const e of events.sort((x, y) => x.t - y.t)) {
      if (!e.box) continue;
      const key = `${e.worker}|${e.box}`;
      if (e.event === 'brick-start') open.set(key, { start: e.t, box: e.box, worker: e.worker! });
      else if (e.event === 'brick-done' || e.event === 'brick-failed') {
        const o = open.get(key)!;
        open.delete(key);
        byBox.set(e.box, [...(byBox.get(e.box) ?? []), { start: o.start, end: e.t, outcome: e.event, worker: e.worker! }]);
      }
    }
    // attempts cut short by the SIGKILL end at the kill
    const cut = [...open.values()];
    expect(cut.map((o) => o.box)).toEqual([killedBox]);
    for (const o of cut) byBox.set(o.box, [...(byBox.get(o.box) ?? []), { start: o.start, end: killedAt, outcome: 'killed', worker: o.worker }]);
    expect(byBox.size).toBe(r.bricksDone);
    // a killed attempt that got as far as the marker counts as the write (its retry only skips)
    const skipped = new Set(events.filter((e) => e.event === 'brick-skip').map((e) => e.box));
    for (const [box, attempts] of byBox) {
      const writes = attempts.filter((x) => x.outcome === 'brick-done' || (x.outcome === 'killed' && skipped.has(box)));
      expect(writes.length, `brick ${box}`).toBe(1);
      attempts.sort((x, y) => x.start - y.start);
      for (let i = 1; i < attempts.length; i++) expect(attempts[i]!.start, `brick ${box} attempts overlap`).toBeGreaterThanOrEqual(attempts[i - 1]!.end);
    }
    // the killed brick was taken over by another worker after its lock ran out
    const retried = byBox.get(killedBox)!.find((x) => x.outcome === 'brick-done');
    if (retried) {
      expect(retried.worker).not.toBe(victim.events[0]!.worker);
      expect(retried.start).toBeGreaterThanOrEqual(killedAt);
    } else expect(skipped.has(killedBox)).toBe(true);
    // every surviving worker took bricks
    for (const w of workers.slice(1)) expect(w.events.filter((e) => e.event === 'brick-done').length).toBeGreaterThan(0);

    // `petromap workers` lists the two live workers
    const ls = spawnSync(process.execPath, ['bin/petromap.mjs', 'workers', '--redis', redis.url, '--format', 'json'], { cwd: root, encoding: 'utf8' });
    expect(ls.status).toBe(0);
    const listed = (JSON.parse(ls.stdout) as { id: string; threads: number; bricksDone: number }[]).map((w) => w.id).sort();
    expect(listed).toEqual(expect.arrayContaining(workers.slice(1).map((w) => w.events[0]!.worker as string)));
  }, 120_000);

  it('cancel reaches every worker: bricks in hand are dropped, no brick of the run starts after it', async () => {
    const live = workers.slice(1);
    const ac = new AbortController();
    let tAbort = 0;
    const err = await predictVolume(fx.storePath, fx.modelDir, join(ws, 'out-cancel'), {
      brick: BRICK, cluster: { redisUrl: redis.url, workspace: ws }, signal: ac.signal,
      onProgress: (f) => { if (f > 0.15 && !tAbort) { tAbort = Date.now(); ac.abort(); } },
    }).catch((e: unknown) => e);
    expect(isPetromapError(err, 'Aborted')).toBe(true);
    expect(Date.now() - tAbort).toBeLessThan(5000);
    await new Promise((res) => setTimeout(res, 1500));
    for (const w of live) {
      const c = w.events.find((e) => e.event === 'cancel' && e.t >= tAbort);
      expect(c, 'every worker hears the cancel').toBeDefined();
      const ofRun = w.events.filter((e) => e.runId === c!.runId);
      expect(ofRun.filter((e) => e.event === 'brick-start' && e.t > c!.t)).toEqual([]);
      expect(ofRun.at(-1)?.event).not.toBe('brick-start'); // nothing of the run left in hand
    }
  }, 60_000);

  it('a brick that keeps failing fails the run with its own error, after its retries', async () => {
    const bad = join(ws, 'volume-bad.ome.zarr');
    cpSync(fx.storePath, bad, { recursive: true });
    writeFileSync(join(bad, '0', 'c', '0', '1', '1', '1'), 'not a zarr chunk'); // z, y, x 64..127 unreadable
    const t0 = Date.now();
    const err = await predictVolume(bad, fx.modelDir, join(ws, 'out-bad'), { brick: BRICK, cluster: { redisUrl: redis.url, workspace: ws, attempts: 2, backoffMs: 300 } }).catch((e: unknown) => e);
    expect(isPetromapError(err)).toBe(true);
    const msg = (err as Error).message;
    expect(msg).toMatch(/^Brick \d+_\d+_\d+ \(z_y_x start\) of .*volume-bad\.ome\.zarr failed after 2 attempts: /);
    // the brick's own error, as the worker that ran it threw it
    const failures = workers.slice(1).flatMap((w) => w.events).filter((e) => e.event === 'brick-failed' && e.t >= t0).map((e) => String(e.error).replace(/^\[petromap:\w+\] /, ''));
    expect(failures.some((f) => msg.endsWith(f))).toBe(true);
  }, 60_000);

  it('Redis going away and coming back (empty: no persistence) does not lose the run', async () => {
    const out = join(ws, 'out-redis-restart');
    let bounced: Promise<void> | null = null;
    const messages: string[] = [];
    const r = await predictVolume(fx.storePath, fx.modelDir, out, {
      brick: BRICK, cluster: { redisUrl: redis.url, workspace: ws },
      onProgress: (f, m) => {
        if (m) messages.push(m);
        if (f > 0.2 && !bounced) {
          const port = redis.port;
          bounced = redis.stop().then(() => new Promise((res) => setTimeout(res, 1000))).then(() => startRedis(port)).then((x) => { redis = x; });
        }
      },
    });
    await bounced;
    expect(bounced).not.toBeNull();
    // the flow was gone with the old Redis: the bricks without a .done marker were queued again
    expect(messages.some((m) => /Redis lost the queued run .* unfinished bricks queued again/.test(m))).toBe(true);
    expect(r.bricksDone + r.bricksSkipped).toBe(r.bricksTotal);
    const a = outputFiles(join(ws, 'out-local')), b = outputFiles(out);
    expect([...a].filter(([k, v]) => !v.equals(b.get(k)!)).map(([k]) => k)).toEqual([]);
  }, 60_000);

  it('reaches a Redis with a password or an ACL user from the URL, and says so when the login is refused', async () => {
    const locked = await startRedis(undefined, ['--requirepass', 'pw-default']);
    try {
      const admin = openRedis(`redis://:pw-default@127.0.0.1:${locked.port}`);
      await admin.call('ACL', 'SETUSER', 'petromap', 'on', '>pw-acl', '~*', '&*', '+@all');
      admin.disconnect();
      const w = startWorker(`redis://petromap:pw-acl@127.0.0.1:${locked.port}`, ws);
      workers.push(w);
      await w.ready;
      const ok = spawnSync(process.execPath, ['bin/petromap.mjs', 'workers', '--redis', `redis://:pw-default@127.0.0.1:${locked.port}`, '--format', 'json'], { cwd: root, encoding: 'utf8' });
      expect(ok.status).toBe(0);
      expect((JSON.parse(ok.stdout) as { id: string }[]).map((x) => x.id)).toContain(w.events[0]!.worker);
      const bad = spawnSync(process.execPath, ['bin/petromap.mjs', 'workers', '--redis', `redis://petromap:wrong@127.0.0.1:${locked.port}`], { cwd: root, encoding: 'utf8' });
      expect(bad.status).toBe(1);
      expect(bad.stderr).toMatch(/refused the login .* redis:\/\/user:password@host:port/);
      expect(bad.stderr).not.toMatch(/wrong/); // the password is not printed
      w.child.kill('SIGKILL');
    } finally {
      await locked.stop();
    }
  }, 40_000);

  it('a worker refuses to start against a coordinator of another petromap version', async () => {
    const r = openRedis(redis.url);
    const saved = await r.get(KEYS.version);
    await r.set(KEYS.version, JSON.stringify({ petromap: '0.0.1-other', modelFormat: 'petromap-voxel-classifier/1', protocol: 1 }));
    try {
      const res = spawnSync(process.execPath, ['bin/petromap.mjs', 'worker', '--threads', '1', '--workspace', ws, '--redis', redis.url], { cwd: root, encoding: 'utf8', timeout: 30_000 });
      expect(res.status).toBe(1);
      expect(res.stderr).toMatch(/runs petromap 0\.0\.1-other .* but this worker is petromap/);
    } finally {
      if (saved) await r.set(KEYS.version, saved);
      else await r.del(KEYS.version);
      r.disconnect();
    }
  }, 40_000);
});
