/**
 * Synthetic sandstone with exact ground truth: the shared fixture of registration, classification
 * and the demo. Same seed, same options -> byte-identical sample.
 */
import type { StageOptions } from '../errors';
import { throwIfAborted } from '../errors';
import { buildFabric } from './grains';
import { CLASS, MINERAL_TO_CLASS } from './minerals';
import { type SandstoneInput, resolveOptions } from './options';
import { mulberry32 } from './prng';
import { renderVolume } from './render';
import { edsSize, isRock, makeEdsToVoxel, surfacePlane } from './surface';
import { makeEdsMap } from './eds';
import type { SyntheticSample } from './types';

export function generateSandstone(input: SandstoneInput = {}, stage: StageOptions = {}): SyntheticSample {
  const o = resolveOptions(input);
  const [nz, ny, nx] = o.shape;
  // independent streams so changing e.g. the EDS options leaves the rock unchanged
  const rngRock = mulberry32(Math.imul(o.seed, 0x9e3779b1) + 1);
  const rngXrm = mulberry32(Math.imul(o.seed, 0x9e3779b1) + 2);
  const rngEds = mulberry32(Math.imul(o.seed, 0x9e3779b1) + 3);
  const progress = (f: number, msg: string) => {
    throwIfAborted(stage.signal);
    stage.onProgress?.(f, msg);
  };

  progress(0, 'packing grains');
  const fabric = buildFabric(o, rngRock);
  const plane = surfacePlane(o);
  const truthLabels = Uint8Array.from(fabric.labels);
  for (let z = 0, i = 0; z < nz; z++)
    for (let y = 0; y < ny; y++)
      for (let x = 0; x < nx; x++, i++) if (!isRock(plane, z, y, x)) truthLabels[i] = CLASS.air;

  progress(0.5, 'rendering XRM volume');
  const data = renderVolume(o, fabric, plane, rngXrm);

  progress(0.85, 'sampling EDS map');
  const size = edsSize(o);
  // record the resolved map size so truth.params alone regenerates this exact sample
  [o.eds.widthPx, o.eds.heightPx] = size;
  const edsToVoxel = makeEdsToVoxel(o, plane, size[0], size[1]);
  const eds = makeEdsMap(o, fabric, edsToVoxel, size, rngEds);
  progress(1, 'done');

  return {
    volume: {
      meta: { shape: [nz, ny, nx], spacingUm: [o.voxelUm, o.voxelUm, o.voxelUm], originUm: [0, 0, 0], dtype: 'uint16', channels: ['XRM'] },
      data,
    },
    truthLabels,
    eds,
    truth: { edsToVoxel, surface: plane, mineralToClass: { ...MINERAL_TO_CLASS }, params: o },
  };
}
