/**
 * The filters a user may pick for the voxel classifier (with their relative cost), the scales the
 * picker offers, the "fast" feature set, and the check of a user's feature set. Pure data and
 * arithmetic: the web app's Train step, the CLI and the estimates use the same table.
 */
import { invalidInput } from '../errors';
import { DEFAULT_SIGMAS_VOX } from './sets';
import type { FeatureSet, FeatureSpec, FilterName } from './types';

export interface FilterChoice {
  filter: FilterName;
  label: string;
  /** feature components per channel and scale */
  components: number;
  /** relative cost per voxel (a Gaussian = 1), measured on the wasm kernels */
  cost: number;
}

export const FILTER_CHOICES: readonly FilterChoice[] = [
  { filter: 'gaussian', label: 'Gaussian smoothing', components: 1, cost: 1 },
  { filter: 'gradientMagnitude', label: 'Gradient magnitude (edges)', components: 1, cost: 2 },
  { filter: 'laplacian', label: 'Laplacian of Gaussian', components: 1, cost: 2 },
  { filter: 'dog', label: 'Difference of Gaussians', components: 1, cost: 2 },
  { filter: 'hessianEigen', label: 'Hessian eigenvalues (shape)', components: 3, cost: 3 },
  { filter: 'structureTensorEigen', label: 'Structure tensor eigenvalues (texture orientation)', components: 3, cost: 4 },
  { filter: 'localVariance', label: 'Local variance (texture)', components: 1, cost: 2 },
  { filter: 'nonLocalMean', label: 'Non-local mean (denoised grey)', components: 1, cost: 30 },
];

const COST: Record<string, number> = { ...Object.fromEntries(FILTER_CHOICES.map((f) => [f.filter, f.cost])), intensity: 0.2, localMean: 1 };

/** Relative cost per voxel of one filter (unknown filters: 2). */
export const filterCost = (filter: string): number => COST[filter] ?? 2;

/** Largest scale a feature may have, µm (the web app bounds it further by voxels of the volume). */
export const MAX_FEATURE_SIGMA_UM = 1000;

/** Default scales offered in the picker: ilastik's, in voxels of this volume converted to µm (3 decimals). */
export function defaultScalesUm(spacingUm: [number, number, number]): number[] {
  const unit = Math.min(...spacingUm);
  return DEFAULT_SIGMAS_VOX.map((s) => Math.round(s * unit * 1000) / 1000);
}

/**
 * The "fast" preset: intensity plus Gaussian, gradient magnitude and Laplacian at 1 and 3.5
 * voxels (7 features), for large volumes where the classifier bank (lib/classify/feature-sets,
 * 36 features, better held-out accuracy) would take too long.
 */
export function startingFeatureSet(spacingUm: [number, number, number]): FeatureSet {
  const unit = Math.min(...spacingUm);
  const specs: FeatureSpec[] = [{ filter: 'intensity', sigmaUm: 0 }];
  for (const s of [1, 3.5]) for (const filter of ['gaussian', 'gradientMagnitude', 'laplacian'] as FilterName[]) specs.push({ filter, sigmaUm: s * unit });
  return { specs, preset: 'custom' };
}

/** A user's feature specs checked (known filters, scales in (0, MAX_FEATURE_SIGMA_UM]) and without duplicates; intensity has scale 0. */
export function checkFeatureSpecs(specs: readonly FeatureSpec[]): FeatureSpec[] {
  if (!specs.length) throw invalidInput('Choose at least one feature for the classifier (for example intensity and a Gaussian).');
  const known = new Set<string>(['intensity', 'localMean', ...FILTER_CHOICES.map((f) => f.filter)]);
  const seen = new Set<string>();
  const out: FeatureSpec[] = [];
  for (const s of specs) {
    if (!known.has(s.filter)) throw invalidInput(`Unknown filter "${s.filter}" in the feature set.`);
    if (s.filter !== 'intensity' && !(s.sigmaUm > 0 && s.sigmaUm <= MAX_FEATURE_SIGMA_UM)) throw invalidInput(`The scale of ${s.filter} must be between 0 and ${MAX_FEATURE_SIGMA_UM} µm, got ${s.sigmaUm}.`);
    const spec = { filter: s.filter, sigmaUm: s.filter === 'intensity' ? 0 : s.sigmaUm };
    const key = `${spec.filter}@${spec.sigmaUm}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(spec);
  }
  return out;
}
