/**
 * Random acquisitions within the ranges the registration must handle: any rotation, mirrored or
 * not, EDS/XRM pixel-size ratio 0.5–2, offsets, partial coverage, tilt ≤ 5°, surface 0–10 voxels
 * down. Seeded, so a failing case can be replayed from its seed.
 */
import type { SandstoneInput } from './options';
import { mulberry32 } from './prng';

export interface AcquisitionRanges {
  ratio: [number, number];
  maxTiltDeg: number;
  depthVox: [number, number];
  /** max |offset| of the map centre from the volume centre, as a fraction of the smaller (y, x) edge */
  maxOffset: number;
  coverage: [number, number];
}

export const REGISTRATION_RANGES: AcquisitionRanges = {
  ratio: [0.5, 2],
  maxTiltDeg: 5,
  depthVox: [0, 10],
  maxOffset: 0.15,
  coverage: [0.4, 1.2],
};

export function randomAcquisition(seed: number, base: SandstoneInput = {}, ranges: AcquisitionRanges = REGISTRATION_RANGES): SandstoneInput {
  const rng = mulberry32(Math.imul(seed, 0x2545f491) ^ 0x1234567);
  const between = ([lo, hi]: [number, number]) => lo + (hi - lo) * rng();
  const voxelUm = base.voxelUm ?? 2;
  const shape = base.shape ?? [96, 160, 160];
  const edge = Math.min(shape[1], shape[2]);
  // log-uniform ratio: as many down- as up-sampled maps
  const ratio = Math.exp(between([Math.log(ranges.ratio[0]), Math.log(ranges.ratio[1])]));
  return {
    ...base,
    seed: base.seed ?? seed,
    surfaceDepthVox: between(ranges.depthVox),
    tiltDeg: ranges.maxTiltDeg * rng(),
    tiltAzimuthDeg: 360 * rng(),
    eds: {
      ...base.eds,
      pixelUm: voxelUm * ratio,
      rotationDeg: 360 * rng(),
      mirrored: rng() < 0.5,
      offsetVox: { x: (2 * rng() - 1) * ranges.maxOffset * edge, y: (2 * rng() - 1) * ranges.maxOffset * edge },
      coverage: between(ranges.coverage),
    },
  };
}
