/**
 * Box and halo helpers shared by every VolumeStore implementation.
 *
 * Halo voxels outside the volume are filled by symmetric reflection ("reflect" mode of scipy.ndimage:
 * d c b a | a b c d | d c b a), repeated as often as needed when the halo is larger than the volume.
 */
import { invalidInput } from '../errors';
import { allocate, type AnyVoxelArray, type Box3, type DType, type Shape3 } from './types';

/** Map any integer index onto [0, n) by symmetric reflection (period 2n). */
export function reflectIndex(i: number, n: number): number {
  if (n <= 1) return 0;
  const period = 2 * n;
  let m = i % period;
  if (m < 0) m += period;
  return m < n ? m : period - 1 - m;
}

export function normaliseHalo(halo: number | Shape3 | undefined): Shape3 {
  if (halo === undefined) return [0, 0, 0];
  const h: Shape3 = typeof halo === 'number' ? [halo, halo, halo] : [halo[0], halo[1], halo[2]];
  for (const v of h) {
    if (!Number.isInteger(v) || v < 0) throw invalidInput(`A block halo must be whole numbers of voxels ≥ 0, got ${JSON.stringify(halo)}.`);
  }
  return h;
}

/** Throws InvalidInput unless `box` is a non-empty box inside a volume of `shape`. */
export function checkBox(box: Box3, shape: Shape3, what: string): void {
  for (let a = 0; a < 3; a++) {
    const s = box.start[a]!;
    const n = box.shape[a]!;
    if (!Number.isInteger(s) || !Number.isInteger(n) || n < 1 || s < 0 || s + n > shape[a]!) {
      throw invalidInput(
        `${what}: the block starting at (z,y,x) = (${box.start.join(', ')}) with size (${box.shape.join(', ')}) ` +
          `does not lie inside the volume of (${shape.join(', ')}) voxels.`,
      );
    }
  }
}

export interface HaloPlan {
  /** shape of the returned array (box.shape + 2*halo) */
  outShape: Shape3;
  /** the in-volume box that must be read to fill the output */
  inner: Box3;
  /** per axis: for each output index, the index into `inner` */
  maps: [Int32Array, Int32Array, Int32Array];
  /** true when no reflection is needed (output == inner) */
  identity: boolean;
}

export function planHalo(box: Box3, halo: Shape3, shape: Shape3): HaloPlan {
  const outShape: Shape3 = [0, 0, 0];
  const innerStart: Shape3 = [0, 0, 0];
  const innerShape: Shape3 = [0, 0, 0];
  const maps: Int32Array[] = [];
  let identity = true;
  for (let a = 0; a < 3; a++) {
    const n = shape[a]!;
    const lo = box.start[a]! - halo[a]!;
    const len = box.shape[a]! + 2 * halo[a]!;
    outShape[a] = len;
    const idx = new Int32Array(len);
    let mn = Infinity;
    let mx = -Infinity;
    for (let i = 0; i < len; i++) {
      const r = reflectIndex(lo + i, n);
      idx[i] = r;
      if (r < mn) mn = r;
      if (r > mx) mx = r;
      if (r !== lo + i) identity = false;
    }
    for (let i = 0; i < len; i++) idx[i] = idx[i]! - mn;
    innerStart[a] = mn;
    innerShape[a] = mx - mn + 1;
    maps.push(idx);
  }
  return { outShape, inner: { start: innerStart, shape: innerShape }, maps: maps as HaloPlan['maps'], identity };
}

/** Gather the output of a halo plan from the inner block (z-major, shape plan.inner.shape). */
export function gatherHalo<T extends AnyVoxelArray>(plan: HaloPlan, inner: T, dtype: DType): T {
  if (plan.identity) return inner;
  const [oz, oy, ox] = plan.outShape;
  const [, iy, ix] = plan.inner.shape;
  const [mz, my, mx] = plan.maps;
  const out = allocate(dtype, oz * oy * ox) as T;
  let o = 0;
  for (let z = 0; z < oz; z++) {
    const zBase = mz[z]! * iy;
    for (let y = 0; y < oy; y++) {
      const rowBase = (zBase + my[y]!) * ix;
      for (let x = 0; x < ox; x++) out[o++] = inner[rowBase + mx[x]!]!;
    }
  }
  return out;
}

/** Copy a sub-box out of a z-major array of `shape`. */
export function extractBox<T extends AnyVoxelArray>(src: T, shape: Shape3, box: Box3, dtype: DType): T {
  const [, ny, nx] = shape;
  const [bz, by, bx] = box.shape;
  const [sz, sy, sx] = box.start;
  if (sz === 0 && sy === 0 && sx === 0 && bz === shape[0] && by === ny && bx === nx) return src.slice() as T;
  const out = allocate(dtype, bz * by * bx) as T;
  for (let z = 0; z < bz; z++) {
    for (let y = 0; y < by; y++) {
      const from = ((sz + z) * ny + (sy + y)) * nx + sx;
      out.set(src.subarray(from, from + bx) as never, (z * by + y) * bx);
    }
  }
  return out;
}

/** Copy a z-major block into a sub-box of a z-major array of `shape`. */
export function insertBox(dst: AnyVoxelArray, shape: Shape3, box: Box3, data: AnyVoxelArray): void {
  const [, ny, nx] = shape;
  const [bz, by, bx] = box.shape;
  const [sz, sy, sx] = box.start;
  for (let z = 0; z < bz; z++) {
    for (let y = 0; y < by; y++) {
      const from = (z * by + y) * bx;
      dst.set(data.subarray(from, from + bx) as never, ((sz + z) * ny + (sy + y)) * nx + sx);
    }
  }
}

export function toFloat32(a: AnyVoxelArray): Float32Array {
  return a instanceof Float32Array ? a : Float32Array.from(a);
}

export function dtypeOfArray(a: AnyVoxelArray): DType {
  return a instanceof Uint8Array ? 'uint8' : a instanceof Uint16Array ? 'uint16' : 'float32';
}
