/**
 * The searches of the 3D interior registration (register-3d.ts) on the smoothed masked NCC:
 * exhaustive coarse search over turn × shift, pattern-search polish, and the truth-free error
 * estimate from independent halves of the interior.
 */
import { throwIfAborted } from '../errors';
import { applyAffine3, footprintBox, poseAffine, type Affine3, type InteriorPose, type Vec3 } from '../upscale/interior-pose';
import { halve, maskedNcc, renderMoving, type Dense3 } from '../upscale/resample';

export function scorePose(fixed: Dense3, cStart: Vec3, moving: Dense3, f: number, m: Affine3, shape: Vec3): number {
  const box = footprintBox(m, shape);
  const bShape = box.end.map((e, a) => e - box.start[a]!) as Vec3;
  const img = { data: renderMoving(moving, f, m, box.start, bShape), shape: bShape };
  return maskedNcc(fixed, img, box.start.map((v, a) => v - cStart[a]!) as Vec3);
}

interface Candidate { angle: number; d: Vec3; ncc: number }

/** Exhaustive masked NCC over angle × shift at half resolution, then full resolution around the best few. */
export function coarseSearch(fixed: Dense3, cStart: Vec3, moving: Dense3, f: number, start: InteriorPose, shape: Vec3, sv: number, sd: number, signal?: AbortSignal) {
  const box = footprintBox(poseAffine(start, shape), shape);
  // render box starts an even number of voxels from the crop start, so both halve onto one grid
  const rStart = box.start.map((v, a) => cStart[a]! + 2 * Math.floor((v - cStart[a]!) / 2)) as Vec3;
  const rShape = box.end.map((e, a) => e - rStart[a]!) as Vec3;
  const off = rStart.map((v, a) => v - cStart[a]!) as Vec3;
  const at = (angle: number) => ({ data: renderMoving(moving, f, poseAffine({ ...start, angleDeg: angle }, shape), rStart, rShape), shape: rShape });
  const fixedHalf = halve(fixed);
  const cands: Candidate[] = [];
  const h = Math.ceil(sv / 2);
  for (let angle = start.angleDeg - sd; angle <= start.angleDeg + sd + 1e-9; angle += 3) {
    throwIfAborted(signal);
    const mh = halve(at(angle));
    for (let dz = -h; dz <= h; dz++) for (let dy = -h; dy <= h; dy++) for (let dx = -h; dx <= h; dx++) {
      const ncc = maskedNcc(fixedHalf, mh, [off[0] / 2 + dz, off[1] / 2 + dy, off[2] / 2 + dx]);
      if (ncc > -1) cands.push({ angle, d: [2 * dz, 2 * dy, 2 * dx], ncc });
    }
  }
  cands.sort((a, b) => b.ncc - a.ncc);
  const top: Candidate[] = [];
  for (const c of cands) {
    if (top.length >= 6) break;
    if (top.every((t) => Math.abs(t.angle - c.angle) > 4 || Math.hypot(t.d[0] - c.d[0], t.d[1] - c.d[1], t.d[2] - c.d[2]) > 5)) top.push(c);
  }
  let best: Candidate = { angle: start.angleDeg, d: [0, 0, 0], ncc: -2 };
  const score = (img: Dense3, d: Vec3) => maskedNcc(fixed, img, [off[0] + d[0], off[1] + d[1], off[2] + d[2]]);
  // each candidate at full resolution: every shift within ±2 voxels and turn within ±1°, then hill-climb
  const renders = new Map<number, Dense3>();
  const atCached = (angle: number) => {
    const k = Math.round(angle * 1000);
    if (!renders.has(k)) renders.set(k, at(angle));
    return renders.get(k)!;
  };
  for (const c of top) {
    let cur: Candidate = { ...c, ncc: -2 };
    for (let da = -1; da <= 1; da++) {
      const img = atCached(c.angle + da);
      for (let dz = -2; dz <= 2; dz++) for (let dy = -2; dy <= 2; dy++) for (let dx = -2; dx <= 2; dx++) {
        const d: Vec3 = [c.d[0] + dz, c.d[1] + dy, c.d[2] + dx];
        const ncc = score(img, d);
        if (ncc > cur.ncc) cur = { angle: c.angle + da, d, ncc };
      }
    }
    for (let step = 0; step < 30; step++) {
      throwIfAborted(signal);
      let next = cur;
      for (const [a, dz, dy, dx] of [[0, 1, 0, 0], [0, -1, 0, 0], [0, 0, 1, 0], [0, 0, -1, 0], [0, 0, 0, 1], [0, 0, 0, -1], [1, 0, 0, 0], [-1, 0, 0, 0]]) {
        const angle = cur.angle + a!, d: Vec3 = [cur.d[0] + dz!, cur.d[1] + dy!, cur.d[2] + dx!];
        if (Math.abs(angle - start.angleDeg) > sd + 2 || d.some((v) => Math.abs(v) > sv + 2)) continue;
        const ncc = score(atCached(angle), d);
        if (ncc > next.ncc) next = { angle, d, ncc };
      }
      if (next === cur) break;
      cur = next;
    }
      if (cur.ncc > best.ncc) best = cur;
  }
  // sub-voxel / sub-degree: vertex of the parabola through the best score and its two neighbours
  const vertex = (lo: number, mid: number, hi: number) => {
    const den = lo - 2 * mid + hi;
    return den < 0 ? Math.max(-0.5, Math.min(0.5, (0.5 * (lo - hi)) / den)) : 0;
  };
  const img = atCached(best.angle);
  const frac = [0, 1, 2].map((a) => {
    const e: Vec3 = [0, 0, 0]; e[a] = 1;
    return vertex(score(img, best.d.map((v, i) => v - e[i]!) as Vec3), best.ncc, score(img, best.d.map((v, i) => v + e[i]!) as Vec3));
  });
  const da = vertex(score(atCached(best.angle - 1), best.d), best.ncc, score(atCached(best.angle + 1), best.d));
  const pose: InteriorPose = { ...start, angleDeg: best.angle + da, centre: start.centre.map((v, a) => v + best.d[a]! + frac[a]!) as Vec3 };
  return { pose, ncc: best.ncc };
}

