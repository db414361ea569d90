/**
 * Per-field refinement of a stitched EDS mosaic (TIMA and other field mosaics, issue 19): each
 * field's picture may sit a few pixels off where the stitching put it. On top of the global EDS ->
 * slab transform, each field gets the shift that best aligns it alone (patch-shift.ts), regularised
 * towards the global transform: a field keeps shift 0 unless at least `minOverlap` of it lies on
 * the volume, its shift is larger than `minShiftPx` and MIN_SIGNIFICANCE standard errors (from the
 * scatter of its quarters), the shift lowers its misfit by more than 0.5 % and no other match comes
 * close to it, and only on a map whose fields' matches show stitching errors at all
 * (stitchResponsibilities: on a map without them, a 'significant' shift is the field's content's
 * bias). Fields that did not move this way (noise, featureless, ambiguous, off the volume)
 * then take their neighbours' shift where neighbouring fields moved alike on this map (stage drift,
 * field-grid-regularise.ts), and stay on the global transform otherwise ("fall back"). Each field
 * is measured by its own correlation ratio (`labels`): on the synthetic mosaics the mean error was
 * 0.13-0.20 voxel against 0.23-0.29 with the misfit to the class-mean grey. The search runs on a
 * half-pixel grid and the match is measured again on the field's own pixels (measureField).
 *
 * What limits it (issue 19, 3 x 3 mosaic at 1 µm EDS, 0.28 voxel against the 0.2 asked): fields
 * with a distinct match read 0.1-1 px off the truth, and the same fields do so on the same map
 * without stitching errors, with every criterion measured (correlation ratio per field or over
 * the whole map, least squares against the class-mean map blurred by 0.7-1.4 px with a free gain,
 * with a grey ramp, supersampled voxels, interior pixels only, slabs 0.5-2 voxel deeper); a field
 * of quartz and K-feldspar has no match at all (its misfit varies by 0.5 % over ±5 px, also with
 * the local grey deviation as a second channel). Joint estimation of all fields with the global
 * similarity or affine over the whole map's correlation ratio did not lower the error either.
 *
 * Stop 28: the global transform corrected by the fields' layout (mosaic-layout.ts: on the 4 x 4
 * mosaic the similarity was 1.44 % off in scale, so even every field at its true shift read 0.173
 * voxel) and the slab's edge ring left out (EDGE_ERODE_PX): 3 x 3 0.279 -> 0.236 (the labels that
 * train 0.194 -> 0.146), 4 x 4 0.339 -> 0.269; docs/registration-models.md has the held-out seeds.
 * Stop 29: the scale and rotation read from the content within the fields too (mosaic-linear.ts,
 * one linear part shared by all fields, combined with the layout): held out 3 x 2 0.196 -> 0.118,
 * 3 x 3 0.226 -> 0.155, 4 x 4 0.342 -> 0.320 voxel; with every field at its true shift the 4 x 4
 * reads 0.049 (0.114 with the layout), so on 4 x 4 mosaics the fields' own shifts are the limit.
 *
 * Where the 0.28 goes (stop 27, against the generator's truth): with every field at the shift
 * that best fits the truth on the final global transform the map reads 0.023 voxel, so the global
 * transform is right and the error is the fields' own shifts. With every field so placed except
 * the one with nothing to match (B3, 1.9 px off) it reads 0.127; with only A3 and C2 so placed and
 * the rest as found, 0.196. A3's criterion has its minimum 0.9 px off the truth, and 1.1 px off on
 * the map without stitching errors (a bias of the field's content, 17 % above the minimum at the
 * truth); C2 found its shift to 0.1 px but at 0.9 standard errors it does not move. Measured and
 * not kept: the correlation ratio over the map's connected regions (one mean grey per grain, for
 * the grain-to-grain grey offsets of one mineral) halved A3's bias but over 8 mosaics (3 x 2, 3 x 3,
 * 4 x 4, with and without offsets) moved the mean error 0.218 -> 0.221 (3 x 2 0.188 -> 0.167,
 * 4 x 4 seed 5 0.360 -> 0.432); refitting the global rotation and scale by the fields' summed
 * criterion with each field's centre held: 4 x 4 0.339 -> 0.322 but 3 x 3 0.279 -> 0.307 and the
 * map without offsets 0.073 -> 0.099 (the best rotation and scale, chosen on the truth, would give
 * 0.02-0.05 at most); an isotropic pair-mismatch likelihood of the labels across field seams (the
 * map's own continuity) found 2 of 12 seam offsets of the 3 x 3 mosaic (the others 2-5 px off).
 */
