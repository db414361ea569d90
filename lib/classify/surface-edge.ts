/**
 * Edge-spread correction below the polished surface. A scan blurs the air/rock step, so the first
 * rock layers are darker than the same mineral in the interior (on the synthetic sandstone by
 * ~10 % in the layer the EDS labels go to); quartz and feldspar differ by ~4 %, so a classifier
 * trained on that layer misreads the interior. The median grey value against depth below the fitted
 * plane (the edge-spread profile, measured on the volume itself; the median follows the dominant
 * mineral and is not swayed by how much pore or pyrite one layer happens to cut) gives the air
 * share f(d) of each depth, and a voxel at depth d is un-mixed: v' = (v - f(d) * air) / (1 - f(d)).
 * Measured (bench pipeline seeds 11/12, 128x192x192): the model trained on the true classes of
 * the whole surface layer 0.572 -> 0.677 3D mean IoU; on the EDS labels 0.587 -> 0.599 and
 * 0.578 -> 0.625.
 */
import { throwIfAborted, type StageOptions } from '../errors';
import type { VolumeStore } from '../volume/store';

/** Air share per depth bin below the surface plane; depth of bin k is d0 + (k + 0.5) / binsPerVox. */
export interface EdgeProfile {
  binsPerVox: number;
  /** depth of the first bin's lower edge, voxels below the plane (negative: above it) */
  d0: number;
  /** air share f per bin, 0..MAX_AIR_SHARE (0 where the voxel is all rock) */
  airShare: number[];
  /** mean grey value of the air above the surface and of the rock well below it */
  air: number;
  rock: number;
}

interface Plane {
  a: number;
  b: number;
  c: number;
}

const BINS = 4;
/** values kept per depth bin for its median */
const RESERVOIR = 16384;
const D0 = -6; // profile from 6 voxels above the plane...
const D1 = 14; // ...to 14 below
const AIR: [number, number] = [-6, -3];
const ROCK: [number, number] = [6, 14];
/** corrections stop where less than 40 % of the voxel is rock (noise would be amplified > 2.5x) */
export const MAX_AIR_SHARE = 0.6;
/** the profile starts at the physical edge, half a voxel above the plane */
const CORRECT_FROM = -0.5;

/**
 * Edge-spread profile of `store` below `surface` (z = a x + b y + c through the first rock layer).
 * Undefined when the volume shows too little air above the surface or no contrast between air and
 * rock: then nothing is corrected.
 */
export async function measureEdgeProfile(store: VolumeStore, surface: Plane, opts: StageOptions & { channel?: number } = {}): Promise<EdgeProfile | undefined> {
  const [nz, ny, nx] = store.meta.shape;
  const zAt = (y: number, x: number) => surface.a * x + surface.b * y + surface.c;
  const corners = [zAt(0, 0), zAt(0, nx - 1), zAt(ny - 1, 0), zAt(ny - 1, nx - 1)];
  const zLo = Math.max(0, Math.floor(Math.min(...corners) + D0)), zHi = Math.min(nz, Math.ceil(Math.max(...corners) + D1) + 1);
  if (zHi <= zLo) return undefined;
  const nb = (D1 - D0) * BINS;
  const res = Array.from({ length: nb }, () => new Float32Array(RESERVOIR));
  const seen = new Float64Array(nb);
  let r = 0x2545f491; // deterministic reservoir sampling
  const rand = () => ((r = (Math.imul(r, 1664525) + 1013904223) >>> 0) / 4294967296);
  const rows = Math.max(1, Math.floor((8 << 20) / Math.max(1, (zHi - zLo) * nx))); // ~32 MB per read
  for (let y0 = 0; y0 < ny; y0 += rows) {
    throwIfAborted(opts.signal);
    const sy = Math.min(rows, ny - y0);
    const block = await store.readBlockF32({ start: [zLo, y0, 0], shape: [zHi - zLo, sy, nx] }, { channel: opts.channel });
    for (let z = 0, i = 0; z < zHi - zLo; z++) for (let y = 0; y < sy; y++) for (let x = 0; x < nx; x++, i++) {
      const d = zLo + z - zAt(y0 + y, x);
      if (d < D0 || d >= D1) continue;
      const b = Math.floor((d - D0) * BINS);
      const n = seen[b]++;
      if (n < RESERVOIR) res[b]![n] = block[i]!;
      else {
        const j = Math.floor(rand() * (n + 1));
        if (j < RESERVOIR) res[b]![j] = block[i]!;
      }
    }
    opts.onProgress?.(Math.min(1, (y0 + sy) / ny), 'edge-spread profile below the surface');
  }
  const median = (from: number, to: number): number => {
    const parts: Float32Array[] = [];
    for (let k = (from - D0) * BINS; k < (to - D0) * BINS; k++) parts.push(res[k]!.subarray(0, Math.min(RESERVOIR, seen[k]!)));
    const all = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
    let o = 0;
    for (const p of parts) (all.set(p, o), (o += p.length));
    if (!all.length) return NaN;
    all.sort();
    return all[all.length >> 1]!;
  };
  const air = median(AIR[0], AIR[1]), rock = median(ROCK[0], ROCK[1]);
  // need air above (at least a few hundred voxels) and a clear step
  const airCount = seen.slice(0, (AIR[1] - D0) * BINS).reduce((a, b) => a + b, 0);
  if (!(airCount >= 256) || !Number.isFinite(rock) || !(Math.abs(rock - air) > 1e-6 * Math.max(1, Math.abs(rock)))) return undefined;
  const airShare = Array.from({ length: nb }, (_, k) => {
    const depth = D0 + (k + 0.5) / BINS;
    if (depth < CORRECT_FROM || !seen[k]) return 0;
    const f = (rock - median(D0 + k / BINS, D0 + (k + 1) / BINS)) / (rock - air);
    return Math.min(MAX_AIR_SHARE, Math.max(0, f));
  });
  return { binsPerVox: BINS, d0: D0, airShare, air, rock };
}

/** Air share at depth `d` (voxels below the plane). */
export function airShareAt(p: EdgeProfile, d: number): number {
  const k = Math.floor((d - p.d0) * p.binsPerVox);
  return k >= 0 && k < p.airShare.length ? p.airShare[k]! : 0;
}

/** Deepest depth at which the profile corrects anything (voxels below the plane). */
export function correctedDepth(p: EdgeProfile): number {
  let last = -1;
  p.airShare.forEach((f, k) => f > 0 && (last = k));
  return last < 0 ? -Infinity : p.d0 + (last + 1) / p.binsPerVox;
}

/**
 * Un-mix the air from a float32 block in place: `block` covers rows z0.. of shape (sz, sy, sx) whose
 * columns (y, x) map to volume columns through `colY`/`colX` (halo columns are reflected).
 */
export function correctEdgeInPlace(block: Float32Array, shape: [number, number, number], z0: number, planeZ: Float64Array, p: EdgeProfile): void {
  const [sz, sy, sx] = shape;
  const plane = sy * sx;
  const dMax = correctedDepth(p);
  for (let col = 0; col < plane; col++) {
    const zp = planeZ[col]!;
    const zStart = Math.max(0, Math.ceil(zp + CORRECT_FROM - z0)), zEnd = Math.min(sz, Math.ceil(zp + dMax - z0));
    for (let z = zStart; z < zEnd; z++) {
      const f = airShareAt(p, z0 + z - zp);
      if (f > 0) block[z * plane + col] = (block[z * plane + col]! - f * p.air) / (1 - f);
    }
  }
}
