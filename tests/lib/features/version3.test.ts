import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModel, saveModel } from '../../../lib/classify/model-io-node';
import { predictBrick } from '../../../lib/classify/predict-brick';
import { getTf } from '../../../lib/classify/tf-node';
import { classifierFeatureSet } from '../../../lib/classify/feature-sets';
import { isCoarse } from '../../../lib/features/plan';
import { brickGrid, featureHalo, featuresForBox } from '../../../lib/features';
import type { Box3, Shape3 } from '../../../lib/volume/types';
import { blobs, floatStore, seams, untrainedModel } from './blobs';

describe('feature definition version 3 (the 2x-grid scales in-plane: y and x only)', () => {
  const v2 = classifierFeatureSet([1, 1, 1], { version: 2 });
  const v3 = classifierFeatureSet([1, 1, 1], { version: 3 });

  it("same names as version 2, the z halo of the small scales; the small scales are those of version 2 (to float32 rounding: the brick's centring offset reads another halo)", async () => {
    expect(featureHalo(v2, [1, 1, 1])).toEqual([28, 28, 28]);
    expect(featureHalo(v3, [1, 1, 1])).toEqual([8, 28, 28]);
    const shape: Shape3 = [30, 32, 34];
    const store = floatStore(shape, blobs(shape, 11));
    const box: Box3 = { start: [0, 0, 0], shape };
    const [a, b] = [await featuresForBox(store, box, v2), await featuresForBox(store, box, v3)];
    expect(b.names).toEqual(a.names);
    const nF = a.nFeatures;
    // columns of the coarse specs (3.5 and 5 voxels) differ, the others are equal
    const coarseCols: boolean[] = [];
    for (const sp of v3.specs) for (let k = 0; k < (sp.filter === 'hessianEigen' ? 3 : 1); k++) coarseCols.push(isCoarse(v3, sp, [1, 1, 1]));
    expect(coarseCols.length).toBe(nF);
    for (let f = 0; f < nF; f++) {
      let diff = 0, lo = Infinity, hi = -Infinity;
      for (let v = 0; v < a.data.length / nF; v++) {
        diff = Math.max(diff, Math.abs(a.data[v * nF + f]! - b.data[v * nF + f]!));
        lo = Math.min(lo, a.data[v * nF + f]!);
        hi = Math.max(hi, a.data[v * nF + f]!);
      }
      if (coarseCols[f]) expect(diff / (hi - lo), a.names[f]).toBeGreaterThan(1e-3);
      else expect(diff / (hi - lo), a.names[f]).toBeLessThan(1e-5);
    }
  });

  it("a voxel's large-scale features read only its own z plane: rewriting every voxel above a plane changes none of them at or below it", async () => {
    const shape: Shape3 = [40, 24, 26];
    const data = blobs(shape, 5);
    const other = data.slice();
    const zc = 13;
    const plane = shape[1] * shape[2];
    const noise = blobs(shape, 99);
    for (let i = 0; i < zc * plane; i++) other[i] = 3 * noise[i]! - 500;
    const box: Box3 = { start: [0, 0, 0], shape };
    const [a, b] = [await featuresForBox(floatStore(shape, data), box, v3), await featuresForBox(floatStore(shape, other), box, v3)];
    const nF = a.nFeatures;
    const coarse = a.names.map((n) => /@(3\.5|5)um/.test(n));
    const range = a.names.map((_, f) => {
      let lo = Infinity, hi = -Infinity;
      for (let v = 0; v < a.data.length / nF; v++) { lo = Math.min(lo, a.data[v * nF + f]!); hi = Math.max(hi, a.data[v * nF + f]!); }
      return hi - lo || 1;
    });
    let worst = 0;
    let changedSmall = 0;
    for (let z = zc; z < shape[0]; z++) for (let i = 0; i < plane; i++) {
      const v = z * plane + i;
      for (let f = 0; f < nF; f++) {
        const d = Math.abs(a.data[v * nF + f]! - b.data[v * nF + f]!);
        if (coarse[f]) worst = Math.max(worst, d / range[f]!);
        else if (z === zc && d > 0) changedSmall++;
      }
    }
    // float32 rounding only (the brick's centring offset differs between the two volumes)
    expect(worst).toBeLessThan(1e-5);
    expect(worst).toBeGreaterThanOrEqual(0);
    // the symmetric small scales do see above the plane (the test can fail)
    expect(changedSmall).toBeGreaterThan(0);
    // and version 2's large scales do too
    const [a2, b2] = [await featuresForBox(floatStore(shape, data), box, v2), await featuresForBox(floatStore(shape, other), box, v2)];
    let worst2 = 0;
    for (let i = 0; i < plane; i++) for (let f = 0; f < nF; f++) if (coarse[f]) worst2 = Math.max(worst2, Math.abs(a2.data[(zc * plane + i) * nF + f]! - b2.data[(zc * plane + i) * nF + f]!) / range[f]!);
    expect(worst2).toBeGreaterThan(1e-2);
  });

  it('versions 1 and 2 are unchanged by version 3: their features of a brick hash to the bits of before it (commit 502fcd3)', async () => {
    const shape: Shape3 = [24, 28, 30];
    const data = new Float32Array(shape[0] * shape[1] * shape[2]);
    let st = 12345;
    for (let i = 0; i < data.length; i++) {
      st = (Math.imul(st, 1664525) + 1013904223) >>> 0;
      data[i] = 500 + 400 * Math.sin(i * 0.013) + (st >>> 24);
    }
    const store = floatStore(shape, data);
    const hashes: string[] = [];
    for (const version of [1, 2] as const) {
      const f = await featuresForBox(store, { start: [3, 5, 7], shape: [13, 15, 17] }, classifierFeatureSet([1, 1, 1], { version }));
      const u = new Uint32Array(f.data.buffer, f.data.byteOffset, f.data.length);
      let h = 2166136261;
      for (let i = 0; i < u.length; i++) h = Math.imul(h ^ u[i]!, 16777619) >>> 0;
      hashes.push(h.toString(16));
    }
    // FNV-1a of the float32 bits, computed with lib/features of 502fcd3 (the commit before version 3)
    expect(hashes).toEqual(['3a5982c4', '8ef83972']);
  });

  it('bricks at odd and even origins give the whole-volume values (no seams), also anisotropic', async () => {
    const shape: Shape3 = [30, 34, 37];
    const boxes = [...brickGrid(shape, [11, 13, 19]), { start: [3, 5, 7], shape: [5, 6, 9] } satisfies Box3];
    expect(await seams(v3, shape, [1, 1, 1], boxes)).toBeLessThan(1e-5);
    const an = classifierFeatureSet([1.5, 1, 1], { version: 3, sigmasVox: [1, 3.5, 5] });
    expect(featureHalo(an, [1.5, 1, 1])[0]).toBeLessThan(featureHalo(classifierFeatureSet([1.5, 1, 1], { version: 2, sigmasVox: [1, 3.5, 5] }), [1.5, 1, 1])[0]);
    expect(await seams(an, [24, 30, 31], [1.5, 1, 1], brickGrid([24, 30, 31], [9, 15, 16]))).toBeLessThan(1e-5);
  });

  it('a saved model names its definition: a version-3 model predicts with version 3, the same network saved as version 2 as before', async () => {
    await getTf();
    const dir = await mkdtemp(join(tmpdir(), 'petromap-v3-'));
    try {
      const shape: Shape3 = [20, 40, 40];
      const store = floatStore(shape, blobs(shape, 5));
      const box: Box3 = { start: [3, 5, 7], shape: [8, 20, 20] };
      const names = (await featuresForBox(store, box, v2)).names;
      const tm2 = untrainedModel(names, v2);
      const p2before = await predictBrick(tm2, store, box, null);
      await saveModel(join(dir, 'v2'), tm2);
      await saveModel(join(dir, 'v3'), { ...untrainedModel(names, v3), model: tm2.model });
      const [m2, m3] = [await loadModel(join(dir, 'v2')), await loadModel(join(dir, 'v3'))];
      expect(m2.featureSet!.version).toBe(2);
      expect(m3.featureSet!.version).toBe(3);
      const [p2, p3] = [await predictBrick(m2, store, box, null), await predictBrick(m3, store, box, null)];
      expect(Array.from(p2.probabilities[0]!)).toEqual(Array.from(p2before.probabilities[0]!));
      expect(Array.from(p3.probabilities[0]!)).not.toEqual(Array.from(p2.probabilities[0]!));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