/** Pattern search (steps 0.5 → 0.0625 voxel and degree) maximising score over centre and turn. */
export function polish(start: InteriorPose, score: (p: InteriorPose) => number, signal?: AbortSignal, finest = 0.0625): InteriorPose {
  let best = start, bestScore = score(start);
  for (let step = 0.5; step >= finest; step /= 2) {
    let improved = true;
    while (improved) {
      throwIfAborted(signal);
      improved = false;
      for (let k = 0; k < 8; k++) {
        const axis = k >> 1, sign = k & 1 ? -1 : 1;
        const c = [...best.centre] as Vec3;
        let angle = best.angleDeg;
        if (axis < 3) c[axis] += sign * step; else angle += sign * step;
        const p = { ...best, centre: c, angleDeg: angle }, v = score(p);
        if (v > bestScore) { best = p; bestScore = v; improved = true; }
      }
    }
  }
  return best;
}

/** RMS distance between two hi→low maps over a 5³ lattice spanning the interior. */
export function rmsPoseDistance(a: Affine3, b: Affine3, shape: Vec3): number {
  let s = 0, n = 0;
  for (let i = 0; i < 5; i++) for (let j = 0; j < 5; j++) for (let k = 0; k < 5; k++) {
    const p: Vec3 = [((shape[0] - 1) * i) / 4, ((shape[1] - 1) * j) / 4, ((shape[2] - 1) * k) / 4];
    const u = applyAffine3(a, ...p), v = applyAffine3(b, ...p);
    s += (u[0] - v[0]) ** 2 + (u[1] - v[1]) ** 2 + (u[2] - v[2]) ** 2; n++;
  }
  return Math.sqrt(s / n);
}

/**
 * Truth-free error estimate of a registered pose: the pose is refined again (polish, from the final
 * pose) on each half of the interior alone, halved across y and across x in the interior's own
 * frame. The two halves see different structures, so their poses differ by what the structures,
 * the noise and the optimiser leave uncertain; when the halves' errors are independent and alike,
 * the whole interior's error is half their difference (σ_whole = σ_half / √2, σ_diff = √2 σ_half).
 * Returns that, as the RMS displacement over the interior (low-res voxels), RMS over both splits.
 */
export function splitHalfError(fixed: Dense3, cStart: Vec3, moving: Dense3, f: number, pose: InteriorPose, shape: Vec3, signal?: AbortSignal): number {
  let s2 = 0;
  for (const axis of [1, 2] as const) {
    const poses = [0, 1].map((side) => {
      const half = maskHalf(moving, axis, side);
      return poseAffine(polish(pose, (p) => scorePose(fixed, cStart, half, f, poseAffine(p, shape), shape), signal), shape);
    });
    s2 += rmsPoseDistance(poses[0]!, poses[1]!, shape) ** 2;
  }
  return Math.sqrt(s2 / 2) / 2;
}

/** The block-averaged interior with one half (side 0: the upper indices, 1: the lower) along `axis` set to NaN. */
function maskHalf(moving: Dense3, axis: 1 | 2, side: number): Dense3 {
  const [nz, ny, nx] = moving.shape, mid = moving.shape[axis] / 2;
  const data = Float32Array.from(moving.data);
  for (let z = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) {
    if (((axis === 1 ? y : x) < mid) === (side === 1)) data[(z * ny + y) * nx + x] = NaN;
  }
  return { data, shape: moving.shape };
}
