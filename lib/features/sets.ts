/**
 * Ready-made feature sets: the ilastik-like default bank and the scikit-image preset.
 */
import { invalidInput } from '../errors';
import type { FeatureSet, FeatureSpec, FilterName } from './types';

/** ilastik's scales, in voxels of the volume (µm for 1 µm voxels). */
export const DEFAULT_SIGMAS_VOX = [0.7, 1.0, 1.6, 3.5, 5.0, 10.0] as const;
/** The default scales in µm for a volume of 1 µm voxels; use defaultFeatureSet(spacingUm) otherwise. */
export const DEFAULT_SIGMAS_UM: readonly number[] = DEFAULT_SIGMAS_VOX;
export const DEFAULT_FILTERS: FilterName[] = [
  'gaussian',
  'gradientMagnitude',
  'laplacian',
  'dog',
  'hessianEigen',
  'structureTensorEigen',
];
/** scale (voxels) of the non-local mean feature of the default set */
export const DEFAULT_NLM_SIGMA_VOX = 10.0;

function checkSpacing(spacingUm: readonly number[], what: string): void {
  if (!Array.isArray(spacingUm) || spacingUm.length !== 3 || spacingUm.some((v) => !(v > 0) || !Number.isFinite(v))) {
    throw invalidInput(`${what}: the voxel size must be three positive numbers in µm (z, y, x), got ${JSON.stringify(spacingUm)}.`);
  }
}

/**
 * The default bank: intensity; gaussian, gradient magnitude, Laplacian, DoG, Hessian and structure
 * tensor eigenvalues at the ilastik scales 0.7, 1, 1.6, 3.5, 5, 10 voxels; a non-local mean at 10
 * voxels. Voxel scales are converted to µm with the smallest voxel size, so an isotropic volume
 * gets exactly those voxel scales and an anisotropic one the same physical scales on every axis.
 * 62 features per channel.
 */
export function defaultFeatureSet(spacingUm: [number, number, number]): FeatureSet {
  checkSpacing(spacingUm, 'Default feature set');
  const unit = Math.min(...spacingUm);
  const specs: FeatureSpec[] = [{ filter: 'intensity', sigmaUm: 0 }];
  for (const s of DEFAULT_SIGMAS_VOX) for (const filter of DEFAULT_FILTERS) specs.push({ filter, sigmaUm: s * unit });
  specs.push({ filter: 'nonLocalMean', sigmaUm: DEFAULT_NLM_SIGMA_VOX * unit });
  return { specs, preset: 'default' };
}

export const DEFAULT_FEATURE_SET: FeatureSet = defaultFeatureSet([1, 1, 1]);

/**
 * skimage.feature.multiscale_basic_features(image, intensity=True, edges=True, texture=True,
 * sigma_min, sigma_max) for a 3D image: per sigma (in voxels, sigma_min * 2^k as numpy's logspace
 * gives), the Gaussian-blurred image, its Sobel magnitude and the 3 Hessian eigenvalues (5 features
 * per scale, 30 with the defaults 0.5..16). Voxel sigmas are converted to µm with the smallest
 * voxel size (skimage itself ignores the voxel size; identical for isotropic volumes).
 */
export function skimagePreset(
  spacingUm: [number, number, number],
  opts: { sigmaMin?: number; sigmaMax?: number } = {},
): FeatureSet {
  checkSpacing(spacingUm, 'scikit-image feature preset');
  const sigmaMin = opts.sigmaMin ?? 0.5;
  const sigmaMax = opts.sigmaMax ?? 16;
  if (!(sigmaMin > 0) || !(sigmaMax >= sigmaMin)) {
    throw invalidInput(`scikit-image feature preset: need 0 < sigmaMin <= sigmaMax, got ${sigmaMin} and ${sigmaMax}.`);
  }
  const num = Math.floor(Math.log2(sigmaMax) - Math.log2(sigmaMin) + 1);
  const lo = Math.log2(sigmaMin);
  const hi = Math.log2(sigmaMax);
  const unit = Math.min(...spacingUm);
  const specs: FeatureSpec[] = [];
  for (let k = 0; k < num; k++) {
    // numpy.logspace = base ** linspace(lo, hi, num)
    const e = num === 1 ? lo : k === num - 1 ? hi : lo + ((hi - lo) / (num - 1)) * k;
    const s = 2 ** e;
    specs.push({ filter: 'gaussian', sigmaUm: s * unit }, { filter: 'gradientMagnitude', sigmaUm: s * unit }, { filter: 'hessianEigen', sigmaUm: s * unit });
  }
  return { specs, preset: 'skimage' };
}
