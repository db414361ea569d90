/**
 * What every filter of the bank needs: voxel sigmas per axis, kernel radii, halos, component
 * counts and names. Shared by the float64 reference (reference.ts) and the wasm path (compute.ts),
 * so both agree on layout and semantics.
 *
 * Semantics (documented once, here):
 * - Sigmas are physical (µm); the voxel sigma along axis a is sigmaUm / spacingUm[a].
 * - Gaussian kernels are those of scipy.ndimage.gaussian_filter: truncate 4.0, radius
 *   int(4 * sigma + 0.5), normalised, derivative kernels as scipy builds them for `order=`.
 * - Features of a brick are the features of the volume extended by symmetric reflection
 *   ("reflect" of scipy: d c b a | a b c d) at its borders; a brick read with its halo from a
 *   VolumeStore therefore gives exactly the values of the whole volume (no seams).
 * - Derivatives are taken per "reference voxel" of size min(spacingUm): for isotropic volumes that
 *   is per voxel (as scipy/skimage), for anisotropic volumes the derivative along a coarse axis is
 *   scaled by min(spacing) / spacing[a] so that gradient magnitudes are physical.
 * - 'dog' = gaussian(sigma) - gaussian(1.6 sigma).
 * - 'hessianEigen' / 'structureTensorEigen': 3 eigenvalues, sorted decreasing (like skimage/vigra).
 *   Structure tensor: gradient by Gaussian derivatives at sigma (inner scale), products smoothed
 *   with a Gaussian of sigma / 2 (outer scale), as ilastik does.
 * - 'localMean' = gaussian(sigma); 'localVariance' = G_sigma * I^2 - (G_sigma * I)^2 (clamped >= 0).
 * - 'nonLocalMean' (an approximation of non-local means, see NLM_* below): with P = gaussian(I,
 *   sigma/4) (the "patch" descriptor), V = localVariance(I, sigma) and the 33 offsets d = g * step
 *   (g integer with |g|^2 <= 4, step_a = max(1, round(sigma_a / 2)) voxels), the output at p is
 *   sum_d w_d(p) P(p + d) / sum_d w_d(p) with
 *   w_d(p) = exp(-0.5 * sum_a (d_a / sigma_a)^2) * exp(-(P(p + d) - P(p))^2 / (V(p) + 1e-12)).
 * - preset 'skimage': filters mean what skimage.feature.multiscale_basic_features (0.19) computes:
 *   'gaussian' = skimage.filters.gaussian (mode 'nearest' at the volume border), 'gradientMagnitude'
 *   = skimage.filters.sobel of that (mode 'reflect'), 'hessianEigen' = eigenvalues of
 *   np.gradient(np.gradient(G)[a], axis=b) (one-sided differences at the volume border). Those
 *   depend on where the volume border is, see BrickOptions.volumeExtent.
 */
import { invalidInput } from '../errors';
import type { AnyVoxelArray, Shape3 } from '../volume/types';
import type { FeatureSet, FeatureSpec, FilterName } from './types';

export const TRUNCATE = 4.0;
export const DOG_RATIO = 1.6;
/** NLM: offsets g with |g|^2 <= NLM_GRID_R2 (33 offsets), step = sigma / 2 */
export const NLM_GRID_R2 = 4;
export const NLM_EPS = 1e-12;

/** Per axis (z, y, x): first and last index of the volume, in the brick's inner coordinates. */
export type Extent = [[number, number], [number, number], [number, number]];

export interface BrickOptions {
  /**
   * Where the volume lies relative to the brick: per axis the first and last voxel index of the
   * volume in the brick's inner (halo-free) coordinates, e.g. [-start, volumeShape - start - 1].
   * Only the skimage preset depends on it (nearest-mode Gaussian and one-sided np.gradient at the
   * volume border). Default: the edges of the given array are the volume border on axes where the
   * given halo is smaller than featureHalo needs, and unbounded elsewhere.
   */
  volumeExtent?: Extent;
  /**
   * Volume index (z, y, x) of the brick's first inner voxel (default 0, 0, 0: the array is the
   * volume). Version-2 feature sets need it: their 2x grid is aligned to the volume.
   */
  origin?: Shape3;
}

/** Every filter of the bank (types.ts FilterName); a set naming another is refused. */
export const FILTERS: readonly FilterName[] = [
  'intensity',
  'gaussian',
  'gradientMagnitude',
  'laplacian',
  'dog',
  'hessianEigen',
  'structureTensorEigen',
  'localMean',
  'localVariance',
  'nonLocalMean',
];

/** scipy: radius = int(truncate * sigma + 0.5); 0 for sigma ~ 0 */
export function kernelRadius(sigma: number, truncate = TRUNCATE): number {
  return sigma > 1e-15 ? Math.floor(truncate * sigma + 0.5) : 0;
}

