/**
 * Per-field refinement regularised over the field grid (issue 19, field-grid-regularise.ts): fields
 * that could not place themselves take their neighbours' shifts where neighbours move alike (stage
 * drift), the global transform where they do not (independent stitching errors). The grid rules on
 * known shifts, and a drifting mosaic registered end to end against the per-pixel truth.
 */
import { describe, expect, it } from 'vitest';
import { applyAffine2to3, composeAffine2to3 } from '../../../lib/coords';
import { fieldNeighbours, regulariseFieldGrid } from '../../../lib/registration/field-grid-regularise';
import { movingImage } from '../../../lib/registration/moving-image';
import { predictedGrey } from '../../../lib/registration/patch-shift';
import { registrationErrorAt } from '../../../lib/registration/quality';
import { edsPointToVoxel, fieldShiftAt, MIN_STITCH_PROBABILITY, refineFields, regularFields, stitchResponsibilities } from '../../../lib/registration/refine-fields';
import { registerEdsToVolume } from '../../../lib/registration/register-eds';
import { transferLabels } from '../../../lib/registration/transfer-labels';
import type { FieldCorrection } from '../../../lib/registration/types';
import type { MineralMap } from '../../../lib/eds/types';
import { mulberry32 } from '../../../lib/synthetic/prng';
import { distortEdsMap } from '../../../lib/synthetic/eds';
import { driftMosaic, stageDrift } from './drift-mosaic';
import { smallSample } from './helpers';

describe('field grid regularisation (known shifts)', () => {
  const grid = regularFields(120, 120, 6, 6);
  const drift = stageDrift(6, 6, 2.5, 0, 5);
  const truth = grid.map((_, i) => drift(i % 6, Math.floor(i / 6)));

  it('neighbours share an edge', () => {
    const nb = fieldNeighbours(regularFields(90, 90, 3, 3));
    expect(nb.map((n) => n.length)).toEqual([2, 3, 2, 3, 4, 3, 2, 3, 2]);
    expect(nb[4].sort()).toEqual([1, 3, 5, 7]);
  });

  it('drifting fields: the unplaced ones take their neighbours\' shifts; a wrong match far from its neighbours is replaced', () => {
    const unplaced = new Set([3, 8, 14, 15, 21, 26, 33]);
    const measured = truth.map((d, i) => ({ shiftPx: unplaced.has(i) ? [0, 0] as [number, number] : d, moved: !unplaced.has(i), standardErrorPx: 0.2 }));
    measured[10] = { shiftPx: [truth[10][0] + 3, truth[10][1] - 2], moved: true, standardErrorPx: 0.3 };
    const g = regulariseFieldGrid(grid, measured);
    expect(g.rho).toBeGreaterThan(0.6);
    expect(g.outliers).toEqual([10]);
    for (const i of [...unplaced, 10]) {
      expect(g.from[i]).toBe('neighbours');
      // global transform: |truth| off; the neighbours' prediction much closer
      expect(Math.hypot(g.shifts[i][0] - truth[i][0], g.shifts[i][1] - truth[i][1])).toBeLessThan(Math.max(0.6, 0.45 * Math.hypot(...truth[i])));
    }
    expect(g.from.filter((f) => f === 'measured')).toHaveLength(28);
  });

  it('independent stitching errors: the unplaced fields keep the global transform', () => {
    const rng = mulberry32(11);
    const measured = grid.map((_, i) => {
      const r = 3 * Math.sqrt(rng()), t = 2 * Math.PI * rng();
      return { shiftPx: (i % 5 === 0 ? [0, 0] : [r * Math.cos(t), r * Math.sin(t)]) as [number, number], moved: i % 5 !== 0, standardErrorPx: 0.3 };
    });
    const g = regulariseFieldGrid(grid, measured);
    expect(g.rho).toBe(0);
    expect(g.outliers).toEqual([]);
    g.shifts.forEach((d, i) => expect(d).toEqual(i % 5 === 0 ? [0, 0] : measured[i].shiftPx));
  });
});

