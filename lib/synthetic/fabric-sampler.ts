/**
 * The rock fabric evaluated at any point, not just voxel centres: the EDS map sees the true
 * (continuous) grain boundaries, finer than the XRM voxels when the EDS pixel is smaller, as a
 * real SEM does. At voxel centres it agrees with the voxel labels (same fields, same thresholds);
 * pyrite, placed voxel by voxel, is taken from the nearest voxel. Used by the EDS map and by the
 * partial-volume supersampling of the XRM rendering.
 */
import type { SandstoneOptions } from './options';
import { type Fabric, R_CUT, clayNoiseSeed, clayScore } from './grains';

export { clayNoiseSeed };
import { CLASS, mineralId } from './minerals';

/**
 * Returns classAt(z, y, x) at a point in voxel coordinates (air ignored: the fabric extends to the
 * top): the class code in the low 3 bits and owner grain + 1 above them (see unpack), -1 off the volume.
 */
export function makeFabricSampler(o: SandstoneOptions, fabric: Fabric): (z: number, y: number, x: number) => number {
  const [nz, ny, nx] = o.shape;
  const { labels } = fabric;
  const buckets = bucketGrains(o, fabric);
  const L = o.grainDiameterVox;
  const [bz, by, bx] = o.shape.map((s) => Math.ceil(s / L));
  const seed = clayNoiseSeed(o);
  return (z, y, x) => {
    const iz = Math.round(z), iy = Math.round(y), ix = Math.round(x);
    if (iz < 0 || iy < 0 || ix < 0 || iz >= nz || iy >= ny || ix >= nx) return -1;
    const i = (iz * ny + iy) * nx + ix;
    if (labels[i] === CLASS.pyrite) return CLASS.pyrite | ((fabric.owner[i] + 1) << 3);
    const b = (Math.min(bz - 1, Math.floor(z / L)) * by + Math.min(by - 1, Math.floor(y / L))) * bx + Math.min(bx - 1, Math.floor(x / L));
    const cands = buckets[Math.max(0, b)];
    return classAmong(fabric, cands, cands.length, seed, z, y, x);
  };
}

/**
 * Class (packed with owner, see unpack) of a non-pyrite point given the candidate grains that may
 * reach it, in increasing index: the rasteriser's tie rule (first grain wins, strict '<').
 */
export function classAmong(fabric: Fabric, cands: ArrayLike<number>, count: number, seed: number, z: number, y: number, x: number): number {
  const { grains, grainThreshold: t, clayLimit } = fabric;
  let best = R_CUT * R_CUT, owner = -1;
  for (let k = 0; k < count; k++) {
    const gi = cands[k];
    const { m, centre } = grains[gi];
    const dz = z - centre[0], dy = y - centre[1], dx = x - centre[2];
    const a0 = m[0] * dz + m[1] * dy + m[2] * dx, a1 = m[3] * dz + m[4] * dy + m[5] * dx, a2 = m[6] * dz + m[7] * dy + m[8] * dx;
    const d2 = a0 * a0 + a1 * a1 + a2 * a2;
    if (d2 < best || (d2 === best && owner > gi)) (best = d2), (owner = gi);
  }
  const r = owner >= 0 ? Math.sqrt(best) : Infinity;
  const cls = r < t ? grains[owner].mineral : clayScore(r, t, z, y, x, seed) < clayLimit ? CLASS.clay : CLASS.pore;
  return cls | ((owner + 1) << 3);
}

/** Splits a packed sample into class code and owner grain (-1 for none). */
export const unpackClass = (packed: number) => packed & 7;
export const unpackOwner = (packed: number) => (packed >> 3) - 1;

/** Returns mineralAt(z, y, x): the EDS phase id at a point in voxel coordinates, 0 off the volume. */
export function makeMineralSampler(o: SandstoneOptions, fabric: Fabric): (z: number, y: number, x: number) => number {
  const classAt = makeFabricSampler(o, fabric);
  return (z, y, x) => {
    const p = classAt(z, y, x);
    if (p < 0) return 0;
    const owner = unpackOwner(p);
    return mineralId(unpackClass(p), owner >= 0 ? fabric.grains[owner].variant : 0);
  };
}

/** Grain indices per L-sized bucket, for every grain whose field reaches into the bucket. */
function bucketGrains(o: SandstoneOptions, { grains }: Fabric): number[][] {
  const L = o.grainDiameterVox;
  const dims = o.shape.map((s) => Math.ceil(s / L));
  const buckets: number[][] = Array.from({ length: dims[0] * dims[1] * dims[2] }, () => []);
  grains.forEach((g, gi) => {
    const lo = g.centre.map((c) => Math.max(0, Math.floor((c - g.reach) / L)));
    const hi = g.centre.map((c, k) => Math.min(dims[k] - 1, Math.floor((c + g.reach) / L)));
    for (let z = lo[0]; z <= hi[0]; z++)
      for (let y = lo[1]; y <= hi[1]; y++) for (let x = lo[2]; x <= hi[2]; x++) buckets[(z * dims[1] + y) * dims[2] + x].push(gi);
  });
  return buckets;
}
