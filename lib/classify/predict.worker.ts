/**
 * Worker thread of predictVolume: its own TF.js wasm engine; per brick: features (mirrored above the
 * surface when the model was trained so), class probabilities, writes the brick's chunks of the
 * three output stores, then its `.done` marker (temp name + rename).
 *
 * Several of these workers write the same stores at once, each through its own store instances, so
 * a brick must own whole chunks: bricks come from chunkGrid with the outputs' chunk shape and every
 * write passes `wholeChunks: true` (a misaligned brick throws instead of read-modify-writing a
 * chunk another worker is writing).
 */
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parentPort } from 'node:worker_threads';
import { featuresForBox } from '../features';
import { openVolume } from '../volume/zarr-store-node';
import type { VolumeStore } from '../volume/store';
import type { Box3 } from '../volume/types';
import { brickOutputs, markerName } from './brick-predict';
import { mirrorAboveSurface, type SurfacePlane } from './mirror';
import { predictRows, type TrainedModel } from './model';
import { loadModel } from './model-io-node';

export interface PredictInit {
  type: 'init';
  storePath: string;
  modelDir: string;
  outDir: string;
  mirror: SurfacePlane | null;
}

export type PredictReply =
  | { type: 'ready' }
  | { type: 'done'; box: Box3; ms: number }
  | { type: 'error'; message: string; tag?: string };

let state: { model: TrainedModel; src: VolumeStore; outs: { labels: VolumeStore; probs: VolumeStore; unc: VolumeStore }; init: PredictInit } | null = null;

async function onInit(m: PredictInit) {
  const model = await loadModel(m.modelDir);
  const store = await openVolume(m.storePath);
  const src = m.mirror ? mirrorAboveSurface(store, m.mirror) : store;
  const outs = {
    labels: await openVolume(join(m.outDir, 'labels.ome.zarr')),
    probs: await openVolume(join(m.outDir, 'probabilities.ome.zarr')),
    unc: await openVolume(join(m.outDir, 'uncertainty.ome.zarr')),
  };
  state = { model, src, outs, init: m };
}

async function onBrick(box: Box3) {
  if (!state) throw new Error('worker not initialised');
  const t0 = Date.now();
  const { model, src, outs, init } = state;
  const f = await featuresForBox(src, box, model.featureSet!);
  const n = box.shape[0] * box.shape[1] * box.shape[2];
  const p = await predictRows(model, f.data, n);
  const o = brickOutputs(p, model.classes, box, init.mirror ?? undefined);
  await outs.labels.writeBlock(box, o.labels, { wholeChunks: true });
  for (let k = 0; k < o.probabilities.length; k++) await outs.probs.writeBlock(box, o.probabilities[k], { channel: k, wholeChunks: true });
  await outs.unc.writeBlock(box, o.uncertainty, { wholeChunks: true });
  const marker = join(init.outDir, 'bricks', markerName(box));
  const tmp = `${marker}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  await writeFile(tmp, JSON.stringify({ box, ms: Date.now() - t0 }));
  await rename(tmp, marker);
  return Date.now() - t0;
}

parentPort!.on('message', (m: PredictInit | { type: 'brick'; box: Box3 }) => {
  const run = m.type === 'init' ? onInit(m).then(() => parentPort!.postMessage({ type: 'ready' } satisfies PredictReply)) : onBrick(m.box).then((ms) => parentPort!.postMessage({ type: 'done', box: m.box, ms } satisfies PredictReply));
  run.catch((err: unknown) => {
    const e = err as { message?: string; _tag?: string };
    parentPort!.postMessage({ type: 'error', message: e?.message ?? String(err), tag: e?._tag } satisfies PredictReply);
  });
});
