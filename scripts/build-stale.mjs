/**
 * Whether the Next.js build in `.next` is older than the sources it was built from (app, server,
 * lib, the kernels, the configs). `npm run demo` rebuilt only when no build existed, so after a
 * `git pull` it served the old app with the new code's workspace; it now rebuilds a stale build.
 * scripts/e2e.mjs uses the same check before its tests.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/** What the build is made from. */
export const BUILD_SOURCES = ['app', 'server', 'lib', 'wasm/build', 'next.config.mjs', 'package.json', 'tsconfig.json', 'proxy.ts', 'instrumentation.ts'];

/** The newest modification time under `p` (0 when absent); node_modules and dot-folders are skipped. */
export function newestMtime(p) {
  if (!existsSync(p)) return 0;
  const st = statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  let m = 0;
  for (const e of readdirSync(p)) {
    if (e === 'node_modules' || e.startsWith('.')) continue;
    m = Math.max(m, newestMtime(path.join(p, e)));
  }
  return m;
}

/** 'missing' (no build), 'stale' (a source is newer than the build) or 'fresh'. */
export function buildState(root) {
  const buildId = path.join(root, '.next', 'BUILD_ID');
  if (!existsSync(buildId)) return 'missing';
  const src = Math.max(...BUILD_SOURCES.map((s) => newestMtime(path.join(root, s))));
  return statSync(buildId).mtimeMs >= src ? 'fresh' : 'stale';
}