/**
 * Feature set version 2 (FeatureSet.version): every Gaussian truncated at V2_TRUNCATE sigma, and
 * the specs whose filter is in COARSE_FILTERS and whose voxel sigma is at least
 * COARSE_MIN_SIGMA_VOX on every axis computed on a 2x grid aligned to the VOLUME (samples at even
 * volume indices on every axis, so a training box and a prediction brick see the same samples):
 *   D[k] = (G_pre * X)(2k)            pre-filter sigma V2_PRE_SIGMA_VOX voxels per axis
 *   the spec on D at the coarse sigma sqrt(sigma^2 - pre^2) / 2 (derivatives per voxel of the
 *   volume: x 1/2 per order); a DoG takes 1.6 x that coarse sigma for its second Gaussian
 *   value at volume index v: D-grid value at v / 2 for even v, the mean of the two neighbours
 *   for odd v, axis by axis (x, then y, then z): trilinear interpolation.
 * At volume borders the volume is reflected as for version 1, so the 2x grid is that of the
 * reflected volume and a brick gives the values of the whole-volume pass.
 */
export const V2_TRUNCATE = 3.0;
export const COARSE_MIN_SIGMA_VOX = 3.0;
export const V2_PRE_SIGMA_VOX = 1.0;
export const COARSE_FILTERS: readonly FilterName[] = ['gaussian', 'localMean', 'gradientMagnitude', 'laplacian', 'dog', 'hessianEigen'];

/**
 * Feature set version 3: version 2, except that the coarse specs (the 2x grid) are in-plane:
 * their Gaussians and derivatives act along y and x only (sigma 0 along z: no z filtering, no
 * z derivative, no 2x grid along z; each z plane is pre-filtered, sampled and interpolated back
 * on its own). A voxel's large-scale features then read only its own z plane, so a voxel of the
 * surface layer and one in the interior are described the same way (no mirrored rock in them);
 * the small scales stay 3D and symmetric (mirrored at the surface). Same names as version 2; the
 * z halo is that of the small scales. Not the default: docs/oracle-gap.md (stop 28).
 */
export const IN_PLANE_VERSION = 3;

export function featureVersion(set: FeatureSet): 1 | 2 | 3 {
  return (set.version === 2 || set.version === 3) && !isSkimage(set) ? set.version : 1;
}

/** Version 3: the coarse specs are in-plane (y, x only). */
export function isInPlane(set: FeatureSet): boolean {
  return featureVersion(set) === IN_PLANE_VERSION;
}

export function truncateOf(set: FeatureSet): number {
  return featureVersion(set) >= 2 ? V2_TRUNCATE : TRUNCATE;
}

/** Versions 2 and 3: is this spec computed on the 2x grid? */
export function isCoarse(set: FeatureSet, spec: FeatureSpec, spacingUm: readonly number[]): boolean {
  if (featureVersion(set) < 2 || !COARSE_FILTERS.includes(spec.filter)) return false;
  return voxelSigmas(spec.sigmaUm, spacingUm).every((s) => s >= COARSE_MIN_SIGMA_VOX);
}

/** Coarse-grid sigma (in 2x voxels) of a coarse spec's voxel sigma. */
export function coarseSigma(sigmaVox: number): number {
  return Math.sqrt(sigmaVox * sigmaVox - V2_PRE_SIGMA_VOX * V2_PRE_SIGMA_VOX) / 2;
}

/** Margin (coarse voxels, per axis) around the coarse inner grid a coarse spec needs. */
export function coarseMargin(spec: FeatureSpec, spacingUm: readonly number[]): Shape3 {
  return voxelSigmas(spec.sigmaUm, spacingUm).map((sa) => {
    const sc = coarseSigma(sa);
    return kernelRadius(spec.filter === 'dog' ? DOG_RATIO * sc : sc, V2_TRUNCATE);
  }) as Shape3;
}

/** Pre-filter radius (voxels) of the 2x grid. */
export const preRadius = (): number => kernelRadius(V2_PRE_SIGMA_VOX, V2_TRUNCATE);

/** Voxel sigma from µm, snapped to 1e-9 so that s * spacing / spacing gives back s. */
export function voxelSigma(sigmaUm: number, spacing: number): number {
  const s = sigmaUm / spacing;
  const r = Math.round(s * 1e6) / 1e6;
  return Math.abs(s - r) < 1e-9 ? r : s;
}

export function voxelSigmas(sigmaUm: number, spacingUm: readonly number[]): Shape3 {
  return [voxelSigma(sigmaUm, spacingUm[0]!), voxelSigma(sigmaUm, spacingUm[1]!), voxelSigma(sigmaUm, spacingUm[2]!)];
}

