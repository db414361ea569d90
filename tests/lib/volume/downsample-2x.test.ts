import { describe, expect, it } from 'vitest';
import type { DType, Shape3 } from '../../../lib/volume/types';
import { downsample2x } from '../../../lib/volume/zarr/downsample-2x';

/** The definition, voxel by voxel: the voxels of each block that exist; mean rounded half up, or the most frequent value (first met in z, y, x order on ties). */
function reference(data: ArrayLike<number>, [nz, ny, nx]: Shape3, halveZ: boolean, dtype: DType, method: 'mean' | 'mode'): number[] {
  const out: number[] = [];
  const fz = halveZ ? 2 : 1;
  for (let z = 0; z < Math.ceil(nz / fz); z++)
    for (let y = 0; y < Math.ceil(ny / 2); y++)
      for (let x = 0; x < Math.ceil(nx / 2); x++) {
        const v: number[] = [];
        for (let dz = 0; dz < fz; dz++) for (let dy = 0; dy < 2; dy++) for (let dx = 0; dx < 2; dx++) {
          const [zz, yy, xx] = [z * fz + dz, 2 * y + dy, 2 * x + dx];
          if (zz < nz && yy < ny && xx < nx) v.push(data[(zz * ny + yy) * nx + xx]!);
        }
        if (method === 'mode') {
          let best = v[0]!, bestCount = 0;
          for (const a of v) {
            const c = v.filter((b) => b === a).length;
            if (c > bestCount) (best = a), (bestCount = c);
          }
          out.push(best);
        } else {
          const mean = v.reduce((a, b) => a + b, 0) / v.length;
          out.push(dtype === 'float32' ? Math.fround(mean) : Math.round(mean));
        }
      }
  return out;
}

describe('downsample2x (one pyramid step)', () => {
  it('equals the voxel-by-voxel definition on odd shapes, ties and every dtype', () => {
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    let mismatches = 0, cases = 0, uniform = 0;
    for (let t = 0; t < 300; t++) {
      const shape: Shape3 = [1 + Math.floor(rnd() * 5), 1 + Math.floor(rnd() * 6), 1 + Math.floor(rnd() * 7)];
      const n = shape[0] * shape[1] * shape[2];
      for (const dtype of ['uint8', 'uint16', 'float32'] as const)
        for (const method of ['mean', 'mode'] as const)
          for (const halveZ of [true, false]) {
            // 1-3 classes for the mode (uniform blocks and ties both occur), full range for the mean
            const k = 1 + Math.floor(rnd() * 3);
            const data = dtype === 'uint8' ? new Uint8Array(n) : dtype === 'uint16' ? new Uint16Array(n) : new Float32Array(n);
            for (let i = 0; i < n; i++) data[i] = method === 'mode' ? 200 * Math.floor(rnd() * k) : dtype === 'float32' ? rnd() * 100 : Math.floor(rnd() * (dtype === 'uint8' ? 256 : 65536));
            if (k === 1) uniform++;
            const got = Array.from(downsample2x(data, shape, halveZ, dtype, method));
            const want = reference(data, shape, halveZ, dtype, method);
            cases++;
            if (got.length !== want.length || got.some((v, i) => (dtype === 'float32' && method === 'mean' ? Math.abs(v - want[i]!) > 1e-4 : v !== want[i]))) mismatches++;
          }
    }
    expect(uniform).toBeGreaterThan(100);
    expect(mismatches).toBe(0);
    expect(cases).toBe(3600);
  });
});
