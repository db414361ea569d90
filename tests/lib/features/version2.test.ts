import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { classifierFeatureSet } from '../../../lib/classify/feature-sets';
import { loadModel, saveModel } from '../../../lib/classify/model-io-node';
import { predictBrick } from '../../../lib/classify/predict-brick';
import { featureNames } from '../../../lib/features';
import { isPetromapError } from '../../../lib/errors';
import { brickGrid, computeBrickFeatures, featureHalo, featuresForBox } from '../../../lib/features';
import { getTf } from '../../../lib/classify/tf-node';
import type { Box3, Shape3 } from '../../../lib/volume/types';
import { blobs, floatStore, seams, untrainedModel } from './blobs';

describe('feature definition version 2 (3-sigma Gaussians, large scales on a 2x grid aligned to the volume)', () => {
  const v1 = classifierFeatureSet([1, 1, 1], { version: 1 });
  const v2 = classifierFeatureSet([1, 1, 1], { version: 2 });

  it('halo: 28 voxels for the classifier bank (version 1: 32); a set without a version is version 1', () => {
    expect(featureHalo(v2, [1, 1, 1])).toEqual([28, 28, 28]);
    expect(featureHalo(v1, [1, 1, 1])).toEqual([32, 32, 32]);
    expect(v1.version).toBeUndefined();
  });

  it('bricks at odd and even origins give the whole-volume values (no seams)', async () => {
    const shape: Shape3 = [30, 34, 37];
    // balanced bricks (odd sizes, so odd origins) and a brick smaller than the halo at an odd corner
    const boxes = [...brickGrid(shape, [11, 13, 19]), { start: [3, 5, 7], shape: [5, 6, 9] } satisfies Box3];
    expect(boxes.some((b) => b.start.every((v) => v % 2 === 1))).toBe(true);
    expect(await seams(v2, shape, [1, 1, 1], boxes)).toBeLessThan(1e-5);
  });

  it('no seams with anisotropic voxels (coarse only where every axis sigma is >= 3 voxels)', async () => {
    const set = classifierFeatureSet([1.5, 1, 1], { version: 2, sigmasVox: [1, 3.5, 5] });
    const shape: Shape3 = [24, 30, 31];
    expect(await seams(set, shape, [1.5, 1, 1], brickGrid(shape, [9, 15, 16]))).toBeLessThan(1e-5);
  });

  it('measures what version 1 measures: every feature correlates >= 0.99 with its version-1 value', async () => {
    const shape: Shape3 = [36, 40, 44];
    const store = floatStore(shape, blobs(shape, 11));
    const box: Box3 = { start: [0, 0, 0], shape };
    const [a, b] = [await featuresForBox(store, box, v1), await featuresForBox(store, box, v2)];
    expect(b.names).toEqual(a.names);
    const nF = a.nFeatures;
    const n = a.data.length / nF;
    for (let f = 0; f < nF; f++) {
      let sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
      for (let v = 0; v < n; v++) {
        const x = a.data[v * nF + f]!, y = b.data[v * nF + f]!;
        sa += x; sb += y; saa += x * x; sbb += y * y; sab += x * y;
      }
      const corr = (sab / n - (sa * sb) / n / n) / Math.sqrt((saa / n - (sa / n) ** 2) * (sbb / n - (sb / n) ** 2));
      expect(corr, a.names[f]).toBeGreaterThan(0.99);
    }
  });

  it('a brick computed directly at a given origin equals the store path; unknown versions are refused in words', async () => {
    const shape: Shape3 = [20, 22, 24];
    const store = floatStore(shape, blobs(shape, 3));
    const box: Box3 = { start: [5, 3, 7], shape: [8, 9, 10] };
    const halo = featureHalo(v2, [1, 1, 1]);
    const floats = await store.readBlockF32(box, { halo });
    const sh: Shape3 = [8 + 2 * halo[0], 9 + 2 * halo[1], 10 + 2 * halo[2]];
    const direct = await computeBrickFeatures([floats], sh, halo, [1, 1, 1], v2, { origin: box.start });
    const viaStore = await featuresForBox(store, box, v2);
    expect(Array.from(direct.data)).toEqual(Array.from(viaStore.data));
    const err = await computeBrickFeatures([floats], sh, halo, [1, 1, 1], { ...v2, version: 4 as 2 }).catch((e) => e);
    expect(isPetromapError(err, 'InvalidInput')).toBe(true);
    expect(String(err.message)).toMatch(/feature definition version 4/);
  });

  it('a saved model keeps its definition: a model without a version predicts with version 1, a version-2 model with version 2', async () => {
    await getTf();
    const dir = await mkdtemp(join(tmpdir(), 'petromap-v2-'));
    try {
      const shape: Shape3 = [16, 40, 40];
      const store = floatStore(shape, blobs(shape, 5));
      const names = featureNames(v1, ['xrm']);
      const tm1 = untrainedModel(names, v1);
      const tm2 = { ...untrainedModel(names, v2), model: tm1.model };
      await saveModel(join(dir, 'old'), tm1);
      await saveModel(join(dir, 'new'), tm2);
      const [old, neu] = [await loadModel(join(dir, 'old')), await loadModel(join(dir, 'new'))];
      expect(old.featureSet!.version).toBeUndefined();
      expect(neu.featureSet!.version).toBe(2);
      const box: Box3 = { start: [3, 5, 7], shape: [8, 20, 20] };
      const p1 = await predictBrick(old, store, box, null);
      const p1explicit = await predictBrick({ ...old, featureSet: { ...v1, version: 1 } }, store, box, null);
      const p2 = await predictBrick(neu, store, box, null);
      expect(Array.from(p1.probabilities[0]!)).toEqual(Array.from(p1explicit.probabilities[0]!));
      expect(Array.from(p2.probabilities[0]!)).not.toEqual(Array.from(p1.probabilities[0]!));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
