/**
 * A stitched map's fields placed at the centre of their criterion's basin (issue 19, stop 31).
 *
 * Where the 4 x 4 mosaics' error was (docs/registration-models.md, stop 31): with every field at its
 * true shift on the found global transform they read 0.016-0.093 voxel (seed 20 0.049), so the
 * global transform's share is small; the fields' own shifts carry the rest, 0.3-0.4 px off on
 * fields whose match was distinct. A field's criterion (the correlation ratio of its own pixels) is
 * rough at a tenth of a pixel, and the search and its climb (refine-fields.ts) end at whichever
 * ripple they meet; the scan's blur also shows grain boundaries below the plane, displaced sideways.
 * Here, after the layout's last round (mosaic-layout.ts), each field placed by its own match takes
 * the minimum of a quadratic fitted by least squares to its criterion sampled over a disc of
 * FIELD_BASIN_R px about its shift (FIELD_BASIN_STEP grid: 49 scores), on the slab extrapolated to the
 * surface S + FIELD_BASIN_ALPHA (S - S_below) (the deeper twin the kept affine's polish uses,
 * affine-polish.ts). The field's pixels are the ones that show it at its shift; the slab's edge ring
 * is left out (EDGE_ERODE_PX). A minimum further than FIELD_BASIN_R is fitted again about the
 * point FIELD_BASIN_R towards it (FIELD_BASIN_ROUNDS); a fit that is not convex, or still outside
 * after that, leaves the field as it was.
 *
 * Measured (bench register-distorted mosaics, the labels that train): 4 x 4 tuned 0.256 -> 0.171,
 * held out 0.264 -> 0.214, 8 made after the rule 0.186 -> 0.167; 3 x 3 held out 0.152 -> 0.133 (seed
 * 15 0.130 -> 0.138, the one map worse); maps without offsets unchanged. Fields already within 0.15 px
 * of their truth lose a little (0.09 -> 0.12 px), the others gain. docs/registration-models.md, stop 31.
 */
import type { Affine2 } from '../coords';
import { throwIfAborted } from '../errors';
import type { SlabWithBelow } from './extract-slab';
import { fieldPixelSets, fieldWithin } from './mosaic-linear';
import type { MovingImage } from './moving-image';
import { EDGE_ERODE_PX, erodeSlabEdge, type MeasuredField } from './refine-fields';
import { solveLinear } from './solve-linear';
import type { Slab } from './types';

/** radius (EDS px) of the disc the field's criterion is sampled over */
export const FIELD_BASIN_R = 1;
/** grid step (EDS px) of the samples */
export const FIELD_BASIN_STEP = 0.25;
/**
 * fits: a minimum further than FIELD_BASIN_R from the samples' centre moves the centre FIELD_BASIN_R
 * towards it and is fitted again; still outside after the last, the field keeps its shift
 */
export const FIELD_BASIN_ROUNDS = 2;
/** the slab extrapolated towards the surface: S + ALPHA (S - S_below) */
export const FIELD_BASIN_ALPHA = 1;

/** The slab extrapolated to the surface with its deeper twin (as it is when it has none). */
export function extrapolatedSlab(slab: SlabWithBelow, alpha = FIELD_BASIN_ALPHA): Slab {
  const b = slab.below;
  if (!b || b.length !== slab.data.length || alpha === 0) return slab;
  return { ...slab, data: Float32Array.from(slab.data, (g, i) => g + alpha * (g - b[i])) };
}

/** Solves A x = y; null when singular. */
const solve = (A: number[][], y: number[]): number[] | null => solveLinear(A, y, 1e-300);

/**
 * The minimum of a quadratic c + g.x + x'Hx/2 fitted to cost(x) sampled on a `step` grid within a
 * disc of radius r about 0 (it may lie outside the disc); null when the fit is not convex or fewer
 * than 12 samples were finite.
 */
export function quadraticMinimum(cost: (du: number, dv: number) => number, r: number, step: number): [number, number] | null {
  const A = Array.from({ length: 6 }, () => new Array(6).fill(0)), y = new Array(6).fill(0);
  const k = Math.floor(r / step + 1e-9);
  let n = 0;
  for (let j = -k; j <= k; j++) for (let i = -k; i <= k; i++) {
    const u = i * step, v = j * step;
    if (u * u + v * v > r * r + 1e-9) continue;
    const c = cost(u, v);
    if (!Number.isFinite(c)) continue;
    const f = [1, u, v, u * u, u * v, v * v];
    for (let a = 0; a < 6; a++) {
      y[a] += f[a] * c;
      for (let b = 0; b < 6; b++) A[a][b] += f[a] * f[b];
    }
    n++;
  }
  if (n < 12) return null;
  const q = solve(A, y);
  if (!q) return null;
  // H = [2 q3, q4; q4, 2 q5]; the minimum solves H x = -g
  const a = 2 * q[3], b = q[4], d = 2 * q[5], det = a * d - b * b;
  if (!(a > 0 && det > 0)) return null;
  return [(-d * q[1] + b * q[2]) / det, (b * q[1] - a * q[2]) / det];
}

/**
 * Each field placed by its own distinct match (moved, placedBy 'measured') moved to its criterion's
 * basin centre under G (see the header). Other fields as they are, and so are the fields whose match
 * stayed within its noise (belowNoise: their shift is the match shrunk towards the global transform,
 * placeBelowNoise in refine-fields.ts; the basin centre would undo the shrink).
 */
export function placeFieldsAtBasin(slab: SlabWithBelow, mov: MovingImage, G: Affine2, fields: MeasuredField[], o: { signal?: AbortSignal; edgeErodePx?: number; alpha?: number; rounds?: number } = {}): MeasuredField[] {
  if (!fields.some((f) => f.moved && f.placedBy === 'measured' && !f.belowNoise)) return fields;
  const X = erodeSlabEdge(extrapolatedSlab(slab, o.alpha ?? FIELD_BASIN_ALPHA), o.edgeErodePx ?? EDGE_ERODE_PX);
  const acc = [new Float64Array(mov.classes), new Float64Array(mov.classes), new Float64Array(mov.classes)];
  const I: [number, number, number, number] = [1, 0, 0, 1];
  return fields.map((f) => {
    if (!f.moved || f.placedBy !== 'measured' || f.belowNoise) return f;
    throwIfAborted(o.signal);
    const [px] = fieldPixelSets(X, G, [f], 0);
    if (px.g.length < 24) return f;
    const cost = (du: number, dv: number) => {
      const [w, N] = fieldWithin(px, mov, mov.width, mov.height, I, du, dv, acc);
      return N >= 0.5 * px.g.length && N > 0 ? w / N : NaN;
    };
    let c: [number, number] = [0, 0];
    for (let k = 0; k < (o.rounds ?? FIELD_BASIN_ROUNDS); k++) {
      const x = quadraticMinimum((du, dv) => cost(c[0] + du, c[1] + dv), FIELD_BASIN_R, FIELD_BASIN_STEP);
      if (!x) return f;
      const len = Math.hypot(x[0], x[1]);
      if (len <= FIELD_BASIN_R) return { ...f, shiftPx: [f.shiftPx[0] + c[0] + x[0], f.shiftPx[1] + c[1] + x[1]] as [number, number] };
      c = [c[0] + (x[0] * FIELD_BASIN_R) / len, c[1] + (x[1] * FIELD_BASIN_R) / len];
    }
    return f;
  });
}
