/**
 * Scan proposals on label volumes with known pure regions: the box of each class is found
 * exactly (voxels and µm), fractions add up, ties centre the box, and bad inputs are refused.
 */
import { describe, expect, it } from 'vitest';
import { boxFractions, fovUmToVox, proposalsCsv, proposeScanLocations, type ProposalClass } from '@/lib/report/proposals';
import { memoryVolumeStore } from '@/lib/volume/memory-store';
import { rng } from '@/lib/classify/rng';
import type { Box3, Shape3, VolumeMeta } from '@/lib/volume/types';

const CLASSES: ProposalClass[] = [
  { code: 1, name: 'high porosity' },
  { code: 2, name: 'low porosity' },
  { code: 3, name: 'fracture' },
];

function labels(shape: Shape3, fill: (z: number, y: number, x: number) => number) {
  const [nz, ny, nx] = shape;
  const data = new Uint8Array(nz * ny * nx);
  for (let z = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) data[(z * ny + y) * nx + x] = fill(z, y, x);
  const meta: VolumeMeta = { shape, spacingUm: [2, 1.5, 1.5], originUm: [10, 0, -3], dtype: 'uint8', channels: ['labels'] };
  return memoryVolumeStore({ meta, data }, 'painted-labels');
}

const inBox = (b: Box3, z: number, y: number, x: number) =>
  z >= b.start[0] && z < b.start[0] + b.shape[0] && y >= b.start[1] && y < b.start[1] + b.shape[1] && x >= b.start[2] && x < b.start[2] + b.shape[2];

describe('proposeScanLocations', () => {
  const shape: Shape3 = [40, 72, 80];
  const fov: Shape3 = [10, 16, 12];
  // one pure fov-sized box per class in a random mixture of the three classes (no other window is pure)
  const pure: Box3[] = [
    { start: [3, 5, 7], shape: fov },
    { start: [22, 40, 50], shape: fov },
    { start: [27, 9, 61], shape: fov },
  ];
  const rand = rng(7);
  const store = labels(shape, (z, y, x) => {
    for (let i = 0; i < pure.length; i++) if (inBox(pure[i]!, z, y, x)) return CLASSES[i]!.code;
    const r = rand();
    return r < 0.05 ? 0 : r < 0.4 ? 1 : r < 0.75 ? 2 : 3;
  });

  it('finds each pure region exactly, in voxels and µm, with its class fractions', async () => {
    for (const cellVox of [undefined, 1, 4]) {
      const res = await proposeScanLocations(store, CLASSES, fov, { cellVox });
      expect(res.absent).toEqual([]);
      expect(res.proposals.map((p) => p.code)).toEqual([1, 2, 3]);
      res.proposals.forEach((p, i) => {
        expect(p.box, `${p.name} (cell ${res.cellVox})`).toEqual(pure[i]);
        expect(p.purity).toBe(1);
        const f = Object.fromEntries(p.fractions.map((x) => [x.code, x.fraction]));
        expect(f[p.code]).toBe(1);
        expect(p.fractions.reduce((s, x) => s + x.fraction, 0)).toBeCloseTo(1, 12);
      });
    }
    const p = (await proposeScanLocations(store, CLASSES, fov)).proposals[1]!;
    // voxel 22 along z has its centre at 10 + 22*2 µm; the box starts half a voxel before
    expect(p.startUm).toEqual([10 + 21.5 * 2, 39.5 * 1.5, -3 + 49.5 * 1.5]);
    expect(p.sizeUm).toEqual([20, 24, 18]);
    expect(p.centreUm).toEqual([p.startUm[0] + 10, p.startUm[1] + 12, p.startUm[2] + 9]);
  });

  it('reports impure best windows with their real fractions and lists absent classes', async () => {
    // class 1 everywhere except a slab of class 2 (x < 20); class 3 absent
    const s = labels([16, 32, 48], (_z, _y, x) => (x < 20 ? 2 : 1));
    const res = await proposeScanLocations(s, CLASSES, [8, 8, 30]);
    expect(res.absent.map((c) => c.code)).toEqual([3]);
    const two = res.proposals.find((p) => p.code === 2)!;
    expect(two.box.start[2]).toBe(0);
    expect(two.purity).toBeCloseTo(20 / 30, 12);
    const f = await boxFractions(s, two.box, CLASSES);
    expect(f.find((x) => x.code === 1)!.fraction).toBeCloseTo(10 / 30, 12);
    expect(two.fractions).toEqual(f);
  });

  it('centres the box in a pure region larger than the field of view', async () => {
    const big: Box3 = { start: [4, 10, 20], shape: [12, 20, 20] };
    const s = labels([24, 48, 64], (z, y, x) => (inBox(big, z, y, x) ? 3 : 1));
    const res = await proposeScanLocations(s, CLASSES, [6, 10, 10]);
    const p = res.proposals.find((q) => q.code === 3)!;
    expect(p.purity).toBe(1);
    expect(p.box.start).toEqual([7, 15, 25]);
  });

  it('clips a field of view larger than the volume and converts µm to voxels', async () => {
    expect(fovUmToVox([100, 30, 31], [2, 1.5, 1.5])).toEqual([50, 20, 21]);
    const s = labels([8, 16, 16], (_z, y) => (y < 8 ? 1 : 2));
    const res = await proposeScanLocations(s, CLASSES.slice(0, 2), [50, 8, 100]);
    expect(res.fovVox).toEqual([8, 8, 16]);
    expect(res.proposals.map((p) => [p.code, p.box.start[1], p.purity])).toEqual([[1, 0, 1], [2, 8, 1]]);
  });

  it('refuses non-label volumes, empty class lists and bad fields of view', async () => {
    const grey = memoryVolumeStore({ meta: { shape: [2, 2, 2], spacingUm: [1, 1, 1], originUm: [0, 0, 0], dtype: 'uint16', channels: ['xrm'] }, data: new Uint16Array(8) }, 'scan.nrrd');
    await expect(proposeScanLocations(grey, CLASSES, [1, 1, 1])).rejects.toThrow(/scan\.nrrd.*uint8 class codes/);
    await expect(proposeScanLocations(store, [], fov)).rejects.toThrow(/no classes/);
    await expect(proposeScanLocations(store, CLASSES, [0, 4, 4])).rejects.toThrow(/field of view/);
    await expect(proposeScanLocations(store, [{ code: 300, name: 'x' }], fov)).rejects.toThrow(/1\.\.255/);
  });

  it('writes a CSV with the box and one fraction column per class', async () => {
    const res = await proposeScanLocations(store, CLASSES, fov);
    const csv = proposalsCsv(res, CLASSES).trim().split('\n');
    expect(csv).toHaveLength(4);
    expect(csv[0]).toMatch(/^class,code,purity,z0_vox,.*fraction_high porosity,fraction_low porosity,fraction_fracture,fraction_unlabelled$/);
    expect(csv[2]!.split(',').slice(0, 9)).toEqual(['low porosity', '2', '1', '22', '40', '50', '10', '16', '12']);
  });
});
