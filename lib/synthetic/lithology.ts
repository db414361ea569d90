/**
 * Synthetic lithology volumes with ground truth (issue 15, `bench lithology`): two sandstone
 * facies rendered by the sandstone generator (same scanner model) and spliced along a smooth random
 * boundary, crossed by open fractures.
 *   1 high porosity: coarse grains, ~28 % pores, little clay
 *   2 low porosity: finer grains, ~6 % pores, pore space filled by clay cement
 *   3 fracture: planar open cracks 2-3 voxels wide, with the grey level and noise of open pores
 * Painted-like labels (`paintedLabels`): brush dabs on two slices, a fixed number of voxels per
 * class, in the class interiors (as a user paints): what the lithology classifier is trained on.
 */
import type { DenseVolume, Shape3 } from '../volume/types';
import { generateSandstone } from './generate-sandstone';
import { gaussian, mulberry32, valueNoise3 } from './prng';

export const LITHOLOGY_CLASSES = [
  { code: 1, name: 'high porosity' },
  { code: 2, name: 'low porosity' },
  { code: 3, name: 'fracture' },
] as const;

export interface LithologyOptions {
  seed?: number;
  shape?: Shape3;
  voxelUm?: number;
  /** number of fracture planes (default 2) */
  fractures?: number;
  /** share of the volume in the high-porosity facies (default 0.5) */
  highPorosityShare?: number;
}

export interface LithologySample {
  volume: DenseVolume<'uint16'>;
  /** class code per voxel (LITHOLOGY_CLASSES) */
  truth: Uint8Array;
  /** the sandstone phase under each voxel (lib/synthetic/minerals CLASS: pore, quartz, ...; 0 in a fracture), for diagnostics */
  phase: Uint8Array;
}

export function generateLithology(o: LithologyOptions = {}): LithologySample {
  const seed = o.seed ?? 1;
  const shape: Shape3 = o.shape ?? [64, 128, 128];
  const [nz, ny, nx] = shape;
  const n = nz * ny * nx;
  const base = { shape, voxelUm: o.voxelUm ?? 2, surfaceDepthVox: 0, tiltDeg: 0 };
  const high = generateSandstone({ ...base, seed: seed * 2 + 1, grainDiameterVox: 16, fractions: { pore: 0.28, quartz: 0.58, feldspar: 0.1, clay: 0.03, pyrite: 0.01 } });
  const low = generateSandstone({ ...base, seed: seed * 2 + 2, grainDiameterVox: 10, fractions: { pore: 0.06, quartz: 0.58, feldspar: 0.16, clay: 0.19, pyrite: 0.01 } });
  const data = new Uint16Array(n);
  const truth = new Uint8Array(n);
  const phase = new Uint8Array(n);
  // facies: a smooth field (lattice ~ a third of the volume's edge), cut at the requested share
  const field = new Float32Array(n);
  const scale = 1 / Math.max(12, Math.min(ny, nx) / 3);
  for (let z = 0, i = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++, i++) {
    field[i] = 0.7 * valueNoise3(x * scale, y * scale, z * scale, seed) + 0.3 * valueNoise3(x * scale * 2.3, y * scale * 2.3, z * scale * 2.3, seed + 7);
  }
  const sorted = Float32Array.from(field).sort();
  const cut = sorted[Math.floor((1 - (o.highPorosityShare ?? 0.5)) * (n - 1))]!;
  let poreSum = 0, poreSq = 0, poreN = 0;
  for (let i = 0; i < n; i++) {
    const hi = field[i]! > cut;
    data[i] = hi ? high.volume.data[i]! : low.volume.data[i]!;
    truth[i] = hi ? 1 : 2;
    phase[i] = hi ? high.truthLabels[i]! : low.truthLabels[i]!;
    if (high.truthLabels[i] === 1) { const v = high.volume.data[i]!; poreSum += v; poreSq += v * v; poreN++; }
  }
  // fractures: planes through the volume, steep (as in cores), aperture 2-3 voxels
  const poreMean = poreSum / Math.max(1, poreN);
  const poreSd = Math.sqrt(Math.max(0, poreSq / Math.max(1, poreN) - poreMean * poreMean));
  const rand = mulberry32(seed * 7919 + 3);
  const g = gaussian(rand);
  for (let f = 0; f < (o.fractures ?? 2); f++) {
    const az = rand() * Math.PI, dip = (60 + 25 * rand()) * (Math.PI / 180);
    // unit normal of a plane dipping `dip` towards `az`
    const nxv = Math.sin(dip) * Math.cos(az), nyv = Math.sin(dip) * Math.sin(az), nzv = Math.cos(dip);
    const cx = nx * (0.3 + 0.4 * rand()), cy = ny * (0.3 + 0.4 * rand()), cz = nz / 2;
    const half = (2 + rand()) / 2;
    for (let z = 0, i = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++, i++) {
      // a little roughness on the fracture wall
      const d = (x - cx) * nxv + (y - cy) * nyv + (z - cz) * nzv + 0.8 * (valueNoise3(x / 6, y / 6, z / 6, seed + 31 + f) - 0.5);
      if (Math.abs(d) <= half) {
        truth[i] = 3;
        phase[i] = 0;
        data[i] = Math.max(0, Math.min(65535, Math.round(poreMean + poreSd * g())));
      }
    }
  }
  return { volume: { meta: { ...high.volume.meta, shape: [...shape] as Shape3 }, data }, truth, phase };
}

