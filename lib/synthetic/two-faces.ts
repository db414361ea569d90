/**
 * A synthetic sandstone mapped on BOTH polished faces (issue 15 §1): generateSandstone's sample
 * (air above the top face, its EDS map) with a second polished face at the bottom, air below it, and
 * the EDS map of that face, sampled from the same rock fabric the same way the top map is
 * (lib/synthetic/eds.ts makeEdsMap). The bottom face is described as the top face of the volume
 * turned upside down (z' = nz - 1 - z): its plane, tilt and EDS pose follow the top's conventions
 * in that frame (lib/synthetic/surface.ts), and its truth edsToVoxel is given in the volume's own
 * voxel indices.
 *
 * The air below the bottom face is added to the rendered scan: the face's exact rock occupancy per
 * voxel (as the top's) blurred by the same point-spread function blends the rendered rock with air
 * of the same grey level and noise as the rendering's.
 */
import type { Affine2to3 } from '../coords';
import type { MineralMap } from '../eds/types';
import { gaussianBlur3 } from './blur';
import { makeEdsMap } from './eds';
import { generateSandstone } from './generate-sandstone';
import { buildFabric } from './grains';
import { CLASS, GREY, QUARTZ_GREY } from './minerals';
import { resolveOptions, type EdsOptions, type SandstoneInput } from './options';
import { gaussian, mulberry32 } from './prng';
import { edsSize, makeEdsToVoxel, surfacePlane, type Plane } from './surface';
import type { SyntheticSample } from './types';

export interface BottomFaceInput {
  /** depth of the bottom face above the last slice at the volume centre, voxels (default 5) */
  depthVox?: number;
  /** tilt of the bottom face (default 2°) and its azimuth in the upside-down frame (default 200°) */
  tiltDeg?: number;
  tiltAzimuthDeg?: number;
  /** the bottom map's acquisition (default: the top map's, rotated to 111°, offset (-4, 5) voxels) */
  eds?: Partial<EdsOptions>;
}

export interface TwoFaceSample extends SyntheticSample {
  bottom: {
    eds: MineralMap;
    /** exact: bottom EDS pixel (u, v) centre -> voxel (z, y, x) of the VOLUME, on the bottom face */
    edsToVoxel: Affine2to3;
    /** the bottom face's plane in the upside-down frame: z' = a x + b y + c through its first rock layer */
    surfaceFlipped: Plane;
  };
}

export function generateTwoFaceSandstone(input: SandstoneInput = {}, bottom: BottomFaceInput = {}): TwoFaceSample {
  const sample = generateSandstone(input);
  const o = sample.truth.params;
  const [nz, ny, nx] = o.shape;
  const oB = resolveOptions({
    ...o,
    eds: { ...o.eds, widthPx: undefined, heightPx: undefined, rotationDeg: 111, offsetVox: { x: -4, y: 5 }, ...bottom.eds },
    surfaceDepthVox: bottom.depthVox ?? 5,
    tiltDeg: bottom.tiltDeg ?? 2,
    tiltAzimuthDeg: bottom.tiltAzimuthDeg ?? 200,
  });
  const plane = surfacePlane(oB);
  // the same fabric as the top (generateSandstone's rock stream), sampled on the bottom face
  const fabric = buildFabric(o, mulberry32(Math.imul(o.seed, 0x9e3779b1) + 1));
  const size = edsSize(oB);
  const up = makeEdsToVoxel(oB, plane, size[0], size[1]);
  const edsToVoxel: Affine2to3 = [-up[0], -up[1], nz - 1 - up[2], up[3], up[4], up[5], up[6], up[7], up[8]]; // z = nz - 1 - z'
  const eds = makeEdsMap(oB, fabric, edsToVoxel, size, mulberry32(Math.imul(o.seed, 0x9e3779b1) + 4));
  eds.source = `synthetic sandstone (seed ${o.seed}), bottom face`;

  // air below the bottom face: rock occupancy of the upside-down frame, blurred like the scan
  const zMin = Math.max(0, Math.floor(nz - 1 - Math.max(...[0, nx - 1].flatMap((x) => [0, ny - 1].map((y) => plane.a * x + plane.b * y + plane.c))) - 1 - 4 * o.psfSigmaVox - 2));
  const sub = nz - zMin, slice = ny * nx;
  const occ = new Float32Array(sub * slice);
  for (let z = zMin; z < nz; z++) {
    const zf = nz - 1 - z;
    for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) {
      const rock = Math.min(1, Math.max(0, zf - (plane.a * x + plane.b * y + plane.c) + 1));
      occ[(z - zMin) * slice + y * nx + x] = rock;
      if (zf < plane.a * x + plane.b * y + plane.c - 0.5) sample.truthLabels[z * slice + y * nx + x] = CLASS.air;
    }
  }
  gaussianBlur3(occ, [sub, ny, nx], o.psfSigmaVox);
  const gauss = gaussian(mulberry32(Math.imul(o.seed, 0x9e3779b1) + 5));
  const air = GREY.air * QUARTZ_GREY;
  const sd = Math.sqrt((o.noise * QUARTZ_GREY) ** 2 + o.poissonNoise ** 2 * QUARTZ_GREY * air);
  const data = sample.volume.data;
  for (let i = 0; i < occ.length; i++) {
    const r = occ[i]!;
    if (r >= 0.999) continue;
    const j = zMin * slice + i;
    const v = r * data[j]! + (1 - r) * (air + sd * gauss());
    data[j] = v < 0 ? 0 : v > 65535 ? 65535 : Math.round(v);
  }
  return { ...sample, bottom: { eds, edsToVoxel, surfaceFlipped: plane } };
}
