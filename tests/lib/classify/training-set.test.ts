import { describe, expect, it } from 'vitest';
import { buildTrainingSet, strokeVoxels, surfaceLabelVoxels, surfaceTrainingVoxels } from '../../../lib/classify/training-set';
import type { SurfaceLabels } from '../../../lib/registration/transfer-labels';
import { isPetromapError } from '../../../lib/errors';
import { denseStore, simpleFeatures } from './helpers';
import { fixture } from './sample';

describe('training set', () => {
  const { sample, surfaceLabels } = fixture();
  const [, ny, nx] = sample.volume.meta.shape;
  const store = denseStore(sample.volume);

  it('maps surface labels onto the voxel layer nearest below the surface plane, agreeing with the truth', () => {
    const vox = surfaceLabelVoxels(surfaceLabels, sample.volume.meta.shape);
    expect(vox.length).toBeGreaterThan(2000);
    const { a, b, c } = sample.truth.surface;
    let agree = 0;
    for (const v of vox) {
      expect(Math.abs(v.z - (a * v.x + b * v.y + c + 0.5))).toBeLessThanOrEqual(0.5 + 1e-9);
      if (sample.truthLabels[(v.z * ny + v.y) * nx + v.x] === v.cls) agree++;
    }
    expect(agree / vox.length).toBeGreaterThan(0.95);
    const two = surfaceLabelVoxels(surfaceLabels, sample.volume.meta.shape, { layers: 2 });
    expect(two.length).toBe(2 * vox.length);
  });

  it('samples class-balanced with a cap and splits by spatial tiles', async () => {
    const vox = surfaceLabelVoxels(surfaceLabels, sample.volume.meta.shape);
    const ts = await buildTrainingSet(store, vox, { features: simpleFeatures, maxPerClass: 500, tileVox: 32, heldOutFraction: 0.25, seed: 7 });
    expect(ts.nFeatures).toBe(7);
    expect(ts.featureNames[0]).toBe('intensity');
    expect(ts.classes).toEqual([1, 2, 3, 4, 5].filter((c) => ts.counts.find((k) => k.class === c)!.train > 0));
    for (const c of ts.counts) {
      expect(c.train).toBeLessThanOrEqual(500);
      expect(c.train + c.heldOut).toBeLessThanOrEqual(c.available);
    }
    const tiles = (rows: typeof ts.train) => {
      const s = new Set<string>();
      for (let i = 0; i < rows.n; i++) s.add(`${Math.floor(rows.positions[3 * i + 1] / 32)},${Math.floor(rows.positions[3 * i + 2] / 32)}`);
      return s;
    };
    const tt = tiles(ts.train), th = tiles(ts.heldOut);
    expect(th.size).toBeGreaterThan(0);
    for (const t of th) expect(tt.has(t)).toBe(false);
    // feature rows match features computed directly at a row's voxel
    const i = 5;
    const [z, y, x] = ts.train.positions.subarray(3 * i, 3 * i + 3);
    const direct = await simpleFeatures(store, { start: [z, y, x], shape: [1, 1, 1] });
    for (let f = 0; f < 7; f++) expect(ts.train.x[i * 7 + f]).toBeCloseTo(direct.data[f], 4);
    expect(ts.train.y[i]).toBe(vox.find((v) => v.z === z && v.y === y && v.x === x)!.cls);
  });

  it('keeps the voxels at EDS phase boundaries with soft targets from their pixel neighbourhood', () => {
    const shape = sample.volume.meta.shape;
    const { labelled, partial } = surfaceTrainingVoxels(surfaceLabels, shape);
    expect(labelled).toEqual(surfaceLabelVoxels(surfaceLabels, shape));
    expect(partial.length).toBeGreaterThan(labelled.length / 5);
    const key = (v: { z: number; y: number; x: number }) => (v.z * ny + v.y) * nx + v.x;
    const hard = new Set(labelled.map(key));
    let topRight = 0, inSet = 0;
    for (const v of partial) {
      expect(hard.has(key(v))).toBe(false);
      expect(v.p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
      const t = sample.truthLabels[key(v)];
      if (v.classes.includes(t)) inSet++;
      if (v.classes[v.p.indexOf(Math.max(...v.p))] === t) topRight++;
    }
    // the most likely class is the true one for most boundary voxels, and the truth is nearly always a candidate
    expect(topRight / partial.length).toBeGreaterThan(0.7);
    expect(inSet / partial.length).toBeGreaterThan(0.9);
    expect(surfaceTrainingVoxels(surfaceLabels, shape, { boundary: false }).partial).toEqual([]);
  });

  it('weights a boundary pixel by its own class and ignores unclassified neighbours, but not dropped minerals', () => {
    // 5x5 slab: left columns class 1, right columns class 2, one unclassified pixel, slab = voxel grid at z = 1
    const W = 5, H = 5;
    const warped = new Uint8Array(W * H);
    for (let v = 0; v < H; v++) for (let u = 0; u < W; u++) warped[v * W + u] = u < 2 ? 1 : 2;
    warped[0 * W + 3] = 0;
    const sl: SurfaceLabels = { width: W, height: H, labels: new Uint8Array(W * H), warped, dropped: new Uint8Array(W * H), slabToVoxel: [0, 0, 0.6, 0, 1, 0, 1, 0, 0] };
    const at = (s: SurfaceLabels, y: number, x: number) => surfaceTrainingVoxels(s, [4, H, W]).partial.find((p) => p.y === y && p.x === x);
    const left = at(sl, 2, 1)!, right = at(sl, 2, 2)!;
    expect(left.z).toBe(1);
    expect(left.classes).toEqual([1, 2]);
    expect(left.p[0]).toBeGreaterThan(0.7); // its own pixel says 1, three of its neighbours 2
    expect(right.p[1]).toBeGreaterThan(0.7);
    expect(at(sl, 0, 4)!.classes).toEqual([2]); // the unclassified neighbour is ignored
    const dropped = new Uint8Array(W * H);
    dropped[0 * W + 3] = 1; // ...but a mineral the class table drops could be what the voxel is
    expect(at({ ...sl, dropped }, 0, 4)).toBeUndefined();
    expect(at({ ...sl, dropped }, 1, 4)).toBeUndefined();
    expect(at({ ...sl, dropped }, 2, 4)).toBeDefined();
  });

  it('trains on boundary voxels of the train tiles only, capped', async () => {
    const shape = sample.volume.meta.shape;
    const { labelled, partial } = surfaceTrainingVoxels(surfaceLabels, shape);
    const ts = await buildTrainingSet(store, labelled, { features: simpleFeatures, maxPerClass: 500, tileVox: 32, seed: 7, partial, maxPartial: 300 });
    const p = ts.partial!;
    expect(p.n).toBe(300);
    const K = ts.classes.length;
    const held = new Set<string>();
    for (let i = 0; i < ts.heldOut.n; i++) held.add(`${Math.floor(ts.heldOut.positions[3 * i + 1] / 32)},${Math.floor(ts.heldOut.positions[3 * i + 2] / 32)}`);
    for (let i = 0; i < p.n; i++) {
      expect(held.has(`${Math.floor(p.positions[3 * i + 1] / 32)},${Math.floor(p.positions[3 * i + 2] / 32)}`)).toBe(false);
      let sum = 0;
      for (let k = 0; k < K; k++) sum += p.target[i * K + k];
      expect(sum).toBeCloseTo(1, 5);
    }
    const i = 3;
    const [z, y, x] = p.positions.subarray(3 * i, 3 * i + 3);
    const direct = await simpleFeatures(store, { start: [z, y, x], shape: [1, 1, 1] });
    for (let f = 0; f < 7; f++) expect(p.x[i * 7 + f]).toBeCloseTo(direct.data[f], 4);
  });

  it('turns painted strokes into labelled voxels and refuses a single class', async () => {
    const shape = sample.volume.meta.shape;
    const painted = new Uint8Array(shape[0] * ny * nx);
    painted[(20 * ny + 10) * nx + 12] = 2;
    painted[(21 * ny + 50) * nx + 70] = 2;
    expect(strokeVoxels(painted, shape)).toEqual([{ z: 20, y: 10, x: 12, cls: 2 }, { z: 21, y: 50, x: 70, cls: 2 }]);
    const err = await buildTrainingSet(store, strokeVoxels(painted, shape), { features: simpleFeatures, source: 'painted strokes' }).catch((e) => e);
    expect(isPetromapError(err, 'Unprocessable')).toBe(true);
    expect(String(err.message)).toMatch(/painted strokes.*two classes/);
  });
});
