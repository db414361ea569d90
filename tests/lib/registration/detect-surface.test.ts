import { describe, expect, it } from 'vitest';
import { detectSurface } from '../../../lib/registration/detect-surface';
import { extractSlab, withBelow } from '../../../lib/registration/extract-slab';
import { applyAffine2to3 } from '../../../lib/coords';
import { isPetromapError } from '../../../lib/errors';
import type { DenseVolume } from '../../../lib/volume/types';
import { makePhantom } from './phantom';
import { smallSample } from './helpers';

describe('detectSurface', () => {
  it.each([
    [0, 0, 6],
    [3, 40, 3],
    [5, 250, 8],
  ])('finds a plane tilted %f° (azimuth %f°) %f voxels down in a phantom', async (tiltDeg, azimuthDeg, depth) => {
    const p = makePhantom({ tiltDeg, azimuthDeg, depth });
    const s = await detectSurface(p.volume);
    const t = p.truth.surface;
    // height error over the whole field (corners included)
    for (const [x, y] of [[0, 0], [95, 0], [0, 95], [95, 95]]) {
      expect(Math.abs(s.a * x + s.b * y + s.c - (t.a * x + t.b * y + t.c))).toBeLessThan(0.15);
    }
    expect(Math.abs(s.tiltDeg - tiltDeg)).toBeLessThan(0.2);
    expect(s.inlierFraction).toBeGreaterThan(0.7);
  });

  it('matches the synthetic sandstone truth plane within 0.1 voxel', async () => {
    const sample = smallSample({ seed: 11, surfaceDepthVox: 6, tiltDeg: 4, tiltAzimuthDeg: 130 });
    const s = await detectSurface(sample.volume, { keepHeightMap: true });
    const t = sample.truth.surface;
    for (const [x, y] of [[0, 0], [127, 0], [0, 127], [127, 127], [64, 64]]) {
      expect(Math.abs(s.a * x + s.b * y + s.c - (t.a * x + t.b * y + t.c))).toBeLessThan(0.1);
    }
    expect(s.heightMap).toHaveLength(128 * 128);
  });

  it('rejects a volume cropped at the surface (no air above the sample)', async () => {
    const sample = smallSample({ seed: 12, surfaceDepthVox: 4, tiltDeg: 0 });
    const [nz, ny, nx] = sample.volume.meta.shape;
    const cut = 6; // drop the air and the surface layer
    const cropped: DenseVolume = {
      meta: { ...sample.volume.meta, shape: [nz - cut, ny, nx] },
      data: sample.volume.data.slice(cut * ny * nx),
    };
    const err = await detectSurface(cropped).catch((e: unknown) => e);
    expect(isPetromapError(err, 'Unprocessable')).toBe(true);
    expect((err as Error).message).toMatch(/air layer/);
  });

  it('stops when aborted', async () => {
    const p = makePhantom();
    const err = await detectSurface(p.volume, { signal: AbortSignal.abort() }).catch((e: unknown) => e);
    expect(isPetromapError(err, 'Aborted')).toBe(true);
  });
});

describe('extractSlab', () => {
  it('maps slab pixels onto the plane at voxel pitch, orthonormally', async () => {
    const p = makePhantom({ tiltDeg: 5, azimuthDeg: 30 });
    const surface = await detectSurface(p.volume);
    const slab = await extractSlab(p.volume, surface);
    const m = slab.slabToVoxel;
    for (const [u, v] of [[0, 0], [40, 7], [90, 90]]) {
      const [z, y, x] = applyAffine2to3(m, u, v);
      expect(z).toBeCloseTo(surface.a * x + surface.b * y + surface.c, 6);
    }
    const du = Math.hypot(m[0], m[3], m[6]), dv = Math.hypot(m[1], m[4], m[7]);
    expect(du).toBeCloseTo(1, 9);
    expect(dv).toBeCloseTo(1, 9);
    expect(m[0] * m[1] + m[3] * m[4] + m[6] * m[7]).toBeCloseTo(0, 9);
    // the slab covers the volume footprint and holds rock grey where valid
    expect(slab.width).toBeGreaterThanOrEqual(96);
    const valid = slab.data.filter((g) => g === g);
    expect(valid.length).toBeGreaterThan(0.8 * 96 * 96);
  });

  it('samples the slab half a voxel deeper in the same pass (belowVox), leaving the slab as it was', async () => {
    const p = makePhantom({ tiltDeg: 5, azimuthDeg: 30 });
    const surface = await detectSurface(p.volume);
    const plain = await extractSlab(p.volume, surface);
    const both = await extractSlab(p.volume, surface, { belowVox: 0.5 });
    const deeper = await extractSlab(p.volume, surface, { offsetVox: 0.5 });
    expect(plain.below).toBeUndefined();
    expect(both.data).toEqual(plain.data);
    expect(both.below).toEqual(deeper.data);
    // a slab given without its twin (a stored slab) gets it sampled again
    const again = await withBelow(p.volume, surface, plain, 0.5);
    expect(again.below).toEqual(deeper.data);
    expect(again.data).toBe(plain.data);
  });
});
