/**
 * The coarse search's sweep on two threads (Node): a helper worker (kept idle between searches,
 * unref'd) takes poses from the same shared counter as the main thread. The main thread never
 * waits for the worker to start: if the worker is slow to come up (or the machine's other core
 * is busy), the main thread just takes more of the poses. Results do not depend on the split.
 */
import type { Worker } from 'node:worker_threads';
import { startTsWorker } from '../parallel/ts-worker-node';
import { CLIMB_OUT, climbPicksAsync, sweepAsync, sweepShared, type ClimbJob, type SweepJob, type SweepShared } from './coarse-search';
import type { FixedSpectra } from './ratio-search';

let idle: Worker | undefined;

const start = () => startTsWorker(new URL('./coarse-search.worker.ts', import.meta.url));

/** Start the helper worker now (it takes a few hundred ms to load), e.g. when a registration starts. */
export function prewarmSearch(): void {
  if (idle) return;
  idle = start();
  idle.unref();
  idle.on('error', () => { idle = undefined; });
}

/**
 * Run `here` on this thread while the helper worker runs `msg` (both take work from the same
 * shared counter); resolves with how many units the helper did (-1: it failed).
 */
async function withHelper(msg: object, here: () => Promise<unknown>): Promise<number> {
  const w = idle ?? start();
  idle = undefined;
  w.removeAllListeners();
  w.ref();
  const helper = new Promise<number>((resolve) => {
    w.on('message', (m: { done?: number }) => resolve(m.done ?? 0));
    // a failed helper leaves its poses to the main thread... unless it took one and died: checked by the caller
    w.on('error', () => resolve(-1));
    w.on('exit', () => resolve(-1));
  });
  w.postMessage(msg);
  try {
    await here();
  } finally {
    // on a throw here the helper still finishes its unit; it is kept or dropped when it answers
    void helper.then((byHelper) => {
      w.removeAllListeners();
      if (byHelper >= 0 && !idle) { w.unref(); w.on('error', () => { if (idle === w) idle = undefined; }); idle = w; } else void w.terminate();
    });
  }
  return helper;
}

/** Sweep all poses of `job` on this thread and the helper; returns the shared results and how many poses the helper did. */
export async function sweepTwoThreads(job: SweepJob, fixed: FixedSpectra, stop: () => boolean, onPose: () => void) {
  const sh = sweepShared(job.poses.length / 2, true);
  const byHelper = await withHelper({ job, next: sh.next, out: sh.out }, () => sweepAsync(job, sh, fixed, stop, onPose));
  return { sh, byHelper, ok: byHelper >= 0 };
}

/** Climb the picked poses of `job` on this thread and the helper; the shared results (CLIMB_OUT per pose, NaN where not done). */
export async function climbTwoThreads(job: ClimbJob, stop: () => boolean, onPose?: () => void): Promise<SweepShared> {
  const sh: SweepShared = { next: new Int32Array(new SharedArrayBuffer(4)), out: new Float64Array(new SharedArrayBuffer(8 * CLIMB_OUT * (job.picks.length / 5))).fill(NaN) };
  await withHelper({ climb: job, next: sh.next, out: sh.out }, () => climbPicksAsync(job, sh, stop, onPose));
  return sh;
}
