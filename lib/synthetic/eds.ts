/**
 * EDS map of the polished surface: the true labels sampled on the surface plane at the EDS pixel
 * grid, with the defects of real automated mineralogy: pixels straddling a phase boundary are
 * sometimes given to the neighbour or left unclassified, random unclassified speckle, and pixels
 * off the sample are unclassified. A BSE companion follows mean atomic number.
 */
import { type Affine2to3, applyAffine2to3 } from '../coords';
import type { MineralMap } from '../eds/types';
import { regularFields } from '../registration/refine-fields';
import type { FieldRect } from '../registration/types';
import { resolveOptions, type SandstoneOptions } from './options';
import { buildFabric, type Fabric } from './grains';
import { EDS_LEGEND, MEAN_Z } from './minerals';
import { makeMineralSampler } from './fabric-sampler';
import { type Rng, gaussian, mulberry32 } from './prng';
import { edsSize, makeEdsToVoxel, surfacePlane } from './surface';
import type { SyntheticSample } from './types';

/** Sub-pixel sample offsets (fractions of an EDS pixel): the pixel's interaction footprint. */
const SUB = [-1 / 3, 0, 1 / 3];

/** EDS pixel (u, v) (fractional) -> voxel (z, y, x): an affine, or any map (distorted, stitched). */
export type EdsToVoxelAt = Affine2to3 | ((u: number, v: number) => [number, number, number]);

export function makeEdsMap(o: SandstoneOptions, fabric: Fabric, edsToVoxel: EdsToVoxelAt, size: [number, number], rng: Rng): MineralMap {
  const [width, height] = size;
  const at = typeof edsToVoxel === 'function' ? edsToVoxel : (u: number, v: number) => applyAffine2to3(edsToVoxel, u, v);
  const ids = new Uint16Array(width * height);
  const bse = new Float32Array(width * height);
  const gauss = gaussian(rng);
  const mineralAt = makeMineralSampler(o, fabric);
  const sub = new Int32Array(SUB.length * SUB.length);
  for (let v = 0, p = 0; v < height; v++)
    for (let u = 0; u < width; u++, p++) {
      let k = 0, zSum = 0;
      for (const dv of SUB) for (const du of SUB) {
        const [pz, py, px] = at(u + du, v + dv);
        zSum += MEAN_Z[(sub[k++] = mineralAt(pz, py, px))];
      }
      bse[p] = (zSum / sub.length - 5) / 17 + o.eds.bseNoise * gauss();
      ids[p] = defect(o, sub, rng);
    }
  return {
    width,
    height,
    pixelSizeUm: o.eds.pixelUm,
    labels: ids,
    legend: EDS_LEGEND.map((m) => ({ ...m, color: [...m.color] as [number, number, number] })),
    companions: [{ name: 'BSE', data: bse }],
    source: `synthetic sandstone (seed ${o.seed})`,
  };
}

/** The pixel's phase: its centre sample, unless a boundary or speckle defect strikes. */
function defect(o: SandstoneOptions, sub: Int32Array, rng: Rng): number {
  const centre = sub[(sub.length - 1) / 2];
  if (centre === 0) return 0;
  let other = 0;
  for (let k = 0; k < sub.length; k++) if (sub[k] !== centre) other = sub[k];
  let id = centre;
  if (other !== 0 && rng() < o.eds.boundaryMixing) id = rng() < 0.5 ? 0 : other;
  if (rng() < o.eds.unclassifiedFraction) id = 0;
  return id;
}

// ---------------------------------------------------------------- distorted and stitched maps

/**
 * What real EDS maps add to the rigid picture of the surface (issue 19): beam-scan shear and
 * anisotropic scale (1-3 %), and stitching errors of a field mosaic (each field's picture shifted
 * by a few pixels). All in EDS pixels, about the map centre.
 */
