import type { SyntheticSample } from '../../../lib/synthetic';

/** Class code at rounded voxel position, or -1 outside the volume. */
export function classAt(s: SyntheticSample, z: number, y: number, x: number): number {
  const [nz, ny, nx] = s.volume.meta.shape;
  [z, y, x] = [Math.round(z), Math.round(y), Math.round(x)];
  if (z < 0 || y < 0 || x < 0 || z >= nz || y >= ny || x >= nx) return -1;
  return s.truthLabels[(z * ny + y) * nx + x];
}

/** True when every voxel within `h` in y and x (same z) has the class of the centre. */
export function uniformAround(s: SyntheticSample, z: number, y: number, x: number, h: number): boolean {
  const c = classAt(s, z, y, x);
  for (let dy = -h; dy <= h; dy++) for (let dx = -h; dx <= h; dx++) if (classAt(s, z, y + dy, x + dx) !== c) return false;
  return true;
}
