/**
 * The global transform of a stitched map corrected by its fields' layout (issue 19). On a map
 * whose fields carry stitching errors the whole-map similarity comes out up to 1.8 % off in scale
 * or 1 % in rotation (synthetic mosaics of 3 x 2 to 4 x 4 fields with shifts up to 3 px, against
 * 0.1-0.2 % on the same maps without stitching errors): the fields' shifts take the error out at
 * each field's centre, but not across a field, and on the 4 x 4 mosaic of `bench register-distorted`
 * every field at its true shift on that global transform still read 0.173 voxel mean.
 *
 * Stitching errors have no trend over the map, so the fields' measured shifts, fitted by least
 * squares as a translation plus a scale and rotation about the fields' centroid (d_f = t +
 * [[s, -w], [w, s]] (c_f - c)), read the global similarity's error, with a standard error from the
 * scatter of the fields about the fit (the stitching errors themselves, ~1.5 px per axis: 0.6 % on
 * 16 fields of 42 px, 1.1-1.2 % on 6 fields). The scale and rotation are shrunk towards 0 by
 * LAYOUT_TAU^2 / (LAYOUT_TAU^2 + se^2) (the posterior mean under a normal prior of that spread),
 * the global transform takes them and the translation, and the fields are measured again under it
 * (refine-fields.ts). Fewer than LAYOUT_MIN_FIELDS moved fields, or neighbours that moved alike
 * (stage drift, LAYOUT_MAX_LIKENESS): nothing changes (a map without stitching errors moves no
 * field, so it keeps its similarity).
 */
import type { Affine2 } from '../coords';
import type { MovingImage } from './moving-image';
import { fieldNeighbours, MIN_PAIRS, neighbourLikeness } from './field-grid-regularise';
import { predictedGrey } from './patch-shift';
import { refineFields, type MeasuredField, type RefineFieldsOptions } from './refine-fields';
import type { FieldRect, Slab } from './types';

/**
 * Prior spread of the global similarity's scale and rotation error on a stitched map (each): the
 * rms of it on the three tuning mosaics of bench register-distorted (3 x 2 seed 8, 3 x 3 seed 6,
 * 4 x 4 seed 20: 1.44/0.54, 0.00/0.17, 0.00/0.44 %) is 0.66 %.
 */
export const LAYOUT_TAU = 0.006;
/**
 * Fields that moved on their own match needed to fit the layout. A 3 x 2 mosaic (6 fields) reads
 * its scale to ±1.2 %: on seed 10 the fit said -2.0 % against a true 0 (0.133 -> 0.43 voxel
 * unshrunk, 0.15 shrunk).
 */
export const LAYOUT_MIN_FIELDS = 8;

/**
 * The layout is not fitted where neighbouring fields' own shifts are alike beyond their uncertainty
 * by more than this (neighbourLikeness - 1/sqrt(pairs), field-grid-regularise.ts): stage drift
 * moves neighbours alike and has a trend of its own, which the global transform must not take (the
 * neighbours' prediction places the fields it cannot). On 6 x 6 drifting mosaics (seeds 12-14) the
 * margin read 0.25-0.58 and the layout cost 0.350/0.446/0.399 -> 0.365/0.525/0.483 voxel; on the 10
 * mosaics with independent stitching errors that fit it, -0.63 to 0.06.
 */
export const LAYOUT_MAX_LIKENESS = 0.15;

export interface FieldLayout {
  /** translation (EDS px), scale and rotation (per px) about the centroid `centre` of the fields used */
  t: [number, number];
  s: number;
  w: number;
  /** standard error of s and of w (each), from the fields' scatter about the fit */
  se: number;
  centre: [number, number];
  /** fields used, and the shrink factor applied to s and w (1 when not shrunk) */
  n: number;
  shrink: number;
}

