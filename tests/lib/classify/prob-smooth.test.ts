import { describe, expect, it } from 'vitest';
import { growBox } from '../../../lib/classify/auto-context';
import { argmaxChannels, smoothChannels, smoothingHalo, smoothingKernel } from '../../../lib/classify/prob-smooth';
import type { Shape3 } from '../../../lib/volume/types';

/** Plain reference: the 3D sum of w(dz) w(dy) w(dx) p over the taps inside the volume. */
function reference(p: Float32Array, shape: Shape3, w: Float32Array): Float32Array {
  const [nz, ny, nx] = shape, r = (w.length - 1) / 2;
  const out = new Float32Array(p.length);
  for (let z = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) {
    let acc = 0;
    for (let a = -r; a <= r; a++) for (let b = -r; b <= r; b++) for (let c = -r; c <= r; c++) {
      const zz = z + a, yy = y + b, xx = x + c;
      if (zz < 0 || yy < 0 || xx < 0 || zz >= nz || yy >= ny || xx >= nx) continue;
      acc += w[a + r]! * w[b + r]! * w[c + r]! * p[(zz * ny + yy) * nx + xx]!;
    }
    out[(z * ny + y) * nx + x] = acc;
  }
  return out;
}

describe('prob-smooth', () => {
  const shape: Shape3 = [9, 11, 13];
  const n = shape[0] * shape[1] * shape[2];
  const vol = Float32Array.from({ length: n }, (_, i) => ((i * 2654435761) % 1000) / 1000);

  it('kernels sum to 1 and the halo is their radius', () => {
    for (const s of [{ kind: 'gaussian' as const, sigma: 1 }, { kind: 'gaussian' as const, sigma: 2.5 }, { kind: 'mean' as const, radius: 1 }]) {
      const w = smoothingKernel(s);
      expect(w.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
      expect(smoothingHalo(s)).toBe((w.length - 1) / 2);
    }
    expect(smoothingHalo({ kind: 'gaussian', sigma: 2.5 })).toBe(5);
  });

  it('the separable passes equal the 3D sum, taps outside the volume left out', () => {
    const c = [vol.slice()];
    smoothChannels(c, shape, { kind: 'gaussian', sigma: 1 });
    const ref = reference(vol, shape, smoothingKernel({ kind: 'gaussian', sigma: 1 }));
    for (let i = 0; i < n; i++) expect(Math.abs(c[0]![i]! - ref[i]!)).toBeLessThan(1e-5);
  });

  it('a box grown by the halo gives the whole volume\'s values inside (bricks = whole volume)', () => {
    const s = { kind: 'gaussian' as const, sigma: 1.5 };
    const whole = [vol.slice()];
    smoothChannels(whole, shape, s);
    const box = { start: [3, 4, 5] as Shape3, shape: [3, 4, 5] as Shape3 };
    const { grown, offset } = growBox(box, smoothingHalo(s), shape);
    const sub = new Float32Array(grown.shape[0] * grown.shape[1] * grown.shape[2]);
    let k = 0;
    for (let z = 0; z < grown.shape[0]; z++) for (let y = 0; y < grown.shape[1]; y++) for (let x = 0; x < grown.shape[2]; x++) {
      sub[k++] = vol[((grown.start[0] + z) * shape[1] + grown.start[1] + y) * shape[2] + grown.start[2] + x]!;
    }
    const part = [sub];
    smoothChannels(part, grown.shape, s);
    for (let z = 0; z < box.shape[0]; z++) for (let y = 0; y < box.shape[1]; y++) for (let x = 0; x < box.shape[2]; x++) {
      const g = ((z + offset[0]) * grown.shape[1] + y + offset[1]) * grown.shape[2] + x + offset[2];
      const w = ((box.start[0] + z) * shape[1] + box.start[1] + y) * shape[2] + box.start[2] + x;
      expect(part[0]![g]).toBe(whole[0]![w]);
    }
  });

  it('argmax marks voxels with no probability (air) as 255', () => {
    expect(Array.from(argmaxChannels([Float32Array.of(0, 0.2, 0.7), Float32Array.of(0, 0.8, 0.3)]))).toEqual([255, 1, 0]);
  });
});
