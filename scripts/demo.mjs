#!/usr/bin/env node
/**
 * npm run demo: build the app if there is none or it is older than its sources, and start it on http://127.0.0.1:3000 (PORT to change)
 * with the workspace in ./data (PETROMAP_DATA to change). On first start the server creates the
 * "Demo sandstone" project (synthetic volume + EDS map with ground truth).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildState } from './build-stale.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const NEXT = path.join(ROOT, 'node_modules', '.bin', 'next');
const port = process.env.PORT ?? '3000';
const host = process.env.HOST ?? '127.0.0.1';

if (!existsSync(path.join(ROOT, 'wasm', 'build')) && existsSync(path.join(ROOT, 'wasm', 'build.mjs'))) {
  spawnSync(process.execPath, [path.join(ROOT, 'wasm', 'build.mjs')], { cwd: ROOT, stdio: 'inherit' });
}
const state = buildState(ROOT);
if (state !== 'fresh' || process.env.PETROMAP_REBUILD) {
  console.log(state === 'stale' ? 'petromap: the sources changed since the last build: building the app again (a minute or two)…' : 'petromap: building the app (first run takes a minute or two)…');
  const r = spawnSync(NEXT, ['build'], { cwd: ROOT, stdio: 'inherit', env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' } });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
console.log(`petromap: starting on http://${host}:${port} (workspace: ${path.resolve(ROOT, process.env.PETROMAP_DATA ?? 'data')})`);
const child = spawn(NEXT, ['start', '--hostname', host, '--port', port], { cwd: ROOT, stdio: 'inherit', env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' } });
for (const s of ['SIGINT', 'SIGTERM']) process.on(s, () => child.kill(s));
child.on('exit', (code) => process.exit(code ?? 0));
