/**
 * Automatic initial alignment of an EDS map on the surface slab, without landmarks.
 * Scale comes from the two pixel sizes. Rotation is searched over the full circle for both
 * handednesses (mirrored maps), translation exhaustively by FFT (ratio-search.ts) on a coarse
 * grid of ~40 pixels; the best few poses are then refined on the full-resolution slab by a
 * direct local search over angle and translation. The score, the correlation ratio, is blind to
 * which grey a mineral has, so contrast inversion is fine, and it only counts the overlap, so a
 * map covering part of the surface (or hanging over its edge) is fine.
 */
import type { Affine2 } from '../coords';
import { throwIfAborted, unprocessable, type StageOptions } from '../errors';
import { coarseGrid } from './map-scale';
import type { MovingImage } from './moving-image';
import { poseToAffine, type Pose } from './pose';
import { CLIMB_OUT, climbPicks, climbPicksAsync, climbPose, sweep, sweepAsync, sweepShared, sweepUnits, type Candidate, type ClimbJob, type SweepJob, type SweepShared } from './coarse-search';
import { prepareFixed, type FixedSpectra } from './ratio-search';
import type { CoarseAlignment, Slab } from './types';

export interface CoarseAlignOptions extends StageOptions {
  /** slab pixel size, micrometres (the voxel size along x) */
  voxelUm: number;
  /** EDS pixel size, micrometres (default: the moving image's own) */
  edsPixelUm?: number;
  /**
   * coarse angle step, degrees (default 7.5, 24 templates for 96 poses: the hill climb recovers
   * ±3.75°). On 55 synthetic cases (the registration tests' and bench register's) 6°, 7.5° and 9°
   * end at the very same poses; 10° loses one case (a 34 px map at 40 % coverage) and 12° two.
   */
  angleStepDeg?: number;
  /** restrict the handedness search (default: try both) */
  mirrored?: boolean;
  /** minimum overlap as a share of the smaller of map and slab area (default 0.4) */
  minOverlap?: number;
  /** threads of the rotation sweep (default 1; 2 adds a helper worker thread, Node only) */
  threads?: number;
}

/** Block-mean downsample by f, standardised, with the valid fraction as mask. */
function coarseSlab(slab: Slab, f: number) {
  const w = Math.ceil(slab.width / f), h = Math.ceil(slab.height / f);
  const grey = new Float64Array(w * h), mask = new Float64Array(w * h);
  let s = 0, ss = 0, n = 0;
  for (const g of slab.data) if (g === g) { s += g; ss += g * g; n++; }
  if (n === 0) throw unprocessable('The surface slab is empty: the plane does not cut the volume.');
  const mean = s / n, sd = Math.sqrt(Math.max(1e-12, ss / n - mean * mean));
  for (let v = 0; v < slab.height; v++) for (let u = 0; u < slab.width; u++) {
    const g = slab.data[v * slab.width + u];
    if (g !== g) continue;
    const i = Math.floor(v / f) * w + Math.floor(u / f);
    grey[i] += (g - mean) / sd; mask[i] += 1;
  }
  for (let i = 0; i < w * h; i++) {
    if (mask[i] > 0) grey[i] /= mask[i];
    mask[i] /= f * f;
  }
  return { w, h, grey, mask, validArea: n };
}

