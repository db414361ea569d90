/** One pyramid step: 2x2x2 (or 1x2x2) blocks to one voxel, by mean (grey values) or mode (labels). */
import { allocate, type AnyVoxelArray, type DType, type Shape3 } from '../types';
import type { Downsample } from './store-attrs';

/**
 * Mean of 2x2x2 (or 1x2x2 when !halveZ) blocks of a z-major block; odd edges average the voxels
 * that exist. Output shape: (ceil(nz/2) or nz, ceil(ny/2), ceil(nx/2)).
 */
export function downsample2x(data: AnyVoxelArray, shape: Shape3, halveZ: boolean, dtype: DType, method: Downsample = 'mean'): AnyVoxelArray {
  const [nz, ny, nx] = shape;
  const oz = halveZ ? Math.ceil(nz / 2) : nz;
  const oy = Math.ceil(ny / 2);
  const ox = Math.ceil(nx / 2);
  const out = allocate(dtype, oz * oy * ox);
  if (method === 'mode') {
    modeDownsample(data, shape, halveZ, out, [oz, oy, ox]);
    return out;
  }
  const round = dtype !== 'float32';
  let o = 0;
  for (let z = 0; z < oz; z++) {
    const z0 = halveZ ? 2 * z : z;
    const z1 = halveZ && z0 + 1 < nz ? z0 + 1 : z0;
    for (let y = 0; y < oy; y++) {
      const y0 = 2 * y;
      const y1 = y0 + 1 < ny ? y0 + 1 : y0;
      // duplicated rows/columns (odd edges) count twice in both sum and divisor: the mean is unchanged
      const r0 = (z0 * ny + y0) * nx;
      const r1 = (z0 * ny + y1) * nx;
      const r2 = (z1 * ny + y0) * nx;
      const r3 = (z1 * ny + y1) * nx;
      for (let x = 0; x < ox; x++) {
        const a = 2 * x;
        const b = a + 1 < nx ? a + 1 : a;
        const sum = data[r0 + a]! + data[r0 + b]! + data[r1 + a]! + data[r1 + b]! + data[r2 + a]! + data[r2 + b]! + data[r3 + a]! + data[r3 + b]!;
        out[o++] = round ? Math.round(sum / 8) : sum / 8;
      }
    }
  }
  return out;
}

/** Most frequent value of each block (ties: the value met first, in z, y, x order). */
function modeDownsample(data: AnyVoxelArray, shape: Shape3, halveZ: boolean, out: AnyVoxelArray, os: Shape3): void {
  const [nz, ny, nx] = shape;
  const [oz, oy, ox] = os;
  const v = new Float64Array(8);
  let o = 0;
  for (let z = 0; z < oz; z++) {
    const z0 = halveZ ? 2 * z : z;
    const zs = halveZ && z0 + 1 < nz ? 2 : 1;
    for (let y = 0; y < oy; y++) {
      const ys = 2 * y + 1 < ny ? 2 : 1;
      for (let x = 0; x < ox; x++) {
        const xs = 2 * x + 1 < nx ? 2 : 1;
        let n = 0;
        for (let dz = 0; dz < zs; dz++)
          for (let dy = 0; dy < ys; dy++) {
            const row = ((z0 + dz) * ny + 2 * y + dy) * nx + 2 * x;
            for (let dx = 0; dx < xs; dx++) v[n++] = data[row + dx]!;
          }
        let best = v[0]!;
        let bestCount = 0;
        for (let i = 0; i < n; i++) {
          let c = 0;
          for (let j = i; j < n; j++) if (v[j] === v[i]) c++;
          if (c > bestCount) (best = v[i]!), (bestCount = c);
        }
        out[o++] = best;
      }
    }
  }
}
