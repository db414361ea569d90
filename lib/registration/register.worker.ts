/**
 * Worker entry of the elastix refinement: message in -> refineWithElastix -> message out.
 * The parent terminates the worker to cancel (the wasm call cannot be interrupted otherwise).
 * Messages: in { images: RefineImages, init: Affine2, options }, out { type: 'progress' | 'done' | 'error' }.
 */
import { parentPort } from 'node:worker_threads';
import { refineWithElastix, type RefineImages, type RefineOptions } from './elastix-refine';
import type { Affine2 } from '../coords';

interface RefineRequest {
  images: RefineImages;
  init: Affine2;
  options: Omit<RefineOptions, 'onStage'>;
}

parentPort?.once('message', async (req: RefineRequest) => {
  try {
    const edsToSlab = await refineWithElastix(req.images, req.init, {
      ...req.options,
      onStage: (stage, stages) => parentPort?.postMessage({ type: 'progress', fraction: stage / stages, message: `elastix stage ${stage + 1} of ${stages}` }),
    });
    parentPort?.postMessage({ type: 'done', edsToSlab });
  } catch (err) {
    parentPort?.postMessage({ type: 'error', message: err instanceof Error ? err.message : String(err) });
  }
});
