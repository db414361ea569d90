import { describe, expect, it } from 'vitest';
import { applyAffine2to3 } from '../../../lib/coords';
import { type SandstoneInput, generateSandstone, inPlaneDeterminant, randomAcquisition, type SyntheticSample } from '../../../lib/synthetic';
import { classAt, uniformAround } from './helpers';

const base: SandstoneInput = { shape: [28, 64, 64], grainDiameterVox: 12 };

/** Agreement of EDS labels with the truth voxel under edsToVoxel, on classified pixels away from boundaries. */
function edsAgreement(s: SyntheticSample): { agree: number; n: number } {
  const { eds, truth } = s;
  const cls = new Map(eds.legend.map((p) => [p.id, truth.mineralToClass[p.name]]));
  const h = Math.ceil(s.truth.params.eds.pixelUm / s.truth.params.voxelUm / 2 + 0.5);
  let agree = 0, n = 0;
  for (let v = 0; v < eds.height; v++)
    for (let u = 0; u < eds.width; u++) {
      const id = eds.labels[v * eds.width + u];
      const [z, y, x] = applyAffine2to3(truth.edsToVoxel, u, v);
      if (id === 0 || !uniformAround(s, z, y, x, h)) continue;
      n++;
      if (classAt(s, z, y, x) === cls.get(id)) agree++;
    }
  return { agree, n };
}

describe('surface plane truth', () => {
  it.each([
    [0, 0, 0],
    [4, 2, 45],
    [10, 5, 200],
    [2.5, 3, 300],
  ])('depth %f, tilt %f° toward %f°: air above, rock from the plane down', (depth, tilt, az) => {
    const s = generateSandstone({ ...base, surfaceDepthVox: depth, tiltDeg: tilt, tiltAzimuthDeg: az });
    const { a, b, c } = s.truth.surface;
    const [nz, ny, nx] = s.volume.meta.shape;
    expect((Math.atan(Math.hypot(a, b)) * 180) / Math.PI).toBeCloseTo(tilt, 6);
    expect(a * ((nx - 1) / 2) + b * ((ny - 1) / 2) + c).toBeCloseTo(depth, 6);
    let wrong = 0;
    for (let z = 0; z < nz; z++)
      for (let y = 0; y < ny; y++)
        for (let x = 0; x < nx; x++) {
          const air = s.truthLabels[(z * ny + y) * nx + x] === 0;
          if (air !== z < a * x + b * y + c - 0.5) wrong++;
        }
    expect(wrong).toBe(0);
  });

  it('makes air dark and the first rock layer brighter on average', () => {
    const s = generateSandstone({ ...base, surfaceDepthVox: 6, tiltDeg: 0 });
    const [, ny, nx] = s.volume.meta.shape;
    const layer = (z: number) => s.volume.data.subarray(z * ny * nx, (z + 1) * ny * nx).reduce((p, q) => p + q, 0) / (ny * nx);
    expect(layer(1)).toBeLessThan(layer(12) * 0.3);
    expect(layer(6)).toBeGreaterThan(layer(4) * 2);
  });
});

describe('partial volume at the surface', () => {
  const clean = { ...base, tiltDeg: 0, psfSigmaVox: 0, noise: 0, poissonNoise: 0, beamHardening: 0, ringArtefact: 0 };
  const layerMean = (s: SyntheticSample, z: number) => {
    const [, ny, nx] = s.volume.meta.shape;
    return s.volume.data.subarray(z * ny * nx, (z + 1) * ny * nx).reduce((p, q) => p + q, 0) / (ny * nx);
  };
  it('blends the layer cut by the surface with air by its rock fraction', () => {
    const half = generateSandstone({ ...clean, surfaceDepthVox: 6.5 }); // physical surface at z = 6: layer 6 half rock
    const full = generateSandstone({ ...clean, surfaceDepthVox: 6 }); // physical surface at z = 5.5: layer 6 all rock
    const air = layerMean(full, 2);
    expect(layerMean(full, 5)).toBeCloseTo(air, 0);
    expect(layerMean(half, 6) - air).toBeGreaterThan(0.4 * (layerMean(full, 6) - air));
    expect(layerMean(half, 6) - air).toBeLessThan(0.6 * (layerMean(full, 6) - air));
    expect(half.truthLabels[6 * 64 * 64 + 100]).not.toBe(0); // the half layer is labelled rock (centre on the plane)
  });
});

