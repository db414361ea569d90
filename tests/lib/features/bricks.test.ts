import { describe, expect, it } from 'vitest';
import { brickForMemory, brickGrid, chunkGrid, computeBrickFeatures, DEFAULT_FEATURE_SET, defaultFeatureSet, featureHalo, featureNames, featuresForBox, skimagePreset } from '../../../lib/features';
import type { FeatureSet } from '../../../lib/features/types';
import { isPetromapError } from '../../../lib/errors';
import { memoryVolumeStore } from '../../../lib/volume/memory-store';
import type { Box3, Shape3 } from '../../../lib/volume/types';
import { column, loadFixture, maxRelErr } from './fixture';

function noise(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s >>> 8) / 65536;
  }
  return out;
}

async function wholeVsBricks(set: FeatureSet, shape: Shape3, spacing: [number, number, number], brick: Shape3) {
  const data = noise(shape[0] * shape[1] * shape[2], 3);
  const store = memoryVolumeStore({ meta: { shape, spacingUm: spacing, originUm: [0, 0, 0], dtype: 'float32', channels: ['xrm'] }, data });
  const whole = await featuresForBox(store, { start: [0, 0, 0], shape }, set);
  const boxes = brickGrid(shape, brick);
  expect(boxes.length).toBeGreaterThanOrEqual(4);
  const lo = new Array(whole.nFeatures).fill(Infinity);
  const hi = new Array(whole.nFeatures).fill(-Infinity);
  whole.data.forEach((v, i) => {
    const f = i % whole.nFeatures;
    lo[f] = Math.min(lo[f], v);
    hi[f] = Math.max(hi[f], v);
  });
  let worst = 0;
  for (const box of boxes) {
    const part = await featuresForBox(store, box, set);
    expect(part.shape).toEqual(box.shape);
    const [bz, by, bx] = box.shape;
    for (let z = 0; z < bz; z++) for (let y = 0; y < by; y++) for (let x = 0; x < bx; x++) {
      const v = (z * by + y) * bx + x;
      const w = ((z + box.start[0]) * shape[1] + y + box.start[1]) * shape[2] + x + box.start[2];
      for (let f = 0; f < part.nFeatures; f++) {
        worst = Math.max(worst, Math.abs(part.data[v * part.nFeatures + f]! - whole.data[w * whole.nFeatures + f]!) / (hi[f] - lo[f] || 1));
      }
    }
  }
  return worst; // relative to each feature's value range
}

