/**
 * Worker thread of a `petromap worker` process: computes prediction bricks with its own TF.js wasm
 * engine through predictBrickToStores (the same code as predictVolume's threads). Keeps the opened
 * model and stores of the last few runs. Messages: BrickThreadRequest in, BrickThreadReply out.
 * Cancelling a brick terminates the thread (the owner starts a new one).
 */
import { parentPort } from 'node:worker_threads';
import { openPredictTarget, predictBrickToStores, type PredictTarget, type PredictTargetSpec } from '../classify/brick-write-node';
import type { Box3 } from '../volume/types';

export interface BrickThreadRequest {
  type: 'brick';
  id: number;
  runId: string;
  spec: PredictTargetSpec;
  box: Box3;
  extra?: Record<string, unknown>;
}

export type BrickThreadReply =
  | { type: 'done'; id: number; ms: number; voxels: number }
  | { type: 'error'; id: number; message: string; tag?: string };

const targets = new Map<string, Promise<PredictTarget>>();

function target(runId: string, spec: PredictTargetSpec): Promise<PredictTarget> {
  const key = `${runId}\n${JSON.stringify(spec)}`;
  let t = targets.get(key);
  if (!t) {
    t = openPredictTarget(spec);
    t.catch(() => targets.delete(key));
    targets.set(key, t);
    while (targets.size > 4) targets.delete(targets.keys().next().value!);
  }
  return t;
}

parentPort!.on('message', (m: BrickThreadRequest) => {
  target(m.runId, m.spec)
    .then((t) => predictBrickToStores(t, m.box, { extra: m.extra }))
    .then((r) => parentPort!.postMessage({ type: 'done', id: m.id, ms: r.ms, voxels: r.voxels } satisfies BrickThreadReply))
    .catch((err: unknown) => {
      const e = err as { message?: string; _tag?: string };
      parentPort!.postMessage({ type: 'error', id: m.id, message: e?.message ?? String(err), tag: e?._tag } satisfies BrickThreadReply);
    });
});
