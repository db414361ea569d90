/**
 * Start a worker thread on a TypeScript (or JavaScript) entry. On Node 20 `execArgv: ['--import',
 * 'tsx']` does not reach a worker's entry module, so a tiny eval'd bootstrap registers tsx's ESM
 * hooks (by absolute URL: eval code resolves packages from the cwd) and imports the entry.
 * The one bootstrap of TypeScript worker threads in lib/ (the server's compute host has its own,
 * server/jobs/worker-entry.mjs, because the web bundle must not see tsx).
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

export function startTsWorker(entry: URL, opts: Omit<WorkerOptions, 'eval'> = {}): Worker {
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, opts);
  const tsxDir = dirname(createRequire(import.meta.url).resolve('tsx/package.json'));
  const api = pathToFileURL(join(tsxDir, 'dist/esm/api/index.mjs')).href;
  const code = `import(${JSON.stringify(api)}).then(({ register }) => { register(); return import(${JSON.stringify(entry.href)}); })`;
  return new Worker(code, { ...opts, eval: true });
}
