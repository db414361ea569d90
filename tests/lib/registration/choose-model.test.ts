/** The model choice's statistics on synthetic patch shifts and the area-keeping affine climb (issue 19). */
import { describe, expect, it } from 'vitest';
import type { Affine2 } from '../../../lib/coords';
import { climbAffine } from '../../../lib/registration/affine-climb';
import { basinCentre } from '../../../lib/registration/basin-centre';
import { patchAreaChange, patchF, wholeGainBar, type PatchShift } from '../../../lib/registration/choose-model';
import { mulberry32 } from '../../../lib/synthetic/prng';

/** 5 x 5 patches 20 px apart about the centre, shifts from `field` plus Gaussian noise of sd px. */
function patches(field: (x: number, y: number) => [number, number], sd: number, seed: number): PatchShift[] {
  const r = mulberry32(seed);
  const g = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const out: PatchShift[] = [];
  for (let j = -2; j <= 2; j++) for (let i = -2; i <= 2; i++) {
    const [du, dv] = field(20 * i, 20 * j);
    out.push({ x: 20 * i, y: 20 * j, d: [du + sd * g(), dv + sd * g()], w: [1 / (sd * sd), 1 / (sd * sd)] });
  }
  return out;
}

describe('the whole-map gain bar (affine keep decision)', () => {
  it('is 0.02 up to 70 x 70 pixels and falls as 1/sqrt(pixels) above', () => {
    expect(wholeGainBar(51 * 51)).toBe(0.02);
    expect(wholeGainBar(64 * 64)).toBe(0.02);
    expect(wholeGainBar(140 * 140)).toBeCloseTo(0.01, 9);
    expect(wholeGainBar(183 * 183)).toBeCloseTo(1.4 / 183, 9);
    expect(wholeGainBar(0)).toBe(0.02);
  });
});

describe('patch-shift F test of the affine', () => {
  it('stays small for a similarity (shift, rotation, scale) plus noise and is large for a 2 % shear', () => {
    const sim = (x: number, y: number): [number, number] => [0.3 + 0.004 * x - 0.003 * y, -0.2 + 0.003 * x + 0.004 * y];
    const shear = (x: number, y: number): [number, number] => [0.01 * y, 0.01 * x];
    const fs = [1, 2, 3, 4, 5, 6, 7, 8].map((s) => patchF(patches(sim, 0.3, s))!);
    const fa = [1, 2, 3, 4, 5, 6, 7, 8].map((s) => patchF(patches((x, y) => { const a = sim(x, y), b = shear(x, y); return [a[0] + b[0], a[1] + b[1]]; }, 0.3, s))!);
    // F(2, 44): 4 is about p = 0.025; a +-0.4 px shear pattern over 0.3 px noise is far beyond it
    expect(fs.filter((f) => f >= 4).length).toBeLessThanOrEqual(1);
    expect(Math.min(...fa)).toBeGreaterThan(10);
  });

  it('needs 8 patches', () => {
    expect(patchF(patches(() => [0, 0], 0.3, 1).slice(0, 7))).toBeNull();
  });
});

describe('the patch shifts\' area change (the area the affine holds)', () => {
  it('reads a 1 % stretch along u within its jackknife standard error, and 0 on a similarity', () => {
    // the shifts of a 1 % stretch along u (area +1 %) and of a rotation and shift only (area 0)
    const stretch = (x: number): [number, number] => [0.01 * x, 0];
    const rot = (x: number, y: number): [number, number] => [0.3 - 0.003 * y, -0.2 + 0.003 * x];
    for (const seed of [1, 2, 3, 4]) {
      const a = patchAreaChange(patches(stretch, 0.3, seed))!, b = patchAreaChange(patches(rot, 0.3, seed))!;
      // noise 0.3 px over +-40 px: se ~ 0.2-0.3 %
      expect(a.se).toBeGreaterThan(0.0005);
      expect(a.se).toBeLessThan(0.005);
      expect(Math.abs(a.a - 0.01)).toBeLessThan(3 * a.se);
      expect(Math.abs(b.a)).toBeLessThan(3 * b.se);
    }
    expect(patchAreaChange(patches(stretch, 0.3, 1).slice(0, 7))).toBeNull();
  });
});

describe('climbAffine', () => {
  // a smooth criterion with its optimum at a 2 % shear and a 3 % larger area about the centre (50, 50)
  const target: Affine2 = [1.015, 0.02, 0, 0, 1.015, 0];
  target[2] = 50 - target[0] * 50 - target[1] * 50;
  target[5] = 50 - target[3] * 50 - target[4] * 50;
  const score = (m: Affine2) => -[0, 1, 2, 3, 4, 5].reduce((s, k) => s + (m[k] - target[k]) ** 2 * (k === 2 || k === 5 ? 1 : 1e4), 0);
  const I: Affine2 = [1, 0, 0, 0, 1, 0];
  const det = (m: Affine2) => m[0] * m[4] - m[1] * m[3];

  it('keeps the start\'s area by default and finds the shear', () => {
    const r = climbAffine(score, I, 101, 101).edsToSlab;
    expect(det(r)).toBeCloseTo(1, 6);
    expect(r[1] - r[3]).toBeGreaterThan(0.015);
  });

  it('with holdScale false also finds the area', () => {
    const r = climbAffine(score, I, 101, 101, { holdScale: false }).edsToSlab;
    expect(det(r)).toBeCloseTo(det(target), 2);
    for (const k of [0, 1, 3, 4]) expect(Math.abs(r[k] - target[k])).toBeLessThan(0.002);
  });
});

