/** TIMA field layout as mosaic rectangles for the per-field registration (issue 19). */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseTimaFields, parseTimaMeasurement, stitchTimaFields, type TimaMeasurement } from '../../../lib/eds/tima';
import { timaFieldRects } from '../../../lib/eds/tima-fields';
import { fieldAt } from '../../../lib/registration/refine-fields';

const TIMA_STA = join(__dirname, '../../../../shared/data/tima-sta');
const M = (w: number, h: number, viewFieldUm: number): TimaMeasurement => ({ viewFieldUm, imageWidth: w, imageHeight: h, semImages: [] });

describe('timaFieldRects', () => {
  it('cuts overlapping fields where the stitching does (nearest centre, ties to the later field)', () => {
    // 10 x 8 px fields of 100 µm (10 µm pixels), centres 70 µm apart along x: 3 px of overlap
    const m = M(10, 8, 100);
    const fields = [{ name: 'A1', x: 70, y: 0 }, { name: 'A2', x: 0, y: 0 }, { name: 'B1', x: 70, y: 80 }];
    const rects = timaFieldRects(m, fields);
    // the mosaic as stitched: each field paints its index + 1
    const imgs = fields.map((field, k) => ({ field, phases: new Uint8Array(80).fill(k + 1) }));
    const s = stitchTimaFields(m, imgs);
    for (let v = 0; v < s.height; v++) for (let u = 0; u < s.width; u++) {
      const f = fieldAt(rects, u, v);
      expect(f ? fields.findIndex((x) => x.name === f.name) + 1 : 0).toBe(s.labels[v * s.width + u]);
    }
    expect(rects.map((r) => r.width)).toEqual([8, 9, 10]);
  });

  it.skipIf(!existsSync(join(TIMA_STA, 'measurement.xml')))('reads the layout of the real export (tima-sta): 308 fields of 83 px, none overlapping', () => {
    const m = parseTimaMeasurement(readFileSync(join(TIMA_STA, 'measurement.xml'), 'utf8'));
    const { fields } = parseTimaFields(readFileSync(join(TIMA_STA, 'fields.xml'), 'utf8'));
    const rects = timaFieldRects(m, fields);
    expect(rects).toHaveLength(308);
    expect(rects.every((r) => r.width === 83 && r.height === 83)).toBe(true);
    const seen = new Set<string>();
    for (const r of rects) {
      const key = `${r.u0},${r.v0}`;
      expect(seen.has(key)).toBe(false);
      seen.add(key);
      expect(r.u0 % 83).toBe(0);
      expect(r.v0 % 83).toBe(0);
    }
  });
});
