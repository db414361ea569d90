/**
 * Worker entry of the elastix refinement: message in -> refineWithElastix -> message out. The
 * worker stays alive between registrations so that the elastix wasm module stays loaded
 * (elastix-wasm-node.ts); the parent terminates it to cancel (the wasm call cannot be interrupted
 * otherwise) and starts a new one next time. One request at a time (the parent waits for the reply).
 * Messages: in { images: RefineImages, init: Affine2, options } or { warm: true } (load elastix
 * now, before it is needed); out { type: 'progress' | 'done' | 'error' }.
 */
import { parentPort } from 'node:worker_threads';
import { refineWithElastix, warmElastix, type RefineImages, type RefineOptions } from './elastix-refine';
import type { Affine2 } from '../coords';

interface RefineRequest {
  warm?: boolean;
  images: RefineImages;
  init: Affine2;
  options: Omit<RefineOptions, 'onStage'>;
}

parentPort?.on('message', (req: RefineRequest) => {
  void (async () => {
    try {
      if (req.warm) {
        await warmElastix();
        parentPort?.postMessage({ type: 'done' });
        return;
      }
      const edsToSlab = await refineWithElastix(req.images, req.init, {
        ...req.options,
        onStage: (stage, stages) => parentPort?.postMessage({ type: 'progress', fraction: stage / stages, message: `elastix stage ${stage + 1} of ${stages}` }),
      });
      parentPort?.postMessage({ type: 'done', edsToSlab });
    } catch (err) {
      parentPort?.postMessage({ type: 'error', message: err instanceof Error ? err.message : String(err) });
    }
  })();
});