describe('bricks', () => {
  it('brickGrid covers the volume exactly once', () => {
    const boxes = brickGrid([100, 64, 65]);
    let n = 0;
    for (const b of boxes) n += b.shape[0] * b.shape[1] * b.shape[2];
    expect(n).toBe(100 * 64 * 65);
    expect(boxes.length).toBe(2 * 1 * 2);
    expect(boxes[3]).toEqual({ start: [50, 0, 32], shape: [50, 64, 33] } satisfies Box3);
    expect(brickGrid([256, 256, 256], [80, 80, 80]).map((b) => b.shape[0])).toContain(64);
    expect(new Set(brickGrid([256, 256, 256], [80, 80, 80]).map((b) => b.shape.join()))).toEqual(new Set(['64,64,64']));
  });

  it('chunkGrid: bricks are whole chunks (or a multiple), cover every voxel once, smaller only at the edge', () => {
    const cases: Array<{ shape: Shape3; chunk: Shape3; multiple?: Shape3 }> = [
      { shape: [160, 160, 160], chunk: [64, 128, 128] },
      { shape: [75, 130, 97], chunk: [32, 48, 40] },
      { shape: [33, 47, 61], chunk: [16, 16, 32], multiple: [2, 1, 3] },
      { shape: [5, 7, 3], chunk: [64, 64, 64] },
      { shape: [128, 1, 64], chunk: [64, 64, 64] },
    ];
    for (const { shape, chunk, multiple = [1, 1, 1] as Shape3 } of cases) {
      const boxes = chunkGrid(shape, chunk, multiple);
      const seen = new Uint8Array(shape[0] * shape[1] * shape[2]);
      const chunkOwner = new Map<string, number>();
      boxes.forEach((b, k) => {
        for (let a = 0; a < 3; a++) {
          const step = chunk[a]! * multiple[a]!;
          const end = b.start[a]! + b.shape[a]!;
          expect(b.start[a]! % step).toBe(0); // starts on a brick (hence chunk) boundary
          expect(b.shape[a]).toBeGreaterThan(0);
          if (end !== shape[a]) expect(b.shape[a]).toBe(step); // full size unless it ends at the edge
          else expect(b.shape[a]).toBeLessThanOrEqual(step);
        }
        for (let z = 0; z < b.shape[0]; z++) for (let y = 0; y < b.shape[1]; y++) {
          const row = ((b.start[0] + z) * shape[1] + b.start[1] + y) * shape[2] + b.start[2];
          for (let x = 0; x < b.shape[2]; x++) seen[row + x]!++;
        }
        // every chunk the brick touches belongs to this brick only
        const lo = b.start.map((v, a) => Math.floor(v / chunk[a]!));
        const hi = b.start.map((v, a) => Math.floor((v + b.shape[a]! - 1) / chunk[a]!));
        for (let cz = lo[0]!; cz <= hi[0]!; cz++) for (let cy = lo[1]!; cy <= hi[1]!; cy++) for (let cx = lo[2]!; cx <= hi[2]!; cx++) {
          const key = `${cz}/${cy}/${cx}`;
          if (chunkOwner.has(key)) throw new Error(`chunk ${key} is shared by bricks ${chunkOwner.get(key)} and ${k}`);
          chunkOwner.set(key, k);
        }
      });
      expect(seen.every((v) => v === 1)).toBe(true);
      // z-major order, as brickGrid
      const order = boxes.map((b) => (b.start[0] * shape[1] + b.start[1]) * shape[2] + b.start[2]);
      expect(order).toEqual([...order].sort((u, v) => u - v));
    }
    // the case: 160 with chunks of 64 -> 64, 64, 32 (brickGrid balances to 53/53/54, straddling chunks)
    expect(chunkGrid([160, 160, 160], [64, 128, 128]).filter((b) => b.start[1] === 0 && b.start[2] === 0).map((b) => b.shape[0])).toEqual([64, 64, 32]);
    expect(brickGrid([160, 160, 160], [64, 128, 128]).filter((b) => b.start[1] === 0 && b.start[2] === 0).map((b) => b.shape[0])).toEqual([53, 53, 54]);
    expect(chunkGrid([100, 64, 65], [64, 64, 64], [1, 1, 2])).toEqual([
      { start: [0, 0, 0], shape: [64, 64, 65] },
      { start: [64, 0, 0], shape: [36, 64, 65] },
    ] satisfies Box3[]);
    expect(() => chunkGrid([10, 10, 10], [0, 4, 4])).toThrow(/chunk size/);
    expect(() => chunkGrid([10, 10, 10], [4, 4, 4], [1, 1.5, 1])).toThrow(/whole number of chunks/);
  });

  it('default set: 62 features per channel, names, halo from the largest scale', () => {
    expect(featureNames(DEFAULT_FEATURE_SET, ['xrm']).length).toBe(62);
    expect(featureHalo(DEFAULT_FEATURE_SET, [1, 1, 1])).toEqual([64, 64, 64]); // DoG 1.6 * 10 voxels
    const aniso = defaultFeatureSet([2, 1, 1]);
    expect(featureHalo(aniso, [2, 1, 1])).toEqual([32, 64, 64]);
    expect(skimagePreset([1, 1, 1]).specs.length).toBe(18);
    expect(brickForMemory(62)).toEqual([64, 64, 64]);
    expect(brickForMemory(30)).toEqual([80, 80, 80]);
  });

  it('blockwise features equal whole-volume features (no seams), every filter, anisotropic', async () => {
    const set: FeatureSet = {
      specs: [
        { filter: 'intensity', sigmaUm: 0 },
        ...(['gaussian', 'gradientMagnitude', 'laplacian', 'dog', 'hessianEigen', 'structureTensorEigen', 'localVariance', 'nonLocalMean'] as const).flatMap(
          (filter) => [1, 3].map((sigmaUm) => ({ filter, sigmaUm })),
        ),
      ],
      preset: 'custom',
    };
    const worst = await wholeVsBricks(set, [40, 40, 40], [1.5, 1, 1], [20, 20, 40]);
    expect(worst).toBeLessThan(1e-4);
  });

  it('blockwise skimage preset equals whole volume (borders handled per brick)', async () => {
    const worst = await wholeVsBricks(skimagePreset([1, 1, 1], { sigmaMax: 4 }), [24, 20, 28], [1, 1, 1], [12, 10, 28]);
    expect(worst).toBeLessThan(1e-4);
  });

  it('skimage preset matches multiscale_basic_features (skimage 0.19.3 fixture, all 30 features)', async () => {
    const fx = loadFixture();
    const set = skimagePreset([1, 1, 1]);
    const res = await computeBrickFeatures([fx.volume], fx.shape, [0, 0, 0], [1, 1, 1], set);
    expect(res.nFeatures).toBe(30);
    const errs = res.names.map((_, f) => maxRelErr(column(res.data, 30, f), column(fx.features, fx.nFeatures, f)));
    if (process.env.SHOW_ERRS) console.log(Object.fromEntries(res.names.map((n, f) => [n, errs[f]])));
    for (let f = 0; f < 30; f++) expect(errs[f], res.names[f]).toBeLessThan(1e-3);
  });

  it('skimage preset on a uint16 scan works on values scaled to [0, 1] like img_as_float32', async () => {
    const fx = loadFixture();
    const u16 = Uint16Array.from(fx.volume, (v) => Math.round(v * 65535));
    const store = memoryVolumeStore({ meta: { shape: fx.shape, spacingUm: [1, 1, 1], originUm: [0, 0, 0], dtype: 'uint16', channels: ['xrm'] }, data: u16 });
    const set = skimagePreset([1, 1, 1], { sigmaMax: 2 });
    const fromStore = await featuresForBox(store, { start: [0, 0, 0], shape: fx.shape }, set);
    const scaled = Float32Array.from(u16, (v) => v / 65535);
    const direct = await computeBrickFeatures([scaled], fx.shape, [0, 0, 0], [1, 1, 1], set);
    for (let f = 0; f < direct.nFeatures; f++) {
      expect(maxRelErr(column(fromStore.data, fromStore.nFeatures, f), column(direct.data, direct.nFeatures, f)), direct.names[f]).toBeLessThan(1e-5);
    }
  });

  it('integer scans (uint8, uint16) give the features of their float values', async () => {
    const shape: Shape3 = [12, 14, 16];
    const set: FeatureSet = { specs: [{ filter: 'intensity', sigmaUm: 0 }, { filter: 'hessianEigen', sigmaUm: 1.2 }, { filter: 'localVariance', sigmaUm: 2 }], preset: 'custom' };
    const f = noise(shape[0] * shape[1] * shape[2], 5);
    for (const data of [Uint16Array.from(f, (v) => v * 200), Uint8Array.from(f, (v) => v)]) {
      const dtype = data instanceof Uint16Array ? 'uint16' : 'uint8';
      const store = memoryVolumeStore({ meta: { shape, spacingUm: [1, 1, 1], originUm: [0, 0, 0], dtype, channels: ['xrm'] }, data });
      const box: Box3 = { start: [2, 3, 4], shape: [8, 9, 10] };
      const got = await featuresForBox(store, box, set);
      const halo = featureHalo(set, [1, 1, 1]);
      const floats = await store.readBlockF32(box, { halo });
      const want = await computeBrickFeatures([floats], [8 + 2 * halo[0], 9 + 2 * halo[1], 10 + 2 * halo[2]], halo, [1, 1, 1], set, {
        volumeExtent: [[-2, 9], [-3, 10], [-4, 11]],
      });
      for (let k = 0; k < want.nFeatures; k++) {
        expect(maxRelErr(column(got.data, got.nFeatures, k), column(want.data, want.nFeatures, k)), `${dtype} ${want.names[k]}`).toBeLessThan(1e-6);
      }
    }
  });

  it('bad input is reported in words', async () => {
    const err = await computeBrickFeatures([new Float32Array(10)], [2, 2, 2], [0, 0, 0], [1, 1, 1], DEFAULT_FEATURE_SET).catch((e) => e);
    expect(isPetromapError(err, 'InvalidInput')).toBe(true);
    expect(String(err.message)).toMatch(/channel 0 should hold 8 float32 values/);
    const err2 = await computeBrickFeatures([new Float32Array(8)], [2, 2, 2], [0, 0, 0], [1, 1, 0], DEFAULT_FEATURE_SET).catch((e) => e);
    expect(String(err2.message)).toMatch(/voxel size/);
  });
});
