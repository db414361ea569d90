/** One pyramid step: 2x2x2 (or 1x2x2) blocks to one voxel, by mean (grey values) or mode (labels). */
import { allocate, type AnyVoxelArray, type DType, type Shape3 } from '../types';
import type { Downsample } from './store-attrs';

/**
 * Mean (rounded half up for whole dtypes) or mode of 2x2x2 (or 1x2x2 when !halveZ) blocks of a
 * z-major block. Output shape: (ceil(nz/2) or nz, ceil(ny/2), ceil(nx/2)).
 * Odd edges repeat their last row / column / slice: that doubles every value of the block alike,
 * which changes neither the mean nor the mode (nor, for the mode's ties, which value is met first
 * in z, y, x order), so both equal their definitions on the voxels that exist.
 * The mode takes a block of one value at once (most blocks of a label volume) and counts uint8
 * blocks in a 256-bin histogram.
 */
export function downsample2x(data: AnyVoxelArray, shape: Shape3, halveZ: boolean, dtype: DType, method: Downsample = 'mean'): AnyVoxelArray {
  const outShape: Shape3 = [halveZ ? Math.ceil(shape[0] / 2) : shape[0], Math.ceil(shape[1] / 2), Math.ceil(shape[2] / 2)];
  const out = allocate(dtype, outShape[0] * outShape[1] * outShape[2]);
  downsample2xInto(data, shape, [0, 0, 0], shape, halveZ, method, out, outShape, [0, 0, 0]);
  return out;
}

/**
 * downsample2x of the box of size `n` at `from` inside `data` (z-major, shape `dataShape`), written
 * at `to` inside `out` (shape `outShape`; same dtype rules: means rounded unless `out` is float32).
 * Its edges are the box's: a build that downsamples a block piece by piece gets the block's result
 * when every piece but the last along an axis has an even size (buildPyramid's chunks).
 */
export function downsample2xInto(data: AnyVoxelArray, dataShape: Shape3, from: Shape3, n: Shape3, halveZ: boolean, method: Downsample, out: AnyVoxelArray, outShape: Shape3, to: Shape3): void {
  const [nz, ny, nx] = n;
  const [, sy, sx] = dataShape;
  const oz = halveZ ? Math.ceil(nz / 2) : nz;
  const oy = Math.ceil(ny / 2);
  const ox = Math.ceil(nx / 2);
  const mode = method === 'mode';
  const round = !(out instanceof Float32Array);
  const v = data instanceof Uint8Array ? new Uint8Array(8) : new Float64Array(8);
  const hist = data instanceof Uint8Array ? new Uint8Array(256) : null;
  for (let z = 0; z < oz; z++) {
    const z0 = from[0] + (halveZ ? 2 * z : z);
    const z1 = halveZ && 2 * z + 1 < nz ? z0 + 1 : z0;
    for (let y = 0; y < oy; y++) {
      const y0 = from[1] + 2 * y;
      const y1 = 2 * y + 1 < ny ? y0 + 1 : y0;
      const r0 = (z0 * sy + y0) * sx + from[2];
      const r1 = (z0 * sy + y1) * sx + from[2];
      const r2 = (z1 * sy + y0) * sx + from[2];
      const r3 = (z1 * sy + y1) * sx + from[2];
      let o = ((to[0] + z) * outShape[1] + to[1] + y) * outShape[2] + to[2];
      for (let x = 0; x < ox; x++) {
        const a = 2 * x;
        const b = a + 1 < nx ? a + 1 : a;
        const d0 = data[r0 + a]!, d1 = data[r0 + b]!, d2 = data[r1 + a]!, d3 = data[r1 + b]!;
        const d4 = data[r2 + a]!, d5 = data[r2 + b]!, d6 = data[r3 + a]!, d7 = data[r3 + b]!;
        if (!mode) {
          const sum = d0 + d1 + d2 + d3 + d4 + d5 + d6 + d7;
          out[o++] = round ? (sum + 4) >> 3 : sum / 8; // = Math.round(sum / 8) for whole sums (floor(x + 0.5))
        } else if (d0 === d1 && d0 === d2 && d0 === d3 && d0 === d4 && d0 === d5 && d0 === d6 && d0 === d7) {
          out[o++] = d0;
        } else {
          v[0] = d0; v[1] = d1; v[2] = d2; v[3] = d3; v[4] = d4; v[5] = d5; v[6] = d6; v[7] = d7;
          out[o++] = hist ? modeByHistogram(v, hist) : modeByCounting(v);
        }
      }
    }
  }
}

/** Most frequent of 8 uint8 values, the first met on ties; `hist` is all zeros before and after. */
function modeByHistogram(v: Uint8Array | Float64Array, hist: Uint8Array): number {
  let best = v[0]!;
  let bestCount = 0;
  for (let i = 0; i < 8; i++) hist[v[i]!]++;
  for (let i = 0; i < 8; i++) {
    const c = hist[v[i]!]!;
    if (c > bestCount) (best = v[i]!), (bestCount = c);
  }
  for (let i = 0; i < 8; i++) hist[v[i]!] = 0;
  return best;
}

/** Most frequent of 8 values, the first met on ties. */
function modeByCounting(v: Uint8Array | Float64Array): number {
  let best = v[0]!;
  let bestCount = 0;
  for (let i = 0; i < 8; i++) {
    const vi = v[i]!;
    let c = 0;
    for (let j = i; j < 8; j++) if (v[j] === vi) c++;
    if (c > bestCount) (best = vi), (bestCount = c);
  }
  return best;
}
