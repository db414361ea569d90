/**
 * `npm run bench -- serve [--clients 4] [--slices 400] [--epochs 5] [--repeats 8] [--build]`: latency of the
 * running app while a whole-volume prediction job runs, against the same requests on an idle server.
 * Starts `next start` (building first if there is no build, or with --build) on a free port with a
 * fresh workspace and the demo project, registers the EDS map (auto), accepts, trains, then starts
 * a whole-volume prediction and, while it runs (again from scratch as often as needed), first keeps
 * `clients` concurrent slice readers busy for `slices` requests, then one client loads the
 * project's pages (Data, Correlate, Train, Results, Annotate: the HTML document) and the tRPC
 * queries those pages issue, round robin, `repeats` times each.
 * Prints p50 / p95 per endpoint (idle and during prediction). Target (issues 6, 13): p95 under
 * 200 ms during prediction for slices, every page and every query; exits 1 if any misses.
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

const TARGET_MS = 200;

interface Endpoint {
  name: string;
  /** path and query under the server's base URL */
  url: string;
}

const page = (name: string, url: string): Endpoint => ({ name: `page ${name}`, url });
const query = (proc: string, input?: unknown, label?: string): Endpoint => ({
  name: `trpc ${label ?? proc}`,
  url: `/api/trpc/${proc}${input === undefined ? '' : `?input=${encodeURIComponent(JSON.stringify({ json: input }))}`}`,
});

/** The project's step pages and the queries they issue (app/_components/*: useQuery(trpc.*.queryOptions)). */
function projectEndpoints(projectId: string): Endpoint[] {
  const p = `/projects/${encodeURIComponent(projectId)}`;
  return [
    page('Data', p), page('Correlate', `${p}/correlate`), page('Train', `${p}/train`), page('Results', `${p}/results`), page('Annotate', `${p}/annotate`),
    query('projects.byId', { id: projectId }), query('projects.list'), query('datasets.list', { projectId }),
    query('correlate.state', { projectId }), query('train.state', { projectId }), query('results.state', { projectId }), query('annotate.state', { projectId }),
    query('jobs.list'), query('jobs.list', { projectId }, 'jobs.list (project)'),
  ];
}

async function timeGet(base: string, e: Endpoint): Promise<number> {
  const t0 = performance.now();
  const res = await fetch(`${base}${e.url}`);
  const body = await res.arrayBuffer();
  const ms = performance.now() - t0;
  if (!res.ok) throw new Error(`${e.name}: HTTP ${res.status} ${new TextDecoder().decode(body).slice(0, 300)}`);
  return ms;
}

/**
 * Time every endpoint, round robin, one request at a time (a user clicking through the steps):
 * `repeats` rounds, then more while `more()` holds; `onRounds` is told after each round.
 */
async function sweep(base: string, endpoints: Endpoint[], repeats: number, lat: Map<string, number[]>, more: () => boolean = () => false, onRounds?: (n: number) => void) {
  for (let r = 0; r < repeats || more(); r++) {
    for (const e of endpoints) {
      if (r >= repeats && !more()) return;
      const ms = await timeGet(base, e);
      const a = lat.get(e.name) ?? [];
      a.push(ms);
      lat.set(e.name, a);
    }
    onRounds?.(r + 1);
  }
}

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
  const repeats = Number(opt('--repeats', '8'));
  const slices = Number(opt('--slices', '400'));
  if (args.includes('--build') || !existsSync(path.join(ROOT, '.next', 'BUILD_ID'))) {
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
    const endpoints = projectEndpoints(project.id);
    // warm-up (first render of each route) and idle baselines
    await hammer(base, vol.id, shape, 1, () => true, 10);
    await sweep(base, endpoints, 1, new Map());
    const idle = await hammer(base, vol.id, shape, clients, () => true, 200);
    const idleEp = new Map<string, number[]>();
    await sweep(base, endpoints, Math.max(3, Math.ceil(repeats / 2)), idleEp);

    // during prediction: first the slice readers, then one client going through the pages and their
    // queries; predictions are run again (from scratch) until both are done
    const busyEp = new Map<string, number[]>();
    const predictionDir = path.join(data, 'projects', project.id, 'prediction');
    let enough = false, predictions = 0, predS = NaN, running = false;
    const predictUntilDone = async () => {
      do {
        // a second run of the same model would skip every finished brick: start it from nothing
        if (predictions > 0) rmSync(predictionDir, { recursive: true, force: true });
        const pr = await trpc(base, 'train.predict', { projectId: project.id }, true);
        const t0 = performance.now();
        for (;;) {
          const j = await trpc(base, 'jobs.byId', { id: pr.jobId });
          running = j.state === 'running';
          if (j.state === 'done') break;
          if (j.state !== 'running' && j.state !== 'queued') throw new Error(`prediction ${j.state}: ${j.error}`);
          await sleep(500);
        }
        running = false;
        if (predictions++ === 0) predS = (performance.now() - t0) / 1000;
      } while (!enough);
    };
    const predicted = predictUntilDone();
    const measure = async () => {
      while (!running) await sleep(100); // the job has started
      const lat = await hammer(base, vol.id, shape, clients, () => true, slices);
      await sweep(base, endpoints, repeats, busyEp);
      return lat;
    };
    const busy = await measure().finally(() => (enough = true));
    await predicted;

    const fmtMs = (a: number[] | undefined, p: number) => (a?.length ? pct(a, p).toFixed(1) : '-').padStart(8);
    const rows: { name: string; idle?: number[]; busy: number[] }[] = [
      { name: `slice (${clients} clients)`, idle, busy },
      ...endpoints.map((e) => ({ name: e.name, idle: idleEp.get(e.name), busy: busyEp.get(e.name) ?? [] })),
    ];
    console.log(`\na whole-volume prediction took ${predS.toFixed(1)} s; ${predictions} ran while measuring; target p95 < ${TARGET_MS} ms during prediction`);
    console.log(`${'endpoint'.padEnd(30)} ${'n'.padStart(5)} ${'idle p50'.padStart(8)} ${'idle p95'.padStart(8)} ${'p50'.padStart(8)} ${'p95'.padStart(8)} ${'max'.padStart(8)}  target`);
    const missed: string[] = [];
    for (const r of rows) {
      const ok = r.busy.length > 0 && pct(r.busy, 0.95) < TARGET_MS;
      if (!ok) missed.push(r.name);
      console.log(`${r.name.padEnd(30)} ${String(r.busy.length).padStart(5)} ${fmtMs(r.idle, 0.5)} ${fmtMs(r.idle, 0.95)} ${fmtMs(r.busy, 0.5)} ${fmtMs(r.busy, 0.95)} ${(r.busy.length ? Math.max(...r.busy).toFixed(1) : '-').padStart(8)}  ${ok ? 'meets' : 'MISSES'}`);
    }
    console.log(`slice p95 ratio busy/idle ${(pct(busy, 0.95) / pct(idle, 0.95)).toFixed(2)}`);
    if (missed.length) {
      console.log(`${missed.length} endpoint(s) miss the ${TARGET_MS} ms p95 target during prediction: ${missed.join(', ')}`);
      process.exitCode = 1;
    } else console.log(`every endpoint meets the ${TARGET_MS} ms p95 target during prediction`);
  } finally {
    server.kill('SIGTERM');
    await sleep(500);
    rmSync(data, { recursive: true, force: true });
  }
}
