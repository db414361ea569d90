/**
 * The global transform of a stitched map corrected for its shared linear part (issue 19). On a map
 * whose fields carry stitching errors the whole-map similarity comes out up to 1.8 % off in scale
 * or 1 % in rotation (synthetic mosaics of 3 x 2 to 4 x 4 fields with shifts up to 3 px, against
 * 0.1-0.2 % on the same maps without stitching errors): the fields' shifts take the error out at
 * each field's centre, but not across a field (on the 4 x 4 mosaic of `bench register-distorted`
 * every field at its true shift on that global transform still read 0.173 voxel mean).
 *
 * A stitched map is one linear part shared by all fields (the SEM's calibration) and a free
 * translation per field. Two estimates of the global error, from independent evidence:
 * - the fields' content (mosaic-linear.ts, stop 29): the shared scale and rotation climbed on the
 *   criterion summed over every field's own pixels, each field scaled about its own centre and its
 *   translation profiled; a jackknife over the fields gives its standard error;
 * - the fields' layout (fitFieldLayout, stop 28): the least-squares scale and rotation of the moved
 *   fields' shifts about their centroid, with a standard error from their scatter about the fit
 *   (the stitching errors themselves: 0.6 % on 16 fields of 42 px, 1.1-1.2 % on 6).
 * They are combined by inverse variance (no prior), the global transform takes the result about the
 * map's centre, the fields are measured again under it (refine-fields.ts), SHARED_LINEAR_ROUNDS times;
 * in the last round a field whose distinct match stayed within its noise takes it shrunk by its
 * precision (placeBelowNoise, stop 30), on maps whose fields show stitching errors; then each field
 * placed by its own distinct match takes its criterion's basin centre on the slab extrapolated to the
 * surface (field-basin.ts, stop 31; `basin: false` leaves the climb's end).
 * Fewer than SHARED_LINEAR_MIN_MOVED moved fields (a map without stitching errors moves none, so it
 * keeps its similarity), or neighbours that moved alike (stage drift, LAYOUT_MAX_LIKENESS): nothing
 * changes. docs/registration-models.md has the measurements.
 */
import type { Affine2 } from '../coords';
import type { MovingImage } from './moving-image';
import { fieldNeighbours, MIN_PAIRS, neighbourLikeness } from './field-grid-regularise';
import { predictedGrey } from './patch-shift';
import { EDGE_ERODE_PX, erodeSlabEdge, refineFields, type MeasuredField, type RefineFieldsOptions } from './refine-fields';
import { estimateSharedLinear, linearOf, withLinear } from './mosaic-linear';
import { throwIfAborted } from '../errors';
import type { SlabWithBelow } from './extract-slab';
import { placeFieldsAtBasin } from './field-basin';
import type { FieldRect } from './types';

/**
 * The global transform is not corrected where neighbouring fields' own shifts are alike beyond their
 * uncertainty by more than this (neighbourLikeness - 1/sqrt(pairs), field-grid-regularise.ts): stage
 * drift moves neighbours alike and has a trend of its own, which the global transform must not take
 * (the neighbours' prediction places the fields it cannot). On 6 x 6 drifting mosaics (seeds 12-14)
 * the margin read 0.25-0.58 and the stop-28 layout cost 0.350/0.446/0.399 -> 0.365/0.525/0.483 voxel
 * (the content's estimate: 0.429/0.404/0.335); on the 10 mosaics with independent stitching errors
 * that fit it, -0.63 to 0.06.
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
  /** fields used */
  n: number;
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
  return { t, s, w, se, centre, n };
}

/** rounds of (the global linear part, then the fields measured again under it) */
export const SHARED_LINEAR_ROUNDS = 2;
/** fields that moved on their own match needed to correct the global transform at all */
export const SHARED_LINEAR_MIN_MOVED = 3;

/**
 * The fields of a stitched map measured under G (`measured`, refineFields), then the global
 * transform's scale and rotation corrected and the fields measured again under it, SHARED_LINEAR_ROUNDS
 * times. Returns G and `measured` unchanged when fewer than SHARED_LINEAR_MIN_MOVED fields moved (a
 * map without stitching errors keeps its similarity) or when neighbours moved alike (stage drift).
 */
export function refineMosaicLayout(slab: SlabWithBelow, mov: MovingImage, G: Affine2, fields: FieldRect[], measured: MeasuredField[], o: RefineFieldsOptions & { basin?: boolean } = {}): { edsToSlab: Affine2; fields: MeasuredField[]; linear?: { s: number; w: number; rounds: number } } {
  const movedN = measured.filter((f) => f.moved && f.placedBy !== 'neighbours').length;
  if (movedN < SHARED_LINEAR_MIN_MOVED) return { edsToSlab: G, fields: measured };
  // neighbours that moved alike: stage drift, whose trend is the map's own, not the global transform's
  const like = neighbourLikeness(measured.map((f) => f.shiftPx), measured.map((f) => f.moved && f.placedBy === 'measured'), fieldNeighbours(fields));
  if (like.pairs >= MIN_PAIRS && like.rho - 1 / Math.sqrt(like.pairs) > LAYOUT_MAX_LIKENESS) return { edsToSlab: G, fields: measured };
  const eroded = erodeSlabEdge(slab, o.edgeErodePx ?? EDGE_ERODE_PX);
  const centre: [number, number] = [(mov.width - 1) / 2, (mov.height - 1) / 2];
  let Gk = G, cur = measured, S = 0, Wr = 0, rounds = 0;
  for (let round = 0; round < SHARED_LINEAR_ROUNDS; round++) {
    throwIfAborted(o.signal);
    const e = estimateSharedLinear(eroded, mov, Gk, cur, o.minOverlap);
    if (!e) break;
    let s = e.s, w = e.w;
    const L = fitFieldLayout(cur);
    if (L && L.n >= 3 && Number.isFinite(e.se) && e.se > 0 && L.se > 0) {
      // two estimates of the same error: the fields' content (e) and where the fields sit (L), by inverse variance
      const a = 1 / e.se ** 2, b = 1 / L.se ** 2;
      s = (a * e.s + b * L.s) / (a + b); w = (a * e.w + b * L.w) / (a + b);
    }
    Gk = withLinear(Gk, linearOf(s, w), centre);
    S += s; Wr += w; rounds++;
    cur = refineFields(slab, predictedGrey(slab, mov, Gk), mov.width, mov.height, Gk, fields, { ...o, belowNoise: round === SHARED_LINEAR_ROUNDS - 1 });
  }
  // each field placed by its own match at its criterion's basin centre, on the slab extrapolated to the surface (field-basin.ts)
  if (rounds > 0 && o.basin !== false) cur = placeFieldsAtBasin(slab, mov, Gk, cur, { signal: o.signal, edgeErodePx: o.edgeErodePx });
  return { edsToSlab: Gk, fields: cur, linear: { s: S, w: Wr, rounds } };
}