async function coarseSearch(slab: Slab, mov: MovingImage, scale: number, opts: CoarseAlignOptions): Promise<Candidate[]> {
  // ~40 coarse pixels across the slab, every translation that leaves some overlap (map-scale.ts)
  const { f, size, n } = coarseGrid(slab.width, slab.height, mov.width, mov.height, scale);
  const cs = coarseSlab(slab, f);
  const fixed: FixedSpectra = prepareFixed(cs.grey, cs.mask, cs.w, cs.h, n);
  const mapArea = (scale * scale * mov.classified) / (f * f);
  const expected = Math.min(mapArea, cs.validArea / (f * f));
  const minOverlap = (opts.minOverlap ?? 0.4) * expected;
  const step = opts.angleStepDeg ?? 7.5;
  const hands = opts.mirrored === undefined ? [false, true] : [opts.mirrored];
  const poses = hands.flatMap((m) => Array.from({ length: Math.ceil(360 / step) }, (_, i) => [i * step, m ? 1 : 0])).flat();
  const job: SweepJob = {
    grey: cs.grey, mask: cs.mask, w: cs.w, h: cs.h, n, labels: mov.labels, mw: mov.width, mh: mov.height, classes: mov.classes,
    scale, f, size, minOverlap, expected, poses: Float64Array.from(poses), ...sweepUnits(step, hands),
  };
  const total = poses.length / 2;
  let done = 0;
  const stop = () => !!opts.signal?.aborted;
  const onPose = () => opts.onProgress?.((0.8 * ++done) / total, 'searching rotation and translation');
  let sh: SweepShared;
  if ((opts.threads ?? 1) > 1) {
    // imported lazily: worker_threads is Node-only
    const { sweepTwoThreads } = await import('./coarse-search-node');
    sh = (await sweepTwoThreads(job, fixed, stop, onPose)).sh;
  } else {
    sh = sweepShared(total, false);
    await sweepAsync(job, sh, fixed, stop, onPose);
  }
  throwIfAborted(opts.signal);
  const out: Candidate[] = [];
  for (let i = 0; i < total; i++) {
    if (Number.isNaN(sh.out[3 * i + 2])) {
      // the helper worker died while on this pose: do it here
      const one = sweepShared(1, false);
      sweep({ ...job, unitBase: job.poses.subarray(2 * i, 2 * i + 2), unitPoses: Int32Array.of(0, -1, -1, -1) }, one, fixed);
      sh.out.set(one.out, 3 * i);
    }
    const [tx, ty, score] = sh.out.subarray(3 * i, 3 * i + 3);
    const pose: Pose = { thetaDeg: poses[2 * i], mirrored: poses[2 * i + 1] === 1, scale, cx: 0, cy: 0 };
    const c = (size * f) / 2 - 0.5 + tx * f, d = (size * f) / 2 - 0.5 + ty * f;
    if (score > -Infinity) out.push({ ...pose, cx: c, cy: d, score });
  }
  return out.sort((p, q) => q.score - p.score);
}

const distinct = (p: Pose, q: Pose) =>
  p.mirrored !== q.mirrored || Math.abs(((p.thetaDeg - q.thetaDeg + 540) % 360) - 180) > 15 || Math.hypot(p.cx - q.cx, p.cy - q.cy) > 8;

/** Pose (closest similarity) of an EDS -> slab affine; inverse of poseToAffine for similarities. */
export function affineToPose(m: Affine2, mw: number, mh: number): Pose {
  const mirrored = m[0] * m[4] - m[1] * m[3] < 0;
  // undo the u mirror: columns (a, d) -> (-a, -d)
  const a = mirrored ? -m[0] : m[0], d = mirrored ? -m[3] : m[3];
  const ex = (mw - 1) / 2, ey = (mh - 1) / 2;
  return {
    thetaDeg: (Math.atan2(d - m[1], a + m[4]) * 180) / Math.PI,
    mirrored,
    scale: Math.sqrt(Math.abs(m[0] * m[4] - m[1] * m[3])),
    cx: m[0] * ex + m[1] * ey + m[2],
    cy: m[3] * ex + m[4] * ey + m[5],
  };
}

/**
 * Local refinement of a given EDS -> slab pose (from landmarks or a previous run) by the same
 * correlation-ratio hill climb as the automatic search. Returns the refined affine and score.
 */
