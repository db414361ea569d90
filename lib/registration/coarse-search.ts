/**
 * The rotation x handedness sweep of the automatic search (coarse-align.ts), in a form that two
 * threads can share: the poses are taken one at a time from a shared counter and each result is
 * written to its slot in a shared array, so the main thread and a helper worker
 * (coarse-search-node.ts) split the sweep whatever speed each gets, and the result does not depend
 * on who computed which pose. Without a worker the main thread simply takes every pose.
 */
import { invertAffine2 } from '../coords';
import type { MovingImage } from './moving-image';
import { poseToAffine, type Pose } from './pose';
import { prepareFixed, searchTranslation, type FixedSpectra } from './ratio-search';

/** Everything a thread needs for the sweep (structured-clonable). */
export interface SweepJob {
  /** coarse slab: standardised grey and valid fraction, w x h, FFT size n */
  grey: Float64Array;
  mask: Float64Array;
  w: number;
  h: number;
  n: number;
  /** map labels and geometry (MovingImage's) */
  labels: Uint8Array;
  mw: number;
  mh: number;
  classes: number;
  scale: number;
  /** coarse factor and template size */
  f: number;
  size: number;
  minOverlap: number;
  expected: number;
  /** poses: [thetaDeg, mirrored 0/1] per pose */
  poses: Float64Array;
}

/** Shared state: next[0] is the next pose to take; out holds tx, ty, score per pose. */
export interface SweepShared { next: Int32Array; out: Float64Array }

export function sweepShared(poses: number, shared: boolean): SweepShared {
  const mk = (bytes: number) => (shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
  // NaN: not done (a helper that died mid-pose leaves its pose to the main thread)
  return { next: new Int32Array(mk(4)), out: new Float64Array(mk(poses * 3 * 8)).fill(NaN) };
}

/** Class-indicator images of the map rotated by the pose, on the coarse grid (2x2 supersampling). */
export function coarseTemplate(mov: Pick<MovingImage, 'width' | 'height' | 'labels' | 'classes'>, p: Pose, f: number, size: number): Float64Array[] {
  const inv = invertAffine2(poseToAffine({ ...p, cx: (size * f) / 2 - 0.5, cy: (size * f) / 2 - 0.5 }, mov.width, mov.height));
  const ind = Array.from({ length: mov.classes }, () => new Float64Array(size * size));
  const offs = [0.25 * f - 0.5, 0.75 * f - 0.5];
  for (let qy = 0; qy < size; qy++) for (let qx = 0; qx < size; qx++) {
    for (const oy of offs) for (const ox of offs) {
      const x = qx * f + ox, y = qy * f + oy;
      const iu = Math.round(inv[0] * x + inv[1] * y + inv[2]), iv = Math.round(inv[3] * x + inv[4] * y + inv[5]);
      if (iu < 0 || iv < 0 || iu >= mov.width || iv >= mov.height) continue;
      const k = mov.labels[iv * mov.width + iu];
      if (k < mov.classes) ind[k][qy * size + qx] += 0.25;
    }
  }
  return ind;
}

/**
 * Take poses from `sh.next` until none is left (or `stop()` says so), writing each best
 * translation to `sh.out`. Returns how many poses this thread did.
 */
export function sweep(job: SweepJob, sh: SweepShared, fixed?: FixedSpectra, stop?: () => boolean, onPose?: () => void): number {
  const fx = fixed ?? prepareFixed(job.grey, job.mask, job.w, job.h, job.n);
  const mov = { width: job.mw, height: job.mh, labels: job.labels, classes: job.classes };
  const total = job.poses.length / 2;
  let done = 0;
  for (;;) {
    if (stop?.()) { Atomics.store(sh.next, 0, total); break; }
    const i = Atomics.add(sh.next, 0, 1);
    if (i >= total) break;
    const pose: Pose = { thetaDeg: job.poses[2 * i], mirrored: job.poses[2 * i + 1] === 1, scale: job.scale, cx: 0, cy: 0 };
    const hit = searchTranslation(fx, coarseTemplate(mov, pose, job.f, job.size), job.size, job.size, job.minOverlap, job.expected);
    sh.out.set([hit.tx, hit.ty, hit.score], 3 * i);
    done++;
    onPose?.();
  }
  return done;
}