describe('EDS map truth', () => {
  const cases: [string, SandstoneInput['eds']][] = [
    ['default', {}],
    ['rotation 0, ratio 1', { rotationDeg: 0, pixelUm: 2, offsetVox: { x: 0, y: 0 } }],
    ['rotation 90, ratio 0.5', { rotationDeg: 90, pixelUm: 1 }],
    ['rotation 233, mirrored, ratio 2', { rotationDeg: 233, mirrored: true, pixelUm: 4 }],
    ['rotation 359, mirrored, ratio 1.37, offset', { rotationDeg: 359, mirrored: true, pixelUm: 2.74, offsetVox: { x: -9, y: 7 } }],
    ['partial coverage', { coverage: 0.4, offsetVox: { x: 12, y: -10 } }],
  ];
  it.each(cases)('%s: classified non-boundary pixels agree with the truth voxel', (_name, eds) => {
    const s = generateSandstone({ ...base, seed: 4, tiltDeg: 4, tiltAzimuthDeg: 110, surfaceDepthVox: 7, eds });
    const { agree, n } = edsAgreement(s);
    expect(n).toBeGreaterThan(60);
    expect(agree / n).toBeGreaterThanOrEqual(0.95);
  });

  it('puts every EDS pixel centre on the surface plane at the requested pixel size', () => {
    const s = generateSandstone({ ...base, tiltDeg: 5, tiltAzimuthDeg: 70, eds: { pixelUm: 3, rotationDeg: 40 } });
    const m = s.truth.edsToVoxel;
    const { a, b, c } = s.truth.surface;
    for (const [u, v] of [[0, 0], [17, 3], [40, 41]]) {
      const [z, y, x] = applyAffine2to3(m, u, v);
      expect(z).toBeCloseTo(a * x + b * y + c, 9);
    }
    // columns are the in-plane steps of one pixel along u and v: length pixelUm / voxelUm, orthogonal
    const du = [m[0], m[3], m[6]], dv = [m[1], m[4], m[7]];
    expect(Math.hypot(...du)).toBeCloseTo(1.5, 9);
    expect(Math.hypot(...dv)).toBeCloseTo(1.5, 9);
    expect(du[0] * dv[0] + du[1] * dv[1] + du[2] * dv[2]).toBeCloseTo(0, 9);
  });

  it('links EDS phases to the XRM grey values at the mapped voxels', () => {
    const s = generateSandstone({ ...base, seed: 6, tiltDeg: 3, surfaceDepthVox: 5, eds: { rotationDeg: 140, mirrored: true, pixelUm: 1.6 } });
    const [, ny, nx] = s.volume.meta.shape;
    const sum = new Map<string, [number, number]>();
    s.eds.labels.forEach((id, p) => {
      if (id === 0) return;
      const [z, y, x] = applyAffine2to3(s.truth.edsToVoxel, p % s.eds.width, Math.floor(p / s.eds.width)).map(Math.round);
      // one voxel below the surface: the surface layer itself is partly air where the plane tilts
      const v = s.volume.data[((z + 1) * ny + y) * nx + x];
      const name = s.eds.legend.find((q) => q.id === id)!.name;
      const [a, n] = sum.get(name) ?? [0, 0];
      sum.set(name, [a + v, n + 1]);
    });
    const mean = (name: string) => sum.get(name)![0] / sum.get(name)![1];
    expect(mean('Pore/Epoxy')).toBeLessThan(mean('Kaolinite') * 0.85);
    expect(mean('Kaolinite')).toBeLessThan(mean('Quartz') * 0.85);
    expect(Math.abs(mean('K-feldspar') / mean('Quartz') - 1)).toBeLessThan(0.08);
  });

  it('gives mirrored maps a negative in-plane determinant', () => {
    for (const rotationDeg of [0, 77, 180, 301]) {
      const plain = generateSandstone({ ...base, eds: { rotationDeg } }).truth.edsToVoxel;
      const mirrored = generateSandstone({ ...base, eds: { rotationDeg, mirrored: true } }).truth.edsToVoxel;
      expect(inPlaneDeterminant(plain)).toBeGreaterThan(0);
      expect(inPlaneDeterminant(mirrored)).toBeLessThan(0);
    }
  });

  it('leaves pixels off the sample unclassified and adds speckle at the requested rate', () => {
    const s = generateSandstone({ ...base, eds: { coverage: 1.6, unclassifiedFraction: 0.1, rotationDeg: 30 } });
    const [nz, ny, nx] = s.volume.meta.shape;
    let off = 0, offLabelled = 0, on = 0, onUnclassified = 0;
    for (let v = 0; v < s.eds.height; v++)
      for (let u = 0; u < s.eds.width; u++) {
        const [z, y, x] = applyAffine2to3(s.truth.edsToVoxel, u, v).map(Math.round);
        const inside = z >= 0 && y >= 0 && x >= 0 && z < nz && y < ny && x < nx;
        const id = s.eds.labels[v * s.eds.width + u];
        if (!inside) (off++, id !== 0 && offLabelled++);
        else if (uniformAround(s, z, y, x, 2)) (on++, id === 0 && onUnclassified++);
      }
    expect(off).toBeGreaterThan(100);
    expect(offLabelled).toBe(0);
    expect(onUnclassified / on).toBeGreaterThan(0.07);
    expect(onUnclassified / on).toBeLessThan(0.13);
  });

  it('has a legend richer than the classes and a BSE companion bright for pyrite, dark for pores', () => {
    const s = generateSandstone({ ...base, seed: 9 });
    const names = s.eds.legend.map((p) => p.name);
    expect(names).toEqual(expect.arrayContaining(['Quartz', 'K-feldspar', 'Albite', 'Kaolinite', 'Illite', 'Pyrite', 'Pore/Epoxy']));
    expect(new Set(s.eds.legend.map((p) => p.color.join())).size).toBe(names.length);
    const bse = s.eds.companions.find((c) => c.name === 'BSE')!.data;
    const byName = (name: string) => {
      const id = s.eds.legend.find((p) => p.name === name)!.id;
      let sum = 0, n = 0;
      s.eds.labels.forEach((l, i) => l === id && ((sum += bse[i]), n++));
      return sum / n;
    };
    expect(byName('Pyrite')).toBeGreaterThan(byName('Quartz'));
    expect(byName('Quartz')).toBeGreaterThan(byName('Kaolinite'));
    expect(byName('Kaolinite')).toBeGreaterThan(byName('Pore/Epoxy'));
  });

  it('holds for random acquisitions over the registration ranges', () => {
    for (let seed = 1; seed <= 8; seed++) {
      const opts = randomAcquisition(seed, { shape: [24, 56, 56], grainDiameterVox: 12 });
      const s = generateSandstone(opts);
      expect(Math.abs(inPlaneDeterminant(s.truth.edsToVoxel)) > 0).toBe(true);
      expect(inPlaneDeterminant(s.truth.edsToVoxel) < 0).toBe(opts.eds!.mirrored);
      const ratio = s.truth.params.eds.pixelUm / s.truth.params.voxelUm;
      expect(ratio).toBeGreaterThanOrEqual(0.5);
      expect(ratio).toBeLessThanOrEqual(2);
      const { agree, n } = edsAgreement(s);
      expect(n).toBeGreaterThan(20);
      expect(agree / n).toBeGreaterThanOrEqual(0.95);
    }
  });
});