describe('which fields carry a stitching error (mixture fitted to the map)', () => {
  const rng = mulberry32(3);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
  const noise = (se: number) => ({ d: [se * gauss(), se * gauss()] as [number, number], se });

  it('shifts within their noise (no stitching errors): no field is taken for one, even one 2 standard errors out (moved by the 1.5 rule alone)', () => {
    const cands = [0.2, 0.3, 0.25, 0.4, 0.3, 0.2, 0.35].map(noise);
    cands.push({ d: [0.5, 0.2], se: 0.25 });
    const m = stitchResponsibilities(cands);
    expect(m.share).toBeLessThan(0.3);
    for (const r of m.r) expect(r).toBeLessThan(MIN_STITCH_PROBABILITY);
  });

  it('stitching errors of 1-3 px: every field carries one, and so does a 1 px shift among them', () => {
    const cands = Array.from({ length: 8 }, (_, i) => {
      const r = 1 + (2 * i) / 7, t = 2.3 * i;
      const n = noise(0.3);
      return { d: [r * Math.cos(t) + n.d[0], r * Math.sin(t) + n.d[1]] as [number, number], se: 0.3 };
    });
    const m = stitchResponsibilities(cands);
    expect(m.share).toBeGreaterThan(0.8);
    expect(m.t2).toBeGreaterThan(1);
    for (const r of m.r) expect(r).toBeGreaterThanOrEqual(MIN_STITCH_PROBABILITY);
  });
});

describe('a 6 x 6 mosaic with stage drift (generator truth)', () => {
  it('fields that could not place themselves take their neighbours\' shifts: lower error than the global transform for them', async () => {
    const seed = 12;
    const s = smallSample({
      seed, surfaceDepthVox: 4 + (seed % 4), tiltDeg: 1 + (seed % 3), tiltAzimuthDeg: 37 * seed,
      eds: { rotationDeg: 53 * seed, pixelUm: 1.4, mirrored: seed % 2 === 0, offsetVox: { x: ((seed * 7) % 11) - 5, y: ((seed * 5) % 9) - 4 } },
    });
    const m = driftMosaic(s, { coverage: 0.9, cols: 6, rows: 6, shiftAt: stageDrift(6, 6, 2.5, 0.3) });
    const r = await registerEdsToVolume(s.volume, m.eds, { inWorker: false, model: 'fields', fields: m.layout });
    expect(r.model).toBe('fields');
    const err = (fields: { u0: number; v0: number; width: number; height: number; shiftPx: [number, number] }[]) =>
      registrationErrorAt((u, v) => edsPointToVoxel({ edsToVoxel: r.edsToVoxel, fields: fields as never }, u, v), m.truthAt, m.eds.width, m.eds.height, s.volume.meta.shape);
    const withNb = err(r.fields!);
    // the same measurement without the neighbours (each unplaced field on the global transform)
    const mov = movingImage(m.eds);
    const alone = refineFields(r.slab, predictedGrey(r.slab, mov, r.candidates!.similarity.edsToSlab), mov.width, mov.height, r.edsToSlab, m.layout, { labels: mov, neighbours: false });
    const without = err(alone);
    const byNb = r.fields!.filter((f) => (f as { placedBy?: string }).placedBy === 'neighbours');
    expect(byNb.length).toBeGreaterThanOrEqual(3);
    expect(withNb.mean).toBeLessThan(without.mean - 0.05);
    // measured 0.35 (0.32 before the half-pixel search, 0.44 without the neighbours; 0.13 with every field at its true shift: the global transform takes part of the drift)
    expect(withNb.mean).toBeLessThanOrEqual(0.38);
    // the neighbour-placed fields themselves are closer to the truth than on the global transform
    const at = (fs: typeof alone, f: (typeof byNb)[number]) => {
      const u = f.u0 + f.width / 2, v = f.v0 + f.height / 2, t = m.truthAt(u, v), d = fieldShiftAt(fs, u, v);
      const p = applyAffine2to3(composeAffine2to3(r.slabToVoxel, r.edsToSlab), u + d[0], v + d[1]);
      return Math.hypot(p[0] - t[0], p[1] - t[1], p[2] - t[2]);
    };
    const gain = byNb.reduce((sum, f) => sum + at(alone, f) - at(r.fields!, f), 0) / byNb.length;
    expect(gain).toBeGreaterThan(0.05);
  }, 300_000);
});