import { applyAffine2to3, type Affine2, type Affine2to3 } from '../coords';
import { throwIfAborted } from '../errors';
import { regulariseFieldGrid } from './field-grid-regularise';
import { measurePartShift } from './patch-shift';
import type { FieldCorrection, FieldRect, Slab } from './types';

export interface RefineFieldsOptions {
  signal?: AbortSignal;
  /** largest stitching error searched, EDS pixels (default fieldSearchPx) */
  maxShiftPx?: number;
  /** share of a field that must lie on the volume (default 0.3) */
  minOverlap?: number;
  /** smallest shift applied, EDS pixels (default 0.2) */
  minShiftPx?: number;
  /** measure by the field's own correlation ratio (class labels) instead of the misfit to the class-mean grey */
  labels?: { labels: Uint8Array; classes: number };
  /** a second local minimum of the field's misfit must be this much (relative) worse than the match (default MIN_CONTRAST) */
  minContrast?: number;
  /** a field moves only when its shift is this many standard errors (default MIN_SIGNIFICANCE) */
  minSignificance?: number;
  /** fields that could not be placed take their neighbours' shifts where neighbours move alike (default true) */
  neighbours?: boolean;
  /** measure each field again on the pixels that show it at its shift (default true) */
  ownPixels?: boolean;
  /** passes on the field's own pixels, each from the last (default OWN_PASSES) */
  ownPasses?: number;
  /** slab pixels within this many pixels of the slab's edge or of the volume's are not used (default EDGE_ERODE_PX) */
  edgeErodePx?: number;
  /** on a map with stitching errors, a field whose distinct match stayed within its noise takes the match shrunk by its precision, or whole where its precision could not be measured (placeBelowNoise; default false) */
  belowNoise?: boolean;
}

/**
 * Passes on the field's own pixels after the search (measureField), each from the last until it
 * moves < 0.1 px. More passes were measured and not kept: 3 took the 4 x 4 mosaic of bench
 * register-distorted 0.276 -> 0.228 voxel, but a held-out 3 x 3 (seed 9) 0.193 -> 0.243.
 */
export const OWN_PASSES = 1;
/**
 * The field matches leave out the slab's outermost ring of pixels (next to the slab's border or to
 * a pixel off the volume). With it, field A1 of the 4 x 4 mosaic was placed 0.57 px off the truth,
 * 0.07 without; 2 pixels lost C1 of the 3 x 3 at 1 µm (the labels that train 0.146 -> 0.268 voxel).
 * Over 15 mosaics, with the layout (mosaic-layout.ts), see docs/registration-models.md.
 */
export const EDGE_ERODE_PX = 1;

/** The slab without the pixels within k pixels of its edge or of a pixel off the volume (NaN). */
export function erodeSlabEdge(s: Slab, k: number): Slab {
  const { width: w, height: h } = s;
  let cur = s.data;
  for (let it = 0; it < k; it++) {
    const next = new Float32Array(cur);
    for (let v = 0; v < h; v++) for (let u = 0; u < w; u++) {
      const i = v * w + u;
      if (cur[i] !== cur[i]) continue;
      if (u === 0 || v === 0 || u === w - 1 || v === h - 1 || cur[i - 1] !== cur[i - 1] || cur[i + 1] !== cur[i + 1] || cur[i - w] !== cur[i - w] || cur[i + w] !== cur[i + w]) next[i] = NaN;
    }
    cur = next;
  }
  return k > 0 ? { ...s, data: cur } : s;
}

/**
 * A field keeps the global transform when another local minimum of its misfit (2 px or more from
 * the best) is within 3 % of it: on the synthetic 3 x 3 mosaic at 1 µm EDS a field over few grain
 * boundaries had two matches 0.2 % apart and locked onto the wrong one 4.5 px off; on 6 x 6
 * mosaics of 28 px fields the fields that locked 3-4 px off (with or without offsets) had a second
 * match 1.1-2.6 % worse, and only one field that had moved the right way was that close (1.3 %).
 */
