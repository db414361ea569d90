/**
 * Hill climb of an affine EDS -> slab transform by a whole-map criterion (issue 19), in natural
 * modes about the map centre: the two shifts, rotation, anisotropic stretch (u against v) and
 * symmetric shear, plus the isotropic scale unless it is held. Steps are pixels at the map's edge.
 * (Coordinate descent on the six matrix entries zig-zags along the rotation/shear ridge and
 * stalled 0.1-0.2 voxel short on the synthetic maps.)
 *
 * The isotropic scale is held at the similarity's by default: on every synthetic map (24 x 128 x
 * 128, rigid and distorted, 40-100 % coverage) the free climb grew the map by 0.3-1.4 % beyond the
 * truth (the correlation ratio at the true transform was below the climbed one), which cost the
 * 3 % shear at 100 % coverage 0.20/0.57 voxel against 0.10/0.21 with the similarity's area.
 */
import { composeAffine2, type Affine2 } from '../coords';
import { throwIfAborted } from '../errors';

const det = (m: Affine2) => m[0] * m[4] - m[1] * m[3];

/** m with its linear part rescaled about EDS pixel (cu, cv) so that its determinant is d. */
export function withDeterminant(m: Affine2, d: number, cu: number, cv: number): Affine2 {
  const k = Math.sqrt(Math.abs(d / det(m)));
  const cx = m[0] * cu + m[1] * cv + m[2], cy = m[3] * cu + m[4] * cv + m[5];
  const r: Affine2 = [m[0] * k, m[1] * k, 0, m[3] * k, m[4] * k, 0];
  r[2] = cx - r[0] * cu - r[1] * cv;
  r[5] = cy - r[3] * cu - r[4] * cv;
  return r;
}

export interface ClimbOptions {
  signal?: AbortSignal;
  /** keep the determinant of `area` (default: of the start); false lets the isotropic scale move */
  holdScale?: boolean;
  area?: Affine2;
  /** climb the shifts and the rotation only (a similarity at the held area: similarity-polish.ts) */
  rigid?: boolean;
}

/** Climb score(m) from start; returns the best transform and its score. */
export function climbAffine(score: (m: Affine2) => number, start: Affine2, mw: number, mh: number, o: ClimbOptions = {}): { edsToSlab: Affine2; score: number } {
  const cu = (mw - 1) / 2, cv = (mh - 1) / 2, h = Math.max(1, Math.max(mw, mh) / 2);
  const hold = o.holdScale !== false, d0 = det(o.area ?? start);
  const fix = (m: Affine2) => (hold ? withDeterminant(m, d0, cu, cv) : m);
  const delta = (k: number, s: number): Affine2 => {
    const q = s / h;
    let a = 0, b = 0, c = 0, d = 0, tu = 0, tv = 0;
    if (k === 0) tu = s; else if (k === 1) tv = s;
    else if (k === 2) { b = -q; c = q; } else if (k === 3) { a = q; d = -q; } else if (k === 4) { b = q; c = q; } else { a = q; d = q; }
    const m: Affine2 = [1 + a, b, tu, c, 1 + d, tv];
    m[2] += cu - m[0] * cu - m[1] * cv;
    m[5] += cv - m[3] * cu - m[4] * cv;
    return m;
  };
  const modes = (o.rigid ? [0, 1, 2] : hold ? [0, 1, 2, 3, 4] : [0, 1, 2, 3, 4, 5]);
  let best = fix(start), bestScore = score(best);
  for (const step of [0.5, 0.25, 0.12, 0.06, 0.03]) {
    let improved = true;
    while (improved) {
      throwIfAborted(o.signal);
      improved = false;
      for (const k of modes) for (const sgn of [1, -1]) {
        const m = fix(composeAffine2(best, delta(k, sgn * step)));
        const s = score(m);
        if (s > bestScore) { best = m; bestScore = s; improved = true; }
      }
    }
  }
  return { edsToSlab: best, score: bestScore };
}
