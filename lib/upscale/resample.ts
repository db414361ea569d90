/**
 * Small dense helpers of the 3D registration: the interior scan block-averaged down to the
 * low resolution, resampled onto a box of the low-res grid under a pose, and the masked normalised
 * cross-correlation that scores a pose. Arrays are (z, y, x), z-major.
 */
import { throwIfAborted } from '../errors';
import type { VolumeStore } from '../volume/store';
import { invertAffine3, type Affine3, type Vec3 } from './interior-pose';

export interface Dense3 {
  data: Float32Array;
  shape: Vec3;
}

/** Mean of f×f×f blocks of the store's level 0 (partial blocks at the far edges dropped), streamed by slabs. */
export async function blockAverage(store: VolumeStore, f: number, signal?: AbortSignal): Promise<Dense3> {
  const [nz, ny, nx] = store.meta.shape;
  const shape: Vec3 = [Math.floor(nz / f), Math.floor(ny / f), Math.floor(nx / f)];
  if (shape.some((n) => n < 2)) return { data: new Float32Array(0), shape };
  const out = new Float32Array(shape[0] * shape[1] * shape[2]);
  const [bz, by, bx] = shape;
  const inv = 1 / (f * f * f);
  for (let b = 0; b < bz; b++) {
    throwIfAborted(signal);
    const d = await store.readBlockF32({ start: [b * f, 0, 0], shape: [f, by * f, bx * f] }, { signal });
    const o = b * by * bx;
    for (let k = 0; k < f; k++) for (let y = 0; y < by * f; y++) {
      const row = (k * by * f + y) * bx * f, orow = o + Math.floor(y / f) * bx;
      for (let x = 0; x < bx * f; x++) out[orow + Math.floor(x / f)] += d[row + x]!;
    }
    for (let i = o; i < o + by * bx; i++) out[i] *= inv;
  }
  return { data: out, shape };
}

/**
 * The block-averaged interior (index b ↔ hi-res index f·b + (f − 1)/2) resampled with trilinear
 * interpolation onto the low-res grid box starting at `start` with `shape`, under hi→low map `m`.
 * NaN where the box lies outside the interior.
 */
export function renderMoving(moving: Dense3, f: number, m: Affine3, start: Vec3, shape: Vec3): Float32Array {
  const inv = invertAffine3(m);
  const [mz, my, mx] = moving.shape;
  const out = new Float32Array(shape[0] * shape[1] * shape[2]).fill(NaN);
  const h = (f - 1) / 2, src = moving.data;
  let i = 0;
  for (let z = 0; z < shape[0]; z++) for (let y = 0; y < shape[1]; y++) {
    const qz = start[0] + z, qy = start[1] + y;
    for (let x = 0; x < shape[2]; x++, i++) {
      const qx = start[2] + x;
      const pz = (inv[0] * qz + inv[1] * qy + inv[2] * qx + inv[3] - h) / f;
      const py = (inv[4] * qz + inv[5] * qy + inv[6] * qx + inv[7] - h) / f;
      const px = (inv[8] * qz + inv[9] * qy + inv[10] * qx + inv[11] - h) / f;
      if (!(pz >= 0 && py >= 0 && px >= 0 && pz <= mz - 1 && py <= my - 1 && px <= mx - 1)) continue;
      const z0 = Math.min(mz - 2, Math.floor(pz)), y0 = Math.min(my - 2, Math.floor(py)), x0 = Math.min(mx - 2, Math.floor(px));
      const fz = pz - z0, fy = py - y0, fx = px - x0;
      const b = (z0 * my + y0) * mx + x0, sy = mx, sz = my * mx;
      const c00 = src[b]! + (src[b + 1]! - src[b]!) * fx, c01 = src[b + sy]! + (src[b + sy + 1]! - src[b + sy]!) * fx;
      const c10 = src[b + sz]! + (src[b + sz + 1]! - src[b + sz]!) * fx, c11 = src[b + sz + sy]! + (src[b + sz + sy + 1]! - src[b + sz + sy]!) * fx;
      const c0 = c00 + (c01 - c00) * fy, c1 = c10 + (c11 - c10) * fy;
      out[i] = c0 + (c1 - c0) * fz;
    }
  }
  return out;
}

/** 2× mean downsampling; a block with any NaN becomes NaN. */
export function halve(img: Dense3): Dense3 {
  const [nz, ny, nx] = img.shape;
  const shape: Vec3 = [Math.max(1, nz >> 1), Math.max(1, ny >> 1), Math.max(1, nx >> 1)];
  const out = new Float32Array(shape[0] * shape[1] * shape[2]);
  for (let z = 0; z < shape[0]; z++) for (let y = 0; y < shape[1]; y++) for (let x = 0; x < shape[2]; x++) {
    let s = 0;
    for (let a = 0; a < 2; a++) for (let b = 0; b < 2; b++) for (let c = 0; c < 2; c++) {
      s += img.data[((2 * z + a) * ny + 2 * y + b) * nx + 2 * x + c]!;
    }
    out[(z * shape[1] + y) * shape[2] + x] = s / 8;
  }
  return { data: out, shape };
}

/**
 * Masked NCC of `moving` (NaN = outside) against `fixed` shifted by d (moving voxel at i is compared
 * with fixed voxel at i + d). Fixed voxels outside the fixed box are skipped. Returns −1 when fewer
 * than half the moving voxels overlap.
 */
export function maskedNcc(fixed: Dense3, moving: Dense3, d: Vec3): number {
  const [fz, fy, fx] = fixed.shape, [mz, my, mx] = moving.shape;
  let n = 0, sm = 0, sf = 0, smm = 0, sff = 0, smf = 0, valid = 0;
  const F = fixed.data, M = moving.data;
  for (let z = 0; z < mz; z++) {
    const zz = z + d[0];
    for (let y = 0; y < my; y++) {
      const yy = y + d[1];
      const mrow = (z * my + y) * mx;
      for (let x = 0; x < mx; x++) {
        const m = M[mrow + x]!;
        if (m !== m) continue;
        valid++;
        const xx = x + d[2];
        if (zz < 0 || yy < 0 || xx < 0 || zz >= fz || yy >= fy || xx >= fx) continue;
        const f = F[(zz * fy + yy) * fx + xx]!;
        n++; sm += m; sf += f; smm += m * m; sff += f * f; smf += m * f;
      }
    }
  }
  if (n < 0.5 * valid || n < 8) return -1;
  const cov = smf - (sm * sf) / n, vm = smm - (sm * sm) / n, vf = sff - (sf * sf) / n;
  return vm > 0 && vf > 0 ? cov / Math.sqrt(vm * vf) : -1;
}