export const MIN_CONTRAST = 0.03;

/**
 * A field's correction; `ambiguous` when its best match was not distinct (it stays on the global
 * transform); `placedBy`: its own match ('measured'), its neighbours' shifts (field-grid-regularise.ts)
 * or the global transform; `outlier` when its own match was far from its neighbours' (stage drift).
 */
export type MeasuredField = FieldCorrection & { ambiguous?: boolean; standardErrorPx?: number; outlier?: boolean; belowNoise?: boolean };

/**
 * A field moves only when its shift is at least this many standard errors (shiftStandardError).
 * The curvature of the misfit gives 0.05-0.2 px, but on synthetic mosaics without offsets fields
 * came out 0.1-0.9 px off (the misfit's errors are not independent pixel noise: 4-8 x that), so
 * the error is taken from the data, the scatter of the field's quarters. Noise shifts had 0.3-3.1
 * standard errors, real ones 0.5-15; 3 left a field with 0.5 px of real (field plus global) error
 * on the 3 x 2 mosaic of register-models.test.ts unmoved (mean 0.24 voxel, above its 0.2), 2 did not.
 * With the half-pixel search and the second pass on the field's own pixels (measureField), 1.5
 * moved fields 0.5-1 px off on the 3 x 3 and 4 x 4 mosaics that 2 kept (their quarters' scatter
 * is 0.4-0.6 px): mean error 0.338 -> 0.279 and 0.345 -> 0.283 voxel; the same 3 x 3 map without
 * offsets went 0.126 -> 0.157 (one field moved 0.8 px by its content's bias), 1 cost it 0.256.
 */
export const MIN_SIGNIFICANCE = 1.5;

/**
 * Standard error (EDS pixels) of a field's shift d from the scatter of its four quarters, each
 * measured alone around d: sqrt(sum |r_i|^2 / (2 (k - 1)) / k) over the k quarters that could be
 * measured; Infinity with fewer than 3.
 */
export function shiftStandardError(slab: Slab, P: Float32Array, mw: number, mh: number, G: Affine2, f: FieldRect, d: [number, number], labels?: { labels: Uint8Array; classes: number }): number {
  // EDS pixel p under G shifted by d: G(p + d)
  const Gd = shifted(G, d);
  const hw = Math.floor(f.width / 2), hh = Math.floor(f.height / 2);
  const quarters: FieldRect[] = [
    { u0: f.u0, v0: f.v0, width: hw, height: hh }, { u0: f.u0 + hw, v0: f.v0, width: f.width - hw, height: hh },
    { u0: f.u0, v0: f.v0 + hh, width: hw, height: f.height - hh }, { u0: f.u0 + hw, v0: f.v0 + hh, width: f.width - hw, height: f.height - hh },
  ];
  let ss = 0, k = 0;
  for (const q of quarters) {
    const r = measurePartShift(slab, P, mw, mh, Gd, q, { maxShift: 1.5, minOverlap: 0.3, labels });
    if (!r) continue;
    ss += r.shift[0] * r.shift[0] + r.shift[1] * r.shift[1];
    k++;
  }
  return k >= 3 ? Math.sqrt(ss / (2 * (k - 1)) / k) : Infinity;
}

/** G moved by d in EDS pixels: EDS pixel p goes where G takes p + d. */
const shifted = (G: Affine2, d: [number, number]): Affine2 => [G[0], G[1], G[2] + G[0] * d[0] + G[1] * d[1], G[3], G[4], G[5] + G[3] * d[0] + G[4] * d[1]];

/**
 * A field's shift: searched on a half-pixel grid over ±maxShift, then measured again on the slab
 * pixels that show the field at that shift (the first pass takes those under G, so a strip along
 * each edge shows the neighbouring field or nothing), climbed from it.
 */
