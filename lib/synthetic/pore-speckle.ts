/**
 * A pore/solid speckle with few painted voxels (`bench lithology --case pores`, the few-label test of
 * the painted-label training, issue 15 §3): the high-resolution
 * interior of tests/e2e/08-multiscale.test.mjs rebuilt here (64³ voxels of 2 µm, uint8, pores 30 and
 * grains 200 with ±8 noise, pores as a per-voxel speckle with porosity 0.3 / 0.08 across a band edge),
 * with single painted voxels on the middle XY slice, picked as the e2e picks them (every 7th voxel of
 * the slice, 3 voxels in from its edges, dark ones pore and bright ones solid). Seed 1 is the e2e's
 * interior exactly; other seeds move the speckle. Truth: 1 = pore, 2 = solid.
 */
import type { DenseVolume, Shape3 } from '../volume/types';
import { hash3 } from './prng';

const R = 4, BAND = 16, IN0 = [8, 16, 24] as const, IN = 16;

/** the e2e's hash: prng's hash3 with its seed constant */
const hash = (x: number, y: number, z: number) => hash3(x, y, z, 0x5bd1e995);
function noise(z: number, y: number, x: number): number {
  const s = 3, fz = z / s, fy = y / s, fx = x / s;
  const z0 = Math.floor(fz), y0 = Math.floor(fy), x0 = Math.floor(fx);
  let v = 0;
  for (const dz of [0, 1]) for (const dy of [0, 1]) for (const dx of [0, 1]) {
    const w = (dz ? fz - z0 : 1 - fz + z0) * (dy ? fy - y0 : 1 - fy + y0) * (dx ? fx - x0 : 1 - fx + x0);
    v += w * hash(x0 + dx, y0 + dy, z0 + dz + 1000);
  }
  return v;
}

export interface PoreCase { volume: DenseVolume<'uint8'>; truth: Uint8Array; painted: Uint8Array; shape: Shape3 }

/** The interior, its truth and `perClass` painted voxels of each class (at most what the slice yields). */
export function poreSolidCase(seed: number, perClass: number): PoreCase {
  const n1 = IN * R;
  const shape: Shape3 = [n1, n1, n1];
  const off = (seed - 1) * 1009;
  const phi = (z: number, y: number, x: number) => (Math.floor(x / BAND) % 2 === 0 ? 0.3 : 0.08) + 0.16 * (noise(z, y, x) - 0.5);
  const data = new Uint8Array(n1 ** 3), truth = new Uint8Array(n1 ** 3);
  for (let hz = 0, i = 0; hz < n1; hz++) for (let hy = 0; hy < n1; hy++) for (let hx = 0; hx < n1; hx++, i++) {
    const Z = IN0[0] * R + hz, Y = IN0[1] * R + hy, X = IN0[2] * R + hx;
    const p = hash(X + 7 + off, Y + 11, Z + 13) < phi(Math.floor(Z / R), Math.floor(Y / R), Math.floor(X / R));
    data[i] = (p ? 30 : 200) + Math.round((hash(hx, hy, hz) - 0.5) * 16);
    truth[i] = p ? 1 : 2;
  }
  const painted = new Uint8Array(n1 ** 3);
  const zs = n1 / 2;
  let pores = 0, solids = 0;
  for (let i = 0; i < n1 * n1 && (pores < perClass || solids < perClass); i += 7) {
    const x = i % n1, y = Math.floor(i / n1), k = (zs * n1 + y) * n1 + x, g = data[k]!;
    if (x < 3 || y < 3 || x > n1 - 4 || y > n1 - 4) continue;
    if (g < 60 && pores < perClass) { painted[k] = 1; pores++; } else if (g > 170 && solids < perClass) { painted[k] = 2; solids++; }
  }
  const meta = { shape, spacingUm: [2, 2, 2] as [number, number, number], originUm: [0, 0, 0] as [number, number, number], dtype: 'uint8' as const, channels: ['scan'] };
  return { volume: { meta, data }, truth, painted, shape };
}