/** Derivative scale per axis: min(spacing) / spacing[a] (1 for isotropic volumes). */
export function derivativeFactors(spacingUm: readonly number[]): Shape3 {
  const m = Math.min(spacingUm[0]!, spacingUm[1]!, spacingUm[2]!);
  return [m / spacingUm[0]!, m / spacingUm[1]!, m / spacingUm[2]!];
}

export function nlmStep(sigmaVox: number): number {
  return Math.max(1, Math.round(sigmaVox / 2));
}

/** The 33 NLM grid offsets (integer grid units). */
export function nlmGrid(): Array<[number, number, number]> {
  const out: Array<[number, number, number]> = [];
  for (let k = -2; k <= 2; k++) for (let j = -2; j <= 2; j++) for (let i = -2; i <= 2; i++) {
    if (i * i + j * j + k * k <= NLM_GRID_R2) out.push([k, j, i]);
  }
  return out;
}

export function componentCount(filter: FilterName): number {
  return filter === 'hessianEigen' || filter === 'structureTensorEigen' ? 3 : 1;
}

export function isSkimage(set: FeatureSet): boolean {
  return set.preset === 'skimage';
}

/**
 * Halo (voxels, per axis) one spec needs. `truncate` is the feature set's (truncateOf); the
 * structure tensor's outer margin keeps truncate 4 (compute-spec.ts sizes it so).
 */
export function specHalo(spec: FeatureSpec, spacingUm: readonly number[], skimage: boolean, truncate = TRUNCATE): Shape3 {
  const s = voxelSigmas(spec.sigmaUm, spacingUm);
  const kr = (v: number) => kernelRadius(v, truncate);
  return s.map((sa) => {
    if (spec.filter === 'intensity') return 0;
    if (skimage) return kernelRadius(sa) + 2;
    switch (spec.filter) {
      case 'dog':
        return kr(DOG_RATIO * sa);
      case 'structureTensorEigen':
        return kr(sa) + kernelRadius(sa / 2);
      case 'nonLocalMean':
        return Math.max(2 * nlmStep(sa) + kr(sa / 4), kr(sa));
      default:
        return kr(sa);
    }
  }) as Shape3;
}

/** Halo of a coarse spec (version 2): 2 x its coarse margin + the pre-filter radius + 1 (odd brick origins); version 3: none along z. */
export function coarseHalo(spec: FeatureSpec, spacingUm: readonly number[], inPlane = false): Shape3 {
  return coarseMargin(spec, spacingUm).map((m, a) => (inPlane && a === 0 ? 0 : 2 * m + preRadius() + 1)) as Shape3;
}

export function checkSet(set: FeatureSet, spacingUm: readonly number[], what = 'Feature set'): void {
  if (!set || !Array.isArray(set.specs) || set.specs.length === 0) throw invalidInput(`${what}: no features were chosen.`);
  if (spacingUm.length !== 3 || spacingUm.some((v) => !(v > 0) || !Number.isFinite(v))) {
    throw invalidInput(`${what}: the voxel size must be three positive numbers in µm (z, y, x), got ${JSON.stringify(spacingUm)}.`);
  }
  for (const sp of set.specs) {
    if (!FILTERS.includes(sp.filter)) throw invalidInput(`${what}: unknown filter "${String(sp.filter)}" (known: ${FILTERS.join(', ')}).`);
    if (sp.filter !== 'intensity' && !(sp.sigmaUm > 0 && Number.isFinite(sp.sigmaUm))) {
      throw invalidInput(`${what}: filter "${sp.filter}" needs a positive scale in µm, got ${sp.sigmaUm}.`);
    }
    if (set.version !== undefined && set.version !== 1 && set.version !== 2 && set.version !== 3) {
      throw invalidInput(`${what}: unknown feature definition version ${String(set.version)} (this petromap knows 1, 2 and 3); a newer petromap made it.`);
    }
    if (isSkimage(set) && !['gaussian', 'gradientMagnitude', 'hessianEigen'].includes(sp.filter)) {
      throw invalidInput(`${what}: the scikit-image preset only has gaussian, gradientMagnitude (Sobel) and hessianEigen, not "${sp.filter}".`);
    }
  }
}

/** Voxels per axis (z, y, x) of halo enough for every spec of the set. */
export function featureHalo(set: FeatureSet, spacingUm: [number, number, number]): Shape3 {
  checkSet(set, spacingUm);
  const h: Shape3 = [0, 0, 0];
  const t = truncateOf(set);
  for (const sp of set.specs) {
    const s = isCoarse(set, sp, spacingUm) ? coarseHalo(sp, spacingUm, isInPlane(set)) : specHalo(sp, spacingUm, isSkimage(set), t);
    for (let a = 0; a < 3; a++) h[a] = Math.max(h[a]!, s[a]!);
  }
  return h;
}