export function refineAffineByRatio(slab: Slab, mov: MovingImage, init: Affine2, minOverlapShare = 0.4): { edsToSlab: Affine2; score: number } {
  const pose = affineToPose(init, mov.width, mov.height);
  let valid = 0;
  for (const g of slab.data) if (g === g) valid++;
  const expected = Math.min(pose.scale * pose.scale * mov.classified, valid);
  const best = climbPose(slab, mov, { ...pose, score: -Infinity }, minOverlapShare * expected, expected);
  return { edsToSlab: poseToAffine(best, mov.width, mov.height), score: best.score };
}

export async function coarseAlign(slab: Slab, mov: MovingImage, opts: CoarseAlignOptions): Promise<CoarseAlignment> {
  const scale = (opts.edsPixelUm ?? mov.pixelUm) / opts.voxelUm;
  const all = await coarseSearch(slab, mov, scale, opts);
  if (!all.length) throw unprocessable('The EDS map does not overlap the volume surface at its stated pixel size: check the EDS and XRM pixel sizes.');
  const picks: Candidate[] = [];
  for (const c of all) if (picks.length < 8 && picks.every((p) => distinct(p, c))) picks.push(c);
  const mapArea = scale * scale * mov.classified;
  let valid = 0;
  for (const g of slab.data) if (g === g) valid++;
  const expected = Math.min(mapArea, valid);
  const minOverlap = (opts.minOverlap ?? 0.4) * expected;
  // Rank the refined poses by mutual information: on small maps a wrong pose can reach the true
  // pose's correlation ratio, while MI (which also sees texture, e.g. feldspar lamellae, as
  // spread within a class) kept them apart (synthetic case: MI 0.74 true vs 0.37 wrong, eta^2 0.56 vs 0.56).
  // Each pose is climbed on its own, so two threads share them like the sweep (same results).
  opts.onProgress?.(0.8, 'refining the best poses');
  const job: ClimbJob = {
    slab: { data: slab.data, width: slab.width, height: slab.height }, mov, minOverlap, expected,
    picks: Float64Array.from(picks.flatMap((p) => [p.thetaDeg, p.mirrored ? 1 : 0, p.scale, p.cx, p.cy])),
  };
  const stop = () => !!opts.signal?.aborted;
  let done = 0;
  const onPose = () => opts.onProgress?.(0.8 + (0.2 * ++done) / picks.length, 'refining the best poses');
  let sh: SweepShared;
  if ((opts.threads ?? 1) > 1) {
    const { climbTwoThreads } = await import('./coarse-search-node');
    sh = await climbTwoThreads(job, stop, onPose);
  } else {
    sh = { next: new Int32Array(1), out: new Float64Array(CLIMB_OUT * picks.length).fill(NaN) };
    await climbPicksAsync(job, sh, stop, onPose);
  }
  throwIfAborted(opts.signal);
  const refined = picks.map((p, i) => {
    if (Number.isNaN(sh.out[CLIMB_OUT * i + 4])) {
      // the helper worker died while on this pose: climb it here
      const one = { next: new Int32Array(1), out: new Float64Array(CLIMB_OUT).fill(NaN) };
      climbPicks({ ...job, picks: job.picks.subarray(5 * i, 5 * i + 5) }, one);
      sh.out.set(one.out, CLIMB_OUT * i);
    }
    const [thetaDeg, cx, cy, ratio, score] = sh.out.subarray(CLIMB_OUT * i, CLIMB_OUT * i + CLIMB_OUT);
    return { ...p, thetaDeg, cx, cy, ratio, score };
  }).sort((p, q) => q.score - p.score);
  const best = refined[0];
  const second = refined.find((p) => distinct(p, best))?.score ?? all.find((p) => distinct(p, best))?.score ?? 0;
  opts.onProgress?.(1, 'initial alignment found');
  return {
    edsToSlab: poseToAffine(best, mov.width, mov.height),
    rotationDeg: ((best.thetaDeg % 360) + 360) % 360,
    mirrored: best.mirrored,
    scale,
    score: best.ratio,
    mi: best.score,
    secondMi: second,
  };
}
