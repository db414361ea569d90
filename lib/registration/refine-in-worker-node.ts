/**
 * Runs the elastix refinement in a worker thread so that it can be cancelled (terminate) while the
 * wasm call is busy, and reports its stages as progress. Node only (worker_threads + tsx).
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Affine2 } from '../coords';
import { PetromapError, throwIfAborted, type StageOptions } from '../errors';
import type { RefineImages, RefineOptions } from './elastix-refine';

/**
 * Start a TypeScript worker. On Node 20 `execArgv: ['--import', 'tsx']` does not reach a worker's
 * entry module (ERR_UNKNOWN_FILE_EXTENSION, checked here), so a tiny eval'd bootstrap registers
 * tsx's ESM hooks (by absolute URL: eval code resolves packages from the cwd) and imports the entry.
 */
export function startTsWorker(entry: URL): Worker {
  const tsxDir = dirname(createRequire(import.meta.url).resolve('tsx/package.json'));
  const api = pathToFileURL(join(tsxDir, 'dist/esm/api/index.mjs')).href;
  const code = `import(${JSON.stringify(api)}).then(({ register }) => { register(); return import(${JSON.stringify(entry.href)}); })`;
  return new Worker(code, { eval: true });
}

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
