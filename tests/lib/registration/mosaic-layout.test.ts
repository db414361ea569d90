/**
 * The global transform of a stitched map from its fields' layout (issue 19, mosaic-layout.ts): the
 * least-squares scale and rotation of the fields' shifts reads a global similarity's error through
 * the stitching errors, within its standard error; the corrected transform scales and rotates about
 * the map's centre; too few moved fields, or stage drift, change nothing. Known shifts, no images
 * (mosaic-linear.test.ts has the estimate from the fields' content on a generated map).
 */
import { describe, expect, it } from 'vitest';
import { applyAffine2, type Affine2 } from '../../../lib/coords';
import { fitFieldLayout, refineMosaicLayout, SHARED_LINEAR_MIN_MOVED } from '../../../lib/registration/mosaic-layout';
import { linearOf, withLinear } from '../../../lib/registration/mosaic-linear';
import { regularFields, type MeasuredField } from '../../../lib/registration/refine-fields';
import type { MovingImage } from '../../../lib/registration/moving-image';
import type { Slab } from '../../../lib/registration/types';
import { mulberry32 } from '../../../lib/synthetic/prng';
import { stageDrift } from './drift-mosaic';

/** A 4 x 4 mosaic of 42 px fields whose shifts are a global error (t, s, w about the centre) plus stitching errors up to `maxPx`. */
function mosaic(seed: number, s: number, w: number, maxPx: number): MeasuredField[] {
  const rng = mulberry32(seed);
  const fields = regularFields(168, 168, 4, 4);
  const c = 83.5;
  return fields.map((f) => {
    const r = maxPx * Math.sqrt(rng()), a = 2 * Math.PI * rng();
    const x = f.u0 + (f.width - 1) / 2 - c, y = f.v0 + (f.height - 1) / 2 - c;
    return { ...f, overlap: 1, moved: true, shiftPx: [0.4 + s * x - w * y + r * Math.cos(a), -0.7 + w * x + s * y + r * Math.sin(a)] as [number, number] };
  });
}

describe('mosaic layout', () => {
  it('reads a 1.5 % scale and 0.8 % rotation error through 3 px stitching errors, within 3 standard errors (10 seeds)', () => {
    let covered = 0;
    for (let seed = 1; seed <= 10; seed++) {
      const L = fitFieldLayout(mosaic(seed, -0.015, 0.008, 3))!;
      expect(L.n).toBe(16);
      // the standard error comes from the stitching errors' scatter: ~1.5 px per axis over 16 fields 42 px apart
      expect(L.se).toBeGreaterThan(0.003);
      expect(L.se).toBeLessThan(0.01);
      expect(Math.abs(L.s + 0.015)).toBeLessThan(3 * L.se);
      expect(Math.abs(L.w - 0.008)).toBeLessThan(3 * L.se);
      if (Math.abs(L.s + 0.015) < L.se && Math.abs(L.w - 0.008) < L.se) covered++;
    }
    // about 0.68^2 of the seeds have both within one standard error
    expect(covered).toBeGreaterThanOrEqual(2);
  });

  it('without stitching errors the layout is exact', () => {
    const L = fitFieldLayout(mosaic(3, 0.01, -0.005, 0))!;
    expect(L.s).toBeCloseTo(0.01, 9);
    expect(L.w).toBeCloseTo(-0.005, 9);
    expect(L.t[0]).toBeCloseTo(0.4, 9);
    expect(L.t[1]).toBeCloseTo(-0.7, 9);
    expect(L.se).toBeLessThan(1e-9);
  });

  it('the corrected transform keeps the centre and scales and rotates about it', () => {
    const G: Affine2 = [0.6, -0.3, 12, 0.3, 0.6, -4];
    const c: [number, number] = [83.5, 60];
    const A = linearOf(0.012, 0.004);
    const G1 = withLinear(G, A, c);
    for (const [u, v] of [[83.5, 60], [0, 0], [167, 12], [40, 150]]) {
      const want = applyAffine2(G, c[0] + A[0] * (u - c[0]) + A[1] * (v - c[1]), c[1] + A[2] * (u - c[0]) + A[3] * (v - c[1])), got = applyAffine2(G1, u, v);
      expect(got[0]).toBeCloseTo(want[0], 9);
      expect(got[1]).toBeCloseTo(want[1], 9);
    }
  });

  it(`fewer than ${SHARED_LINEAR_MIN_MOVED} moved fields: the global transform and the fields are kept as they are`, () => {
    const fields = mosaic(7, 0.02, 0, 3).map((f, i) => (i < SHARED_LINEAR_MIN_MOVED - 1 ? f : { ...f, moved: false, shiftPx: [0, 0] as [number, number] }));
    const G: Affine2 = [1, 0, 0, 0, 1, 0];
    const slab = { width: 1, height: 1, data: new Float32Array(1) } as unknown as Slab;
    const out = refineMosaicLayout(slab, {} as MovingImage, G, fields, fields);
    expect(out.edsToSlab).toBe(G);
    expect(out.fields).toBe(fields);
    expect(out.linear).toBeUndefined();
  });

  it('neighbours that moved alike (stage drift): the trend is the map\'s own, the global transform is kept', () => {
    const drift = stageDrift(4, 4, 2.5, 0.3, 5);
    const fields = regularFields(168, 168, 4, 4).map((f, i) => ({ ...f, overlap: 1, moved: true, placedBy: 'measured' as const, shiftPx: drift(i % 4, Math.floor(i / 4)) }));
    // the same shifts do carry a trend the layout would take
    const L = fitFieldLayout(fields)!;
    expect(Math.hypot(L.s, L.w)).toBeGreaterThan(2 * L.se);
    const G: Affine2 = [1, 0, 0, 0, 1, 0];
    const slab = { width: 1, height: 1, data: new Float32Array(1) } as unknown as Slab;
    const out = refineMosaicLayout(slab, {} as MovingImage, G, fields, fields);
    expect(out.edsToSlab).toBe(G);
    expect(out.linear).toBeUndefined();
  });
});
