/**
 * Worker thread of a `petromap worker` process: computes prediction bricks with its own TF.js wasm
 * engine through predictBrickToStores (the same code as predictVolume's threads), and feature
 * bricks of training sets through computeFeatureBrick (feature-brick-node.ts). Keeps the opened
 * model, stores and feature runs of the last few runs. Messages: BrickThreadRequest in,
 * BrickThreadReply out. Cancelling a brick terminates the thread (the owner starts a new one).
 */
import { parentPort } from 'node:worker_threads';
import { openPredictTarget, predictBrickToStores, type PredictTarget, type PredictTargetSpec } from '../classify/brick-write-node';
import type { Box3 } from '../volume/types';
import { computeFeatureBrick, openFeatureRun, type FeatureBrickSpec } from './feature-brick-node';

export type BrickThreadRequest =
  | { type: 'brick'; id: number; runId: string; spec: PredictTargetSpec; box: Box3; extra?: Record<string, unknown> }
  | { type: 'features'; id: number; runId: string; spec: FeatureBrickSpec };

export type BrickThreadReply =
  | { type: 'done'; id: number; ms: number; voxels: number }
  | { type: 'error'; id: number; message: string; tag?: string };

const opened = new Map<string, Promise<unknown>>();

function cached<T>(key: string, open: () => Promise<T>): Promise<T> {
  let t = opened.get(key) as Promise<T> | undefined;
  if (!t) {
    t = open();
    t.catch(() => opened.delete(key));
    opened.set(key, t);
    while (opened.size > 4) opened.delete(opened.keys().next().value!);
  }
  return t;
}

const target = (runId: string, spec: PredictTargetSpec): Promise<PredictTarget> => cached(`${runId}\n${JSON.stringify(spec)}`, () => openPredictTarget(spec));

function run(m: BrickThreadRequest): Promise<{ ms: number; voxels: number }> {
  if (m.type === 'features') {
    return cached(`${m.runId}\nfeatures\n${m.spec.storePath}\n${m.spec.runDir}`, () => openFeatureRun(m.spec.storePath, m.spec.runDir)).then((o) => computeFeatureBrick(o, m.spec));
  }
  return target(m.runId, m.spec).then((t) => predictBrickToStores(t, m.box, { extra: m.extra }));
}

parentPort!.on('message', (m: BrickThreadRequest) => {
  run(m)
    .then((r) => parentPort!.postMessage({ type: 'done', id: m.id, ms: r.ms, voxels: r.voxels } satisfies BrickThreadReply))
    .catch((err: unknown) => {
      const e = err as { message?: string; _tag?: string };
      parentPort!.postMessage({ type: 'error', id: m.id, message: e?.message ?? String(err), tag: e?._tag } satisfies BrickThreadReply);
    });
});
