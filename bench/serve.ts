/**
 * `npm run bench -- serve [--clients 4] [--epochs 5]`: slice latency of the running app while a
 * whole-volume prediction job runs, against the same requests on an idle server.
 * Starts `next start` (building first if needed) on a free port with a fresh workspace and the
 * demo project, registers the EDS map (auto), accepts, trains, then starts a prediction and keeps
 * `clients` concurrent slice readers busy until it finishes. Prints p50 / p95 / max in ms.
 * Target (issue 6): p95 under 200 ms while the prediction runs.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const NEXT = path.join(ROOT, 'node_modules', '.bin', 'next');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

async function trpc(base: string, proc: string, input?: unknown, mutation = false): Promise<any> {
  const url = `${base}/api/trpc/${proc}`;
  const res = mutation
    ? await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ json: input }) })
    : await fetch(input === undefined ? url : `${url}?input=${encodeURIComponent(JSON.stringify({ json: input }))}`);
  const body = (await res.json()) as any;
  if (!res.ok) throw new Error(`${proc}: ${body?.error?.json?.message ?? res.status}`);
  return body.result.data.json;
}

async function waitJob(base: string, id: string, what: string) {
  for (;;) {
    const j = await trpc(base, 'jobs.byId', { id });
    if (j.state === 'done') return j;
    if (j.state !== 'running' && j.state !== 'queued') throw new Error(`${what} ${j.state}: ${j.error}`);
    await sleep(500);
  }
}

const pct = (a: number[], p: number) => {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor(p * (s.length - 1)))];
};

async function hammer(base: string, datasetId: string, shape: number[], clients: number, until: () => boolean, minRequests = 0) {
  const lat: number[] = [];
  const worker = async () => {
    while (!until() || lat.length < minRequests) {
      const axis = ['z', 'y', 'x'][Math.floor(Math.random() * 3)];
      const n = shape[axis === 'z' ? 0 : axis === 'y' ? 1 : 2];
      const index = Math.floor(Math.random() * n);
      const t0 = performance.now();
      const res = await fetch(`${base}/api/datasets/${datasetId}/slice?axis=${axis}&index=${index}&level=0&format=png`);
      await res.arrayBuffer();
      if (!res.ok) throw new Error(`slice ${axis}${index}: HTTP ${res.status}`);
      lat.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: clients }, worker));
  return lat;
}

export async function run(args: string[]): Promise<void> {
  const opt = (name: string, d: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : d;
  };
  const clients = Number(opt('--clients', '4'));
  const epochs = Number(opt('--epochs', '5'));
  if (!existsSync(path.join(ROOT, '.next', 'BUILD_ID'))) {
    const r = spawnSync(NEXT, ['build'], { cwd: ROOT, stdio: 'inherit', env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' } });
    if (r.status !== 0) throw new Error('next build failed');
  }
  const data = mkdtempSync(path.join(os.tmpdir(), 'petromap-bench-serve-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const server: ChildProcess = spawn(NEXT, ['start', '--hostname', '127.0.0.1', '--port', String(port)], {
    cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, PETROMAP_DATA: data, NEXT_TELEMETRY_DISABLED: '1' },
  });
  try {
    let project: any;
    for (let t = 0; t < 240 && !project; t++) {
      await sleep(500);
      try {
        const ps = await trpc(base, 'projects.list');
        const p = ps.find((x: any) => x.name === 'Demo sandstone' && x.datasetCount >= 2);
        if (p) project = p;
      } catch { /* not up yet */ }
    }
    if (!project) throw new Error('the demo project did not appear');
    const datasets = await trpc(base, 'datasets.list', { projectId: project.id });
    const vol = datasets.find((d: any) => d.kind === 'volume');
    const shape = vol.meta.shape as number[];
    console.log(`demo volume ${shape.join(' x ')} (${vol.meta.dtype}); ${clients} concurrent slice clients; node ${process.version}, ${os.cpus().length} cores`);
    const reg = await trpc(base, 'correlate.autoRegister', { projectId: project.id, model: 'similarity' }, true);
    await waitJob(base, reg.jobId, 'registration');
    await trpc(base, 'correlate.accept', { projectId: project.id }, true);
    const tr = await trpc(base, 'train.start', { projectId: project.id, epochs }, true);
    await waitJob(base, tr.jobId, 'training');
    // warm-up and idle baseline
    await hammer(base, vol.id, shape, 1, () => true, 10);
    const idle = await hammer(base, vol.id, shape, clients, () => true, 200);
    const pr = await trpc(base, 'train.predict', { projectId: project.id }, true);
    let finished = false;
    const t0 = performance.now();
    const done = waitJob(base, pr.jobId, 'prediction').finally(() => (finished = true));
    const busy = await hammer(base, vol.id, shape, clients, () => finished);
    await done;
    const predS = (performance.now() - t0) / 1000;
    const row = (name: string, a: number[]) =>
      console.log(`${name.padEnd(22)} n=${String(a.length).padStart(5)}  p50 ${pct(a, 0.5).toFixed(1).padStart(7)} ms  p95 ${pct(a, 0.95).toFixed(1).padStart(7)} ms  max ${Math.max(...a).toFixed(1).padStart(7)} ms`);
    row('idle server', idle);
    row('during prediction', busy);
    console.log(`prediction took ${predS.toFixed(1)} s; p95 during prediction ${pct(busy, 0.95) < 200 ? 'meets' : 'MISSES'} the 200 ms target; p95 ratio busy/idle ${(pct(busy, 0.95) / pct(idle, 0.95)).toFixed(2)}`);
  } finally {
    server.kill('SIGTERM');
    await sleep(500);
    rmSync(data, { recursive: true, force: true });
  }
}
