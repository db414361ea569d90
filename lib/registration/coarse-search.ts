/**
 * The rotation x handedness sweep of the automatic search (coarse-align.ts), in a form that two
 * threads can share: units of poses (sweepUnits) are taken one at a time from a shared counter and each result is
 * written to its slot in a shared array, so the main thread and a helper worker
 * (coarse-search-node.ts) split the sweep whatever speed each gets, and the result does not depend
 * on who computed which pose. Without a worker the main thread simply takes every pose.
 */
import { invertAffine2 } from '../coords';
import type { MovingImage } from './moving-image';
import { poseToAffine, scoreAffine, type Pose } from './pose';
import { mutualInformationOverlap } from './quality';
import { overlapPenalty, prepareFixed, searchSpectra, templateSpectra, type FixedSpectra, type Reflection } from './ratio-search';
import type { Slab } from './types';
import { nextTurn } from './yield-unit';

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
  /**
   * units of work, each one template (one forward FFT per class pair): [thetaDeg, mirrored 0/1]
   * of the template per unit, and per unit the pose indices (or -1) it serves as is, turned by
   * 180°, reflected in x and in y (sweepUnits)
   */
  unitBase: Float64Array;
  unitPoses: Int32Array;
}

const REFLECTIONS: Reflection[] = ['none', 'point', 'x', 'y'];

/**
 * Group the poses (angles i * step for each hand in `hands`, pose index = hand * count + i) into
 * units sharing one template: the map turned by theta + 180° is the template turned about its
 * centre, and the mirrored map at -theta (180° - theta) is the template reflected in x (in y),
 * so one template at theta in [0°, 180°) serves four poses. Needs 180 / step whole; else one unit per pose.
 */
