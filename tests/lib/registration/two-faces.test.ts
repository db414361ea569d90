/**
 * Issue 15 §1, a second EDS section: the bottom face of a sample mapped too. Registration of the
 * bottom map (on the volume turned upside down) against the generator's truth, with the top map's
 * acceptance thresholds (mean <= 0.5, max <= 1.5 voxel); the upside-down store view; a map that
 * does not overlap the face is refused in words.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isPetromapError } from '../../../lib/errors';
import { faceToVolume, faceView, flipZ, registerEdsOnFace } from '../../../lib/registration/face';
import { generateTwoFaceSandstone } from '../../../lib/synthetic/two-faces';
import { openVolume, writeDenseVolume } from '../../../lib/volume/zarr-store-node';
import { registrationError } from './helpers';

const tmp = mkdtempSync(join(tmpdir(), 'petromap-two-faces-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('two mapped faces: registration of the bottom face', () => {
  it('the upside-down view of a store reads the flipped volume, halo included', async () => {
    const s = generateTwoFaceSandstone({ shape: [20, 40, 48], seed: 3, grainDiameterVox: 8 });
    const path = join(tmp, 'flip.ome.zarr');
    await writeDenseVolume(path, s.volume, { chunk: [8, 16, 16] });
    const store = await openVolume(path);
    const dense = flipZ(s.volume);
    const view = faceView(store, 'bottom');
    const box = { start: [3, 5, 7] as [number, number, number], shape: [9, 10, 11] as [number, number, number] };
    const got = await view.readBlockF32(box, { halo: 2 });
    const [nz, ny, nx] = s.volume.meta.shape;
    const refl = (i: number, n: number) => (i < 0 ? -i - 1 : i >= n ? 2 * n - i - 1 : i);
    let bad = 0;
    for (let z = 0; z < 13; z++) for (let y = 0; y < 14; y++) for (let x = 0; x < 15; x++) {
      const zz = refl(box.start[0] + z - 2, nz), yy = refl(box.start[1] + y - 2, ny), xx = refl(box.start[2] + x - 2, nx);
      if (got[(z * 14 + y) * 15 + x] !== dense.data[(zz * ny + yy) * nx + xx]) bad++;
    }
    expect(bad).toBe(0);
    // and the flip is the volume's z reversed
    expect(dense.data[(2 * ny + 3) * nx + 4]).toBe(s.volume.data[((nz - 3) * ny + 3) * nx + 4]);
    expect(faceToVolume(faceToVolume([1, 2, 3, 4, 5, 6, 7, 8, 9], 'bottom', nz), 'bottom', nz)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  // the top map's acceptance thresholds (tests/lib/registration/register-eds.test.ts)
  it.each([
    [21, {}],
    [22, { tiltDeg: 4, tiltAzimuthDeg: 70, depthVox: 3, eds: { rotationDeg: 250, mirrored: true, pixelUm: 3 } }],
  ] as const)('seed %i: the bottom map lands within 0.5 voxel mean, 1.5 max of the truth', async (seed, bottom) => {
    const s = generateTwoFaceSandstone({ shape: [40, 128, 128], seed }, bottom);
    const r = await registerEdsOnFace(s.volume, s.bottom.eds, 'bottom', { inWorker: false });
    expect(r.face).toBe('bottom');
    const e = registrationError(r.edsToVoxel, s.bottom.edsToVoxel, s.bottom.eds.width, s.bottom.eds.height, s.volume.meta.shape);
    expect(e.n).toBeGreaterThan(100);
    expect(e.mean).toBeLessThanOrEqual(0.5);
    expect(e.max).toBeLessThanOrEqual(1.5);
    // the face's own frame: its surface is the bottom plane seen from below
    expect(Math.abs(r.surface.c - s.bottom.surfaceFlipped.c)).toBeLessThan(0.5);
    // the top map still registers on the top face of the same volume (once: it costs a registration)
    if (seed === 21) {
      const t = await registerEdsOnFace(s.volume, s.eds, 'top', { inWorker: false });
      expect(registrationError(t.edsToVoxel, s.truth.edsToVoxel, s.eds.width, s.eds.height, s.volume.meta.shape).mean).toBeLessThanOrEqual(0.5);
    }
    console.log(`bottom face seed ${seed}: registration error mean ${e.mean.toFixed(3)} max ${e.max.toFixed(3)} voxel (${e.n} pixels)`);
  }, 300_000);

  it('an EDS map with nothing classified is refused on the bottom face, in words', async () => {
    const s = generateTwoFaceSandstone({ shape: [40, 128, 128], seed: 23 });
    let err: unknown;
    let r;
    try {
      r = await registerEdsOnFace(s.volume, { ...s.eds, labels: s.eds.labels.map(() => 0) }, 'bottom', { inWorker: false });
    } catch (e) {
      err = e;
    }
    // an all-unclassified map cannot be placed: refused in words, nothing returned
    expect(r).toBeUndefined();
    expect(isPetromapError(err)).toBe(true);
    expect(String((err as Error).message).length).toBeGreaterThan(20);
  });
});
