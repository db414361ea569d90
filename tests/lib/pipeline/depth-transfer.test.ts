import { describe, expect, it } from 'vitest';
import { mirrorAboveSurface } from '../../../lib/classify/mirror';
import { argmaxClasses, disposeModel, predictRows, trainClassifier } from '../../../lib/classify/model';
import { rng } from '../../../lib/classify/rng';
import { featureFnFor, type FeatureRows, type TrainingSet } from '../../../lib/classify/training-set';
import { depthLayerRows, depthTiles, studentTrainingSet, type DepthLayerRows } from '../../../lib/pipeline/depth-transfer';
import { generateSandstone } from '../../../lib/synthetic';
import { TEST_SET, denseStore } from '../classify/helpers';

describe('depth transfer', () => {
  it('places its tiles inside the volume, below the surface, the same for a seed', () => {
    const surface = { a: 0.02, b: -0.01, c: 5 };
    const t = depthTiles([64, 100, 120], surface, { tiles: 5, tileVox: 64, seed: 3 });
    expect(t).toEqual(depthTiles([64, 100, 120], surface, { tiles: 5, tileVox: 64, seed: 3 }));
    expect(t).toHaveLength(5);
    for (const k of t) {
      expect(k.depth).toBeGreaterThanOrEqual(4);
      expect(k.y0 + k.sy).toBeLessThanOrEqual(100);
      expect(k.x0 + k.sx).toBeLessThanOrEqual(120);
      // deepest corner of the tile's plane stays 8 voxels above the bottom
      expect(5 + 0.02 * 119 + k.depth).toBeLessThanOrEqual(64 - 1 - 8 + 1e-9);
    }
    // stratified: the depths increase
    for (let i = 1; i < t.length; i++) expect(t[i]!.depth).toBeGreaterThanOrEqual(t[i - 1]!.depth);
  });

  it("sees each layer as the surface layer is seen (mirrored above it) and as prediction sees it", async () => {
    const sample = generateSandstone({ shape: [48, 96, 96], seed: 3, grainDiameterVox: 12 });
    const store = denseStore(sample.volume);
    const surface = sample.truth.surface;
    const fn = featureFnFor(TEST_SET);
    const d = await depthLayerRows(store, surface, fn, { tiles: 2, tileVox: 64, seed: 1 });
    const nF = d.nFeatures;
    expect(d.vox.length).toBeGreaterThan(2 * 64 * 60);
    expect(d.plain.length).toBe(d.vox.length * nF);
    // the plain rows are prediction's features: recomputed on a larger box of the surface-mirrored volume
    const v0 = d.vox[0]!;
    const box = { start: [Math.max(0, v0.z - 6), 0, 0] as [number, number, number], shape: [12, 96, 96] as [number, number, number] };
    const big = await fn(mirrorAboveSurface(store, surface), box);
    let worst = 0;
    for (let i = 0; i < d.vox.length; i += 37) {
      const v = d.vox[i]!;
      if (v.z < box.start[0] || v.z >= box.start[0] + 12) continue;
      const r = ((v.z - box.start[0]) * 96 + v.y) * 96 + v.x;
      for (let f = 0; f < nF; f++) worst = Math.max(worst, Math.abs(big.data[r * nF + f]! - d.plain[i * nF + f]!) / (1 + Math.abs(big.data[r * nF + f]!)));
    }
    expect(worst).toBeLessThan(2e-3);
    // the surface layer's own rows (where the EDS labels go), mirrored above the surface
    const sv: { z: number; y: number; x: number }[] = [];
    for (let y = 8; y < 88; y++) for (let x = 8; x < 88; x++) sv.push({ y, x, z: Math.round(surface.a * x + surface.b * y + surface.c + 0.5) });
    const sz0 = Math.min(...sv.map((v) => v.z)), sz1 = Math.max(...sv.map((v) => v.z));
    const sb = await fn(mirrorAboveSurface(store, surface), { start: [sz0, 0, 0], shape: [sz1 - sz0 + 1, 96, 96] });
    const g = TEST_SET.specs.findIndex((s) => s.filter === 'gradientMagnitude');
    const mean = (rows: Float32Array, n: number) => { let s = 0; for (let i = 0; i < n; i++) s += rows[i * nF + g]!; return s / n; };
    let ss = 0;
    for (const v of sv) ss += sb.data[(((v.z - sz0) * 96 + v.y) * 96 + v.x) * nF + g]!;
    const surf = ss / sv.length, mir = mean(d.mirrored, d.vox.length), plain = mean(d.plain, d.vox.length);
    // next to a mirror the gradient across it vanishes: the mirrored layers read like the surface layer, not like depth
    expect(mir).toBeLessThan(plain);
    expect(Math.abs(mir - surf)).toBeLessThan(0.5 * Math.abs(plain - surf));
  });

  it("trains the student on prediction's rows with the teacher's classes of the mirrored rows, capped and split by cells", async () => {
    const r = rng(7);
    const gauss = () => Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
    const n = 6000;
    const mirrored = new Float32Array(2 * n), plain = new Float32Array(2 * n), y = new Uint8Array(n);
    const vox = [], tile = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const k = i % 3;
      mirrored[2 * i] = (k === 1 ? 2 : 0) + 0.5 * gauss();
      mirrored[2 * i + 1] = (k === 2 ? 2 : 0) + 0.5 * gauss();
      // prediction's rows are shifted: a student must learn them, with the mirrored rows' classes
      plain[2 * i] = mirrored[2 * i]! + 5;
      plain[2 * i + 1] = mirrored[2 * i + 1]! - 3;
      y[i] = k + 1;
      vox.push({ z: 10, y: Math.floor(i / 80), x: i % 80 });
      tile[i] = i < n / 2 ? 0 : 1;
    }
    const d: DepthLayerRows = { vox, tile, mirrored, plain, nFeatures: 2 };
    const rows = (x: Float32Array, m: number): FeatureRows => ({ x: x.slice(0, 2 * m), y: y.slice(0, m), n: m, positions: new Int32Array(3 * m) });
    const ts: TrainingSet = { nFeatures: 2, featureNames: ['a', 'b'], classes: [1, 2, 3], train: rows(mirrored, 3000), heldOut: rows(mirrored.subarray(6000), 600), counts: [] };
    const teacher = await trainClassifier(ts, { epochs: 4, seed: 1 });
    try {
      const want = argmaxClasses(await predictRows(teacher, mirrored, n), teacher.classes);
      const s = await studentTrainingSet(ts, teacher, d, { perClass: 1000, seed: 2 });
      expect(s.train.n).toBeLessThanOrEqual(3000);
      for (const c of [1, 2, 3]) expect(Array.from(s.train.y).filter((v) => v === c).length).toBeLessThanOrEqual(1000);
      const at = new Map(vox.map((v, i) => [v.y * 80 + v.x, i]));
      const cell = (yy: number, xx: number) => `${tile[at.get(yy * 80 + xx)!]}:${Math.floor(yy / 32)}:${Math.floor(xx / 32)}`;
      const trainCells = new Set<string>();
      for (let j = 0; j < s.train.n; j++) {
        const i = at.get(s.train.positions[3 * j + 1]! * 80 + s.train.positions[3 * j + 2]!)!;
        expect(s.train.y[j]).toBe(want[i]);
        expect(s.train.x[2 * j]).toBe(plain[2 * i]);
        trainCells.add(cell(s.train.positions[3 * j + 1]!, s.train.positions[3 * j + 2]!));
      }
      expect(s.heldOut.n).toBeGreaterThan(0);
      for (let j = 0; j < s.heldOut.n; j++) expect(trainCells.has(cell(s.heldOut.positions[3 * j + 1]!, s.heldOut.positions[3 * j + 2]!))).toBe(false);
      const soft = await studentTrainingSet(ts, teacher, d, { perClass: 1000, seed: 2, mode: 'soft' });
      expect(soft.train.soft).toBeDefined();
      for (let j = 0; j < soft.train.n; j += 97) {
        const row = soft.train.soft!.subarray(3 * j, 3 * j + 3);
        expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
        expect(teacher.classes[row.indexOf(Math.max(...row))]).toBe(soft.train.y[j]);
      }
    } finally {
      disposeModel(teacher);
    }
  });
});