export interface PaintedLabelOptions {
  /** z of the painted slices (default: at 30 % and 70 % of the depth) */
  slices?: number[];
  /** voxels per class (default 2000) */
  perClass?: number;
  /** brush radius, voxels (default 3) */
  brushVox?: number;
  seed?: number;
}

/**
 * Labels as a user paints them: brush dabs on a few slices inside each class (voxels whose in-plane
 * 4-neighbours share their class), until `perClass` voxels per class. 0 = unlabelled.
 */
export function paintedLabels(truth: Uint8Array, shape: Shape3, o: PaintedLabelOptions = {}): Uint8Array {
  const [nz, ny, nx] = shape;
  const slices = o.slices ?? [Math.floor(nz * 0.3), Math.floor(nz * 0.7)];
  const perClass = o.perClass ?? 2000;
  const r = o.brushVox ?? 3;
  const rand = mulberry32((o.seed ?? 1) * 31337 + 5);
  const out = new Uint8Array(truth.length);
  const codes = [...new Set(truth)].filter((c) => c > 0).sort((a, b) => a - b);
  for (const c of codes) {
    const cand: number[] = [];
    for (const z of slices) for (let y = 1; y < ny - 1; y++) for (let x = 1; x < nx - 1; x++) {
      const i = (z * ny + y) * nx + x;
      if (truth[i] === c && truth[i - 1] === c && truth[i + 1] === c && truth[i - nx] === c && truth[i + nx] === c) cand.push(i);
    }
    let count = 0;
    for (let tries = 0; count < perClass && tries < 20 * perClass && cand.length; tries++) {
      const centre = cand[Math.floor(rand() * cand.length)]!;
      const z = Math.floor(centre / (nx * ny)), cy = Math.floor(centre / nx) % ny, cx = centre % nx;
      for (let dy = -r; dy <= r && count < perClass; dy++) for (let dx = -r; dx <= r && count < perClass; dx++) {
        const y = cy + dy, x = cx + dx;
        if (dx * dx + dy * dy > r * r || y < 1 || x < 1 || y >= ny - 1 || x >= nx - 1) continue;
        const i = (z * ny + y) * nx + x;
        if (out[i] || truth[i] !== c || truth[i - 1] !== c || truth[i + 1] !== c || truth[i - nx] !== c || truth[i + nx] !== c) continue;
        out[i] = c;
        count++;
      }
    }
  }
  return out;
}
