/**
 * The one compute host of the server: a heavy step of a job (server/jobs/tasks.ts) runs in a
 * worker thread, so the server's event loop stays free to answer slice requests while
 * registration, training or prediction run, and the step's lib/ code runs unbundled (see
 * worker-entry.mjs). Progress, events (training epochs) and cancel cross the thread boundary.
 *
 * Errors: the worker sends the error's tag, message, details and the message of its cause, and
 * runTask throws the same PetromapError. An error nobody tagged is a bug: it becomes
 * PetromapError('Internal') (500, logged with its stack), never a user-facing 'Unprocessable'.
 *
 * A job step gets a fresh worker (its own heap limit, ended with the step). Short calls made
 * inside requests (the model preview of one slice, the feature throughput) pass `shared: true`
 * and go to one long-lived worker, which keeps its loaded model and wasm engines between calls.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker, type ResourceLimits } from 'node:worker_threads';
import { PetromapError, throwIfAborted, type OnProgress, type PetromapErrorTag } from '@/lib/errors';
import type * as Tasks from './tasks';

type TaskName = keyof typeof Tasks & string;
type TaskArgs<K extends TaskName> = Parameters<(typeof Tasks)[K]>[0];
type TaskResult<K extends TaskName> = Awaited<ReturnType<(typeof Tasks)[K]>>;

export function repoRoot(): string {
  return process.env.PETROMAP_ROOT ?? process.cwd();
}

export interface RunTaskOptions {
  signal?: AbortSignal;
  onProgress?: OnProgress;
  onEvent?: (e: unknown) => void;
  resourceLimits?: ResourceLimits;
  /** run in the long-lived shared worker (short calls only; resourceLimits do not apply) */
  shared?: boolean;
}

/** What worker-entry.mjs sends back about a call. */
type Reply =
  | { type: 'ready' }
  | { type: 'progress'; id: number; fraction: number; message?: string }
  | { type: 'event'; id: number; event: unknown }
  | { type: 'done'; id: number; result: unknown }
  | { type: 'error'; id: number; tag: PetromapErrorTag | null; message: string; details?: Record<string, unknown>; cause?: string; stack?: string };

/** The PetromapError a worker's error reply stands for. */
export function errorFromReply(task: string, m: Extract<Reply, { type: 'error' }>): PetromapError {
  const cause = m.cause !== undefined ? new Error(m.cause) : undefined;
  if (m.tag) return new PetromapError(m.tag, m.message, { details: m.details, cause });
  console.error(`petromap: the ${task} step failed with an untagged error (a bug):`, m.stack ?? m.message);
  return new PetromapError('Internal', `The ${task} step failed because of an internal error: ${m.message}`, { details: m.details, cause });
}

interface Call {
  task: string;
  opts: RunTaskOptions;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

class TaskWorker {
  readonly worker: Worker;
  private calls = new Map<number, Call>();
  private next = 1;
  private ready: Promise<void>;
  exited = false;

  /** idle: unref'd, so an idle shared worker does not keep the process alive */
  constructor(resourceLimits?: ResourceLimits, private unrefWhenIdle = false) {
    const root = repoRoot();
    const entry = path.join(root, 'server', 'jobs', 'worker-entry.mjs');
    // started from a code string so the bundler does not try to bundle the entry (and tsx with it)
    this.worker = new Worker(`import(${JSON.stringify(pathToFileURL(entry).href)})`, { eval: true, workerData: { root }, resourceLimits });
    let isReady!: () => void;
    this.ready = new Promise((r) => (isReady = r));
    this.worker.on('message', (m: Reply) => {
      if (m.type === 'ready') return isReady();
      const c = this.calls.get(m.id);
      if (!c) return;
      if (m.type === 'progress') c.opts.onProgress?.(m.fraction ?? 0, m.message);
      else if (m.type === 'event') c.opts.onEvent?.(m.event);
      else {
        this.calls.delete(m.id);
        if (m.type === 'done') c.resolve(m.result);
        else c.reject(c.opts.signal?.aborted && m.tag !== 'Aborted' ? new PetromapError('Aborted', 'The job was cancelled.') : errorFromReply(c.task, m));
      }
    });
    this.worker.on('error', (err: NodeJS.ErrnoException) => {
      for (const c of this.calls.values()) {
        // the worker hit its heap limit (resourceLimits): a one-line reason, not V8's text
        if (err.code === 'ERR_WORKER_OUT_OF_MEMORY') c.reject(new PetromapError('Unprocessable', `the ${c.task} step ran out of the memory it is allowed (${resourceLimits?.maxOldGenerationSizeMb ?? '?'} MB heap)`));
        else c.reject(new PetromapError('Internal', `The ${c.task} step failed because of an internal error: ${err.message}`, { cause: err }));
      }
      this.calls.clear();
    });
    this.worker.on('exit', (code) => {
      this.exited = true;
      for (const c of this.calls.values()) {
        c.reject(c.opts.signal?.aborted ? new PetromapError('Aborted', 'The job was cancelled.') : new PetromapError('Internal', `The ${c.task} worker stopped unexpectedly (exit code ${code}).`));
      }
      this.calls.clear();
    });
  }

  async call(task: string, args: unknown, opts: RunTaskOptions): Promise<unknown> {
    await this.ready;
    throwIfAborted(opts.signal);
    if (this.exited) throw new PetromapError('Internal', `The ${task} worker has stopped.`);
    const id = this.next++;
    this.worker.ref();
    const onAbort = () => this.worker.postMessage({ type: 'abort', id });
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return await new Promise((resolve, reject) => {
        this.calls.set(id, { task, opts, resolve, reject });
        this.worker.postMessage({ type: 'run', id, task, args });
      });
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
      if (this.unrefWhenIdle && this.calls.size === 0) this.worker.unref();
    }
  }
}

const g = globalThis as unknown as { __petromapSharedTaskWorker?: TaskWorker };

function sharedWorker(): TaskWorker {
  if (!g.__petromapSharedTaskWorker || g.__petromapSharedTaskWorker.exited) {
    const w = new TaskWorker(undefined, true);
    w.worker.unref();
    g.__petromapSharedTaskWorker = w;
  }
  return g.__petromapSharedTaskWorker;
}

export async function runTask<K extends TaskName>(task: K, args: TaskArgs<K>, opts: RunTaskOptions = {}): Promise<TaskResult<K>> {
  throwIfAborted(opts.signal);
  if (opts.shared) return (await sharedWorker().call(task, args, opts)) as TaskResult<K>;
  const w = new TaskWorker(opts.resourceLimits);
  try {
    return (await w.call(task, args, opts)) as TaskResult<K>;
  } finally {
    await w.worker.terminate();
  }
}