export function sweepUnits(step: number, hands: boolean[]): { unitBase: Float64Array; unitPoses: Int32Array } {
  const count = Math.ceil(360 / step);
  const idx = (deg: number, m: boolean) => {
    const h = hands.indexOf(m);
    return h < 0 ? -1 : h * count + Math.round((((deg % 360) + 360) % 360) / step);
  };
  const base: number[] = [], slots: number[] = [];
  if (Number.isInteger(180 / step)) {
    for (let i = 0; i * step < 180; i++) {
      const t = i * step;
      base.push(t, 0);
      slots.push(idx(t, false), idx(t + 180, false), idx(-t, true), idx(180 - t, true));
    }
  } else {
    hands.forEach((m) => { for (let i = 0; i < count; i++) { base.push(i * step, m ? 1 : 0); slots.push(idx(i * step, m), -1, -1, -1); } });
  }
  return { unitBase: Float64Array.from(base), unitPoses: Int32Array.from(slots) };
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
 * Take units 0..count-1 from the shared counter `sh.next` until none is left, calling `work(unit)`
 * for each; `stop()` ends every thread's loop (the counter is set past the end).
 */
function takeUnits(sh: SweepShared, count: number, stop: (() => boolean) | undefined, work: (unit: number) => void): void {
  for (;;) {
    if (stop?.()) { Atomics.store(sh.next, 0, count); return; }
    const u = Atomics.add(sh.next, 0, 1);
    if (u >= count) return;
    work(u);
  }
}

/**
 * takeUnits for the thread that owns the job's AbortSignal: it yields to the event loop before
 * each unit, so an abort (a job's Cancel, a timer) is seen between units, not only at the end.
 */
async function takeUnitsAsync(sh: SweepShared, count: number, stop: (() => boolean) | undefined, work: (unit: number) => void): Promise<void> {
  for (;;) {
    await nextTurn();
    if (stop?.()) { Atomics.store(sh.next, 0, count); return; }
    const u = Atomics.add(sh.next, 0, 1);
    if (u >= count) return;
    work(u);
  }
}

/**
 * Take units of poses from `sh.next` until none is left (or `stop()` says so), writing each pose's
 * best translation to `sh.out`. Returns how many poses this thread did.
 */
export function sweep(job: SweepJob, sh: SweepShared, fixed?: FixedSpectra, stop?: () => boolean, onPose?: () => void): number {
  const s = sweepUnit(job, sh, fixed, onPose);
  takeUnits(sh, s.units, stop, s.work);
  return s.done();
}

/** sweep on the thread that owns the AbortSignal: yields to the event loop between units (takeUnitsAsync). */
export async function sweepAsync(job: SweepJob, sh: SweepShared, fixed?: FixedSpectra, stop?: () => boolean, onPose?: () => void): Promise<number> {
  const s = sweepUnit(job, sh, fixed, onPose);
  await takeUnitsAsync(sh, s.units, stop, s.work);
  return s.done();
}

/** One unit of the sweep (a template and the up to 4 poses it serves) and the count of poses done. */
function sweepUnit(job: SweepJob, sh: SweepShared, fixed?: FixedSpectra, onPose?: () => void) {
  const fx = fixed ?? prepareFixed(job.grey, job.mask, job.w, job.h, job.n);
  const mov = { width: job.mw, height: job.mh, labels: job.labels, classes: job.classes };
  const units = job.unitBase.length / 2;
  let done = 0;
  const work = (u: number) => {
    const base: Pose = { thetaDeg: job.unitBase[2 * u], mirrored: job.unitBase[2 * u + 1] === 1, scale: job.scale, cx: 0, cy: 0 };
    const spec = templateSpectra(coarseTemplate(mov, base, job.f, job.size), job.size, job.size, job.n);
    for (let r = 0; r < 4; r++) {
      const i = job.unitPoses[4 * u + r];
      if (i < 0) continue;
      const hit = searchSpectra(fx, spec, job.size, REFLECTIONS[r], job.minOverlap, job.expected);
      sh.out.set([hit.tx, hit.ty, hit.score], 3 * i);
      done++;
      onPose?.();
    }
  };
  return { units, work, done: () => done };
}

/** A pose and its score (the correlation ratio, overlap-damped). */
export interface Candidate extends Pose { score: number }

/** Hill-climb a pose on the full-resolution slab: angle, then centre, with shrinking steps. */
export function climbPose(slab: Pick<Slab, 'data' | 'width' | 'height'>, mov: MovingImage, p: Candidate, minOverlap: number, expected: number): Candidate {
  // a step back to the pose just left lands on the same floats (~1 call in 4): scored once
  const seen = new Map<string, number>();
  const score = (q: Pose) => {
    const key = `${q.thetaDeg} ${q.cx} ${q.cy}`;
    let v = seen.get(key);
    if (v === undefined) {
      const r = scoreAffine(slab.data, slab.width, slab.height, mov, invertAffine2(poseToAffine(q, mov.width, mov.height)));
      v = r.overlap >= minOverlap ? r.score * overlapPenalty(r.overlap, expected) : -Infinity;
      seen.set(key, v);
    }
    return v;
  };
  let best: Candidate = { ...p, score: score(p) };
  for (const [da, dt] of [[2, 2], [1, 1], [0.5, 0.5], [0.25, 0.25], [0.1, 0.1], [0.05, 0.05]]) {
    let improved = true;
    while (improved) {
      improved = false;
      for (const [ka, kx, ky] of [[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]]) {
        const q = { ...best, thetaDeg: best.thetaDeg + ka * da, cx: best.cx + kx * dt, cy: best.cy + ky * dt };
        const s = score(q);
        if (s > best.score) { best = { ...q, score: s }; improved = true; }
      }
    }
  }
  return best;
}

/**
 * The search's second step on two threads like the sweep: the best few poses of the sweep, each
 * climbed (climbPose) and scored by mutual information. Structured-clonable.
 */
export interface ClimbJob {
  slab: Pick<Slab, 'data' | 'width' | 'height'>;
  mov: MovingImage;
  /** per pose: thetaDeg, mirrored 0/1, scale, cx, cy */
  picks: Float64Array;
  minOverlap: number;
  expected: number;
}

/** Per pose of ClimbJob, in `out`: thetaDeg, cx, cy, correlation ratio (climbed), MI damped by the overlap (NaN: not done). */
export const CLIMB_OUT = 5;

/** Climb poses of `job` taken from `sh.next` until none is left; returns how many this thread did. */
export function climbPicks(job: ClimbJob, sh: SweepShared, stop?: () => boolean, onPose?: () => void): number {
  const c = climbUnit(job, sh, onPose);
  takeUnits(sh, c.count, stop, c.work);
  return c.done();
}

/** climbPicks on the thread that owns the AbortSignal: yields to the event loop between poses. */
export async function climbPicksAsync(job: ClimbJob, sh: SweepShared, stop?: () => boolean, onPose?: () => void): Promise<number> {
  const c = climbUnit(job, sh, onPose);
  await takeUnitsAsync(sh, c.count, stop, c.work);
  return c.done();
}

/** The climb of one picked pose and the count of poses done. */
function climbUnit(job: ClimbJob, sh: SweepShared, onPose?: () => void) {
  const count = job.picks.length / 5;
  let done = 0;
  const work = (i: number) => {
    const [thetaDeg, mirrored, scale, cx, cy] = job.picks.subarray(5 * i, 5 * i + 5);
    const r = climbPose(job.slab, job.mov, { thetaDeg, mirrored: mirrored === 1, scale, cx, cy, score: -Infinity }, job.minOverlap, job.expected);
    const m = mutualInformationOverlap(job.slab, job.mov, poseToAffine(r, job.mov.width, job.mov.height));
    sh.out.set([r.thetaDeg, r.cx, r.cy, r.score, m.mi * overlapPenalty(m.overlap, job.expected)], CLIMB_OUT * i);
    done++;
    onPose?.();
  };
  return { count, work, done: () => done };
}
