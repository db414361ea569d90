/** Issue 15: the second phantom style is a complete sample: phases, surface, EDS map consistent with the truth. */
import { describe, expect, it } from 'vitest';
import { applyAffine2to3 } from '../../../lib/coords';
import { inPlaneDeterminant } from '../../../lib/synthetic';
import { generateStyleB } from '../../../lib/synthetic/style-b/generate';

describe('style B phantom', () => {
  it('has every phase, air only above the surface, and an EDS map that matches the truth where it classifies', () => {
    const s = generateStyleB({ shape: [32, 80, 80], seed: 3 });
    const [nz, ny, nx] = s.volume.meta.shape;
    const n = nz * ny * nx;
    const share = [0, 1, 2, 3, 4, 5].map((c) => s.truthLabels.filter((v) => v === c).length / n);
    expect(share[2]).toBeGreaterThan(0.3); // quartz
    expect(share[3]).toBeGreaterThan(0.05); // feldspar
    expect(share[4]).toBeGreaterThan(0.04); // clay
    expect(share[5]).toBeGreaterThan(0.003); // pyrite
    expect(share[1]).toBeGreaterThan(0.1); // pore
    const { a, b, c } = s.truth.surface;
    let wrongAir = 0;
    for (let z = 0, i = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++, i++) if ((s.truthLabels[i] === 0) !== (z < a * x + b * y + c - 0.5)) wrongAir++;
    expect(wrongAir).toBe(0);
    expect(s.eds.pixelSizeUm / s.volume.meta.spacingUm[2]).toBeGreaterThan(1.5);
    expect(inPlaneDeterminant(s.truth.edsToVoxel)).toBeLessThan(0); // mirrored
    // EDS pixel centres on the first rock layer: classified pixels name the true class
    let agree = 0, classified = 0;
    for (let v = 0; v < s.eds.height; v++) for (let u = 0; u < s.eds.width; u++) {
      const id = s.eds.labels[v * s.eds.width + u]!;
      if (!id) continue;
      const [pz, py, px] = applyAffine2to3(s.truth.edsToVoxel, u, v);
      let z = Math.round(pz);
      const y = Math.round(py), x = Math.round(px);
      while (z < nz - 1 && s.truthLabels[(z * ny + y) * nx + x] === 0) z++;
      const name = s.eds.legend.find((m) => m.id === id)!.name;
      classified++;
      if (s.truth.mineralToClass[name] === s.truthLabels[(z * ny + y) * nx + x]) agree++;
    }
    expect(classified).toBeGreaterThan(0.8 * s.eds.width * s.eds.height);
    expect(agree / classified).toBeGreaterThan(0.85);
  });
});
