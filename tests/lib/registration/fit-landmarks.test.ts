import { describe, expect, it } from 'vitest';
import { applyAffine2, applyAffine2to3, type Affine2 } from '../../../lib/coords';
import { isPetromapError } from '../../../lib/errors';
import { fitLandmarks } from '../../../lib/registration/fit-landmarks';
import { mulberry32 } from '../../../lib/registration/plane-fit';
import { registerEdsToVolume } from '../../../lib/registration/register-eds';
import type { LandmarkPair } from '../../../lib/registration/types';
import { registrationError, smallSample } from './helpers';

const pairsUnder = (m: Affine2, pts: [number, number][]) => pts.map((p) => ({ eds: p, slab: applyAffine2(m, p[0], p[1]) }));
const pts: [number, number][] = [[3, 4], [80, 10], [70, 90], [5, 60], [40, 40]];

describe('fitLandmarks', () => {
  it.each([
    ['similarity', [1.3 * Math.cos(1), -1.3 * Math.sin(1), 12, 1.3 * Math.sin(1), 1.3 * Math.cos(1), -7] as Affine2, false],
    ['similarity', [-0.7 * Math.cos(2), -0.7 * Math.sin(2), 50, -0.7 * Math.sin(2), 0.7 * Math.cos(2), 20] as Affine2, true],
    ['affine', [1.1, 0.2, 3, -0.1, 0.9, 5] as Affine2, false],
  ] as const)('recovers an exact %s map (case %#)', (model, m, mirrored) => {
    const fit = fitLandmarks(pairsUnder(m, pts), { model });
    fit.edsToSlab.forEach((x, i) => expect(x).toBeCloseTo(m[i], 9));
    expect(fit.rms).toBeLessThan(1e-9);
    expect(fit.mirrored).toBe(mirrored);
  });

  it('fits rotation and shift only when the scale is known', () => {
    const m: Affine2 = [1.25 * Math.cos(0.3), -1.25 * Math.sin(0.3), 4, 1.25 * Math.sin(0.3), 1.25 * Math.cos(0.3), 9];
    const noisy = pairsUnder(m, pts).map((p, i) => ({ eds: p.eds, slab: [p.slab[0] + (i % 2 ? 1.5 : -1.5), p.slab[1]] as [number, number] }));
    const fit = fitLandmarks(noisy, { scale: 1.25 });
    expect(Math.hypot(fit.edsToSlab[0], fit.edsToSlab[3])).toBeCloseTo(1.25, 9);
  });

  it('needs at least 3 pairs', () => {
    const err = (() => { try { fitLandmarks(pairsUnder([1, 0, 0, 0, 1, 0], pts.slice(0, 2))); } catch (e) { return e; } })();
    expect(isPetromapError(err, 'InvalidInput')).toBe(true);
    expect((err as Error).message).toMatch(/At least 3 landmark pairs/);
  });

  it('rejects collinear pairs', () => {
    const line: [number, number][] = [[0, 0], [10, 10], [20, 20], [35, 35]];
    const err = (() => { try { fitLandmarks(pairsUnder([1, 0, 0, 0, 1, 0], line)); } catch (e) { return e; } })();
    expect(isPetromapError(err, 'InvalidInput')).toBe(true);
    expect((err as Error).message).toMatch(/collinear/);
  });
});

describe('landmark-only registration on the synthetic sandstone', () => {
  it('4 pairs with 2-pixel click noise land within 2 voxels; refinement from them is sub-voxel', async () => {
    const s = smallSample({ seed: 21, surfaceDepthVox: 5, tiltDeg: 3, tiltAzimuthDeg: 200, eds: { rotationDeg: 140, mirrored: true, pixelUm: 2.5 } });
    const rand = mulberry32(5);
    // click noise: uniform in a disc of radius 2 pixels, in the EDS map and in the volume
    const jitter = (): [number, number] => { const a = 2 * Math.PI * rand(), r = 2 * Math.sqrt(rand()); return [r * Math.cos(a), r * Math.sin(a)]; };
    const { width: w, height: h } = s.eds;
    const corners: [number, number][] = [[0.1 * w, 0.1 * h], [0.9 * w, 0.12 * h], [0.88 * w, 0.9 * h], [0.12 * w, 0.85 * h]];
    const landmarks: LandmarkPair[] = corners.map(([u, v]) => {
      const [z, y, x] = applyAffine2to3(s.truth.edsToVoxel, u, v);
      const [dx, dy] = jitter(), [du, dv] = jitter();
      return { eds: [u + du, v + dv], voxel: [z, y + dy, x + dx] };
    });
    const r = await registerEdsToVolume(s.volume, s.eds, { landmarks, refine: false });
    const e = registrationError(r.edsToVoxel, s.truth.edsToVoxel, w, h, s.volume.meta.shape);
    expect(e.mean).toBeLessThanOrEqual(2);
    expect(e.max).toBeLessThanOrEqual(3);
    expect(r.quality.initialisation).toBe('landmarks');
    expect(r.quality.landmarkResiduals).toHaveLength(4);
    const refined = await registerEdsToVolume(s.volume, s.eds, { landmarks, inWorker: false });
    const e2 = registrationError(refined.edsToVoxel, s.truth.edsToVoxel, w, h, s.volume.meta.shape);
    expect(e2.mean).toBeLessThanOrEqual(0.5);
    expect(e2.max).toBeLessThanOrEqual(1.5);
  });
});
