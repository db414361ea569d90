/**
 * Where an interior scan sits on the low-res views: the eight corners of its extent (voxel edges,
 * −0.5 … n − 0.5 along each axis) mapped into voxel-index coordinates of the large scan, through the
 * registration (hiToLow) or, before it, through the start pose with the scale the voxel sizes give.
 * The pose model is lib/upscale/interior-pose's (pure functions, imported as they are).
 */
import { applyAffine3, poseAffine, type Affine3 } from '@/lib/upscale/interior-pose';
import type { Vec3 } from '@/app/_components/viewer/slice-geometry';

export function interiorCorners(m: Affine3, shape: Vec3): Vec3[] {
  const out: Vec3[] = [];
  for (const z of [-0.5, shape[0] - 0.5]) for (const y of [-0.5, shape[1] - 0.5]) for (const x of [-0.5, shape[2] - 0.5]) out.push(applyAffine3(m, z, y, x));
  return out;
}

/** The corners of an interior of `shape` (voxels `hiUm`) placed at `centre` (low-res voxels), turned `angleDeg` about z. */
export function startCorners(centre: Vec3, angleDeg: number, shape: Vec3, hiUm: Vec3, lowUm: Vec3): Vec3[] {
  const scale = hiUm.map((s, a) => s / lowUm[a]!) as Vec3;
  return interiorCorners(poseAffine({ centre, angleDeg, scale }, shape), shape);
}
