/**
 * The rock fabric evaluated at any point, not just voxel centres: the EDS map sees the true
 * (continuous) grain boundaries, finer than the XRM voxels when the EDS pixel is smaller, as a
 * real SEM does. At voxel centres it agrees with the voxel labels (same fields, same thresholds);
 * pyrite, placed voxel by voxel, is taken from the nearest voxel.
 */
import type { SandstoneOptions } from './options';
import { type Fabric, R_CUT, clayNoiseSeed, clayScore } from './grains';
import { CLASS, mineralId } from './minerals';

/** Returns mineralAt(z, y, x): the EDS phase id at a point in voxel coordinates, 0 off the volume. */
export function makeMineralSampler(o: SandstoneOptions, fabric: Fabric): (z: number, y: number, x: number) => number {
  const [nz, ny, nx] = o.shape;
  const { grains, labels, grainThreshold: t, clayLimit } = fabric;
  const buckets = bucketGrains(o, fabric);
  const L = o.grainDiameterVox;
  const [bz, by, bx] = o.shape.map((s) => Math.ceil(s / L));
  const seed = clayNoiseSeed(o);
  const cut2 = R_CUT * R_CUT;
  return (z, y, x) => {
    const iz = Math.round(z), iy = Math.round(y), ix = Math.round(x);
    if (iz < 0 || iy < 0 || ix < 0 || iz >= nz || iy >= ny || ix >= nx) return 0;
    if (labels[(iz * ny + iy) * nx + ix] === CLASS.pyrite) return mineralId(CLASS.pyrite, 0);
    const b = (Math.min(bz - 1, Math.floor(z / L)) * by + Math.min(by - 1, Math.floor(y / L))) * bx + Math.min(bx - 1, Math.floor(x / L));
    let best = cut2, owner = -1;
    // candidates in increasing grain index, strict '<': the same tie rule as the rasteriser
    for (const gi of buckets[Math.max(0, b)]) {
      const { m, centre } = grains[gi];
      const dz = z - centre[0], dy = y - centre[1], dx = x - centre[2];
      const a0 = m[0] * dz + m[1] * dy + m[2] * dx, a1 = m[3] * dz + m[4] * dy + m[5] * dx, a2 = m[6] * dz + m[7] * dy + m[8] * dx;
      const d2 = a0 * a0 + a1 * a1 + a2 * a2;
      if (d2 < best) (best = d2), (owner = gi);
    }
    const r = owner >= 0 ? Math.sqrt(best) : Infinity;
    const variant = owner >= 0 ? grains[owner].variant : 0;
    if (r < t) return mineralId(grains[owner].mineral, variant);
    return mineralId(clayScore(r, t, z, y, x, seed) < clayLimit ? CLASS.clay : CLASS.pore, variant);
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
