/**
 * Worker side of a pool: `serveJobs(handler)` in a `.worker.ts` entry answers the pool's jobs one
 * at a time. The handler may report progress and name buffers to transfer with the result;
 * PetromapErrors keep their tag across the thread boundary.
 */
import { parentPort } from 'node:worker_threads';
import { isPetromapError } from '../errors';
import type { JobMessage, WorkerMessage } from './protocol';

export interface JobContext {
  progress(fraction: number, message?: string): void;
  /** buffers to move (not copy) to the main thread with the result */
  transfer(list: Transferable[]): void;
}

export function serveJobs<Req, Res>(handler: (req: Req, ctx: JobContext) => Promise<Res> | Res): void {
  const port = parentPort;
  if (!port) throw new Error('serveJobs must run in a worker thread');
  let chain = Promise.resolve();
  port.on('message', (msg: JobMessage<Req>) => {
    chain = chain.then(async () => {
      const transfer: Transferable[] = [];
      const ctx: JobContext = {
        progress: (fraction, message) => port.postMessage({ id: msg.id, type: 'progress', fraction, message } satisfies WorkerMessage<Res>),
        transfer: (list) => transfer.push(...list),
      };
      try {
        const result = await handler(msg.req, ctx);
        port.postMessage({ id: msg.id, type: 'done', result } satisfies WorkerMessage<Res>, transfer as never);
      } catch (err) {
        const m: WorkerMessage<Res> = isPetromapError(err)
          ? { id: msg.id, type: 'error', tag: err._tag, message: err.message, details: err.details }
          : { id: msg.id, type: 'error', message: err instanceof Error ? err.message : String(err) };
        port.postMessage(m);
      }
    });
  });
  port.postMessage({ type: 'ready' } satisfies WorkerMessage<Res>);
}