function measureField(slab: Slab, P: Float32Array, mw: number, mh: number, G: Affine2, f: FieldRect, o: RefineFieldsOptions) {
  const s = measurePartShift(slab, P, mw, mh, G, f, { maxShift: o.maxShiftPx ?? fieldSearchPx(f), minOverlap: o.minOverlap ?? 0.3, labels: o.labels, gridStep: FIELD_GRID_PX });
  if (!s || o.ownPixels === false) return s;
  let out = s;
  for (let pass = 0; pass < (o.ownPasses ?? OWN_PASSES); pass++) {
    const again = measurePartShift(slab, P, mw, mh, shifted(G, out.shift), f, { maxShift: 1, minOverlap: o.minOverlap ?? 0.3, labels: o.labels, gridStep: FIELD_GRID_PX });
    if (!again) break;
    out = { ...out, shift: [out.shift[0] + again.shift[0], out.shift[1] + again.shift[1]] as [number, number] };
    if (Math.hypot(again.shift[0], again.shift[1]) < 0.1) break;
  }
  return out;
}

/** search grid of a field's shift, EDS pixels (see measureField) */
export const FIELD_GRID_PX = 0.5;

/**
 * Largest shift searched for a field, EDS pixels (unless maxShiftPx is given): 4, and up to 6 on
 * fields larger than 56 px (a fourteenth of the field's shorter side). A field's shift is measured
 * against the global transform, which took part of the other fields' errors, so 3 px stitching
 * errors read up to 4.0 px on the 3 x 3 mosaics of 69 px fields (a 4 px search left such a field on
 * the global transform, "at the edge of the search": mean 0.233 -> 0.168 voxel with 5); but a
 * small field finds more wrong matches in a wider search (28 px fields of a 6 x 6 mosaic: one
 * locked 3.5 px off with a 5 or 6 px search, mean 0.45 -> 0.55-0.60 voxel).
 */
export function fieldSearchPx(f: FieldRect): number {
  return Math.min(6, Math.max(4, Math.min(f.width, f.height) / 14));
}

/** A field's own match before the decision: its shift against G and the standard error of it (Infinity: not measurable). */
type Judged = MeasuredField & { edge?: boolean; candidate?: { d: [number, number]; se: number } };

/** A field judged under G moved by `centre` (its shift searched around it); `edge` when its match lay at the edge of the search. */
function judgeField(slab: Slab, P: Float32Array, mw: number, mh: number, G: Affine2, f: FieldRect, o: RefineFieldsOptions, centre: [number, number]): Judged {
  const s = measureField(slab, P, mw, mh, shifted(G, centre), f, o);
  const out: Judged = { ...f, shiftPx: [0, 0], overlap: s?.overlap ?? 0, moved: false };
  if (!s) return out;
  const d: [number, number] = [centre[0] + s.shift[0], centre[1] + s.shift[1]];
  const len = Math.hypot(d[0], d[1]);
  // a distinct match: no other local minimum of the search within (minContrast) of it
  const distinct = s.secondCost >= (1 + (o.minContrast ?? MIN_CONTRAST)) * s.gridCost;
  if (!distinct) out.ambiguous = true;
  if (Math.hypot(s.shift[0], s.shift[1]) >= (o.maxShiftPx ?? fieldSearchPx(f)) - 0.25) out.edge = true;
  if (distinct && !out.edge && len >= (o.minShiftPx ?? 0.2) && s.cost < 0.995 * s.cost0) {
    out.candidate = { d, se: shiftStandardError(slab, P, mw, mh, G, f, d, o.labels) };
  }
  return out;
}

/** The significance rule: a candidate moves by its whole shift when it is minSignificance standard errors long. */
function decideBySignificance(j: Judged, o: RefineFieldsOptions): MeasuredField {
  const { edge: _e, candidate, ...f } = j;
  if (!candidate) return f;
  const len = Math.hypot(...candidate.d);
  if (!(len >= (o.minSignificance ?? MIN_SIGNIFICANCE) * candidate.se)) return f;
  return { ...f, shiftPx: candidate.d, standardErrorPx: candidate.se, moved: true };
}

/** a moved field keeps its shift when its probability of a stitching error is at least this (stitchResponsibilities) */
export const MIN_STITCH_PROBABILITY = 0.5;
/** smallest spread of stitching errors fitted (EDS px^2 per axis): errors of a fraction of a pixel are not told from noise */
export const STITCH_T2_MIN = 0.25;

