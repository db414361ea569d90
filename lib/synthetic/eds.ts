/**
 * EDS map of the polished surface: the true labels sampled on the surface plane at the EDS pixel
 * grid, with the defects of real automated mineralogy: pixels straddling a phase boundary are
 * sometimes given to the neighbour or left unclassified, random unclassified speckle, and pixels
 * off the sample are unclassified. A BSE companion follows mean atomic number.
 */
import { type Affine2to3, applyAffine2to3 } from '../coords';
import type { MineralMap } from '../eds/types';
import type { SandstoneOptions } from './options';
import type { Fabric } from './grains';
import { EDS_LEGEND, MEAN_Z } from './minerals';
import { makeMineralSampler } from './fabric-sampler';
import { type Rng, gaussian } from './prng';

/** Sub-pixel sample offsets (fractions of an EDS pixel): the pixel's interaction footprint. */
const SUB = [-1 / 3, 0, 1 / 3];

export function makeEdsMap(o: SandstoneOptions, fabric: Fabric, edsToVoxel: Affine2to3, size: [number, number], rng: Rng): MineralMap {
  const [width, height] = size;
  const ids = new Uint16Array(width * height);
  const bse = new Float32Array(width * height);
  const gauss = gaussian(rng);
  const mineralAt = makeMineralSampler(o, fabric);
  const sub = new Int32Array(SUB.length * SUB.length);
  for (let v = 0, p = 0; v < height; v++)
    for (let u = 0; u < width; u++, p++) {
      let k = 0, zSum = 0;
      for (const dv of SUB) for (const du of SUB) {
        const [pz, py, px] = applyAffine2to3(edsToVoxel, u + du, v + dv);
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
