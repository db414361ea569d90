/**
 * Per-field refinement of a stitched EDS mosaic (TIMA and other field mosaics, issue 19): each
 * field's picture may sit a few pixels off where the stitching put it. On top of the global EDS ->
 * slab transform, each field gets the shift that best aligns it alone (patch-shift.ts), regularised
 * towards the global transform: a field keeps shift 0 unless at least `minOverlap` of it lies on
 * the volume, its shift is larger than `minShiftPx`, and the shift lowers its misfit by more than
 * 0.5 % and no other match comes close to it (noise, featureless and ambiguous fields stay with the
 * global transform: "fall back"). Each field is measured by its
 * own correlation ratio (`labels`): on the synthetic mosaics the mean error was 0.13-0.20 voxel
 * against 0.23-0.29 with the misfit to the class-mean grey.
 */
import { applyAffine2to3, type Affine2, type Affine2to3 } from '../coords';
import { throwIfAborted } from '../errors';
import { measurePartShift } from './patch-shift';
import type { FieldCorrection, FieldRect, Slab } from './types';

export interface RefineFieldsOptions {
  signal?: AbortSignal;
  /** largest stitching error searched, EDS pixels (default 4) */
  maxShiftPx?: number;
  /** share of a field that must lie on the volume (default 0.3) */
  minOverlap?: number;
  /** smallest shift applied, EDS pixels (default 0.2) */
  minShiftPx?: number;
  /** measure by the field's own correlation ratio (class labels) instead of the misfit to the class-mean grey */
  labels?: { labels: Uint8Array; classes: number };
  /** a second local minimum of the field's misfit must be this much (relative) worse than the match (default MIN_CONTRAST) */
  minContrast?: number;
}

/**
 * A field keeps the global transform when another local minimum of its misfit (2 px or more from
 * the best) is within 1 % of it: on the synthetic 3 x 3 mosaic at 1 µm EDS a field over few grain
 * boundaries had two matches 0.2 % apart and locked onto the wrong one 4.5 px off (its ratio was
 * 1.002; fields whose match was right had no second minimum, or one 3 % or more worse).
 */
export const MIN_CONTRAST = 0.01;

/** P: predictedGrey of the map (any pose close to G: only class means are taken from it). */
/** A field's correction; `ambiguous` when its best match was not distinct (it stays on the global transform). */
export type MeasuredField = FieldCorrection & { ambiguous?: boolean };

export function refineFields(slab: Slab, P: Float32Array, mw: number, mh: number, G: Affine2, fields: FieldRect[], o: RefineFieldsOptions = {}): MeasuredField[] {
  return fields.map((f) => {
    throwIfAborted(o.signal);
    const s = measurePartShift(slab, P, mw, mh, G, f, { maxShift: o.maxShiftPx ?? 4, minOverlap: o.minOverlap ?? 0.3, labels: o.labels });
    const out: MeasuredField = { ...f, shiftPx: [0, 0], overlap: s?.overlap ?? 0, moved: false };
    if (!s) return out;
    const len = Math.hypot(s.shift[0], s.shift[1]);
    // a distinct match: no other local minimum of the search within (minContrast) of it
    const distinct = s.secondCost >= (1 + (o.minContrast ?? MIN_CONTRAST)) * s.gridCost;
    if (!distinct) out.ambiguous = true;
    if (distinct && len >= (o.minShiftPx ?? 0.2) && len < (o.maxShiftPx ?? 4) - 0.25 && s.cost < 0.995 * s.cost0) {
      out.shiftPx = [s.shift[0], s.shift[1]];
      out.moved = true;
    }
    return out;
  });
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