/**
 * Which fields carry a stitching error, from the fields' own matches (empirical Bayes, issue 19):
 * a field's measured shift d is either noise about the global transform (no stitching error,
 * d ~ N(0, se^2) per axis) or a stitching error (d ~ N(0, T^2 + se^2)); the share of fields with an
 * error and their spread T^2 (at least STITCH_T2_MIN) are fitted to the map by EM. Returns each
 * candidate's probability of carrying a stitching error, the share and T^2.
 *
 * A field moves only when this probability is at least MIN_STITCH_PROBABILITY (beside its
 * significance, MIN_SIGNIFICANCE). Measured (register-models.test.ts and the synthetic mosaics of
 * bench register-distorted, seeds 6/8/20, plus 3 x 3 seed 9 and 4 x 4 seed 5): on the same maps
 * without stitching errors the fields whose content biases their match 0.5-0.8 px moved at 1.5
 * standard errors; with the mixture the share fits to 0.01 and none moves (3 x 3 at 1 µm 0.157 ->
 * 0.073 voxel, 4 x 4 0.191 -> 0.122; the 3 x 2 keeps 0.153: share 0.73 on four fields, three of
 * them biased 3-8 standard errors), and every map with offsets up to 3 px keeps its error (3 x 2
 * 0.188, 3 x 3 0.279 and 0.232, 4 x 4 0.339 and 0.360; share 0.80-0.99). Moving each field by its
 * probability times its shift instead, or by the Gaussian posterior mean tau^2 / (tau^2 + se^2)
 * of one spread for all, cost the maps with offsets up to 0.024 (3 x 2: 0.188 -> 0.212).
 */
export function stitchResponsibilities(cands: { d: [number, number]; se: number }[]): { r: number[]; share: number; t2: number } {
  const n2 = (d: [number, number], s2: number) => Math.exp(-(d[0] ** 2 + d[1] ** 2) / (2 * s2)) / (2 * Math.PI * s2);
  let share = 0.5, t2 = Math.max(STITCH_T2_MIN, cands.reduce((a, c) => a + (c.d[0] ** 2 + c.d[1] ** 2) / 2, 0) / Math.max(1, cands.length));
  let r = cands.map(() => 0.5);
  for (let it = 0; it < 100; it++) {
    r = cands.map((c) => {
      const a = share * n2(c.d, t2 + c.se ** 2), b = (1 - share) * n2(c.d, c.se ** 2);
      return a + b > 0 ? a / (a + b) : 1;
    });
    const R = r.reduce((a, x) => a + x, 0);
    share = Math.min(0.99, Math.max(0.01, R / Math.max(1, cands.length)));
    t2 = R > 0 ? Math.max(STITCH_T2_MIN, cands.reduce((a, c, i) => a + r[i] * ((c.d[0] ** 2 + c.d[1] ** 2) / 2 - c.se ** 2), 0) / R) : STITCH_T2_MIN;
  }
  return { r, share, t2 };
}

/**
 * Fields whose match lay at the edge of the search are searched again around the median shift of
 * the fields that moved (at least MIN_RECENTRE of them): the global transform sits at a weighted
 * mean of the fields' errors, so a field's shift against it can exceed the stitching error by that
 * much. On a 4 x 4 mosaic of 42 px fields two fields 3.5-3.7 px off the global transform were left
 * on it (mean 0.598 voxel).
 */
export const MIN_RECENTRE = 3;

