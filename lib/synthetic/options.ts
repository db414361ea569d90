/**
 * Options of the synthetic sandstone, their defaults and validation.
 * Every option has a default so `generateSandstone()` alone gives the demo sample.
 */
import type { Shape3 } from '../volume/types';
import { invalidInput } from '../errors';

/** Volume fractions of the rock (below the surface), summing to 1. */
export interface PhaseFractions {
  pore: number;
  quartz: number;
  feldspar: number;
  clay: number;
  pyrite: number;
}

export interface EdsOptions {
  /** EDS pixel size in µm; pixelUm / voxelUm is the EDS/XRM pixel-size ratio (0.5–2 in tests) */
  pixelUm: number;
  /** rotation of the map relative to the volume's (x, y) axes, degrees, any value */
  rotationDeg: number;
  /** the map is mirrored (u flipped) before rotation: det of (u,v)->(x,y) becomes negative */
  mirrored: boolean;
  /** position of the map centre relative to the volume centre, in voxels */
  offsetVox: { x: number; y: number };
  /** map size in pixels; when absent it follows from `coverage` */
  widthPx?: number;
  heightPx?: number;
  /** map edge length / surface edge length when width/height are absent; > 1 extends past the sample */
  coverage: number;
  /** fraction of pixels randomly set to unclassified (0) */
  unclassifiedFraction: number;
  /** probability that a pixel straddling a phase boundary is mis-assigned (neighbour or 0) */
  boundaryMixing: number;
  /** relative Gaussian noise of the BSE companion */
  bseNoise: number;
}

export interface SandstoneOptions {
  seed: number;
  /** (z, y, x) voxels */
  shape: Shape3;
  voxelUm: number;
  /** mean grain diameter in voxels */
  grainDiameterVox: number;
  /** relative spread (sd) of grain radii */
  grainSizeSpread: number;
  fractions: PhaseFractions;
  /** depth of the polished surface plane below z = 0 at the volume centre, voxels (0–10) */
  surfaceDepthVox: number;
  /** tilt of the surface plane, degrees (≤ 5) and the direction it dips toward in (x, y) */
  tiltDeg: number;
  tiltAzimuthDeg: number;
  /** Gaussian noise sd, relative to the quartz grey level */
  noise: number;
  /** signal-dependent (Poisson-like) noise sd at the quartz grey level, relative */
  poissonNoise: number;
  /** sd of the Gaussian point-spread function, voxels */
  psfSigmaVox: number;
  /** relative amplitude of radial cupping (beam hardening) */
  beamHardening: number;
  /** relative amplitude of ring artefacts */
  ringArtefact: number;
  eds: EdsOptions;
}

/** What callers pass: everything optional, nested objects partial. */
export type SandstoneInput = Partial<Omit<SandstoneOptions, 'eds' | 'fractions'>> & {
  eds?: Partial<EdsOptions>;
  fractions?: Partial<PhaseFractions>;
};

export const DEFAULT_FRACTIONS: PhaseFractions = { pore: 0.16, quartz: 0.6, feldspar: 0.14, clay: 0.08, pyrite: 0.02 };

export const DEFAULT_EDS: EdsOptions = {
  pixelUm: 2.5,
  rotationDeg: 17,
  mirrored: false,
  offsetVox: { x: 3, y: -2 },
  coverage: 0.8,
  unclassifiedFraction: 0.02,
  boundaryMixing: 0.3,
  bseNoise: 0.03,
};

export const DEFAULT_OPTIONS: SandstoneOptions = {
  seed: 1,
  shape: [96, 160, 160],
  voxelUm: 2,
  grainDiameterVox: 20,
  grainSizeSpread: 0.2,
  fractions: DEFAULT_FRACTIONS,
  surfaceDepthVox: 4,
  tiltDeg: 1.5,
  tiltAzimuthDeg: 30,
  noise: 0.025,
  poissonNoise: 0.015,
  psfSigmaVox: 0.8,
  beamHardening: 0.02,
  ringArtefact: 0.004,
  eds: DEFAULT_EDS,
};

const MAX_VOXELS = 64 * 1024 * 1024;
const MAX_EDS_PIXELS = 16 * 1024 * 1024;

export function resolveOptions(input: SandstoneInput = {}): SandstoneOptions {
  const fractions = { ...DEFAULT_FRACTIONS, ...input.fractions };
  const eds = { ...DEFAULT_EDS, ...input.eds, offsetVox: { ...DEFAULT_EDS.offsetVox, ...input.eds?.offsetVox } };
  const o: SandstoneOptions = { ...DEFAULT_OPTIONS, ...input, fractions, eds };
  o.shape = [...o.shape] as Shape3;
  validate(o);
  return o;
}

function validate(o: SandstoneOptions): void {
  const bad = (what: string) => {
    throw invalidInput(`Synthetic sandstone: ${what}.`, { details: { params: o } });
  };
  if (!o.shape.every((n) => Number.isInteger(n) && n >= 8)) bad('shape must be three integers ≥ 8 (z, y, x)');
  // ~20 bytes per voxel of working memory while generating
  if (o.shape[0] * o.shape[1] * o.shape[2] > MAX_VOXELS) bad(`shape has more than ${MAX_VOXELS} voxels; generate a smaller volume`);
  if (o.shape[0] < o.surfaceDepthVox + 4) bad('the volume must be at least 4 voxels thicker than surfaceDepthVox');
  if (!(o.voxelUm > 0) || !(o.eds.pixelUm > 0)) bad('voxelUm and eds.pixelUm must be positive');
  if (!(o.grainDiameterVox >= 4)) bad('grainDiameterVox must be at least 4 voxels');
  if (o.surfaceDepthVox < 0) bad('surfaceDepthVox must be ≥ 0');
  if (Math.abs(o.tiltDeg) > 30) bad('tiltDeg must be within ±30 degrees');
  const f = o.fractions;
  const vals = [f.pore, f.quartz, f.feldspar, f.clay, f.pyrite];
  if (vals.some((v) => !(v >= 0))) bad('phase fractions must be ≥ 0');
  const sum = vals.reduce((a, b) => a + b, 0);
  if (Math.abs(sum - 1) > 1e-6) bad(`phase fractions must sum to 1 (they sum to ${sum.toFixed(4)})`);
  if (f.pore + f.clay * 0.6 + f.pyrite > 0.6) bad('pore + clay + pyrite leave too little room for grains');
  const w = o.eds.widthPx ?? 1, h = o.eds.heightPx ?? 1;
  if (!(Number.isInteger(w) && Number.isInteger(h) && w >= 1 && h >= 1)) bad('eds.widthPx and eds.heightPx must be positive integers');
  const side = (o.eds.coverage * Math.min(o.shape[1], o.shape[2]) * o.voxelUm) / o.eds.pixelUm;
  if (!(o.eds.coverage > 0) || side * side > MAX_EDS_PIXELS || w * h > MAX_EDS_PIXELS) bad('the EDS map would be empty or larger than 16 Mpixel; check eds.pixelUm, coverage and size');
  if (o.eds.unclassifiedFraction < 0 || o.eds.unclassifiedFraction >= 1) bad('eds.unclassifiedFraction must be in [0, 1)');
  if (o.eds.boundaryMixing < 0 || o.eds.boundaryMixing > 1) bad('eds.boundaryMixing must be in [0, 1]');
}
