#!/usr/bin/env node
/**
 * End-to-end tests of the web app (npm run test:e2e).
 *
 * 1. `next build` if .next is missing or older than any source file (under a lock: the working
 *    tree and its .next are shared).
 * 2. `next start` on a free 127.0.0.1 port, PETROMAP_DATA = a fresh temp workspace.
 * 3. Wait until the server answers and the demo project ("Demo sandstone") exists.
 * 4. Run tests/e2e/*.test.mjs with playwright-core + Debian chromium.
 * 5. Stop the server. Last line: "N passed, M failed"; exit code 1 on any failure.
 *
 * PETROMAP_E2E_URL=http://127.0.0.1:3000 skips 1–2 and tests a server you already run (next dev);
 * PETROMAP_E2E_ONLY=viewer runs only test files whose name contains "viewer".
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { buildState } from './build-stale.mjs';
import { CANARY, checkBuild } from './check-build.mjs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const NEXT = path.join(ROOT, 'node_modules', '.bin', 'next');
const DEMO_NAME = process.env.PETROMAP_E2E_DEMO ?? 'Demo sandstone';
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

function buildIfStale() {
  const buildLog = path.join(ROOT, '.next', 'petromap-build.log');
  // the same staleness check as npm run demo (scripts/build-stale.mjs: .next/BUILD_ID against the newest source)
  if (buildState(ROOT) === 'fresh' && !process.env.PETROMAP_E2E_REBUILD) {
    console.log('e2e: .next is up to date, not rebuilding');
  } else {
    console.log('e2e: building the app (next build)…');
    // a file in the default workspace: if the build traced the workspace, the check below sees it
    mkdirSync(path.dirname(CANARY), { recursive: true });
    writeFileSync(CANARY, 'petromap: this file must never be traced into the build (issue 20)\n');
    const r = spawnSync('flock', ['/tmp/petromap-next-build.lock', NEXT, 'build'], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 2 ** 20, env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' } });
    process.stdout.write(r.stdout ?? '');
    process.stderr.write(r.stderr ?? '');
    if (r.status !== 0) throw new Error(`next build failed (exit ${r.status})`);
    writeFileSync(buildLog, `${r.stdout ?? ''}\n${r.stderr ?? ''}`);
  }
  const problems = checkBuild(existsSync(buildLog) ? readFileSync(buildLog, 'utf8') : '');
  if (problems.length) throw new Error(`the build takes in runtime files: ${problems.join('; ')}`);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** tRPC query over plain HTTP (superjson-wrapped or not). */
async function trpcQuery(baseUrl, proc, input) {
  const qs = input === undefined ? '' : `?input=${encodeURIComponent(JSON.stringify({ json: input }))}`;
  const res = await fetch(`${baseUrl}/api/trpc/${proc}${qs}`);
  if (!res.ok) throw new Error(`${proc}: HTTP ${res.status}`);
  const body = await res.json();
  const data = body?.result?.data;
  return data && typeof data === 'object' && 'json' in data ? data.json : data;
}

async function waitForServer(baseUrl, server, timeoutMs = 120_000) {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    if (server.exitCode !== null) throw new Error(`next start exited with code ${server.exitCode}`);
    try {
      const res = await fetch(baseUrl + '/');
      if (res.status < 500) return;
    } catch {}
    await sleep(500);
  }
  throw new Error(`server did not answer on ${baseUrl} within ${timeoutMs / 1000} s`);
}

async function waitForDemo(baseUrl, timeoutMs = 600_000) {
  const t0 = Date.now();
  let last = '';
  while (Date.now() - t0 < timeoutMs) {
    try {
      const projects = await trpcQuery(baseUrl, 'projects.list');
      const demo = projects.find((p) => p.name === DEMO_NAME);
      if (demo) {
        const datasets = await trpcQuery(baseUrl, 'datasets.list', { projectId: demo.id });
        // The demo is usable once both its volume and its EDS map are imported.
        const kinds = new Set(datasets.filter((d) => !d.status || d.status === 'ready').map((d) => d.kind));
        if (kinds.has('volume') && kinds.has('eds')) return demo;
        last = `demo has ${datasets.length} dataset(s) so far`;
      } else last = `${projects.length} project(s), no "${DEMO_NAME}" yet`;
    } catch (e) {
      last = e.message;
    }
    await sleep(1000);
  }
  throw new Error(`demo project "${DEMO_NAME}" not ready within ${timeoutMs / 1000} s (${last})`);
}

