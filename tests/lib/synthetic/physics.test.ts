import { beforeAll, describe, expect, it } from 'vitest';
import { generateSandstone, summariseSample, type SyntheticSample } from '../../../lib/synthetic';

let s: SyntheticSample;
beforeAll(() => {
  s = generateSandstone({ seed: 11, shape: [48, 96, 96], grainDiameterVox: 16 });
});

function rockFractions(sample: SyntheticSample): number[] {
  const counts = new Array(6).fill(0);
  for (const c of sample.truthLabels) counts[c]++;
  const rock = sample.truthLabels.length - counts[0];
  return counts.map((c) => c / rock);
}

/** True when all voxels within chessboard distance `h` of i have the class of i (away from blur leakage). */
function interior(L: Uint8Array, shape: number[], z: number, y: number, x: number, h: number): boolean {
  const [nz, ny, nx] = shape;
  if (z < h || y < h || x < h || z >= nz - h || y >= ny - h || x >= nx - h) return false;
  const c = L[(z * ny + y) * nx + x];
  for (let dz = -h; dz <= h; dz++)
    for (let dy = -h; dy <= h; dy++)
      for (let dx = -h; dx <= h; dx++) if (L[((z + dz) * ny + y + dy) * nx + x + dx] !== c) return false;
  return true;
}

/** Mean grey and mean local variance (3x3x3) of voxels at least h voxels inside their phase. */
function interiorStats(sample: SyntheticSample, h = 3) {
  const shape = sample.volume.meta.shape;
  const [, ny, nx] = shape;
  const { data } = sample.volume;
  const L = sample.truthLabels;
  const mean = new Array(6).fill(0), variance = new Array(6).fill(0), n = new Array(6).fill(0);
  L.forEach((c, i) => {
    const x = i % nx, y = Math.floor(i / nx) % ny, z = Math.floor(i / (nx * ny));
    if (!interior(L, shape, z, y, x, h)) return;
    let s1 = 0, s2 = 0;
    for (let dz = -1; dz <= 1; dz++)
      for (let dy = -1; dy <= 1; dy++)
        for (let dx = -1; dx <= 1; dx++) {
          const v = data[i + (dz * ny + dy) * nx + dx];
          s1 += v;
          s2 += v * v;
        }
    mean[c] += data[i];
    variance[c] += s2 / 27 - (s1 / 27) ** 2;
    n[c]++;
  });
  return { mean: mean.map((m, c) => m / n[c]), variance: variance.map((v, c) => v / n[c]), n };
}

describe('synthetic sandstone physics', () => {
  it('has the default phase fractions within 0.03', () => {
    const f = rockFractions(s);
    const want = s.truth.params.fractions;
    [want.pore, want.quartz, want.feldspar, want.clay, want.pyrite].forEach((w, k) => expect(Math.abs(f[k + 1] - w)).toBeLessThan(0.03));
  });

  it('summarises the actual composition', () => {
    const sum = summariseSample(s);
    expect(Object.keys(sum.rockFractions)).toEqual(['pore', 'quartz', 'feldspar', 'clay', 'pyrite']);
    expect(Object.values(sum.rockFractions).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
    expect(Object.values(sum.edsFractions).reduce((a, b) => a + b, 0) + sum.edsUnclassified).toBeCloseTo(1, 9);
    expect(sum.rockFractions.quartz).toBeCloseTo(rockFractions(s)[2], 12);
  });

  it('follows requested fractions', () => {
    const fractions = { pore: 0.25, quartz: 0.45, feldspar: 0.2, clay: 0.08, pyrite: 0.02 };
    const f = rockFractions(generateSandstone({ seed: 5, shape: [40, 80, 80], grainDiameterVox: 14, fractions }));
    expect(Math.abs(f[1] - 0.25)).toBeLessThan(0.03);
    expect(Math.abs(f[2] - 0.45)).toBeLessThan(0.04);
    expect(Math.abs(f[3] - 0.2)).toBeLessThan(0.04);
    expect(Math.abs(f[4] - 0.08)).toBeLessThan(0.03);
    expect(Math.abs(f[5] - 0.02)).toBeLessThan(0.01);
  });

  it('orders grey levels air < pore < clay < quartz ~ feldspar < pyrite', () => {
    const { mean, n } = interiorStats(s, 1);
    expect(Math.min(...n.slice(0, 5))).toBeGreaterThan(50);
    expect(mean[0]).toBeLessThan(mean[1]);
    expect(mean[1]).toBeLessThan(mean[4]);
    expect(mean[4]).toBeLessThan(mean[2] * 0.85);
    // pyrite is tiny: compare all its voxels (blurred) against quartz
    let sum = 0, cnt = 0;
    s.truthLabels.forEach((c, i) => c === 5 && ((sum += s.volume.data[i]), cnt++));
    expect(sum / cnt).toBeGreaterThan(mean[3] * 1.2);
  });

  it('makes quartz and feldspar close in mean but apart in texture', () => {
    const { mean, variance } = interiorStats(s);
    expect(Math.abs(mean[3] - mean[2]) / mean[2]).toBeLessThan(0.06);
    expect(variance[3]).toBeGreaterThan(variance[2] * 1.4);
    expect(variance[4]).toBeGreaterThan(variance[2] * 1.4); // clay is mottled
  });

  it('scales noise with the noise option', () => {
    const quiet = interiorStats(generateSandstone({ seed: 11, shape: [24, 64, 64], grainDiameterVox: 16, noise: 0.005, poissonNoise: 0 }));
    const loud = interiorStats(generateSandstone({ seed: 11, shape: [24, 64, 64], grainDiameterVox: 16, noise: 0.05, poissonNoise: 0 }));
    expect(loud.variance[2]).toBeGreaterThan(quiet.variance[2] * 10);
  });
});
