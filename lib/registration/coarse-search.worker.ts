/**
 * Helper worker of the coarse search's sweep (coarse-search.ts): message in { job, next, out }
 * (next and out on SharedArrayBuffers), takes poses until none is left, message out { done }.
 * Kept alive between searches by coarse-search-node.ts.
 */
import { parentPort } from 'node:worker_threads';
import { sweep, type SweepJob } from './coarse-search';

parentPort?.on('message', (m: { job: SweepJob; next: Int32Array; out: Float64Array }) => {
  try {
    parentPort?.postMessage({ done: sweep(m.job, { next: m.next, out: m.out }) });
  } catch (err) {
    parentPort?.postMessage({ error: err instanceof Error ? err.message : String(err) });
  }
});
