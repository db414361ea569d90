import { describe, expect, it } from 'vitest';
import { makeMineralSampler } from '../../../lib/synthetic/fabric-sampler';
import { buildFabric } from '../../../lib/synthetic/grains';
import { EDS_LEGEND, MINERAL_TO_CLASS } from '../../../lib/synthetic/minerals';
import { resolveOptions } from '../../../lib/synthetic/options';
import { mulberry32 } from '../../../lib/synthetic/prng';

const o = resolveOptions({ seed: 21, shape: [24, 48, 56], grainDiameterVox: 11 });
const fabric = buildFabric(o, mulberry32(5));
const mineralAt = makeMineralSampler(o, fabric);
const classOf = (id: number) => (id === 0 ? 0 : MINERAL_TO_CLASS[EDS_LEGEND.find((p) => p.id === id)!.name]);

describe('continuous fabric sampler', () => {
  it('agrees with the voxel labels at every voxel centre', () => {
    const [nz, ny, nx] = o.shape;
    let wrong = 0;
    for (let z = 0, i = 0; z < nz; z++)
      for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++, i++) if (classOf(mineralAt(z, y, x)) !== fabric.labels[i]) wrong++;
    // float32 storage of the voxel distance field may flip a voxel lying exactly on a threshold
    expect(wrong / fabric.labels.length).toBeLessThan(1e-4);
  });

  it('resolves boundaries between voxel centres and is 0 off the volume', () => {
    let differs = 0;
    const rng = mulberry32(3);
    for (let k = 0; k < 5000; k++) {
      const [z, y, x] = [rng() * 23, rng() * 47, rng() * 55];
      const nearest = fabric.labels[(Math.round(z) * 48 + Math.round(y)) * 56 + Math.round(x)];
      if (classOf(mineralAt(z, y, x)) !== nearest) differs++;
    }
    expect(differs).toBeGreaterThan(50); // sub-voxel detail exists...
    expect(differs).toBeLessThan(1000); // ...but only near boundaries
    expect(mineralAt(-1, 5, 5)).toBe(0);
    expect(mineralAt(5, 5, 56)).toBe(0);
  });
});
