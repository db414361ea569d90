/**
 * A fixed-size pool of worker threads running one entry module (which calls serveJobs). Jobs queue
 * when all workers are busy. Cancelling a running job terminates its worker and starts a fresh
 * one; a crashed worker is replaced too. Errors thrown in a worker come back as PetromapError with
 * the same tag. Node only.
 */
import type { Worker } from 'node:worker_threads';
import { PetromapError, type OnProgress } from '../errors';
import type { WorkerMessage } from './protocol';
import { startTsWorker } from './ts-worker-node';

export interface Pool<Req, Res> {
  readonly size: number;
  /** Run one job on the next free worker. */
  run(req: Req, transfer?: Transferable[], signal?: AbortSignal, onProgress?: OnProgress): Promise<Res>;
  /** Number of jobs queued or running. */
  readonly pending: number;
  /** Terminate all workers; queued jobs are rejected (Aborted). */
  close(): Promise<void>;
}

interface Job<Req, Res> {
  id: number;
  req: Req;
  transfer: Transferable[];
  signal?: AbortSignal;
  onProgress?: OnProgress;
  resolve(v: Res): void;
  reject(e: unknown): void;
  onAbort?: () => void;
}

interface Slot<Req, Res> {
  worker: Worker;
  job?: Job<Req, Res>;
}

export function createPool<Req, Res>(entry: URL, size: number): Pool<Req, Res> {
  if (!Number.isInteger(size) || size < 1) throw new PetromapError('InvalidInput', `A worker pool needs at least 1 thread, got ${size}.`);
  const slots: Slot<Req, Res>[] = [];
  const queue: Job<Req, Res>[] = [];
  let nextId = 1;
  let closed = false;
  const what = entry.pathname.split('/').pop();

  function settle(job: Job<Req, Res>) {
    if (job.onAbort) job.signal?.removeEventListener('abort', job.onAbort);
  }

  function spawn(): Slot<Req, Res> {
    const slot: Slot<Req, Res> = { worker: startTsWorker(entry) };
    const w = slot.worker;
    w.on('message', (m: WorkerMessage<Res>) => {
      if (!('id' in m)) return;
      const job = slot.job;
      if (!job || job.id !== m.id) return;
      if (m.type === 'progress') {
        job.onProgress?.(m.fraction, m.message);
        return;
      }
      slot.job = undefined;
      settle(job);
      if (m.type === 'done') job.resolve(m.result);
      else job.reject(new PetromapError(m.tag ?? 'Unprocessable', m.message, { details: m.details }));
      pump();
    });
    const fail = (why: string, cause?: unknown) => {
      const i = slots.indexOf(slot);
      if (i < 0) return; // replaced already
      slots.splice(i, 1);
      const job = slot.job;
      slot.job = undefined;
      if (job) {
        settle(job);
        job.reject(new PetromapError('Unprocessable', `A feature worker (${what}) stopped: ${why}`, { cause }));
      }
      void w.terminate();
      if (!closed) {
        slots.push(spawn());
        pump();
      }
    };
    w.on('error', (err) => fail(err.message, err));
    w.on('exit', (code) => fail(`it exited with code ${code}`));
    return slot;
  }

  function pump() {
    if (closed) return;
    for (const slot of slots) {
      if (slot.job) continue;
      const job = queue.shift();
      if (!job) return;
      slot.job = job;
      slot.worker.postMessage({ id: job.id, req: job.req }, job.transfer as never);
    }
  }

  function cancel(job: Job<Req, Res>) {
    const qi = queue.indexOf(job);
    const err = new PetromapError('Aborted', 'The operation was cancelled.', { cause: job.signal?.reason });
    if (qi >= 0) {
      queue.splice(qi, 1);
      settle(job);
      job.reject(err);
      return;
    }
    const slot = slots.find((s) => s.job === job);
    if (!slot) return;
    // terminate the busy worker and replace it
    slots.splice(slots.indexOf(slot), 1);
    slot.job = undefined;
    settle(job);
    job.reject(err);
    slot.worker.removeAllListeners('exit');
    slot.worker.removeAllListeners('error');
    slot.worker.on('error', () => {});
    void slot.worker.terminate();
    if (!closed) {
      slots.push(spawn());
      pump();
    }
  }

  for (let i = 0; i < size; i++) slots.push(spawn());

  return {
    size,
    get pending() {
      return queue.length + slots.filter((s) => s.job).length;
    },
    run(req: Req, transfer: Transferable[] = [], signal?: AbortSignal, onProgress?: OnProgress): Promise<Res> {
      if (closed) return Promise.reject(new PetromapError('Conflict', 'The worker pool is closed.'));
      if (signal?.aborted) return Promise.reject(new PetromapError('Aborted', 'The operation was cancelled.', { cause: signal.reason }));
      return new Promise<Res>((resolve, reject) => {
        const job: Job<Req, Res> = { id: nextId++, req, transfer, signal, onProgress, resolve, reject };
        if (signal) {
          job.onAbort = () => cancel(job);
          signal.addEventListener('abort', job.onAbort, { once: true });
        }
        queue.push(job);
        pump();
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      const err = new PetromapError('Aborted', 'The worker pool was closed.');
      for (const job of queue.splice(0)) {
        settle(job);
        job.reject(err);
      }
      const all = slots.splice(0);
      for (const s of all) {
        s.worker.removeAllListeners('exit');
        s.worker.removeAllListeners('error');
        s.worker.on('error', () => {});
        if (s.job) {
          settle(s.job);
          s.job.reject(err);
          s.job = undefined;
        }
      }
      await Promise.all(all.map((s) => s.worker.terminate()));
    },
  };
}