describe('the centre of the criterion\'s basin (basin-centre.ts)', () => {
  // a concave quadratic in the map corners' offsets from a known optimum, with a ripple of 0.2 px
  // period in the shifts (as the bilinear class shares make): the fitted centre lands on the optimum from either start
  const mw = 80, mh = 80, best: Affine2 = [1.01, 0.02, 3.3, -0.015, 0.99, -2.1];
  const err = (m: Affine2) => Math.max(...[[0, 0], [79, 0], [0, 79], [79, 79]].map(([u, v]) => Math.hypot(m[0] * u + m[1] * v + m[2] - (best[0] * u + best[1] * v + best[2]), m[3] * u + m[4] * v + m[5] - (best[3] * u + best[4] * v + best[5]))));
  const score = (m: Affine2) => {
    const e = [[0, 0], [79, 0], [0, 79], [79, 79]].map(([u, v]) => [m[0] * u + m[1] * v + m[2] - (best[0] * u + best[1] * v + best[2]), m[3] * u + m[4] * v + m[5] - (best[3] * u + best[4] * v + best[5])]);
    return -e.reduce((s, [a, b]) => s + a * a + b * b, 0) + 0.02 * Math.cos(2 * Math.PI * m[2] / 0.2) * Math.cos(2 * Math.PI * m[5] / 0.2);
  };
  it('finds the optimum within 0.05 px at the map\'s corners from starts 0.5-1 px away, with the area held or free', () => {
    for (const start of [[1.005, 0.028, 3.0, -0.01, 0.985, -1.5], [1.012, 0.012, 3.8, -0.022, 0.995, -2.4]] as Affine2[]) {
      const held = basinCentre(score, start, mw, mh, { area: best, rounds: 3 });
      expect(held.fitted).toBe(true);
      expect(err(held.edsToSlab)).toBeLessThan(0.05);
      const free = basinCentre(score, start, mw, mh, { area: false, rounds: 3 });
      expect(err(free.edsToSlab)).toBeLessThan(0.05);
      expect(free.edsToSlab[0] * free.edsToSlab[4] - free.edsToSlab[1] * free.edsToSlab[3]).toBeCloseTo(best[0] * best[4] - best[1] * best[3], 3);
    }
  });
  it('in rigid mode moves only the shifts and the rotation (a similarity stays one, at its area) and finds a rigid optimum', () => {
    const th = 0.012, k = 1.004;
    const rigid: Affine2 = [k * Math.cos(th), -k * Math.sin(th), 2.4, k * Math.sin(th), k * Math.cos(th), -1.3];
    const off = (m: Affine2) => [[0, 0], [79, 0], [0, 79], [79, 79]].map(([u, v]) => [m[0] * u + m[1] * v + m[2] - (rigid[0] * u + rigid[1] * v + rigid[2]), m[3] * u + m[4] * v + m[5] - (rigid[3] * u + rigid[4] * v + rigid[5])]);
    const sc = (m: Affine2) => -off(m).reduce((s, [a, b]) => s + a * a + b * b, 0) + 0.02 * Math.cos(2 * Math.PI * m[2] / 0.2) * Math.cos(2 * Math.PI * m[5] / 0.2);
    const start: Affine2 = [k * Math.cos(0.02), -k * Math.sin(0.02), 2.0, k * Math.sin(0.02), k * Math.cos(0.02), -0.8];
    const r = basinCentre(sc, start, mw, mh, { rigid: true, rounds: 3 });
    expect(r.fitted).toBe(true);
    expect(Math.max(...off(r.edsToSlab).map(([a, b]) => Math.hypot(a, b)))).toBeLessThan(0.05);
    expect(r.edsToSlab[0]).toBeCloseTo(r.edsToSlab[4], 9);
    expect(r.edsToSlab[1]).toBeCloseTo(-r.edsToSlab[3], 9);
    expect(r.edsToSlab[0] * r.edsToSlab[4] - r.edsToSlab[1] * r.edsToSlab[3]).toBeCloseTo(k * k, 9);
  });

  it('returns the start, not fitted, where the criterion has no maximum', () => {
    const start: Affine2 = [1, 0, 0, 0, 1, 0];
    const r = basinCentre((m) => m[2] * m[2] - m[5] * m[5], start, mw, mh);
    expect(r.fitted).toBe(false);
    expect(r.edsToSlab).toEqual(start);
  });
});
