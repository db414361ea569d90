/** Bad input, cancellation, the worker path and contrast inversion. */
import { describe, expect, it } from 'vitest';
import { applyAffine2to3 } from '../../../lib/coords';
import { isPetromapError } from '../../../lib/errors';
import { coarseAlign } from '../../../lib/registration/coarse-align';
import { detectSurface } from '../../../lib/registration/detect-surface';
import { extractSlab } from '../../../lib/registration/extract-slab';
import { movingImage } from '../../../lib/registration/moving-image';
import { registerEdsToVolume } from '../../../lib/registration/register-eds';
import type { LandmarkPair } from '../../../lib/registration/types';
import type { DenseVolume } from '../../../lib/volume/types';
import { makePhantom } from './phantom';
import { registrationError } from './helpers';

const phantom = makePhantom({ rotationDeg: 70, mirrored: true, pixelRatio: 1.2, tiltDeg: 2, azimuthDeg: 10, offset: [4, -3] });
const truthLandmarks = (pts: [number, number][]): LandmarkPair[] =>
  pts.map(([u, v]) => ({ eds: [u, v], voxel: applyAffine2to3(phantom.truth.edsToVoxel, u, v) }));

async function rejection(p: Promise<unknown>) {
  const err = await p.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(Error);
  return err as Error;
}

describe('registerEdsToVolume rejects bad input', () => {
  it('fewer than 3 landmarks', async () => {
    const err = await rejection(registerEdsToVolume(phantom.volume, phantom.map, { landmarks: truthLandmarks([[5, 5], [60, 50]]), refine: false }));
    expect(isPetromapError(err, 'InvalidInput')).toBe(true);
  });

  it('collinear landmarks', async () => {
    const err = await rejection(registerEdsToVolume(phantom.volume, phantom.map, { landmarks: truthLandmarks([[5, 5], [20, 20], [50, 50]]), refine: false }));
    expect(isPetromapError(err, 'InvalidInput')).toBe(true);
    expect(err.message).toMatch(/collinear/);
  });

  it('a map that does not overlap the volume', async () => {
    const far: LandmarkPair[] = [[0, 0], [60, 0], [0, 60]].map(([u, v]) => ({ eds: [u, v], slab: [u + 500, v + 500] }));
    const err = await rejection(registerEdsToVolume(phantom.volume, phantom.map, { landmarks: far, refine: false }));
    expect(isPetromapError(err, 'Unprocessable')).toBe(true);
    expect(err.message).toMatch(/does not overlap/);
  });

  it('no air above the sample', async () => {
    const [nz, ny, nx] = phantom.volume.meta.shape;
    const cut = 8;
    const cropped: DenseVolume = { meta: { ...phantom.volume.meta, shape: [nz - cut, ny, nx] }, data: phantom.volume.data.slice(cut * ny * nx) };
    const err = await rejection(registerEdsToVolume(cropped, phantom.map, {}));
    expect(isPetromapError(err, 'Unprocessable')).toBe(true);
    expect(err.message).toMatch(/air layer/);
  });
});

describe('registerEdsToVolume in a worker', () => {
  it('registers, reports progress and can be cancelled', async () => {
    const seen: number[] = [];
    const r = await registerEdsToVolume(phantom.volume, phantom.map, { onProgress: (f) => seen.push(f) });
    const e = registrationError(r.edsToVoxel, phantom.truth.edsToVoxel, phantom.map.width, phantom.map.height, phantom.volume.meta.shape);
    expect(e.mean).toBeLessThan(0.5);
    expect(seen.at(-1)).toBe(1);
    expect(seen.some((f) => f > 0.6 && f < 1)).toBe(true); // the elastix stage reported from the worker

    const ctrl = new AbortController();
    const started = registerEdsToVolume(phantom.volume, phantom.map, {
      signal: ctrl.signal,
      onProgress: (f) => { if (f >= 0.6) ctrl.abort(); },
    });
    const err = await rejection(started);
    expect(isPetromapError(err, 'Aborted')).toBe(true);

    // cancelled once elastix runs in its worker, while the model choice overlaps it on this thread
    const ctrl2 = new AbortController();
    const late = registerEdsToVolume(phantom.volume, phantom.map, {
      signal: ctrl2.signal,
      onProgress: (_f, m) => { if (m?.startsWith('elastix stage')) ctrl2.abort(); },
    });
    expect(isPetromapError(await rejection(late), 'Aborted')).toBe(true);
  });
});

describe('coarseAlign', () => {
  it('is blind to contrast inversion', async () => {
    const surface = await detectSurface(phantom.volume);
    const slab = await extractSlab(phantom.volume, surface);
    const inverted = { ...slab, data: slab.data.map((g) => -g) };
    const mov = movingImage(phantom.map);
    const a = await coarseAlign(slab, mov, { voxelUm: 1 });
    const b = await coarseAlign(inverted, mov, { voxelUm: 1 });
    expect(b.mirrored).toBe(true);
    b.edsToSlab.forEach((x, i) => expect(x).toBeCloseTo(a.edsToSlab[i], 1));
    // the sweep shared with a helper worker thread finds the very same poses
    const two = await coarseAlign(slab, mov, { voxelUm: 1, threads: 2 });
    expect(two).toEqual(a);
  });
});

describe('elastix kept loaded (elastix-wasm-node.ts)', () => {
  it('gives the transform of the per-call elastixNode, call after call', async () => {
    const { elastixNode } = await import('@itk-wasm/elastix');
    const { Image, ImageType, FloatTypes, PixelTypes } = await import('itk-wasm');
    const { elastixWarm, loadElastix } = await import('../../../lib/registration/elastix-wasm-node');
    expect(await loadElastix()).toBe(true); // the kept module, not the elastixNode fallback
    const { parameterMap } = await import('../../../lib/registration/elastix-refine');
    const image = (w: number, shift: number) => {
      const im = new Image(new ImageType(2, FloatTypes.Float32, PixelTypes.Scalar, 1));
      im.size = [w, w]; im.origin = [shift, 0]; im.spacing = [1, 1]; im.direction = new Float64Array([1, 0, 0, 1]);
      im.data = Float32Array.from({ length: w * w }, (_, i) => Math.sin((i % w) * 0.4) + Math.cos(Math.floor(i / w) * 0.3));
      return im;
    };
    const pm = await parameterMap('TranslationTransform', { resolutions: 1, iterations: 30, spatialSamples: 500 });
    const po = [pm] as unknown as Parameters<typeof elastixNode>[0];
    const ref = (await elastixNode(po, { fixed: image(48, 0), moving: image(48, 1.5) })).transformParameterObject as unknown as Record<string, string[]>[];
    for (let k = 0; k < 2; k++) {
      const warm = (await elastixWarm(po, { fixed: image(48, 0), moving: image(48, 1.5) })).transformParameterObject as unknown as Record<string, string[]>[];
      expect(warm[0].TransformParameters).toEqual(ref[0].TransformParameters);
    }
  });
});