/** Build if needed and start `next start` on a free port with a fresh workspace. */
async function startServer() {
  buildIfStale();
  const workspace = mkdtempSync(path.join(os.tmpdir(), 'petromap-e2e-'));
  const logFile = path.join(workspace, 'server.log');
  const port = await freePort();
  const logFd = openSync(logFile, 'a');
  const server = spawn(NEXT, ['start', '--hostname', '127.0.0.1', '--port', String(port)], {
    cwd: ROOT,
    env: { ...process.env, PETROMAP_DATA: path.join(workspace, 'data'), NEXT_TELEMETRY_DISABLED: '1', PORT: String(port) },
    stdio: ['ignore', logFd, logFd],
    detached: true, // own process group, so the whole tree stops with it
  });
  const stop = () => {
    try { process.kill(-server.pid, 'SIGTERM'); } catch {}
  };
  return { baseUrl: `http://127.0.0.1:${port}`, server, stop, workspace, logFile };
}

/** The pages need the tRPC server and client; without them there is no app to test. */
function assertAppExists() {
  const missing = ['server/routers/_app.ts', 'app/_trpc/client.tsx', 'app/layout.tsx'].filter((f) => !existsSync(path.join(ROOT, f)));
  if (missing.length) throw new Error(`the app cannot run yet: ${missing.join(', ')} missing (tRPC server, client provider, root layout)`);
}

async function main() {
  const external = process.env.PETROMAP_E2E_URL;
  if (!external) assertAppExists();
  const { baseUrl, server, stop, workspace, logFile } = external
    ? { baseUrl: external.replace(/\/$/, ''), server: { exitCode: null }, stop: () => {}, workspace: null, logFile: null }
    : await startServer();
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { stop(); process.exit(130); });

  let passed = 0, failed = 0, browser;
  try {
    console.log(external ? `e2e: testing ${baseUrl}` : `e2e: next start on ${baseUrl}, workspace ${workspace}`);
    await waitForServer(baseUrl, server);
    const demo = await waitForDemo(baseUrl);
    console.log(`e2e: demo project ready (${demo.id})`);

    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const dir = path.join(ROOT, 'tests', 'e2e');
    const only = process.env.PETROMAP_E2E_ONLY;
    for (const f of readdirSync(dir).filter((f) => f.endsWith('.test.mjs')).sort()) {
      if (!only || f.includes(only)) await import(pathToFileURL(path.join(dir, f)).href);
    }
    const { runAll } = await import(pathToFileURL(path.join(dir, 'harness.mjs')).href);
    ({ passed, failed } = await runAll({ browser, baseUrl }));
  } catch (e) {
    failed++;
    console.error(`e2e: ${e.stack ?? e}`);
    if (logFile) try { console.error('--- server log (tail) ---\n' + readFileSync(logFile, 'utf8').split('\n').slice(-40).join('\n')); } catch {}
  } finally {
    await browser?.close().catch(() => {});
    stop();
    await sleep(300);
    if (workspace && failed === 0) rmSync(workspace, { recursive: true, force: true });
    else if (workspace) console.log(`e2e: workspace kept for inspection: ${workspace}`);
  }
  console.log(`${passed} passed, ${failed} failed`);
  // exit now: keep-alive sockets to the stopped server (and the SSE streams the pages opened) would
  // otherwise keep this process, and the CI run that waits for it, alive for minutes
  process.exit(failed ? 1 : 0);
}

main().catch((e) => {
  // Build or start-up failed before any test ran: still report in the form CI counts.
  console.error(`e2e: ${e.message ?? e}`);
  console.log('0 passed, 1 failed');
  process.exit(1);
});