/** Least-squares layout of the moved fields' shifts (see the module comment); null with fewer than 3. */
export function fitFieldLayout(fields: MeasuredField[]): FieldLayout | null {
  const use = fields.filter((f) => f.moved);
  const n = use.length;
  if (n < 3) return null;
  const c = use.map((f) => [f.u0 + (f.width - 1) / 2, f.v0 + (f.height - 1) / 2]);
  const centre: [number, number] = [c.reduce((a, x) => a + x[0], 0) / n, c.reduce((a, x) => a + x[1], 0) / n];
  const t: [number, number] = [use.reduce((a, f) => a + f.shiftPx[0], 0) / n, use.reduce((a, f) => a + f.shiftPx[1], 0) / n];
  let S = 0, ns = 0, nw = 0;
  use.forEach((f, i) => {
    const x = c[i][0] - centre[0], y = c[i][1] - centre[1], du = f.shiftPx[0] - t[0], dv = f.shiftPx[1] - t[1];
    S += x * x + y * y; ns += x * du + y * dv; nw += x * dv - y * du;
  });
  if (!(S > 0)) return null;
  const s = ns / S, w = nw / S;
  let rss = 0;
  use.forEach((f, i) => {
    const x = c[i][0] - centre[0], y = c[i][1] - centre[1];
    rss += (f.shiftPx[0] - t[0] - (s * x - w * y)) ** 2 + (f.shiftPx[1] - t[1] - (w * x + s * y)) ** 2;
  });
  const se = Math.sqrt(rss / Math.max(1, 2 * n - 4) / S);
  return { t, s, w, se, centre, n, shrink: 1 };
}

/** G with the layout: EDS pixel p goes where G takes p + t + M (p - centre), M = [[s, -w], [w, s]]. */
export function withLayout(G: Affine2, L: FieldLayout): Affine2 {
  const A = [1 + L.s, -L.w, L.w, 1 + L.s];
  const b = [L.t[0] - (L.s * L.centre[0] - L.w * L.centre[1]), L.t[1] - (L.w * L.centre[0] + L.s * L.centre[1])];
  return [
    G[0] * A[0] + G[1] * A[2], G[0] * A[1] + G[1] * A[3], G[0] * b[0] + G[1] * b[1] + G[2],
    G[3] * A[0] + G[4] * A[2], G[3] * A[1] + G[4] * A[3], G[3] * b[0] + G[4] * b[1] + G[5],
  ];
}

/**
 * The fields of a stitched map measured under G (`measured`, refineFields), then the global
 * transform corrected by their layout and the fields measured again under it. Returns G and
 * `measured` unchanged when fewer than LAYOUT_MIN_FIELDS fields moved.
 */
export function refineMosaicLayout(slab: Slab, mov: MovingImage, G: Affine2, fields: FieldRect[], measured: MeasuredField[], o: RefineFieldsOptions = {}): { edsToSlab: Affine2; fields: MeasuredField[]; layout?: FieldLayout } {
  const L = fitFieldLayout(measured);
  if (!L || L.n < LAYOUT_MIN_FIELDS) return { edsToSlab: G, fields: measured };
  // neighbours that moved alike: stage drift, whose trend is the map's own, not the global transform's
  const like = neighbourLikeness(measured.map((f) => f.shiftPx), measured.map((f) => f.moved && f.placedBy === 'measured'), fieldNeighbours(fields));
  if (like.pairs >= MIN_PAIRS && like.rho - 1 / Math.sqrt(like.pairs) > LAYOUT_MAX_LIKENESS) return { edsToSlab: G, fields: measured };
  const shrink = LAYOUT_TAU ** 2 / (LAYOUT_TAU ** 2 + L.se ** 2);
  const layout = { ...L, s: L.s * shrink, w: L.w * shrink, shrink };
  const G1 = withLayout(G, layout);
  const again = refineFields(slab, predictedGrey(slab, mov, G1), mov.width, mov.height, G1, fields, o);
  return { edsToSlab: G1, fields: again, layout };
}
