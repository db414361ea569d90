import { describe, expect, it } from 'vitest';
import { buildTrainingSet, strokeVoxels, surfaceLabelVoxels } from '../../../lib/classify/training-set';
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
