import type { Shape3 } from '../volume/types';

/**
 * Feature-bank contracts. Sigmas are physical (micrometres); per-axis voxel sigmas are
 * sigmaUm / spacingUm[axis], so anisotropic voxels get anisotropic kernels.
 */
export type FilterName =
  | 'intensity' // raw value (sigma ignored)
  | 'gaussian' // Gaussian smoothing
  | 'gradientMagnitude' // Gaussian gradient magnitude
  | 'laplacian' // Laplacian of Gaussian
  | 'dog' // difference of Gaussians (sigma, 1.6 * sigma)
  | 'hessianEigen' // 3 sorted eigenvalues of the Hessian of Gaussian (3 features)
  | 'structureTensorEigen' // 3 sorted eigenvalues of the structure tensor (3 features)
  | 'localMean' // box/Gaussian-window local mean
  | 'localVariance' // local variance (texture)
  | 'nonLocalMean'; // non-local greyscale average at large scale

export interface FeatureSpec {
  filter: FilterName;
  sigmaUm: number;
}

export interface FeatureSet {
  specs: FeatureSpec[];
  /** 'skimage' reproduces skimage.feature.multiscale_basic_features (3D) value for value */
  preset?: 'default' | 'skimage' | 'custom';
  /**
   * Definition of the filters (stored with every model, so a model is always predicted with the
   * features it was trained on). Absent or 1: scipy's Gaussians truncated at 4 sigma, every scale
   * on the voxel grid. 2: Gaussians truncated at 3 sigma, and the scales of at least 3 voxels on
   * a 2x grid aligned to the volume (plan.ts, coarse.ts). 3: version 2 with the 2x-grid scales
   * in-plane (y and x only; plan.ts IN_PLANE_VERSION). Ignored by the skimage preset.
   */
  version?: FeatureVersion;
}

export type FeatureVersion = 1 | 2 | 3;

/** Result of computing features on one brick: voxel-major rows, ready for a classifier. */
export interface BrickFeatures {
  /** inner (halo-free) brick shape, (z, y, x) */
  shape: Shape3;
  /** number of features per voxel (channels x filters x scales x components) */
  nFeatures: number;
  names: string[];
  /** data[voxel * nFeatures + f], voxel in z-major order over `shape` */
  data: Float32Array;
}