export function refineFields(fullSlab: Slab, P: Float32Array, mw: number, mh: number, G: Affine2, fields: FieldRect[], o: RefineFieldsOptions = {}): MeasuredField[] {
  const slab = erodeSlabEdge(fullSlab, o.edgeErodePx ?? EDGE_ERODE_PX);
  const first = fields.map((f) => {
    throwIfAborted(o.signal);
    return judgeField(slab, P, mw, mh, G, f, o, [0, 0]);
  });
  const movedShifts = first.map((j) => decideBySignificance(j, o)).filter((f) => f.moved).map((f) => f.shiftPx);
  const median = (xs: number[]) => { const a = [...xs].sort((p, q) => p - q), h = a.length >> 1; return a.length % 2 ? a[h] : (a[h - 1] + a[h]) / 2; };
  const centre: [number, number] = movedShifts.length >= MIN_RECENTRE ? [median(movedShifts.map((d) => d[0])), median(movedShifts.map((d) => d[1]))] : [0, 0];
  const judged: Judged[] = first.map((f, i) => {
    if (!f.edge || (centre[0] === 0 && centre[1] === 0)) return f;
    throwIfAborted(o.signal);
    return judgeField(slab, P, mw, mh, G, fields[i], o, centre);
  });
  // on a map whose fields' matches are all within their noise (no stitching errors), a field's
  // 'significant' shift is its content's bias: it keeps the global transform
  const cands = judged.flatMap((j) => (j.candidate && Number.isFinite(j.candidate.se) ? [j.candidate] : []));
  const { r, share, t2 } = stitchResponsibilities(cands);
  const measured: MeasuredField[] = judged.map((j) => {
    const f = decideBySignificance(j, o);
    if (!f.moved || r[cands.indexOf(j.candidate!)] >= MIN_STITCH_PROBABILITY) return f;
    const { edge: _e, candidate: _c, ...kept } = j;
    return kept;
  });
  const finish = (out: MeasuredField[]) => o.belowNoise ? placeBelowNoise(out, judged, share, t2, o.minShiftPx ?? 0.2) : out;
  if (o.neighbours === false) return finish(markUnplaced(measured.map((f) => ({ ...f, placedBy: f.moved ? 'measured' : 'global' })), judged, share));
  // fields the content could not place take their neighbours' shift where neighbours move alike (stage drift)
  const g = regulariseFieldGrid(fields, measured);
  return finish(markUnplaced(measured.map((f, i) => {
    const d = g.shifts[i], by = g.from[i];
    if (by === 'measured') return { ...f, placedBy: by };
    const { ambiguous: _a, standardErrorPx: _s, ...rest } = f;
    if (by === 'global' || Math.hypot(d[0], d[1]) < (o.minShiftPx ?? 0.2)) return { ...f, shiftPx: [0, 0], moved: false, placedBy: 'global' };
    return { ...rest, shiftPx: [d[0], d[1]], moved: true, placedBy: 'neighbours', ...(g.outliers.includes(i) ? { outlier: true } : {}) };
  }), judged, share));
}

/**
 * Fields whose own match stayed within its noise, on a map with stitching errors (issue 19, stop
 * 30). The significance rule (MIN_SIGNIFICANCE) leaves a field on the global transform unless its
 * shift is 1.5 standard errors long. On a map without stitching errors that is right (a short
 * 'shift' is the content's bias). But where the fields' matches show stitching errors
 * (stitchResponsibilities: share >= MIN_STITCH_PROBABILITY), a field almost surely carries one too,
 * and 0 is not the best guess of it. On the 4 x 4 mosaic of bench register-distorted (seed 20)
 * D1's match read 0.82 px at 0.70 px standard error (1.2): it stayed at 0, 0.93 px from its
 * truth, while its match was 0.12 px from it. Such a field (a distinct match, not at the edge of the
 * search, left on the global transform) takes its match shrunk by the Gaussian posterior mean
 * T^2 / (T^2 + se^2), T^2 the stitching errors' spread fitted to the map. Only the fields that did
 * not move change; a moved field keeps its whole shift (shrinking them all cost the maps with
 * offsets up to 0.024 voxel, stop 27). mosaic-layout.ts asks for it in its last round only: taken in
 * every round, the shrunk shifts fed the layout and the shared linear part, and on held-out 4 x 4
 * seed 9 field A3 then locked 3.5 px off (0.493 -> 0.558 voxel).
 *
 * Stop 32: a field whose quarters could not be measured (fewer than 3 of them on the volume, so its
 * standard error is Infinity: typically an edge field with 40-50 % of it on the volume) has no
 * precision to shrink by; it takes its distinct match whole, and mosaic-layout.ts then moves it to
 * its criterion's basin centre like any field placed by its own match (field-basin.ts). Before, it
 * stayed on the global transform, 0.5-1.4 voxel from its truth. Measured (bench register-distorted
 * mosaics, the labels that train): five 4 x 4 maps had such a field, each gained (fresh seed 23
 * 0.292 -> 0.254, 25 0.230 -> 0.222; after seeds 28 0.243 -> 0.211 (A1 0.99 -> 0.06 voxel at its
 * centre), 30 0.122 -> 0.092, 33 0.202 -> 0.182); every other map of the bench unchanged, and so
 * were the 10 fresh 4 x 4 maps (seeds 35-44) made after the rule (none had such a field).
 */
