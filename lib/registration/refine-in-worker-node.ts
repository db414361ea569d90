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

/** Map footprints narrower than this many slab pixels (voxels) failed elastix in every trial (9-11 failed, 12 ran; 16- and 64-px maps alike). */
export const ELASTIX_MIN_FOOTPRINT = 12;

/**
 * elastix's failure in words. The Release build of ITK-Wasm throws a bare number (a C++ exception's
 * address, e.g. "1616040"), which said nothing to a mineralogist; the one cause met is a map whose
 * footprint on the scan's surface (inside the volume) is too small to sample: said with its size
 * and what to do. The raw code stays in the details.
 */
export function elastixFailure(raw: string | undefined, req: Partial<{ images: RefineImages; init: Affine2 }> = {}): PetromapError {
  const code = String(raw ?? '').slice(0, 200);
  const { images: im, init } = req;
  const what = 'Check --pixel-um (the map\'s pixel size) and the scan\'s voxel size; if both are right, map a larger area of the surface, or place the map with 3 landmark pairs (--landmarks pairs.json).';
  let onW = Infinity, onH = Infinity, size = '';
  if (im && init) {
    const su = Math.hypot(init[0], init[3]), sv = Math.hypot(init[1], init[4]);
    const xs: number[] = [], ys: number[] = [];
    for (const [u, v] of [[0, 0], [im.movingWidth, 0], [0, im.movingHeight], [im.movingWidth, im.movingHeight]] as const) {
      xs.push(init[0] * u + init[1] * v + init[2]); ys.push(init[3] * u + init[4] * v + init[5]);
    }
    onW = Math.max(0, Math.min(im.fixedWidth, Math.max(...xs)) - Math.max(0, Math.min(...xs)));
    onH = Math.max(0, Math.min(im.fixedHeight, Math.max(...ys)) - Math.max(0, Math.min(...ys)));
    const r = (x: number) => (x >= 10 ? Math.round(x) : +x.toFixed(1));
    size = `the map (${im.movingWidth} × ${im.movingHeight} px, ${+((su + sv) / 2).toPrecision(2)} voxel per map pixel) covers about ${r(onW)} × ${r(onH)} voxels of the scan's surface inside the volume`;
  }
  const small = Math.min(onW, onH) < ELASTIX_MIN_FOOTPRINT;
  const said = /^\d+$/.test(code) ? `internal error ${code}` : code;
  const message = small
    ? `The fine alignment (elastix) could not run: ${size}, too small an area to measure a fit on (it needs at least about ${ELASTIX_MIN_FOOTPRINT} × ${ELASTIX_MIN_FOOTPRINT} voxels). ${what}`
    : `The fine alignment (elastix) failed (${said})${size ? `; ${size}` : ''}. ${what}`;
  return new PetromapError('Unprocessable', message, { details: { elastixError: code } });
}

/** One request/reply on worker `w`; rejects when the worker fails or exits. */
function call(w: Worker, msg: object, onProgress?: StageOptions['onProgress']): Promise<Reply> {
  w.removeAllListeners();
  return new Promise<Reply>((resolve, reject) => {
    w.on('message', (m: Reply) => {
      if (m.type === 'progress') onProgress?.(m.fraction ?? 0, m.message);
      else if (m.type === 'done') resolve(m);
      else reject(elastixFailure(m.message, msg as Partial<{ images: RefineImages; init: Affine2 }>));
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