function fmt(v: number): string {
  return String(Number(v.toPrecision(6)));
}

/** One name per feature, in the order of BrickFeatures.data: channel, spec, component. */
export function featureNames(set: FeatureSet, channels: string[]): string[] {
  const out: string[] = [];
  for (const ch of channels) {
    for (const sp of set.specs) {
      const n = componentCount(sp.filter);
      const base = sp.filter === 'intensity' ? `${ch}:intensity` : `${ch}:${sp.filter}@${fmt(sp.sigmaUm)}um`;
      if (n === 1) out.push(base);
      else for (let k = 0; k < n; k++) out.push(`${base}[${k}]`);
    }
  }
  return out;
}

export function featuresPerChannel(set: FeatureSet): number {
  return set.specs.reduce((n, sp) => n + componentCount(sp.filter), 0);
}

/** Resolve the volume extent (see BrickOptions.volumeExtent). */
export function resolveExtent(inner: Shape3, halo: Shape3, need: Shape3, opts?: BrickOptions): Extent {
  if (opts?.volumeExtent) return opts.volumeExtent;
  return [0, 1, 2].map((a) =>
    halo[a]! < need[a]! ? [-halo[a]!, inner[a]! + halo[a]! - 1] : [-Infinity, Infinity],
  ) as Extent;
}

/** Volume extent of a box inside a volume of `shape` (for BrickOptions.volumeExtent). */
export function extentOfBox(box: { start: Shape3 }, shape: Shape3): Extent {
  return [0, 1, 2].map((a) => [-box.start[a]!, shape[a]! - box.start[a]! - 1]) as Extent;
}

/**
 * Re-window a z-major array with halo `have` into one with halo `want` (per axis): crops where
 * have > want, extends by symmetric reflection of the given array where have < want.
 */
export function rehalo<T extends AnyVoxelArray>(src: T, shape: Shape3, have: Shape3, want: Shape3): { data: T; shape: Shape3 } {
  if (have[0] === want[0] && have[1] === want[1] && have[2] === want[2]) return { data: src, shape };
  const out: Shape3 = [0, 0, 0];
  const maps: Int32Array[] = [];
  for (let a = 0; a < 3; a++) {
    const n = shape[a]!;
    const len = n - 2 * have[a]! + 2 * want[a]!;
    out[a] = len;
    const m = new Int32Array(len);
    for (let i = 0; i < len; i++) m[i] = reflect(i - want[a]! + have[a]!, n);
    maps.push(m);
  }
  const [oz, oy, ox] = out;
  const [, ny, nx] = shape;
  const data = new (src.constructor as new (n: number) => T)(oz * oy * ox);
  let o = 0;
  for (let z = 0; z < oz; z++) {
    const zb = maps[0]![z]! * ny;
    for (let y = 0; y < oy; y++) {
      const rb = (zb + maps[1]![y]!) * nx;
      const mx = maps[2]!;
      for (let x = 0; x < ox; x++) data[o++] = src[rb + mx[x]!]!;
    }
  }
  return { data, shape: out };
}

export function reflect(i: number, n: number): number {
  if (n <= 1) return 0;
  const p = 2 * n;
  let m = i % p;
  if (m < 0) m += p;
  return m < n ? m : p - 1 - m;
}

export function checkBrickInput(channels: AnyVoxelArray[], shapeWithHalo: Shape3, halo: Shape3): Shape3 {
  if (!Array.isArray(channels) || channels.length === 0) throw invalidInput('Computing features: no image channel was given.');
  const n = shapeWithHalo[0] * shapeWithHalo[1] * shapeWithHalo[2];
  const inner: Shape3 = [0, 0, 0];
  for (let a = 0; a < 3; a++) {
    inner[a] = shapeWithHalo[a]! - 2 * halo[a]!;
    if (!Number.isInteger(halo[a]) || halo[a]! < 0 || inner[a]! < 1) {
      throw invalidInput(
        `Computing features: a brick of (${shapeWithHalo.join(' x ')}) voxels cannot have a halo of (${halo.join(', ')}) voxels.`,
      );
    }
  }
  channels.forEach((c, i) => {
    const typed = c instanceof Float32Array || c instanceof Uint16Array || c instanceof Uint8Array;
    if (!typed || c.length !== n) {
      throw invalidInput(`Computing features: channel ${i} should hold ${n} float32 values (${shapeWithHalo.join(' x ')}), got ${c?.length}.`);
    }
  });
  return inner;
}
