/**
 * Feature bank for voxel classification. The default bank of lib/features goes up to 10 voxels
 * and adds a non-local mean at 10 voxels, which needs a 64-voxel halo: a 64^3 brick then reads and
 * filters 27x its own volume. The classifier bank stops at 5 voxels (halo 32): grains of
 * sandstones are 10–30 voxels across, so larger scales mostly blur across grains; and it leaves
 * out the structure-tensor eigenvalues (costly, no gain). Measured on the 128x192x192 synthetic
 * sandstone (bench pipeline): default bank 62 features, mean IoU 0.45, predict 90 s (loaded
 * machine); all filters to 5 voxels 51 features, 0.49, 19 s; this bank 36 features, 0.50, 12 s;
 * without Hessian eigenvalues 0.46. Sigmas are physical: voxel scales times the smallest voxel size.
 */
import type { FeatureSet, FeatureSpec, FeatureVersion, FilterName } from '../features/types';

export const CLASSIFIER_SIGMAS_VOX = [0.7, 1.0, 1.6, 3.5, 5.0] as const;
export const CLASSIFIER_FILTERS: FilterName[] = ['gaussian', 'gradientMagnitude', 'laplacian', 'dog', 'hessianEigen'];

/**
 * Definition version of new classifier banks (lib/features/plan.ts; saved models keep theirs).
 * Version 2 (3-sigma Gaussians, scales >= 3 voxels on a 2x grid aligned to the volume): features
 * 0.52x the CPU of version 1; bench pipeline 128x192x192 mean IoU v1 -> v2, style A seeds 11/12/13
 * 0.699/0.675/0.665 -> 0.695/0.681/0.659, style B 0.483/0.452 -> 0.490/0.453 (docs/speed-rounds-2-3.md, round 3).
 */
export const CLASSIFIER_FEATURE_VERSION: FeatureVersion = 2;

export function classifierFeatureSet(
  spacingUm: [number, number, number],
  opts: { filters?: FilterName[]; sigmasVox?: readonly number[]; version?: FeatureVersion } = {},
): FeatureSet {
  const unit = Math.min(...spacingUm);
  const specs: FeatureSpec[] = [{ filter: 'intensity', sigmaUm: 0 }];
  for (const s of opts.sigmasVox ?? CLASSIFIER_SIGMAS_VOX) for (const filter of opts.filters ?? CLASSIFIER_FILTERS) specs.push({ filter, sigmaUm: s * unit });
  const version = opts.version ?? CLASSIFIER_FEATURE_VERSION;
  return version === 1 ? { specs, preset: 'custom' } : { specs, preset: 'custom', version };
}
