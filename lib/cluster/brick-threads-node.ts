/**
 * A fixed pool of brick threads (brick.worker.ts: prediction and feature bricks) inside one `petromap worker` process. Bricks wait
 * in FIFO order for a free thread. Aborting a brick that is running terminates its thread (wasm
 * calls cannot be interrupted otherwise) and starts a fresh one; a thread that dies fails its brick
 * and is replaced too.
 */
import type { Worker } from 'node:worker_threads';
import { PetromapError, type PetromapErrorTag } from '../errors';
import { startTsWorker } from '../parallel/ts-worker-node';
import type { BrickThreadReply, BrickThreadRequest } from './brick.worker';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** What a brick thread is asked to do (BrickThreadRequest without the message id). */
export type BrickRequest = DistributiveOmit<BrickThreadRequest, 'id'>;
type Request = BrickRequest;
interface Pending {
  id: number;
  req: Request;
  resolve: (r: { ms: number; voxels: number }) => void;
  reject: (e: Error) => void;
  signal?: AbortSignal;
  onAbort?: () => void;
}
interface Slot {
  worker: Worker;
  busy: Pending | null;
}

export class BrickThreads {
  private slots: Slot[] = [];
  private queue: Pending[] = [];
  private nextId = 1;
  private closed = false;

  constructor(readonly size: number) {
    for (let i = 0; i < size; i++) this.slots.push(this.spawn());
  }

  get busy(): number {
    return this.slots.filter((s) => s.busy).length;
  }

  private spawn(): Slot {
    const slot: Slot = { worker: startTsWorker(new URL('./brick.worker.ts', import.meta.url)), busy: null };
    slot.worker.on('message', (m: BrickThreadReply) => {
      const p = slot.busy;
      if (!p || p.id !== m.id) return;
      this.finish(slot);
      if (m.type === 'done') p.resolve({ ms: m.ms, voxels: m.voxels });
      else p.reject(new PetromapError((m.tag as PetromapErrorTag) ?? 'Internal', m.message));
      this.pump();
    });
    const died = (why: string) => {
      if (this.closed) return;
      const i = this.slots.indexOf(slot);
      if (i < 0) return;
      const p = slot.busy;
      this.slots[i] = this.spawn();
      if (p) {
        p.signal?.removeEventListener('abort', p.onAbort!);
        p.reject(new PetromapError('Internal', `A brick thread stopped (${why}).`));
      }
      this.pump();
    };
    slot.worker.on('error', (err) => died(err.message));
    slot.worker.on('exit', (code) => died(`exit code ${code}`));
    return slot;
  }

  private finish(slot: Slot) {
    const p = slot.busy;
    if (p) p.signal?.removeEventListener('abort', p.onAbort!);
    slot.busy = null;
  }

  private pump() {
    for (const slot of this.slots) {
      if (slot.busy || !this.queue.length) continue;
      const p = this.queue.shift()!;
      slot.busy = p;
      slot.worker.postMessage({ ...p.req, id: p.id } as BrickThreadRequest);
    }
  }

  /** Runs one brick on the next free thread. */
  run(req: Request, signal?: AbortSignal): Promise<{ ms: number; voxels: number }> {
    if (this.closed) return Promise.reject(new PetromapError('Aborted', 'The worker is shutting down.'));
    return new Promise((resolve, reject) => {
      const p: Pending = { id: this.nextId++, req, resolve, reject, signal };
      const aborted = () => new PetromapError('Aborted', 'The brick was cancelled.', { cause: signal?.reason });
      if (signal?.aborted) return reject(aborted());
      p.onAbort = () => {
        const qi = this.queue.indexOf(p);
        if (qi >= 0) this.queue.splice(qi, 1);
        const slot = this.slots.find((s) => s.busy === p);
        if (slot) {
          // the wasm call cannot be interrupted: drop the thread, start a fresh one
          const i = this.slots.indexOf(slot);
          slot.busy = null;
          slot.worker.removeAllListeners('exit');
          slot.worker.removeAllListeners('error');
          void slot.worker.terminate();
          this.slots[i] = this.spawn();
        }
        reject(aborted());
        this.pump();
      };
      signal?.addEventListener('abort', p.onAbort, { once: true });
      this.queue.push(p);
      this.pump();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.queue.splice(0)) p.reject(new PetromapError('Aborted', 'The worker is shutting down.'));
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
