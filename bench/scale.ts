/**
 * `npm run bench -- scale [--shape 160,256,256] [--brick 32,128,128] [--workers 1,2,3] [--bank classifier|test]`
 * Distributed prediction (issue 14): the same whole-volume prediction in process (1 thread) and
 * with 1, 2, 3 `petromap worker` processes (1 thread each) on a local redis-server. Prints wall
 * time, speed-up, queue overhead per brick (gap between a worker's bricks + what the coordinator
 * adds) and Redis round trips per brick (client commands seen by MONITOR; commands run inside
 * BullMQ's Lua scripts counted apart, from INFO commandstats), and the per-brick costs the model in
 * docs/scale-out.md is fitted to: compute seconds, shared-filesystem bytes (compressed chunk files
 * read with the feature halo + chunk files written), Redis round trips; and the serial tail
 * (verification + pyramids on the coordinator). Checks that every distributed run equals the
 * in-process one byte for byte. Writes bench/out/scale.json.
 * Targets (issue 14): 1 worker at most 10 % over in process; 2 workers at least 1.7x one worker.
 */
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { classifierFeatureSet } from '../lib/classify/feature-sets';
import { predictVolume } from '../lib/classify/predict-node';
import { chunkGrid, featureHalo, type FeatureSet } from '../lib/features';
import type { Box3, Shape3 } from '../lib/volume/types';
import { openVolume } from '../lib/volume/zarr-store-node';
import { TEST_SET } from '../tests/lib/classify/helpers';
import { makeClusterFixture, outputFiles, startWorker } from '../tests/cluster/fixture';
import { REDIS_SERVER, startRedis } from '../tests/cluster/redis-server';

const here = dirname(fileURLToPath(import.meta.url));
const arg = (a: string[], name: string, d: string) => (a.includes(name) ? a[a.indexOf(name) + 1]! : d);
const triple = (s: string) => s.split(',').map(Number) as Shape3;


async function commandStats(r: Redis): Promise<Map<string, number>> {
  const m = new Map<string, number>();
  for (const line of (await r.info('commandstats')).split('\n')) {
    const x = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim());
    if (x) m.set(x[1]!, Number(x[2]));
  }
  return m;
}
const statDelta = (a: Map<string, number>, b: Map<string, number>) => [...b].reduce((s, [k, v]) => s + v - (a.get(k) ?? 0), 0);

/** Client round trips (MONITOR lines not from Lua) while `fn` runs, over a raw socket (no client library in the way). */
async function countRoundTrips<T>(url: string, fn: () => Promise<T>): Promise<{ result: T; roundTrips: number; luaInner: number; all: number; byCmd: Record<string, number> }> {
  const { port, hostname } = new URL(url);
  const r = new Redis(url);
  const sock = connect(Number(port), hostname);
  await new Promise<void>((res, rej) => { sock.once('connect', () => res()); sock.once('error', rej); });
  let roundTrips = 0, buf = '';
  const byCmd: Record<string, number> = {};
  sock.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\r\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const m = /^\+\d+\.\d+ \[\d+ ([^\]]+)\] "([^"]+)"/.exec(line);
      if (!m || m[1] === 'lua') continue;
      roundTrips++;
      const c = m[2]!.toLowerCase();
      byCmd[c] = (byCmd[c] ?? 0) + 1;
    }
  });
  sock.write('MONITOR\r\n');
  await new Promise((res) => setTimeout(res, 100));
  const before = await commandStats(r);
  const result = await fn();
  await new Promise((res) => setTimeout(res, 200));
  const after = await commandStats(r);
  sock.destroy();
  r.disconnect();
  // the two INFO calls of this function are not part of the run
  roundTrips = Math.max(0, roundTrips - 1);
  byCmd.info = Math.max(0, (byCmd.info ?? 0) - 1);
  const all = statDelta(before, after) - 1;
  return { result, roundTrips, luaInner: Math.max(0, all - roundTrips), all, byCmd };
}

/** Compressed bytes of the chunk files of `storeDir` (level 0, channel any) that `box` (+ halo) touches. */
function chunkBytes(storeDir: string, chunk: Shape3, box: Box3, halo: Shape3, shape: Shape3): number {
  let bytes = 0;
  const lo = box.start.map((s, a) => Math.max(0, s - halo[a]!));
  const hi = box.start.map((s, a) => Math.min(shape[a]!, s + box.shape[a]! + halo[a]!) - 1);
  const chans = readdirSync(join(storeDir, '0', 'c'));
  for (const c of chans) for (let z = Math.floor(lo[0]! / chunk[0]); z <= Math.floor(hi[0]! / chunk[0]); z++)
    for (let y = Math.floor(lo[1]! / chunk[1]); y <= Math.floor(hi[1]! / chunk[1]); y++)
      for (let x = Math.floor(lo[2]! / chunk[2]); x <= Math.floor(hi[2]! / chunk[2]); x++) {
        try { bytes += statSync(join(storeDir, '0', 'c', c, String(z), String(y), String(x))).size; } catch { /* empty chunk: not stored */ }
      }
  return bytes;
}

