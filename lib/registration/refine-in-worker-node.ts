/**
 * Runs the elastix refinement in a worker thread so that it can be cancelled (terminate) while the
 * wasm call is busy, and reports its stages as progress. Node only (worker_threads + tsx).
 *
 * One idle worker is kept between calls (unref'd: it does not keep the process alive), so elastix's
 * wasm module is loaded once per process: about 1 s of CPU the first time, then nothing
 * (docs/registration-speed.md). `prewarmElastix` starts that load early, e.g. while the coarse
 * search runs on the main thread. Concurrent calls get workers of their own; a cancelled call
 * terminates its worker.
 */
import type { Worker } from 'node:worker_threads';
import { startTsWorker } from '../parallel/ts-worker-node';
import type { Affine2 } from '../coords';
import { PetromapError, throwIfAborted, type StageOptions } from '../errors';
import type { RefineImages, RefineOptions } from './elastix-refine';

interface Reply { type: string; fraction?: number; message?: string; edsToSlab?: Affine2 }

let idle: Worker | undefined;
/** the worker loading elastix (unref'd unless someone waits for it) and its load */
let warming: { worker: Worker; done: Promise<void> } | undefined;

async function acquire(): Promise<Worker> {
  if (warming) {
    // the worker being warmed becomes the idle one; keep the process alive while it loads
    warming.worker.ref();
    await warming.done;
  }
  const w = idle ?? startTsWorker(new URL('./register.worker.ts', import.meta.url));
  idle = undefined;
  w.ref();
  return w;
}

function release(w: Worker) {
  w.removeAllListeners();
  if (idle) { void w.terminate(); return; }
  w.unref();
  w.on('error', () => {});
  w.on('exit', () => { if (idle === w) idle = undefined; });
  idle = w;
}

/** One request/reply on worker `w`; rejects when the worker fails or exits. */
function call(w: Worker, msg: object, onProgress?: StageOptions['onProgress']): Promise<Reply> {
  w.removeAllListeners();
  return new Promise<Reply>((resolve, reject) => {
    w.on('message', (m: Reply) => {
      if (m.type === 'progress') onProgress?.(m.fraction ?? 0, m.message);
      else if (m.type === 'done') resolve(m);
      else reject(new PetromapError('Unprocessable', `elastix refinement failed: ${m.message}`));
    });
    w.on('error', (err) => reject(new PetromapError('Unprocessable', `elastix worker failed: ${err.message}`, { cause: err })));
    w.on('exit', (code) => reject(new PetromapError('Unprocessable', `elastix worker exited early (code ${code})`)));
    w.postMessage(msg);
  });
}

/**
 * Load elastix in an idle worker now, so the first refinement does not wait for it (never
 * rejects). Fire and forget does not keep the process alive; with `hold` it does until loaded.
 */
export function prewarmElastix(hold = false): Promise<void> {
  if (idle) return Promise.resolve();
  if (!warming) {
    const w = startTsWorker(new URL('./register.worker.ts', import.meta.url));
    w.unref();
    const done = call(w, { warm: true }).then(() => release(w), () => void w.terminate()).finally(() => { warming = undefined; });
    warming = { worker: w, done };
  }
  if (hold) warming.worker.ref();
  return warming.done;
}

export async function refineInWorker(
  images: RefineImages,
  init: Affine2,
  options: Omit<RefineOptions, 'onStage'> & StageOptions = {},
): Promise<Affine2> {
  const { signal, onProgress, ...rest } = options;
  throwIfAborted(signal);
  const w = await acquire();
  let onAbort = () => {};
  try {
    const cancelled = new Promise<never>((_, reject) => {
      onAbort = () => reject(new PetromapError('Aborted', 'The registration was cancelled.', { cause: signal?.reason }));
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    const m = await Promise.race([call(w, { images, init, options: rest }, onProgress), cancelled]);
    release(w);
    onProgress?.(1, 'elastix finished');
    return m.edsToSlab!;
  } catch (err) {
    void w.terminate();
    throw err;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}