export interface EdsDistortion {
  /** u += shear * (v - cv): a 0.02 shear moves the top and bottom rows by ±1 % of the height */
  shear?: number;
  /** relative stretch along u and v (0.01 = 1 % longer), on top of the pixel size */
  stretch?: [number, number];
  /** stitched mosaic: a cols x rows grid of fields, each shifted by up to maxShiftPx (uniform in a disc) */
  mosaic?: { cols: number; rows: number; maxShiftPx: number; seed?: number };
  /** share of the surface the map covers (0.4-1.0 in the tests): overrides eds.coverage */
  coverage?: number;
}

export interface DistortedEds {
  eds: MineralMap;
  /** the exact voxel position of every EDS pixel centre (fractional pixels too) */
  truthAt: (u: number, v: number) => [number, number, number];
  /** the map without the field shifts (shear and stretch included): exact when there is no mosaic */
  truthAffine: Affine2to3;
  /** the fields of the mosaic with the shift of their picture, EDS pixels: pixel p shows the surface at truthAffine(p + shiftPx) */
  fields?: (FieldRect & { shiftPx: [number, number] })[];
}

/**
 * The EDS map of `sample` acquired again with the distortion: same rock (the fabric is rebuilt from
 * the sample's parameters and seed, as generateSandstone does), same pose, new map and its truth.
 */
export function distortEdsMap(sample: SyntheticSample, d: EdsDistortion): DistortedEds {
  const o = resolveOptions({ ...sample.truth.params, eds: { ...sample.truth.params.eds, widthPx: undefined, heightPx: undefined, coverage: d.coverage ?? sample.truth.params.eds.coverage } });
  const fabric = buildFabric(o, mulberry32(Math.imul(o.seed, 0x9e3779b1) + 1));
  const [width, height] = edsSize(o);
  const base = makeEdsToVoxel(o, surfacePlane(o), width, height);
  const cu = (width - 1) / 2, cv = (height - 1) / 2;
  const [su, sv] = d.stretch ?? [0, 0], sh = d.shear ?? 0;
  // EDS pixel -> undistorted pixel: D(p) = c + [[1+su, sh], [0, 1+sv]] (p - c)
  const a = 1 + su, b = sh, e = 1 + sv;
  const lin = (r: number): [number, number, number] => [base[r * 3] * a, base[r * 3] * b + base[r * 3 + 1] * e, 0];
  const truthAffine = [0, 1, 2].flatMap((r) => {
    const [m0, m1] = lin(r);
    const c0 = applyAffine2to3(base, cu, cv)[r];
    return [m0, m1, c0 - m0 * cu - m1 * cv];
  }) as Affine2to3;
  let fields: DistortedEds['fields'];
  if (d.mosaic) {
    const rng = mulberry32(d.mosaic.seed ?? 7);
    fields = regularFields(width, height, d.mosaic.cols, d.mosaic.rows).map((f) => {
      const r = d.mosaic!.maxShiftPx * Math.sqrt(rng()), t = 2 * Math.PI * rng();
      return { ...f, shiftPx: [r * Math.cos(t), r * Math.sin(t)] as [number, number] };
    });
  }
  const fieldOf = (u: number, v: number) => {
    if (!fields) return undefined;
    const ru = Math.min(width - 1, Math.max(0, Math.round(u))), rv = Math.min(height - 1, Math.max(0, Math.round(v)));
    return fields.find((f) => ru >= f.u0 && ru < f.u0 + f.width && rv >= f.v0 && rv < f.v0 + f.height);
  };
  const truthAt = (u: number, v: number) => {
    const f = fieldOf(u, v);
    return applyAffine2to3(truthAffine, u + (f?.shiftPx[0] ?? 0), v + (f?.shiftPx[1] ?? 0));
  };
  const eds = makeEdsMap(o, fabric, truthAt, [width, height], mulberry32(Math.imul(o.seed, 0x9e3779b1) + 3));
  return { eds: { ...eds, source: `${eds.source}, distorted` }, truthAt, truthAffine, fields };
}
