/**
 * A map whose footprint on the scan's surface is too small for elastix (a 16 px map at 0.5 voxel
 * per pixel: 8 × 8 voxels) failed with "elastix refinement failed: 1616040", the address of
 * ITK-Wasm's C++ exception. It is said in words now (the area, what it needs, what to do), the
 * code kept in the details. Real elastix (ITK-Wasm) in its worker; the registration is unchanged.
 */
import { expect, it } from 'vitest';
import { ELASTIX_MIN_FOOTPRINT, refineInWorker } from '../../../lib/registration/refine-in-worker-node';
import { isPetromapError, type PetromapError } from '../../../lib/errors';

const slabImage = (w: number) => Float32Array.from({ length: w * w }, (_, i) => Math.sin(i * 0.37) + ((i % w) > w / 2 ? 1 : 0));
const mapImage = (w: number) => Float32Array.from({ length: w * w }, (_, i) => ((i % w) > w / 2 ? 1 : 0) + Math.cos(i * 0.11));


it('a map 8 × 8 voxels on the surface: refused in words with its size and the way out, the elastix code in the details', async () => {
  const images = { fixed: slabImage(33), fixedWidth: 33, fixedHeight: 33, moving: mapImage(16), movingWidth: 16, movingHeight: 16 };
  const err = await refineInWorker(images, [0.5, 0, 12.5, 0, 0.5, 12.5], { resolutions: 1, iterations: 200, spatialSamples: 2000 }).then(() => undefined, (e: unknown) => e);
  expect(isPetromapError(err, 'Unprocessable'), String(err)).toBe(true);
  const e = err as PetromapError;
  expect(e.message).toMatch(/^The fine alignment \(elastix\) could not run: the map \(16 × 16 px, 0\.5 voxel per map pixel\) covers about 8 × 8 voxels of the scan's surface inside the volume, too small/);
  expect(e.message).toContain(`at least about ${ELASTIX_MIN_FOOTPRINT} × ${ELASTIX_MIN_FOOTPRINT} voxels`);
  expect(e.message).toMatch(/--pixel-um.*voxel size.*landmark pairs/);
  expect(e.message).not.toMatch(/\d{6,}/);
  expect(String(e.details?.elastixError)).toMatch(/^\d+$/);
}, 60_000);

it('the same map at 1 voxel per pixel (16 × 16 voxels) still registers', async () => {
  const images = { fixed: slabImage(33), fixedWidth: 33, fixedHeight: 33, moving: mapImage(16), movingWidth: 16, movingHeight: 16 };
  const t = await refineInWorker(images, [1, 0, 8.5, 0, 1, 8.5], { resolutions: 1, iterations: 200, spatialSamples: 2000 });
  expect(t.every(Number.isFinite)).toBe(true);
}, 60_000);
