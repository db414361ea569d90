/**
 * Pyrite: small, very bright framboids (clusters of sub-micron crystals, here ~1 voxel spheres)
 * and euhedral cubes, nucleated in the intergranular space as in diagenetic sandstones.
 */
import type { SandstoneOptions } from './options';
import { CLASS } from './minerals';
import type { Rng } from './prng';

export function placePyrite(o: SandstoneOptions, labels: Uint8Array, target: number, rng: Rng): void {
  const [nz, ny, nx] = o.shape;
  let placed = 0;
  const mark = (z: number, y: number, x: number) => {
    if (z < 0 || y < 0 || x < 0 || z >= nz || y >= ny || x >= nx) return;
    const i = (z * ny + y) * nx + x;
    if (labels[i] !== CLASS.pyrite) (labels[i] = CLASS.pyrite), placed++;
  };
  for (let attempt = 0; placed < target && attempt < 100000; attempt++) {
    const i = Math.floor(rng() * labels.length);
    if (labels[i] !== CLASS.pore) continue;
    const c: [number, number, number] = [Math.floor(i / (nx * ny)), Math.floor(i / nx) % ny, i % nx];
    if (rng() < 0.6) framboid(c, rng, mark);
    else cube(c, rng, mark);
  }
}

type Mark = (z: number, y: number, x: number) => void;

function framboid(c: [number, number, number], rng: Rng, mark: Mark): void {
  const clusterR = 1.5 + 2 * rng();
  const k = 6 + Math.floor(10 * rng());
  for (let j = 0; j < k; j++) {
    const d = [0, 0, 0].map(() => (2 * rng() - 1) * clusterR);
    ball([c[0] + d[0], c[1] + d[1], c[2] + d[2]], 0.7 + 0.6 * rng(), mark);
  }
}

function ball(c: number[], r: number, mark: Mark): void {
  for (let z = Math.ceil(c[0] - r); z <= c[0] + r; z++)
    for (let y = Math.ceil(c[1] - r); y <= c[1] + r; y++)
      for (let x = Math.ceil(c[2] - r); x <= c[2] + r; x++)
        if ((z - c[0]) ** 2 + (y - c[1]) ** 2 + (x - c[2]) ** 2 <= r * r) mark(z, y, x);
}

/** A cube rotated about z (crystals lie at any angle in the section). */
function cube(c: [number, number, number], rng: Rng, mark: Mark): void {
  const h = 0.8 + 1.7 * rng();
  const t = Math.PI * 0.5 * rng(), cs = Math.cos(t), sn = Math.sin(t);
  const e = Math.ceil(h * Math.SQRT2);
  for (let dz = -e; dz <= e; dz++)
    for (let dy = -e; dy <= e; dy++)
      for (let dx = -e; dx <= e; dx++) {
        const u = cs * dx + sn * dy, v = -sn * dx + cs * dy;
        if (Math.abs(u) <= h && Math.abs(v) <= h && Math.abs(dz) <= h) mark(c[0] + dz, c[1] + dy, c[2] + dx);
      }
}
