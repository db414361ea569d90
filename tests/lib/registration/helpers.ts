/** Shared helpers of the registration tests: the acceptance error measure and sample factory. */
import { applyAffine2to3, type Affine2to3 } from '../../../lib/coords';
import type { Shape3 } from '../../../lib/volume/types';
import { generateSandstone, type SandstoneInput } from '../../../lib/synthetic';

/**
 * Distance (voxels) between registered and true voxel positions of EDS pixel centres, over the
 * map's area inside the volume (true position within the (y, x) footprint and z range).
 */
export function registrationError(found: Affine2to3, truth: Affine2to3, width: number, height: number, shape: Shape3) {
  let sum = 0, max = 0, n = 0;
  for (let v = 0; v < height; v++) for (let u = 0; u < width; u++) {
    const t = applyAffine2to3(truth, u, v);
    if (t[0] < -0.5 || t[1] < -0.5 || t[2] < -0.5 || t[0] > shape[0] - 0.5 || t[1] > shape[1] - 0.5 || t[2] > shape[2] - 0.5) continue;
    const f = applyAffine2to3(found, u, v);
    const d = Math.hypot(f[0] - t[0], f[1] - t[1], f[2] - t[2]);
    sum += d; n++;
    if (d > max) max = d;
  }
  return { mean: n ? sum / n : Infinity, max: n ? max : Infinity, n };
}

/** Small synthetic sample (24 x 128 x 128 at 2 µm) so the suite stays within its CI budget. */
export function smallSample(input: SandstoneInput = {}) {
  return generateSandstone({ shape: [24, 128, 128], voxelUm: 2, ...input });
}