export async function run(args: string[]): Promise<void> {
  if (!REDIS_SERVER) {
    console.log('bench scale: /usr/bin/redis-server is not installed (apt-get install redis-server); skipped.');
    return;
  }
  const shape = triple(arg(args, '--shape', '160,256,256'));
  const brick = triple(arg(args, '--brick', '32,128,128'));
  const counts = arg(args, '--workers', '1,2,3').split(',').map(Number);
  const bankName = arg(args, '--bank', 'classifier');
  const ws = join(here, 'out', 'scale');
  rmSync(ws, { recursive: true, force: true });
  const spacing: [number, number, number] = [2, 2, 2]; // the synthetic sample's
  const bank: FeatureSet = bankName === 'test' ? TEST_SET : classifierFeatureSet(spacing);
  console.log(`volume ${shape.join('x')} uint16 (${((shape[0] * shape[1] * shape[2]) / 1e6).toFixed(1)} M voxels), bricks ${brick.join('x')}, ${bank.specs.length} features`);
  const fx = await makeClusterFixture(ws, shape, { features: bank, chunk: [64, 64, 64] });
  const redis = await startRedis();
  const rows: Record<string, unknown>[] = [];
  try {
    // in process, 1 thread: the reference (outputs and time)
    const refDir = join(ws, 'out-inprocess');
    let tBricks = 0;
    const t0 = performance.now();
    const ref = await predictVolume(fx.storePath, fx.modelDir, refDir, { threads: 1, brick, cluster: null, onProgress: (_f, m) => { if (!tBricks && m?.startsWith('checking')) tBricks = performance.now(); } });
    const inWall = (performance.now() - t0) / 1000;
    const inTail = (performance.now() - tBricks) / 1000;
    const nBricks = ref.bricksDone;
    const refFiles = outputFiles(refDir);
    console.log(`in process (1 thread): ${inWall.toFixed(1)} s for ${nBricks} bricks (bricks ${(inWall - inTail).toFixed(1)} s, verification + pyramids ${inTail.toFixed(1)} s)`);
    rows.push({ mode: 'in process', workers: 0, wall: inWall, bricksPhase: inWall - inTail, tail: inTail });

    let oneWorker = 0;
    const perBrick: { ms: number; voxels: number }[] = [];
    let rtPerBrick = 0, luaPerBrick = 0, idleRtPerS = 0;
    for (const n of counts) {
      const ws_ = Array.from({ length: n }, () => startWorker(redis.url, ws));
      const tStart = performance.now();
      await Promise.all(ws_.map((w) => w.ready));
      const startup = (performance.now() - tStart) / 1000;
      // idle Redis traffic of n waiting workers (blocking waits, stalled checks, heartbeats)
      const idle = await countRoundTrips(redis.url, () => new Promise((res) => setTimeout(res, 3000)));
      const out = join(ws, `out-${n}`);
      let tb = 0;
      const t1 = performance.now();
      const m = await countRoundTrips(redis.url, () => predictVolume(fx.storePath, fx.modelDir, out, { brick, cluster: { redisUrl: redis.url, workspace: ws }, onProgress: (_f, msg) => { if (!tb && msg?.startsWith('checking')) tb = performance.now(); } }));
      const wall = (performance.now() - t1) / 1000;
      const tail = (performance.now() - tb) / 1000;
      for (const w of ws_) w.child.kill('SIGTERM');
      await Promise.all(ws_.map((w) => new Promise((res) => (w.child.exitCode !== null ? res(null) : w.child.once('exit', res)))));
      const files = outputFiles(out);
      const same = files.size === refFiles.size && [...refFiles].every(([k, v]) => files.get(k)?.equals(v));
      // queue overhead: gaps between a worker's consecutive bricks (brick-done -> next brick-start)
      const gaps: number[] = [];
      const done = ws_.flatMap((w) => w.events).filter((e) => e.event === 'brick-done');
      for (const w of ws_) {
        const ev = w.events.filter((e) => e.event === 'brick-start' || e.event === 'brick-done');
        for (let i = 1; i < ev.length; i++) if (ev[i - 1]!.event === 'brick-done' && ev[i]!.event === 'brick-start') gaps.push(ev[i]!.t - ev[i - 1]!.t);
      }
      const gap = gaps.length ? gaps.reduce((s, g) => s + g, 0) / gaps.length : 0;
      if (n === 1) {
        oneWorker = wall - tail;
        perBrick.push(...done.map((e) => ({ ms: e.ms!, voxels: e.voxels! })));
        idleRtPerS = idle.roundTrips / 3;
        rtPerBrick = m.roundTrips / nBricks;
        luaPerBrick = m.luaInner / nBricks;
      }
      const bricksPhase = wall - tail;
      const overheadPerBrick = ((bricksPhase - (inWall - inTail)) * n) / nBricks;
      rows.push({ mode: `${n} worker${n > 1 ? 's' : ''}`, workers: n, wall, bricksPhase, tail, startup, identical: same, gapMs: gap, overheadPerBrickS: overheadPerBrick, roundTrips: m.roundTrips, luaInner: m.luaInner, idleRoundTripsPerS: idle.roundTrips / 3, byCmd: m.byCmd });
      console.log(
        `${n} worker${n > 1 ? 's' : ' '} (1 thread each): ${wall.toFixed(1)} s (bricks ${bricksPhase.toFixed(1)} s, tail ${tail.toFixed(1)} s; worker start ${startup.toFixed(1)} s, not counted), ` +
          `speed-up vs in process ${((inWall - inTail) / bricksPhase).toFixed(2)}x (bricks phase), vs 1 worker ${oneWorker ? (oneWorker / bricksPhase).toFixed(2) : '1.00'}x; ` +
          `queue gap ${gap.toFixed(0)} ms/brick, overhead vs in process ${(overheadPerBrick * 1000).toFixed(0)} ms/brick; ` +
          `Redis: ${(m.roundTrips / nBricks).toFixed(1)} round trips/brick (+${(m.luaInner / nBricks).toFixed(1)} commands inside Lua), idle ${(idle.roundTrips / 3).toFixed(1)}/s; outputs ${same ? 'identical' : 'DIFFER'}`,
      );
    }

    // per-brick costs for the model (docs/scale-out.md)
    const src = await openVolume(fx.storePath);
    const halo = featureHalo(bank, src.meta.spacingUm);
    const boxes = chunkGrid(shape, brick);
    const outChunk = (await openVolume(join(refDir, 'labels.ome.zarr'))).chunk;
    let readB = 0, writeB = 0;
    for (const b of boxes) {
      readB += chunkBytes(fx.storePath, src.chunk, b, halo, shape);
      for (const s of ['labels.ome.zarr', 'probabilities.ome.zarr', 'uncertainty.ome.zarr']) writeB += chunkBytes(join(refDir, s), outChunk, b, [0, 0, 0], shape);
    }
    const vox = perBrick.reduce((s, b) => s + b.voxels, 0), ms = perBrick.reduce((s, b) => s + b.ms, 0);
    const costs = {
      bricks: nBricks, voxelsPerBrick: vox / Math.max(1, perBrick.length), computeSecondsPerMvoxel: ms / 1000 / (vox / 1e6), halo,
      readBytesPerMvoxel: readB / ((shape[0] * shape[1] * shape[2]) / 1e6), writeBytesPerMvoxel: writeB / ((shape[0] * shape[1] * shape[2]) / 1e6),
      roundTripsPerBrick: rtPerBrick, luaCommandsPerBrick: luaPerBrick, idleRoundTripsPerSecondPerWorker: idleRtPerS / (counts.includes(1) ? 1 : counts[0]!),
      tailSecondsPerMvoxel: inTail / ((shape[0] * shape[1] * shape[2]) / 1e6),
    };
    console.log(
      `per-brick costs: compute ${costs.computeSecondsPerMvoxel.toFixed(2)} s/Mvoxel/thread; shared FS ${(costs.readBytesPerMvoxel / 1e6).toFixed(2)} MB read + ${(costs.writeBytesPerMvoxel / 1e6).toFixed(2)} MB written per Mvoxel ` +
        `(halo ${halo.join(',')}); Redis ${rtPerBrick.toFixed(1)} round trips/brick; serial tail ${costs.tailSecondsPerMvoxel.toFixed(3)} s/Mvoxel`,
    );
    const r1 = rows.find((r) => r.workers === 1) as { bricksPhase: number } | undefined, r2 = rows.find((r) => r.workers === 2) as { bricksPhase: number } | undefined;
    if (r1) console.log(`target: 1 worker at most 10 % over in process (bricks phase): ${(((r1.bricksPhase / (inWall - inTail)) - 1) * 100).toFixed(1)} %`);
    if (r1 && r2) console.log(`target: 2 workers at least 1.7x one worker: ${(r1.bricksPhase / r2.bricksPhase).toFixed(2)}x`);
    mkdirSync(join(here, 'out'), { recursive: true });
    writeFileSync(join(here, 'out', 'scale.json'), JSON.stringify({ shape, brick, features: bank.specs.length, rows, costs }, null, 2));
  } finally {
    await redis.stop();
    rmSync(ws, { recursive: true, force: true });
  }
}
