/**
 * Run a heavy step of a job (server/jobs/tasks.ts) in a worker thread: the server's event loop
 * stays free to answer slice requests while registration, training or prediction run, and the
 * step's lib/ code runs unbundled (see worker-entry.mjs). Progress and cancel cross the thread
 * boundary; a PetromapError keeps its tag and message.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker, type ResourceLimits } from 'node:worker_threads';
import { PetromapError, throwIfAborted, type OnProgress, type PetromapErrorTag } from '@/lib/errors';
import type * as Tasks from './tasks';

type TaskName = keyof typeof Tasks;
type TaskArgs<K extends TaskName> = Parameters<(typeof Tasks)[K]>[0];
type TaskResult<K extends TaskName> = Awaited<ReturnType<(typeof Tasks)[K]>>;

export function repoRoot(): string {
  return process.env.PETROMAP_ROOT ?? process.cwd();
}

export async function runTask<K extends TaskName>(
  task: K,
  args: TaskArgs<K>,
  opts: { signal?: AbortSignal; onProgress?: OnProgress; onEvent?: (e: unknown) => void; resourceLimits?: ResourceLimits } = {},
): Promise<TaskResult<K>> {
  throwIfAborted(opts.signal);
  const root = repoRoot();
  const entry = path.join(root, 'server', 'jobs', 'worker-entry.mjs');
  // started from a code string so the bundler does not try to bundle the entry (and tsx with it)
  const worker = new Worker(`import(${JSON.stringify(pathToFileURL(entry).href)})`, { eval: true, workerData: { root }, resourceLimits: opts.resourceLimits });
  const onAbort = () => worker.postMessage({ type: 'abort' });
  try {
    return await new Promise<TaskResult<K>>((resolve, reject) => {
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      worker.on('message', (m: { type: string; fraction?: number; message?: string; event?: unknown; result?: unknown; tag?: PetromapErrorTag | null }) => {
        if (m.type === 'ready') worker.postMessage({ type: 'run', task, args });
        else if (m.type === 'progress') opts.onProgress?.(m.fraction ?? 0, m.message);
        else if (m.type === 'event') opts.onEvent?.(m.event);
        else if (m.type === 'done') resolve(m.result as TaskResult<K>);
        else if (m.type === 'error') reject(m.tag ? new PetromapError(m.tag, m.message ?? 'failed') : new Error(m.message));
      });
      worker.on('error', (err: NodeJS.ErrnoException) => {
        // the worker hit its heap limit (resourceLimits): a one-line reason, not V8's text
        if (err.code === 'ERR_WORKER_OUT_OF_MEMORY') reject(new PetromapError('Unprocessable', `the ${task} step ran out of the memory it is allowed (${opts.resourceLimits?.maxOldGenerationSizeMb ?? '?'} MB heap)`));
        else reject(err);
      });
      worker.on('exit', (code) => reject(opts.signal?.aborted ? new PetromapError('Aborted', 'The job was cancelled.') : new Error(`the ${task} worker stopped unexpectedly (exit code ${code})`)));
    });
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    await worker.terminate();
  }
}
