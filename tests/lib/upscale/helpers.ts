import { mulberry32 } from '../../../lib/synthetic/prng';
import type { MultiscaleTruth } from '../../../lib/synthetic/multiscale/write-multiscale-node';
import type { Vec3 } from '../../../lib/upscale/interior-pose';

/** A start `dist` low-res voxels and `deg` degrees from the truth, in a seeded direction. */
export function offStart(t: MultiscaleTruth['interiors'][number], seed: number, dist = 9.5, deg = 9.5) {
  const rng = mulberry32(seed);
  const u = [rng() - 0.5, rng() - 0.5, rng() - 0.5], n = Math.hypot(...u);
  return { centre: t.pose.centre.map((c, a) => c + (dist * u[a]!) / n) as Vec3, angleDeg: t.pose.angleDeg + (rng() < 0.5 ? -deg : deg) };
}
