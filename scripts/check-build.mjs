#!/usr/bin/env node
/**
 * The build must never swallow the workspace (issue 20). Run after `next build` (scripts/e2e.mjs
 * does, so `npm test` fails on it):
 * - the build log has no "Dynamic filesystem access causes tracing of the whole project" warning,
 *   and no other build warning (e.g. a server package that "can't be external");
 * - no .nft.json under .next names a file in a runtime folder: the workspace (PETROMAP_DATA,
 *   default ./data), tmp/, bench/out/, or the canary file scripts/e2e.mjs puts in ./data before it
 *   builds (so the check bites on a clean clone too, where ./data would otherwise be empty);
 * - no test or bench file is copied into .next/server/assets (the repository traced through a
 *   dynamic path in a module a route imports).
 * Usage: node scripts/check-build.mjs [build.log]   exit 1 with the offending lines.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const CANARY = path.join(ROOT, 'data', 'tmp', 'build-trace-canary.bin');

function nftFiles(dir, out = []) {
  if (!existsSync(dir)) return out;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) nftFiles(p, out);
    else if (e.name.endsWith('.nft.json')) out.push(p);
  }
  return out;
}

export function checkBuild(logText) {
  const problems = [];
  if (logText && /Dynamic filesystem access causes tracing/.test(logText)) {
    const where = [...logText.matchAll(/^\.\/(\S+):\d+:\d+$/gm)].map((m) => m[1]);
    problems.push(`next build warns that dynamic filesystem access traces the whole project (${[...new Set(where)].join(', ') || 'see the build log'})`);
  }
  const other = logText ? [...logText.matchAll(/^Warning: (.+)$/gm)].map((m) => m[1]).filter((w) => !/Dynamic filesystem access/.test(w)) : [];
  if (other.length) problems.push(`next build warns: ${[...new Set(other)].join(' | ')}`);
  const runtime = [path.resolve(process.env.PETROMAP_DATA ?? path.join(ROOT, 'data')), path.join(ROOT, 'data'), path.join(ROOT, 'tmp'), path.join(ROOT, 'bench', 'out')];
  const traced = new Set();
  for (const f of nftFiles(path.join(ROOT, '.next'))) {
    const j = JSON.parse(readFileSync(f, 'utf8'));
    for (const rel of j.files ?? []) {
      const abs = path.resolve(path.dirname(f), rel);
      if (runtime.some((r) => abs === r || abs.startsWith(r + path.sep))) traced.add(path.relative(ROOT, abs));
    }
  }
  if (traced.size) problems.push(`the server traces ${traced.size} runtime file(s) into the build, e.g. ${[...traced].slice(0, 5).join(', ')}`);
  // a dynamic `new URL(`../${x}`, import.meta.url)` in a module a route imports copies the whole
  // repository into .next/server/assets (649 files once: feature-banks imported the lib/features
  // barrel, which reached the wasm kernels' loader); no test or bench file belongs in a build
  const assets = path.join(ROOT, '.next', 'server', 'assets');
  const copied = existsSync(assets) ? readdirSync(assets).filter((n) => /\.test\.|^fuzz\.|^cases-|\.py$/.test(n)) : [];
  if (copied.length) problems.push(`the build copies ${copied.length} test/bench file(s) into .next/server/assets (a dynamic path a route imports traces the repository), e.g. ${copied.slice(0, 5).join(', ')}`);
  return problems;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const log = process.argv[2] && existsSync(process.argv[2]) ? readFileSync(process.argv[2], 'utf8') : '';
  const problems = checkBuild(log);
  for (const p of problems) console.error(`check-build: ${p}`);
  if (!problems.length) console.log('check-build: no build warning, no runtime file traced');
  process.exitCode = problems.length ? 1 : 0;
}
