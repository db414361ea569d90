/**
 * The field layout of a TESCAN TIMA export as rectangles of the stitched mosaic, for the per-field
 * registration of issue 19 (register-eds.ts `fields`): each field's stage position and image size
 * (fields.xml, measurement.xml) place it as stitchTimaFields does, and where neighbouring fields
 * overlap the rectangle is cut where the stitching cuts, at the middle between their centres (a
 * pixel takes the field whose centre is nearest; ties go to the later field).
 */
import type { FieldRect } from '../registration/types';
import { placeTimaFields, type TimaField, type TimaMeasurement } from './tima';

export function timaFieldRects(m: TimaMeasurement, fields: TimaField[]): FieldRect[] {
  const { width, height, placement } = placeTimaFields(m, fields);
  const W = m.imageWidth, H = m.imageHeight;
  const centre = placement.map((p) => [p.u0 + (W - 1) / 2, p.v0 + (H - 1) / 2]);
  return placement.map((p, i) => {
    let u0 = p.u0, u1 = p.u0 + W, v0 = p.v0, v1 = p.v0 + H;
    const [cu, cv] = centre[i];
    placement.forEach((_, j) => {
      if (j === i) return;
      const [du, dv] = centre[j];
      // only neighbours in the same row (column) whose picture overlaps this one
      const along = (a: number, b: number, size: number, other: number, otherSize: number) => Math.abs(b - a) < size && Math.abs(other) < otherSize / 2;
      // the pixels nearer to this centre than to the neighbour's (ties: the later field)
      const upTo = (a: number, b: number) => (j > i ? Math.ceil((a + b) / 2) : Math.floor((a + b) / 2) + 1);
      const from = (a: number, b: number) => (j > i ? Math.floor((a + b) / 2) + 1 : Math.ceil((a + b) / 2));
      if (along(cu, du, W, dv - cv, H)) {
        if (du > cu) u1 = Math.min(u1, upTo(cu, du)); else u0 = Math.max(u0, from(du, cu));
      } else if (along(cv, dv, H, du - cu, W)) {
        if (dv > cv) v1 = Math.min(v1, upTo(cv, dv)); else v0 = Math.max(v0, from(dv, cv));
      }
    });
    u0 = Math.max(0, u0); v0 = Math.max(0, v0); u1 = Math.min(width, u1); v1 = Math.min(height, v1);
    return { name: p.name, u0, v0, width: Math.max(0, u1 - u0), height: Math.max(0, v1 - v0) };
  });
}
