import { describe, expect, it } from 'vitest';
import { mirrorAboveSurface, mirrorPlaneZ } from '../../../lib/classify/mirror';
import type { DenseVolume } from '../../../lib/volume/types';
import { denseStore } from './helpers';

function ramp(shape: [number, number, number]): DenseVolume<'uint16'> {
  const [nz, ny, nx] = shape;
  const data = new Uint16Array(nz * ny * nx);
  for (let z = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) data[(z * ny + y) * nx + x] = 100 * z + y + 1000;
  return { meta: { shape, spacingUm: [1, 1, 1], originUm: [0, 0, 0], dtype: 'uint16', channels: ['xrm'] }, data };
}

describe('mirrorAboveSurface', () => {
  const vol = ramp([30, 8, 8]);
  const base = denseStore(vol);

  it('replaces voxels above a flat mirror plane by their mirror image and leaves the rest', async () => {
    // plane through z = 5 (first rock layer); mirror plane at 5.5
    const m = mirrorAboveSurface(base, { a: 0, b: 0, c: 5 });
    const blk = await m.readBlockF32({ start: [0, 0, 0], shape: [10, 8, 8] });
    const at = (z: number, y: number, x: number) => blk[(z * 8 + y) * 8 + x];
    for (let z = 0; z < 10; z++) {
      const src = z < 5.5 ? 11 - z : z; // 2 * 5.5 - z
      expect(at(z, 3, 4)).toBeCloseTo(100 * src + 3 + 1000, 3);
    }
    const direct = await base.readBlockF32({ start: [6, 0, 0], shape: [4, 8, 8] });
    const mirrored = await m.readBlockF32({ start: [6, 0, 0], shape: [4, 8, 8] });
    expect(Array.from(mirrored)).toEqual(Array.from(direct));
  });

  it('reads the extra rows below the block it needs, honours halos and interpolates along z on a tilted plane', async () => {
    const s = { a: 0.3, b: -0.2, c: 6.2 };
    const m = mirrorAboveSurface(base, s, { offsetVox: 0 });
    const h = 2;
    const blk = await m.readBlockF32({ start: [0, 2, 2], shape: [3, 4, 4] }, { halo: h });
    const sy = 8, sx = 8;
    for (let z = 0; z < 7; z++) for (let y = 0; y < sy; y++) for (let x = 0; x < sx; x++) {
      const gz = z - h, gy = y + 2 - h, gx = x + 2 - h;
      const ry = gy < 0 ? -gy - 1 : gy >= 8 ? 15 - gy : gy;
      const rx = gx < 0 ? -gx - 1 : gx >= 8 ? 15 - gx : gx;
      const zm = mirrorPlaneZ(s, ry, rx, 0);
      const zsrc = gz < zm ? 2 * zm - gz : gz < 0 ? -gz - 1 : gz;
      expect(blk[(z * sy + y) * sx + x]).toBeCloseTo(100 * zsrc + ry + 1000, 2);
    }
  });

  it('is read-only', async () => {
    const m = mirrorAboveSurface(base, { a: 0, b: 0, c: 5 });
    await expect(m.writeBlock({ start: [0, 0, 0], shape: [1, 1, 1] }, new Uint16Array(1))).rejects.toThrow(/read-only/);
  });
});