function placeBelowNoise(out: MeasuredField[], judged: Judged[], share: number, t2: number, minShiftPx: number): MeasuredField[] {
  if (share < MIN_STITCH_PROBABILITY) return out;
  return out.map((f, i) => {
    const c = judged[i].candidate;
    if (f.moved || f.unplaced || f.placedBy !== 'global' || !c) return f;
    // its quarters could not be measured (fewer than 3 on the volume): no precision to shrink by, it takes its match
    if (!Number.isFinite(c.se)) return { ...f, shiftPx: c.d, moved: true, placedBy: 'measured' };
    const k = t2 / (t2 + c.se ** 2), d: [number, number] = [k * c.d[0], k * c.d[1]];
    if (Math.hypot(d[0], d[1]) < minShiftPx) return f;
    return { ...f, shiftPx: d, standardErrorPx: c.se, moved: true, placedBy: 'measured', belowNoise: true };
  });
}

/**
 * Fields that cannot be placed (issue 19): on a map whose fields show stitching errors (the share
 * of fields carrying one, stitchResponsibilities, at least MIN_STITCH_PROBABILITY), a field left on
 * the global transform because its own match was not distinct (ambiguous) or lay at the edge of the
 * search, and that its neighbours could not place either, most likely carries a stitching error of
 * its own of unknown direction: its labels would land up to the map's stitching error off. It is
 * marked `unplaced`, and the label transfer leaves its pixels out of training (transfer-labels.ts).
 * On a map without stitching errors such a field is where the global transform puts it and keeps
 * its labels. At most UNPLACED_MAX_SHARE of the fields are left out: beyond that the map is kept
 * whole (its reason says the fields were not placed) rather than losing most of its labels.
 *
 * Measured (the issue-19 3 x 3 mosaic at 1 µm, 3 px stitching errors): B3 (quartz and K-feldspar,
 * nothing to match) is 0.94 voxel off on the global transform; the labels used for training then
 * read 0.194 voxel mean, against 0.279 over the whole map.
 */
export const UNPLACED_MAX_SHARE = 0.25;

function markUnplaced(out: MeasuredField[], judged: Judged[], share: number): MeasuredField[] {
  if (share < MIN_STITCH_PROBABILITY) return out;
  const un = out.map((f, i) => !f.moved && f.placedBy !== 'neighbours' && !!(judged[i].ambiguous || judged[i].edge));
  const n = un.filter(Boolean).length;
  if (!n || n > UNPLACED_MAX_SHARE * out.length) return out;
  return out.map((f, i) => (un[i] ? { ...f, unplaced: true } : f));
}

/** The field that holds EDS pixel (u, v) (rounded), or undefined. */
export function fieldAt<F extends FieldRect>(fields: F[], u: number, v: number): F | undefined {
  const ru = Math.round(u), rv = Math.round(v);
  return fields.find((f) => ru >= f.u0 && ru < f.u0 + f.width && rv >= f.v0 && rv < f.v0 + f.height);
}

/** The shift (EDS pixels) at EDS pixel (u, v): its field's, or 0 outside every field. */
export function fieldShiftAt(fields: FieldCorrection[], u: number, v: number): [number, number] {
  return fieldAt(fields, u, v)?.shiftPx ?? [0, 0];
}

/** A regular grid of fields covering a width x height map (the last row and column take the remainder). */
export function regularFields(width: number, height: number, cols: number, rows: number): FieldRect[] {
  const out: FieldRect[] = [];
  const fw = Math.ceil(width / cols), fh = Math.ceil(height / rows);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) {
    const u0 = c * fw, v0 = r * fh;
    if (u0 < width && v0 < height) out.push({ name: `${String.fromCharCode(65 + r)}${c + 1}`, u0, v0, width: Math.min(fw, width - u0), height: Math.min(fh, height - v0) });
  }
  return out;
}

/** Voxel position of EDS pixel (u, v) under a registration, per-field shifts included. */
export function edsPointToVoxel(reg: { edsToVoxel: Affine2to3; fields?: FieldCorrection[] }, u: number, v: number): [number, number, number] {
  const [du, dv] = reg.fields ? fieldShiftAt(reg.fields, u, v) : [0, 0];
  return applyAffine2to3(reg.edsToVoxel, u + du, v + dv);
}
