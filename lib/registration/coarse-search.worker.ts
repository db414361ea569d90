/**
 * Helper worker of the coarse search (coarse-search.ts): message in { job, next, out } for the sweep
 * or { climb, next, out } for the climb of the best poses (next and out on SharedArrayBuffers),
 * takes poses until none is left, message out { done }.
 * Kept alive between searches by coarse-search-node.ts.
 */
import { parentPort } from 'node:worker_threads';
import { climbPicks, sweep, type ClimbJob, type SweepJob } from './coarse-search';

parentPort?.on('message', (m: { job?: SweepJob; climb?: ClimbJob; next: Int32Array; out: Float64Array }) => {
  try {
    const sh = { next: m.next, out: m.out };
    parentPort?.postMessage({ done: m.climb ? climbPicks(m.climb, sh) : sweep(m.job!, sh) });
  } catch (err) {
    parentPort?.postMessage({ error: err instanceof Error ? err.message : String(err) });
  }
});
