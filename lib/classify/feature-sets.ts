/**
 * Feature bank for voxel classification. The default bank of lib/features goes up to 10 voxels
 * and adds a non-local mean at 10 voxels, which needs a 64-voxel halo: a 64^3 brick then reads and
 * filters 27x its own volume. The classifier bank keeps the filters and stops at 5 voxels (halo
 * 32, 8x): grains of sandstones are 10–30 voxels across, so the larger scales mostly blur across
 * grains. Sigmas are physical: voxel scales times the smallest voxel size.
 */
import { DEFAULT_FILTERS } from '../features/sets';
import type { FeatureSet, FeatureSpec } from '../features/types';

export const CLASSIFIER_SIGMAS_VOX = [0.7, 1.0, 1.6, 3.5, 5.0] as const;

export function classifierFeatureSet(spacingUm: [number, number, number]): FeatureSet {
  const unit = Math.min(...spacingUm);
  const specs: FeatureSpec[] = [{ filter: 'intensity', sigmaUm: 0 }];
  for (const s of CLASSIFIER_SIGMAS_VOX) for (const filter of DEFAULT_FILTERS) specs.push({ filter, sigmaUm: s * unit });
  return { specs, preset: 'custom' };
}
