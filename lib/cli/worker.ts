/**
 * `petromap worker [--threads N] [--concurrency K] [--workspace DIR] [--redis URL] [--log text|json]
 *   [--lock-ms MS] [--stalled-ms MS]`
 * Takes prediction bricks from BullMQ on Redis (PETROMAP_REDIS_URL) and computes them on N worker
 * threads, K bricks at a time, reading and writing the shared workspace (PETROMAP_DATA or
 * --workspace: this machine's path of the folder every machine mounts). Runs until SIGINT/SIGTERM:
 * the first one finishes the bricks in hand, a second one stops at once (those go back to the queue).
 */
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { DEFAULT_LOCK_MS, DEFAULT_STALLED_MS, redactUrl, redisUrlFromEnv, workspaceFromEnv } from '../cluster/config';
import { startClusterWorker } from '../cluster/worker-node';
import { invalidInput } from '../errors';
import { parseCommandArgs } from './args';

export const USAGE =
  'usage: petromap worker [--threads <n>] [--concurrency <k>] [--workspace <folder>] [--redis redis://[user:password@]host:port] [--log text|json] [--lock-ms <ms>] [--stalled-ms <ms>]\n' +
  '  Redis: --redis or PETROMAP_REDIS_URL. Workspace: --workspace or PETROMAP_DATA (default ./data); the same shared folder as the coordinator.\n' +
  `  --threads: brick threads (default: cores, at most 4); --concurrency: bricks taken at once (default = threads);\n` +
  `  --lock-ms: BullMQ lock of a brick in hand (default ${DEFAULT_LOCK_MS}); --stalled-ms: stalled-brick check interval (default ${DEFAULT_STALLED_MS}).\n` +
  '  Runs until SIGINT/SIGTERM (the first finishes the bricks in hand, a second stops at once).\n' +
  '  --log json: one JSON object per line on stdout, { event: "ready" | "brick-done" | "brick-failed" | "cancel" | "error", worker, runId, box, ms, error, message, ... };\n' +
  '  --log text (default): one line per event on stderr.';

const SPEC = {
  usage: USAGE,
  options: {
    threads: { kind: 'number', integer: true, min: 1 },
    concurrency: { kind: 'number', integer: true, min: 1 },
    workspace: { kind: 'path', must: 'dir', what: 'the workspace' },
    redis: { kind: 'string' },
    log: { kind: 'string', choices: ['text', 'json'] },
    'lock-ms': { kind: 'number', integer: true, min: 1 },
    'stalled-ms': { kind: 'number', integer: true, min: 1 },
  },
} as const;

export async function main(argv: string[]): Promise<number> {
  const { values: a } = parseCommandArgs(argv, SPEC);
  const url = a.redis ?? redisUrlFromEnv();
  if (!url) throw invalidInput(`No Redis to take bricks from: set PETROMAP_REDIS_URL=redis://host:port (or pass --redis). ${USAGE}`);
  const json = a.log === 'json';
  const workspace = a.workspace ? resolve(a.workspace) : workspaceFromEnv();
  const threads = a.threads ?? Math.min(4, availableParallelism());
  let lastError: unknown;
  const w = await startClusterWorker({
    redisUrl: url,
    workspace,
    threads,
    concurrency: a.concurrency ?? threads,
    lockMs: a['lock-ms'] ?? DEFAULT_LOCK_MS,
    stalledMs: a['stalled-ms'] ?? DEFAULT_STALLED_MS,
    onEvent: (e) => {
      if (json) process.stdout.write(JSON.stringify(e) + '\n');
      else if (e.event === 'ready') console.error(`petromap worker ${e.worker}: ${e.threads} thread${e.threads === 1 ? '' : 's'}, ${e.concurrency} brick${e.concurrency === 1 ? '' : 's'} at once, workspace ${workspace}, Redis ${redactUrl(url)}`);
      else if (e.event === 'brick-done') console.error(`brick ${e.box} of run ${String(e.runId).slice(0, 8)} done in ${((e.ms as number) / 1000).toFixed(1)} s`);
      else if (e.event === 'brick-failed') console.error(`brick ${e.box} of run ${String(e.runId).slice(0, 8)} failed: ${e.error}`);
      else if (e.event === 'cancel') console.error(`run ${String(e.runId).slice(0, 8)} cancelled`);
      else if (e.event === 'error' && e.message !== lastError) console.error(`worker: ${e.message}`); // once while Redis is away, not every retry
      if (e.event === 'error') lastError = e.message;
      else if (e.event === 'brick-done' || e.event === 'ready') lastError = undefined;
    },
  });
  let stops = 0;
  const stop = () => {
    stops++;
    if (!json) console.error(stops === 1 ? 'finishing the bricks in hand (again to stop at once)' : 'stopping');
    void w.close(stops > 1);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  await w.closed;
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
  // a reconnect timer of a Redis client must not keep a stopped worker alive
  setTimeout(() => process.exit(0), 2000).unref();
  return 0;
}
