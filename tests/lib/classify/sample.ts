/** Shared test fixture: a small synthetic sandstone with surface labels from its exact EDS pose. */
import type { Affine2, Affine2to3 } from '../../../lib/coords';
import { classMapFromNames, transferLabels, type SurfaceLabels } from '../../../lib/registration/transfer-labels';
import { generateSandstone, type SandstoneInput, type SyntheticSample } from '../../../lib/synthetic';

export interface Fixture {
  sample: SyntheticSample;
  surfaceLabels: SurfaceLabels;
}

const cache = new Map<string, Fixture>();

/** Surface labels as the Correlate stage would give them with a perfect registration. */
export function truthSurfaceLabels(sample: SyntheticSample, erodeRadius = 1): SurfaceLabels {
  const [, ny, nx] = sample.volume.meta.shape;
  const { a, b, c } = sample.truth.surface;
  const slabToVoxel: Affine2to3 = [a, b, c, 0, 1, 0, 1, 0, 0];
  const m = sample.truth.edsToVoxel;
  const edsToSlab: Affine2 = [m[6], m[7], m[8], m[3], m[4], m[5]];
  const classMap = classMapFromNames(sample.eds.legend, sample.truth.mineralToClass);
  return transferLabels(sample.eds, { edsToSlab, slabToVoxel }, { width: nx, height: ny }, classMap, { erodeRadius });
}

export function fixture(opts: SandstoneInput = { shape: [40, 96, 96], seed: 3, grainDiameterVox: 14 }): Fixture {
  const key = JSON.stringify(opts);
  let f = cache.get(key);
  if (!f) {
    const sample = generateSandstone(opts);
    f = { sample, surfaceLabels: truthSurfaceLabels(sample) };
    cache.set(key, f);
  }
  return f;
}
