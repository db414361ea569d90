/**
 * Worker thread of predictVolume: its own TF.js wasm engine; per brick predictBrickToStores
 * (brick-write-node.ts, also what `petromap worker` threads run): features (mirrored above the
 * surface when the model was trained so), class probabilities, the brick's chunks of the three
 * output stores, then its `.done` marker (temp name + rename).
 *
 * Several of these workers write the same stores at once, each through its own store instances, so
 * a brick must own whole chunks: bricks come from chunkGrid with the outputs' chunk shape and every
 * write passes `wholeChunks: true` (a misaligned brick throws instead of read-modify-writing a
 * chunk another worker is writing).
 */
import { parentPort } from 'node:worker_threads';
import type { Box3 } from '../volume/types';
import { openPredictTarget, predictBrickToStores, type PredictTarget } from './brick-write-node';
import type { SurfacePlane } from './mirror';

export interface PredictInit {
  type: 'init';
  storePath: string;
  modelDir: string;
  outDir: string;
  mirror: SurfacePlane | null;
  /** the run of predict.json (bricks are written only while the folder holds it) */
  outRunId?: string;
}

export type PredictReply =
  | { type: 'ready' }
  | { type: 'done'; box: Box3; ms: number }
  | { type: 'error'; message: string; tag?: string };

let target: PredictTarget | null = null;

async function onInit(m: PredictInit) {
  target = await openPredictTarget({ storePath: m.storePath, modelDir: m.modelDir, outDir: m.outDir, mirror: m.mirror, outRunId: m.outRunId });
}

async function onBrick(box: Box3) {
  if (!target) throw new Error('worker not initialised');
  return (await predictBrickToStores(target, box)).ms;
}

parentPort!.on('message', (m: PredictInit | { type: 'brick'; box: Box3 }) => {
  const run = m.type === 'init' ? onInit(m).then(() => parentPort!.postMessage({ type: 'ready' } satisfies PredictReply)) : onBrick(m.box).then((ms) => parentPort!.postMessage({ type: 'done', box: m.box, ms } satisfies PredictReply));
  run.catch((err: unknown) => {
    const e = err as { message?: string; _tag?: string };
    parentPort!.postMessage({ type: 'error', message: e?.message ?? String(err), tag: e?._tag } satisfies PredictReply);
  });
});
