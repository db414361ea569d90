/**
 * A field's shift at its criterion's basin centre (issue 19, stop 31, field-basin.ts): the quadratic
 * fitted over a disc finds the centre of a rippled bowl where the lowest sample does not, and refuses
 * a criterion with no minimum. The 4 x 4 mosaic end to end is in refine-fields.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { FIELD_BASIN_R, FIELD_BASIN_STEP, quadraticMinimum } from '../../../lib/registration/field-basin';

describe('the basin centre of a field\'s criterion', () => {
  const centre = [0.31, -0.22];
  const bowl = (u: number, v: number) => {
    const a = u - centre[0], b = v - centre[1];
    return 1 + a * a + 1.6 * b * b + 0.4 * a * b;
  };
  // a ripple of about half a pixel, as the correlation ratio's bilinear class shares give
  const rippled = (u: number, v: number) => bowl(u, v) + 0.06 * Math.sin((2 * Math.PI * (u + 0.05)) / 0.45) * Math.cos((2 * Math.PI * v) / 0.5);

  it('finds the bowl\'s centre through the ripple; the lowest sample of a finer grid is further off', () => {
    const x = quadraticMinimum(rippled, FIELD_BASIN_R, FIELD_BASIN_STEP)!;
    expect(Math.hypot(x[0] - centre[0], x[1] - centre[1])).toBeLessThan(0.02);
    let best = [0, 0], bc = Infinity;
    for (let v = -1; v <= 1; v += 0.0625) for (let u = -1; u <= 1; u += 0.0625) if (rippled(u, v) < bc) { bc = rippled(u, v); best = [u, v]; }
    expect(Math.hypot(best[0] - centre[0], best[1] - centre[1])).toBeGreaterThan(0.1);
  });

  it('a minimum outside the sampled disc is returned for the caller to judge; a criterion without a minimum gives null', () => {
    const far = quadraticMinimum((u, v) => (u - 1.8) ** 2 + (v + 0.4) ** 2, FIELD_BASIN_R, FIELD_BASIN_STEP)!;
    expect(far[0]).toBeCloseTo(1.8, 6);
    expect(far[1]).toBeCloseTo(-0.4, 6);
    expect(quadraticMinimum((u, v) => -(u * u) - v * v, FIELD_BASIN_R, FIELD_BASIN_STEP)).toBeNull();
    expect(quadraticMinimum((u, v) => u * u - v * v, FIELD_BASIN_R, FIELD_BASIN_STEP)).toBeNull();
    expect(quadraticMinimum(() => NaN, FIELD_BASIN_R, FIELD_BASIN_STEP)).toBeNull();
  });
});