describe('a field that could not be placed gives no training labels', () => {
  it('transferLabels leaves its pixels unlabelled and labels the other fields, shifted', () => {
    // 40 x 20 map of one mineral, two 20 x 20 fields; the right one is not placed, the left one moved by 2 px
    const map: MineralMap = { width: 40, height: 20, pixelSizeUm: 1, labels: new Uint16Array(800).fill(1), legend: [{ id: 1, name: 'Quartz', color: [1, 2, 3] }], companions: [] };
    const [a, b] = regularFields(40, 20, 2, 1);
    const fields: FieldCorrection[] = [{ ...a, shiftPx: [2, 0], overlap: 1, moved: true }, { ...b, shiftPx: [0, 0], overlap: 1, moved: false, unplaced: true }];
    const reg = { edsToSlab: [1, 0, 0, 0, 1, 0] as [number, number, number, number, number, number], slabToVoxel: [0, 0, 0, 0, 1, 0, 1, 0, 0] as [number, number, number, number, number, number, number, number, number] };
    const sl = transferLabels(map, { ...reg, fields }, { width: 44, height: 20 }, { 1: 1 }, { erodeRadius: 0 });
    const at = (u: number, v: number) => sl.labels[v * 44 + u];
    // the left field shows EDS pixels 0..17 at slab 2..19 (slab 20-21, where it overlaps the right
    // field's place, go by the right field); the right field's pixels give nothing
    expect(at(1, 5)).toBe(0);
    for (let u = 2; u <= 19; u++) expect(at(u, 5)).toBe(1);
    for (let u = 20; u < 44; u++) expect(at(u, 5)).toBe(0);
    // the same without the flag: the right field labels its pixels
    const all = transferLabels(map, { ...reg, fields: fields.map(({ unplaced: _u, ...f }) => f) }, { width: 44, height: 20 }, { 1: 1 }, { erodeRadius: 0 });
    expect(all.labels[5 * 44 + 30]).toBe(1);
  });
});

describe('a field whose match stays within its noise, on a map with stitching errors (stop 30)', () => {
  const seed = 20;
  const sample = () => smallSample({
    seed, surfaceDepthVox: 4 + (seed % 4), tiltDeg: 1 + (seed % 3), tiltAzimuthDeg: 37 * seed,
    eds: { rotationDeg: 53 * seed, pixelUm: 1.4, mirrored: true, offsetVox: { x: ((seed * 7) % 11) - 5, y: ((seed * 5) % 9) - 4 } },
  });

  it('4 x 4 mosaic, 3 px stitching errors: D1 (0.82 px at 0.70 px standard error) takes its shrunk match instead of the global transform; the map within 0.2 voxel', async () => {
    const s = sample();
    const m = distortEdsMap(s, { coverage: 0.9, mosaic: { cols: 4, rows: 4, maxShiftPx: 3, seed: 2 } });
    const layout = m.fields!.map(({ shiftPx: _s, ...f }) => f);
    const r = await registerEdsToVolume(s.volume, m.eds, { inWorker: false, fields: layout });
    expect(r.model).toBe('fields');
    // each field's true shift on the final global transform (least squares of its pixels' residuals)
    const M = composeAffine2to3(r.slabToVoxel, r.edsToSlab);
    const J = [[M[0], M[1]], [M[3], M[4]], [M[6], M[7]]];
    const a11 = J.reduce((a, q) => a + q[0] * q[0], 0), a12 = J.reduce((a, q) => a + q[0] * q[1], 0), a22 = J.reduce((a, q) => a + q[1] * q[1], 0), det = a11 * a22 - a12 * a12;
    const truthOf = (f: (typeof layout)[number]): [number, number] => {
      const b = [0, 0, 0];
      for (let v = f.v0; v < f.v0 + f.height; v++) for (let u = f.u0; u < f.u0 + f.width; u++) {
        const t = m.truthAt(u, v), g = applyAffine2to3(M, u, v);
        for (let k = 0; k < 3; k++) b[k] += (t[k] - g[k]) / (f.width * f.height);
      }
      const c1 = J.reduce((a, q, i) => a + q[0] * b[i], 0), c2 = J.reduce((a, q, i) => a + q[1] * b[i], 0);
      return [(a22 * c1 - a12 * c2) / det, (a11 * c2 - a12 * c1) / det];
    };
    const d1 = r.fields!.find((f) => f.name === 'D1')! as FieldCorrection & { belowNoise?: boolean; standardErrorPx?: number };
    const t = truthOf(layout.find((f) => f.name === 'D1')!);
    // measured: shift (-0.51, -0.44) px, 0.26 px from its truth (-0.67, -0.65); it stayed at 0 before (0.93 px)
    expect(d1.belowNoise).toBe(true);
    expect(d1.moved).toBe(true);
    expect(Math.hypot(d1.shiftPx[0] - t[0], d1.shiftPx[1] - t[1])).toBeLessThan(0.45);
    expect(Math.hypot(...t)).toBeGreaterThan(0.8);
    // the whole map: measured 0.278 -> 0.256 voxel (stop 30); the distinct fields at their basin centre
    // (field-basin.ts, stop 31) 0.256 -> 0.171: issue 19's 0.2 on this 4 x 4 (not on every held-out one)
    const e = registrationErrorAt((u, v) => edsPointToVoxel(r, u, v), m.truthAt, m.eds.width, m.eds.height, s.volume.meta.shape);
    expect(e.mean).toBeLessThanOrEqual(0.2);
  }, 300_000);

  it('the same map without stitching errors: no field is placed that way, no field moves', async () => {
    const s = sample();
    const m = distortEdsMap(s, { coverage: 0.9, mosaic: { cols: 4, rows: 4, maxShiftPx: 0, seed: 2 } });
    const layout = m.fields!.map(({ shiftPx: _s, ...f }) => f);
    const r = await registerEdsToVolume(s.volume, m.eds, { inWorker: false, fields: layout });
    const mov = movingImage(m.eds);
    const G = r.edsToSlab;
    // asked for directly on the global transform: the map shows no stitching errors, so nothing moves
    const fs = refineFields(r.slab, predictedGrey(r.slab, mov, G), mov.width, mov.height, G, layout, { labels: mov, belowNoise: true });
    expect(fs.filter((f) => f.moved)).toEqual([]);
    const e = registrationErrorAt((u, v) => edsPointToVoxel(r, u, v), m.truthAt, m.eds.width, m.eds.height, s.volume.meta.shape);
    // measured 0.122, the same as before
    expect(e.mean).toBeLessThanOrEqual(0.13);
  }, 300_000);
});

