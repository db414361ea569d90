/** The rendered-map criterion of the kept affine's polish (issue 19): blurred-map.ts against a known slab. */
import { describe, expect, it } from 'vitest';
import { composeAffine2, invertAffine2, type Affine2 } from '../../../lib/coords';
import { blurNormalised, blurredMapScore } from '../../../lib/registration/blurred-map';
import { NO_CLASS, type MovingImage } from '../../../lib/registration/moving-image';
import type { Slab } from '../../../lib/registration/types';
import { mulberry32 } from '../../../lib/synthetic/prng';

/** A 64 x 64 map of random disks of 3 classes on a matrix, with 2 % unclassified speckle. */
function diskMap(seed: number): MovingImage {
  const r = mulberry32(seed), W = 64, H = 64, labels = new Uint8Array(W * H);
  for (let k = 0; k < 40; k++) {
    const cx = r() * W, cy = r() * H, rad = 2 + 5 * r(), c = 1 + Math.floor(3 * r());
    for (let v = 0; v < H; v++) for (let u = 0; u < W; u++) if ((u - cx) ** 2 + (v - cy) ** 2 < rad * rad) labels[v * W + u] = c;
  }
  let classified = 0;
  for (let i = 0; i < labels.length; i++) { if (r() < 0.02) labels[i] = NO_CLASS; else classified++; }
  return { width: W, height: H, labels, classes: 4, classified, grey: new Float32Array(W * H), pixelUm: 1 };
}

/** The slab that map shows under edsToSlab: class greys supersampled 4 x 4 per slab pixel, blurred by sigma, noise of sd 0.02. */
function slabOf(mov: MovingImage, edsToSlab: Affine2, sigma: number, seed: number): Slab {
  const sw = 96, sh = 96, grey = [0.2, 0.5, 0.7, 0.9], inv = invertAffine2(edsToSlab);
  // the same sandstone without speckle: the class of the nearest classified pixel's disk
  const truthLab = Uint8Array.from(mov.labels, (k, i) => (k === NO_CLASS ? (mov.labels[i - 1] ?? 0) % NO_CLASS : k));
  const sharp = new Float32Array(sw * sh).fill(NaN);
  for (let v = 0; v < sh; v++) for (let u = 0; u < sw; u++) {
    let s = 0, n = 0;
    for (let j = 0; j < 4; j++) for (let i = 0; i < 4; i++) {
      const x = u - 0.375 + i / 4, y = v - 0.375 + j / 4;
      const eu = Math.round(inv[0] * x + inv[1] * y + inv[2]), ev = Math.round(inv[3] * x + inv[4] * y + inv[5]);
      if (eu < 0 || ev < 0 || eu >= mov.width || ev >= mov.height) continue;
      s += grey[truthLab[ev * mov.width + eu] % 4]; n++;
    }
    if (n === 16) sharp[v * sw + u] = s / 16;
  }
  const blurred = blurNormalised(sharp, sw, sh, sigma), r = mulberry32(seed);
  const data = Float32Array.from(blurred, (g) => (g === g ? g + 0.02 * Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r()) : NaN));
  return { width: sw, height: sh, data, slabToVoxel: [0, 0, 0, 1, 0, 0, 0, 1, 0], normal: [1, 0, 0], sampleDepthsVox: [0] };
}

describe('the map rendered like the slab (blurred-map.ts)', () => {
  it('fills unclassified holes by normalised convolution and keeps a constant', () => {
    const P = new Float32Array(100).fill(0.4);
    P[55] = NaN;
    const B = blurNormalised(P, 10, 10, 1);
    for (const x of B) expect(x).toBeCloseTo(0.4, 6);
  });

  it('measures the slab\'s point spread and scores the true transform above a 0.5 px shift and a 1 % larger map', () => {
    for (const seed of [1, 2, 3]) {
      const mov = diskMap(seed);
      const T: Affine2 = [1.2, 0.1, 10, -0.1, 1.2, 12];
      const slab = slabOf(mov, T, 0.9, seed);
      const { score, sigma } = blurredMapScore(slab, mov, T);
      expect(sigma).toBeGreaterThanOrEqual(0.7);
      expect(sigma).toBeLessThanOrEqual(1.1);
      const c = [31.5, 31.5], at = (k: number): Affine2 => composeAffine2(T, [k, 0, c[0] * (1 - k), 0, k, c[1] * (1 - k)]);
      expect(score(T)).toBeGreaterThan(score(composeAffine2([1, 0, 0.5, 0, 1, 0], T)));
      expect(score(T)).toBeGreaterThan(score(at(Math.sqrt(1.01))));
      expect(score(T)).toBeGreaterThan(score(at(Math.sqrt(0.99))));
    }
  });
});
