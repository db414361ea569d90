/**
 * Acceptance (issue 3): automatic registration of the synthetic sandstone's EDS map, mean error
 * <= 0.5 voxel and max <= 1.5 voxel over the map's area inside the volume, against the truth.
 */
import { describe, expect, it } from 'vitest';
import { registerEdsToVolume } from '../../../lib/registration/register-eds';
import { randomAcquisition, REGISTRATION_RANGES, type SandstoneInput } from '../../../lib/synthetic';
import { registrationError, smallSample } from './helpers';

interface Case { rot: number; mirrored: boolean; ratio: number; coverage: number; depth: number; tilt: number; az: number; off: [number, number] }

const CASES: Case[] = [
  { rot: 0, mirrored: false, ratio: 1, coverage: 0.8, depth: 3, tilt: 0, az: 0, off: [0, 0] },
  { rot: 45, mirrored: true, ratio: 0.5, coverage: 0.6, depth: 10, tilt: 5, az: 300, off: [-10, 6] },
  { rot: 135, mirrored: false, ratio: 2, coverage: 1.2, depth: 6, tilt: 2, az: 90, off: [8, 8] },
  { rot: 225, mirrored: true, ratio: 1.5, coverage: 0.4, depth: 2, tilt: 4, az: 160, off: [15, -12] },
  { rot: 300, mirrored: false, ratio: 0.7, coverage: 0.9, depth: 8, tilt: 5, az: 20, off: [-16, -16] },
  { rot: 180, mirrored: true, ratio: 1.25, coverage: 0.5, depth: 5, tilt: 3, az: 230, off: [0, 14] },
];

const VOXEL_UM = 2;
const toInput = (c: Case, seed: number): SandstoneInput => ({
  seed,
  surfaceDepthVox: c.depth,
  tiltDeg: c.tilt,
  tiltAzimuthDeg: c.az,
  eds: { rotationDeg: c.rot, mirrored: c.mirrored, pixelUm: c.ratio * VOXEL_UM, coverage: c.coverage, offsetVox: { x: c.off[0], y: c.off[1] } },
});

async function expectRegistered(input: SandstoneInput) {
  const s = smallSample(input);
  const r = await registerEdsToVolume(s.volume, s.eds, { inWorker: false });
  const e = registrationError(r.edsToVoxel, s.truth.edsToVoxel, s.eds.width, s.eds.height, s.volume.meta.shape);
  expect(e.n).toBeGreaterThan(100);
  expect(e.mean).toBeLessThanOrEqual(0.5);
  expect(e.max).toBeLessThanOrEqual(1.5);
  return { r, e };
}

describe('registerEdsToVolume (automatic) on synthetic sandstones', () => {
  it.each(CASES.map((c, i) => [i + 1, c] as const))('case %i: %o', async (i, c) => {
    const { r } = await expectRegistered(toInput(c, 30 + i));
    expect(r.quality.initialisation).toBe('automatic');
    expect(r.quality.miAfter).toBeGreaterThan(0.2);
    expect(r.quality.coverage).toBeGreaterThan(0.3);
  });

  // deeper surfaces than REGISTRATION_RANGES' 0: a surface at the first slice has no air above it
  it.each([101, 102, 103])('random acquisition seed %i', async (seed) => {
    await expectRegistered(randomAcquisition(seed, { shape: [24, 128, 128], voxelUm: VOXEL_UM }, { ...REGISTRATION_RANGES, depthVox: [2, 10] }));
  });

  it('registers the BSE companion instead of the mineral labels', async () => {
    const s = smallSample(toInput(CASES[2], 40));
    const r = await registerEdsToVolume(s.volume, s.eds, { inWorker: false, companion: 'BSE' });
    const e = registrationError(r.edsToVoxel, s.truth.edsToVoxel, s.eds.width, s.eds.height, s.volume.meta.shape);
    expect(e.mean).toBeLessThanOrEqual(0.5);
    expect(e.max).toBeLessThanOrEqual(1.5);
  });
});
