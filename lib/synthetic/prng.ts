/**
 * Small seeded random sources. Our own generator (not Math.random) so that the same seed gives
 * byte-identical samples on every platform and Node version.
 */
export type Rng = () => number;

/** mulberry32: 32-bit state, good enough statistics for texture and placement, very fast. */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal sampler (Box-Muller, caching the second value). */
export function gaussian(rng: Rng): () => number {
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    let u = rng();
    while (u <= 1e-12) u = rng();
    const r = Math.sqrt(-2 * Math.log(u));
    const t = 2 * Math.PI * rng();
    spare = r * Math.sin(t);
    return r * Math.cos(t);
  };
}

/** Integer hash of up to three ints to [0, 1): deterministic per-position randomness. */
export function hash3(x: number, y: number, z: number, seed: number): number {
  let h = Math.imul(x | 0, 0x27d4eb2d) ^ Math.imul(y | 0, 0x165667b1) ^ Math.imul(z | 0, 0x9e3779b1) ^ seed;
  h = Math.imul(h ^ (h >>> 15), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}

/** Trilinear value noise in [0, 1) with lattice spacing 1: mottled textures (clay, cement). */
export function valueNoise3(x: number, y: number, z: number, seed: number): number {
  const x0 = Math.floor(x), y0 = Math.floor(y), z0 = Math.floor(z);
  let fx = x - x0, fy = y - y0, fz = z - z0;
  fx = fx * fx * (3 - 2 * fx);
  fy = fy * fy * (3 - 2 * fy);
  fz = fz * fz * (3 - 2 * fz);
  const x1 = x0 + 1, y1 = y0 + 1, z1 = z0 + 1;
  const c000 = hash3(x0, y0, z0, seed), c100 = hash3(x1, y0, z0, seed);
  const c010 = hash3(x0, y1, z0, seed), c110 = hash3(x1, y1, z0, seed);
  const c001 = hash3(x0, y0, z1, seed), c101 = hash3(x1, y0, z1, seed);
  const c011 = hash3(x0, y1, z1, seed), c111 = hash3(x1, y1, z1, seed);
  const a0 = c000 + (c100 - c000) * fx, a1 = c010 + (c110 - c010) * fx;
  const b0 = c001 + (c101 - c001) * fx, b1 = c011 + (c111 - c011) * fx;
  const a = a0 + (a1 - a0) * fy, b = b0 + (b1 - b0) * fy;
  return a + (b - a) * fz;
}
