import { describe, expect, it } from 'vitest';
import { depthProfile } from '../../../lib/report/depth';
import { labelCensus } from '../../../lib/report/label-census';
import { modalMineralogy } from '../../../lib/report/modal';
import { memoryVolumeStore } from '../../../lib/volume/memory-store';
import type { Shape3 } from '../../../lib/volume/types';

/** The per-voxel definitions the census must reproduce (label-census.ts's header). */
function voxelByVoxel(data: Uint8Array, shape: Shape3, s: { a: number; b: number; c: number }, binVox: number) {
  const [nz, ny, nx] = shape;
  const norm = Math.sqrt(1 + s.a * s.a + s.b * s.b);
  const bins = new Map<number, Float64Array>();
  const totals = new Float64Array(256);
  for (let z = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) {
    if (z < s.a * x + s.b * y + s.c - 0.5) continue;
    const code = data[(z * ny + y) * nx + x]!;
    totals[code]++;
    const d = (z - (s.a * x + (s.b * y + s.c - 0.5))) / norm;
    const bin = (d / binVox) | 0;
    if (!bins.has(bin)) bins.set(bin, new Float64Array(256));
    bins.get(bin)![code]++;
  }
  return { bins, totals };
}

function rng(seed: number) {
  let t = seed >>> 0;
  return () => {
    t = (t * 1664525 + 1013904223) >>> 0;
    return t / 2 ** 32;
  };
}

describe('labelCensus: one pass for modal mineralogy and depth profile', () => {
  it('counts every voxel in the bin of the per-voxel definition, on tilted, flat and tie surfaces', async () => {
    const r = rng(7);
    const shape: Shape3 = [23, 17, 41];
    const n = shape[0] * shape[1] * shape[2];
    const data = new Uint8Array(n);
    for (let i = 0; i < n; i++) data[i] = r() < 0.1 ? 0 : 1 + Math.floor(r() * 6);
    const store = memoryVolumeStore({ meta: { shape, spacingUm: [2, 1, 1], originUm: [0, 0, 0], dtype: 'uint8', channels: ['labels'] }, channels: [data] });
    const surfaces = [
      { a: 0, b: 0, c: 3.5 }, // every voxel of slice 3 on the edge exactly
      { a: 0.25, b: -0.125, c: 5 }, // exact binary fractions: ties along the rows
      { a: -0.37, b: 0.21, c: 9.3 },
      { a: 0.013, b: 0.002, c: 0.7 },
      { a: 1.7, b: -0.9, c: 2 }, // steep: many runs per row
    ];
    for (const s of surfaces) {
      for (const binVox of [1, 2.5]) {
        const want = voxelByVoxel(data, shape, s, binVox);
        const got = await labelCensus(store, s, { binVox, slabZ: 5 });
        for (let bin = 0; bin < got.bins; bin++) {
          const w = want.bins.get(bin) ?? new Float64Array(256);
          expect(Array.from(got.counts.subarray(bin * 256, bin * 256 + 8)), `surface ${JSON.stringify(s)} bin ${bin}`).toEqual(Array.from(w.subarray(0, 8)));
        }
        for (const k of want.bins.keys()) expect(k).toBeLessThan(got.bins);
      }
    }
  });

  it('modal and depth read from one census equal their own passes', async () => {
    const r = rng(3);
    const shape: Shape3 = [16, 20, 24];
    const data = Uint8Array.from({ length: shape[0] * shape[1] * shape[2] }, () => Math.floor(r() * 5));
    const store = memoryVolumeStore({ meta: { shape, spacingUm: [1, 1, 1], originUm: [0, 0, 0], dtype: 'uint8', channels: ['labels'] }, channels: [data] });
    const surface = { a: 0.1, b: 0.05, c: 2.2 };
    const classes = [1, 2, 3].map((code) => ({ code, name: `c${code}` })); // code 4 is unknown to the report
    const census = await labelCensus(store, surface);
    expect(await modalMineralogy(store, classes, { census })).toEqual(await modalMineralogy(store, classes, { surface }));
    expect(await depthProfile(store, surface, classes, { census })).toEqual(await depthProfile(store, surface, classes));
    const modal = await modalMineralogy(store, classes, { census });
    const want = voxelByVoxel(data, shape, surface, 1).totals;
    expect(modal.rows.map((x) => x.voxels)).toEqual([want[1], want[2], want[3]]);
    expect(modal.unknownVoxels).toBe(want[4]);
  });

  it('refuses a label volume that is not one byte per voxel', async () => {
    const store = memoryVolumeStore({ meta: { shape: [1, 1, 2], spacingUm: [1, 1, 1], originUm: [0, 0, 0], dtype: 'uint16', channels: ['labels'] }, channels: [new Uint16Array(2)] });
    await expect(labelCensus(store, undefined)).rejects.toThrow(/one byte per voxel/);
  });
});
