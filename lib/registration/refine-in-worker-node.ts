/**
 * Runs the elastix refinement in a worker thread so that it can be cancelled (terminate) while the
 * wasm call is busy, and reports its stages as progress. Node only (worker_threads + tsx).
 */
import { startTsWorker } from '../parallel/ts-worker-node';
import type { Affine2 } from '../coords';
import { PetromapError, throwIfAborted, type StageOptions } from '../errors';
import type { RefineImages, RefineOptions } from './elastix-refine';

export async function refineInWorker(
  images: RefineImages,
  init: Affine2,
  options: Omit<RefineOptions, 'onStage'> & StageOptions = {},
): Promise<Affine2> {
  const { signal, onProgress, ...rest } = options;
  throwIfAborted(signal);
  const worker = startTsWorker(new URL('./register.worker.ts', import.meta.url));
  let onAbort = () => {};
  try {
    return await new Promise<Affine2>((resolve, reject) => {
      onAbort = () => reject(new PetromapError('Aborted', 'The registration was cancelled.', { cause: signal?.reason }));
      signal?.addEventListener('abort', onAbort, { once: true });
      worker.on('message', (m: { type: string; fraction?: number; message?: string; edsToSlab?: Affine2 }) => {
        if (m.type === 'progress') onProgress?.(m.fraction ?? 0, m.message);
        else if (m.type === 'done') { onProgress?.(1, 'elastix finished'); resolve(m.edsToSlab!); }
        else reject(new PetromapError('Unprocessable', `elastix refinement failed: ${m.message}`));
      });
      worker.on('error', (err) => reject(new PetromapError('Unprocessable', `elastix worker failed: ${err.message}`, { cause: err })));
      worker.on('exit', (code) => reject(new PetromapError('Unprocessable', `elastix worker exited early (code ${code})`)));
      worker.postMessage({ images, init, options: rest });
    });
  } finally {
    signal?.removeEventListener('abort', onAbort);
    await worker.terminate();
  }
}
