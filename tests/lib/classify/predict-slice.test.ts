/**
 * predictSlice (the Train step's preview) goes down the brick path of predictVolume: features
 * with their halo on the volume mirrored above the surface, argmax, air unlabelled. For the same
 * voxels it gives the labels the whole-volume prediction stored, along every axis, on slices
 * through the surface, at the volume's edges, and for an index given at a coarser pyramid level.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trainClassifier } from '../../../lib/classify/model';
import { saveModel } from '../../../lib/classify/model-io-node';
import { predictVolume } from '../../../lib/classify/predict-node';
import { predictSlice, sliceBox } from '../../../lib/classify/predict-slice-node';
import { buildTrainingSet, featureFnFor, surfaceLabelVoxels } from '../../../lib/classify/training-set';
import { isPetromapError } from '../../../lib/errors';
import { openVolume, writeDenseVolume } from '../../../lib/volume/zarr-store-node';
import { TEST_SET } from './helpers';
import { fixture } from './sample';

const tmp = mkdtempSync(join(tmpdir(), 'petromap-slice-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('predictSlice', () => {
  const { sample, surfaceLabels } = fixture();
  const storePath = join(tmp, 'volume.ome.zarr');
  const modelDir = join(tmp, 'model');
  const shape = sample.volume.meta.shape;
  const [nz, ny, nx] = shape;
  let volume: Uint8Array;

  beforeAll(async () => {
    const store = await writeDenseVolume(storePath, sample.volume, { chunk: [16, 32, 32] });
    const ts = await buildTrainingSet(store, surfaceLabelVoxels(surfaceLabels, shape), { features: featureFnFor(TEST_SET), featureSet: TEST_SET, mirrorSurface: sample.truth.surface, maxPerClass: 1000 });
    const tm = await trainClassifier(ts, { epochs: 8 });
    await saveModel(modelDir, tm);
    const r = await predictVolume(storePath, modelDir, join(tmp, 'prediction'), { brick: [16, 32, 32], threads: 2 });
    volume = (await (await openVolume(r.labelsPath)).readBlock({ start: [0, 0, 0], shape })) as Uint8Array;
  }, 120_000);

  /** The stored prediction on the level-0 slice `i` along `axis`, row-major as predictSlice returns it. */
  function stored(axis: 'z' | 'y' | 'x', i: number): Uint8Array {
    const w = axis === 'x' ? ny : nx, h = axis === 'z' ? ny : nz;
    const out = new Uint8Array(w * h);
    for (let v = 0; v < h; v++) for (let u = 0; u < w; u++) {
      const [z, y, x] = axis === 'z' ? [i, v, u] : axis === 'y' ? [v, i, u] : [v, u, i];
      out[v * w + u] = volume[(z * ny + y) * nx + x]!;
    }
    return out;
  }

  it('gives the labels of the whole-volume prediction for the same voxels', async () => {
    const surfaceZ = Math.round(sample.truth.surface.c);
    const cases: ['z' | 'y' | 'x', number][] = [['z', 0], ['z', surfaceZ], ['z', surfaceZ + 1], ['z', 20], ['z', nz - 1], ['y', 0], ['y', 47], ['x', 33], ['x', nx - 1]];
    let sample0 = 0, air = 0;
    for (const [axis, i] of cases) {
      const r = await predictSlice(storePath, modelDir, axis, i);
      expect([r.width, r.height]).toEqual([axis === 'x' ? ny : nx, axis === 'z' ? ny : nz]);
      expect(r.index0).toBe(i);
      const want = stored(axis, i);
      let diff = 0;
      for (let k = 0; k < want.length; k++) if (want[k] !== r.labels[k]) diff++;
      expect(diff, `${axis}=${i}: ${diff} of ${want.length} voxels differ`).toBe(0);
      for (const l of want) l ? sample0++ : air++;
    }
    // the cases cover both air (unlabelled) and the sample
    expect(sample0).toBeGreaterThan(5000);
    expect(air).toBeGreaterThan(500);
  }, 60_000);

  it('maps a coarser level index to the level-0 slice and refuses one outside the volume', async () => {
    const store = await openVolume(storePath);
    expect(store.levels).toBeGreaterThan(1);
    const ls = store.levelShape(1);
    const { index0 } = sliceBox(shape, ls, 'z', 10);
    expect(index0).toBe(Math.floor(10.5 * (nz / ls[0])));
    const r = await predictSlice(storePath, modelDir, 'z', 10, { level: 1 });
    expect(r.index0).toBe(index0);
    expect(Buffer.compare(Buffer.from(r.labels), Buffer.from(stored('z', index0)))).toBe(0);
    const err = await predictSlice(storePath, modelDir, 'z', ls[0], { level: 1 }).catch((e) => e);
    expect(isPetromapError(err, 'InvalidInput')).toBe(true);
    expect(String(err.message)).toMatch(/outside the volume/);
  }, 60_000);
});