describe('a field partly off the volume whose precision cannot be measured, on a map with stitching errors (stop 32)', () => {
  it('4 x 4 mosaic (seed 28), A1 on 42 % of the volume: its quarters give no standard error, it takes its distinct match instead of the global transform', async () => {
    const seed = 28;
    const s = smallSample({
      seed, surfaceDepthVox: 4 + (seed % 4), tiltDeg: 1 + (seed % 3), tiltAzimuthDeg: 37 * seed,
      eds: { rotationDeg: 53 * seed, pixelUm: 1.3, mirrored: true, offsetVox: { x: ((seed * 7) % 11) - 5, y: ((seed * 5) % 9) - 4 } },
    });
    const m = distortEdsMap(s, { coverage: 0.9, mosaic: { cols: 4, rows: 4, maxShiftPx: 3, seed: 15 } });
    const layout = m.fields!.map(({ shiftPx: _s, ...f }) => f);
    const r = await registerEdsToVolume(s.volume, m.eds, { inWorker: false, fields: layout });
    expect(r.model).toBe('fields');
    const a1 = r.fields!.find((f) => f.name === 'A1')! as FieldCorrection & { placedBy?: string; standardErrorPx?: number };
    expect(a1.moved).toBe(true);
    expect(a1.placedBy).toBe('measured');
    expect(a1.standardErrorPx).toBeUndefined();
    // its centre against the truth: measured 0.06 voxel (0.99 on the global transform before)
    const u = a1.u0 + a1.width / 2, v = a1.v0 + a1.height / 2, p = edsPointToVoxel(r, u, v), t = m.truthAt(u, v);
    expect(Math.hypot(p[0] - t[0], p[1] - t[1], p[2] - t[2])).toBeLessThan(0.3);
    // the whole map: measured 0.323 -> 0.292 voxel
    const e = registrationErrorAt((uu, vv) => edsPointToVoxel(r, uu, vv), m.truthAt, m.eds.width, m.eds.height, s.volume.meta.shape);
    expect(e.mean).toBeLessThanOrEqual(0.305);
  }, 300_000);
});
