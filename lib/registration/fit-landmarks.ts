/**
 * Least-squares transform from landmark pairs (EDS pixel -> slab pixel).
 * Similarity: closed form of Umeyama (1991) written with complex numbers, w = alpha*z + beta for
 * a proper rotation and w = alpha*conj(z) + beta for a mirrored map; the better of the two wins.
 * Affine: ordinary least squares on the 6 parameters.
 * Throws InvalidInput for fewer than 3 pairs or (nearly) collinear points.
 */
import { applyAffine2, type Affine2 } from '../coords';
import { invalidInput } from '../errors';
import type { LandmarkFit } from './types';

/** A pair with its slab position resolved (see registerEdsToVolume for voxel landmarks). */
export type SlabLandmark = { eds: [number, number]; slab: [number, number] };

export interface FitLandmarksOptions {
  model?: 'similarity' | 'affine';
  /** 'auto' (default) tries both handednesses; true/false forces one (similarity only) */
  mirrored?: boolean | 'auto';
  /**
   * known scale (slab pixels per EDS pixel, from the two pixel sizes) for the similarity: only
   * rotation and shift are fitted, which makes a few noisy clicks much more reliable
   */
  scale?: number;
}

function checkPairs(pairs: SlabLandmark[]): void {
  if (pairs.length < 3) {
    throw invalidInput(`At least 3 landmark pairs are needed to register the EDS map, but got ${pairs.length}. Click more matching points.`);
  }
  for (const side of ['eds', 'slab'] as const) {
    let mx = 0, my = 0;
    for (const p of pairs) { mx += p[side][0]; my += p[side][1]; }
    mx /= pairs.length; my /= pairs.length;
    let sxx = 0, syy = 0, sxy = 0;
    for (const p of pairs) {
      const dx = p[side][0] - mx, dy = p[side][1] - my;
      sxx += dx * dx; syy += dy * dy; sxy += dx * dy;
    }
    // eigenvalues of the 2x2 scatter matrix: a tiny minor axis means the points lie on a line
    const tr = sxx + syy, det = sxx * syy - sxy * sxy;
    const disc = Math.sqrt(Math.max(0, (tr * tr) / 4 - det));
    const small = tr / 2 - disc, big = tr / 2 + disc;
    if (!(big > 0) || small / big < 1e-4) {
      throw invalidInput(`The ${side === 'eds' ? 'EDS-map' : 'volume'} landmarks are collinear (all on one line): pick points spread over the map.`);
    }
  }
}

function similarity(pairs: SlabLandmark[], mirrored: boolean, scale?: number): Affine2 {
  const n = pairs.length;
  const zs = pairs.map((p) => [p.eds[0], mirrored ? -p.eds[1] : p.eds[1]]);
  let mzx = 0, mzy = 0, mwx = 0, mwy = 0;
  pairs.forEach((p, i) => { mzx += zs[i][0]; mzy += zs[i][1]; mwx += p.slab[0]; mwy += p.slab[1]; });
  mzx /= n; mzy /= n; mwx /= n; mwy /= n;
  let re = 0, im = 0, zz = 0;
  pairs.forEach((p, i) => {
    const x = zs[i][0] - mzx, y = zs[i][1] - mzy, u = p.slab[0] - mwx, v = p.slab[1] - mwy;
    re += x * u + y * v; im += x * v - y * u; zz += x * x + y * y;
  });
  // free scale: alpha = sum(conj(z) w) / sum(|z|^2); known scale: only the angle of that sum
  const k = scale === undefined ? 1 / zz : scale / Math.hypot(re, im);
  const ar = re * k, ai = im * k;
  const tx = mwx - (ar * mzx - ai * mzy), ty = mwy - (ai * mzx + ar * mzy);
  const s = mirrored ? -1 : 1;
  return [ar, -ai * s, tx, ai, ar * s, ty];
}

function affine(pairs: SlabLandmark[]): Affine2 {
  const m = [0, 0, 0, 0, 0, 0, 0, 0, 0], ru = [0, 0, 0], rv = [0, 0, 0];
  for (const { eds: [x, y], slab: [u, v] } of pairs) {
    const row = [x, y, 1];
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) m[i * 3 + j] += row[i] * row[j];
      ru[i] += row[i] * u; rv[i] += row[i] * v;
    }
  }
  const solve = (r: number[]) => {
    const [a, b, c, d, e, f, g, h, i] = m;
    const det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
    return [
      (r[0] * (e * i - f * h) - b * (r[1] * i - f * r[2]) + c * (r[1] * h - e * r[2])) / det,
      (a * (r[1] * i - f * r[2]) - r[0] * (d * i - f * g) + c * (d * r[2] - r[1] * g)) / det,
      (a * (e * r[2] - r[1] * h) - b * (d * r[2] - r[1] * g) + r[0] * (d * h - e * g)) / det,
    ];
  };
  const pu = solve(ru), pv = solve(rv);
  return [pu[0], pu[1], pu[2], pv[0], pv[1], pv[2]];
}

export function landmarkResiduals(m: Affine2, pairs: SlabLandmark[]): number[] {
  return pairs.map((p) => {
    const [u, v] = applyAffine2(m, p.eds[0], p.eds[1]);
    return Math.hypot(u - p.slab[0], v - p.slab[1]);
  });
}

const rmsOf = (r: number[]) => Math.sqrt(r.reduce((s, x) => s + x * x, 0) / r.length);

export function fitLandmarks(pairs: SlabLandmark[], opts: FitLandmarksOptions = {}): LandmarkFit {
  checkPairs(pairs);
  const candidates: Affine2[] =
    opts.model === 'affine'
      ? [affine(pairs)]
      : opts.mirrored === 'auto' || opts.mirrored === undefined
        ? [similarity(pairs, false, opts.scale), similarity(pairs, true, opts.scale)]
        : [similarity(pairs, opts.mirrored, opts.scale)];
  let best = candidates[0], bestRes = landmarkResiduals(best, pairs);
  for (const c of candidates.slice(1)) {
    const r = landmarkResiduals(c, pairs);
    if (rmsOf(r) < rmsOf(bestRes)) { best = c; bestRes = r; }
  }
  const det = best[0] * best[4] - best[1] * best[3];
  return { edsToSlab: best, residuals: bestRes, rms: rmsOf(bestRes), mirrored: det < 0 };
}
