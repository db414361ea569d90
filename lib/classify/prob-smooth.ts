/**
 * Spatial regularisation of class probabilities: a small separable 3D filter (Gaussian or box mean)
 * over each class's probability volume before the argmax. Taps outside the box are left out
 * (not renormalised per tap): the argmax only compares classes at one voxel, and every class of a
 * voxel loses the same taps, so a voxel at the edge or next to air (probability 0 in every class)
 * keeps its relative order. `normaliseProbabilities` rescales each voxel's classes to sum 1 after.
 */
import type { Shape3 } from '../volume/types';

export interface ProbSmoothing {
  kind: 'gaussian' | 'mean';
  /** Gaussian standard deviation in voxels (kind 'gaussian') */
  sigma?: number;
  /** taps each side; default: ceil(2 sigma) for a Gaussian, 1 for the mean */
  radius?: number;
}

/** The 1D weights (length 2r+1, sum 1). */
export function smoothingKernel(s: ProbSmoothing): Float32Array {
  if (s.kind === 'mean') {
    const r = s.radius ?? 1;
    return new Float32Array(2 * r + 1).fill(1 / (2 * r + 1));
  }
  const sigma = s.sigma ?? 1;
  const r = s.radius ?? Math.max(1, Math.ceil(2 * sigma));
  const w = new Float32Array(2 * r + 1);
  let sum = 0;
  for (let t = -r; t <= r; t++) sum += (w[t + r] = Math.exp(-(t * t) / (2 * sigma * sigma)));
  for (let t = 0; t < w.length; t++) w[t] /= sum;
  return w;
}

/** Halo (voxels each side) a brick needs so its smoothed values equal the whole volume's. */
export const smoothingHalo = (s: ProbSmoothing): number => (smoothingKernel(s).length - 1) / 2;

/**
 * One pass along one axis: out = w * in within each line. Along y and z whole rows (planes) are
 * combined at once, so every inner loop runs over contiguous memory.
 */
function pass(src: Float32Array, dst: Float32Array, w: Float32Array, shape: Shape3, axis: 0 | 1 | 2): void {
  const [nz, ny, nx] = shape;
  const r = (w.length - 1) / 2;
  if (axis === 2) {
    for (let row = 0; row < nz * ny; row++) {
      const base = row * nx;
      for (let i = 0; i < nx; i++) {
        const lo = i - r < 0 ? 0 : i - r, hi = i + r >= nx ? nx - 1 : i + r;
        let acc = 0;
        for (let j = lo; j <= hi; j++) acc += w[j - i + r]! * src[base + j]!;
        dst[base + i] = acc;
      }
    }
    return;
  }
  // y: lines of nx inside each z plane; z: planes of ny * nx
  const len = axis === 1 ? ny : nz, run = axis === 1 ? nx : nx * ny, outer = axis === 1 ? nz : 1, plane = ny * nx;
  for (let o = 0; o < outer; o++) {
    const b0 = o * plane;
    for (let i = 0; i < len; i++) {
      const d = b0 + i * run;
      dst.fill(0, d, d + run);
      const lo = i - r < 0 ? 0 : i - r, hi = i + r >= len ? len - 1 : i + r;
      for (let j = lo; j <= hi; j++) {
        const wj = w[j - i + r]!, s = b0 + j * run;
        for (let x = 0; x < run; x++) dst[d + x] += wj * src[s + x]!;
      }
    }
  }
}

/** Smooths each channel (a volume of `shape`, x fastest) in place; `tmp` (same length) is scratch. */
export function smoothChannels(channels: Float32Array[], shape: Shape3, s: ProbSmoothing, tmp?: Float32Array): void {
  const w = smoothingKernel(s);
  const n = shape[0] * shape[1] * shape[2];
  const t = tmp && tmp.length >= n ? tmp : new Float32Array(n);
  for (const c of channels) {
    pass(c, t, w, shape, 2);
    pass(t, c, w, shape, 1);
    if (shape[0] > 1) {
      pass(c, t, w, shape, 0);
      c.set(t.subarray(0, n));
    }
  }
}

/** Rescales each voxel's class values to sum 1 (voxels summing 0 stay 0). */
export function normaliseProbabilities(channels: Float32Array[]): void {
  const n = channels[0]?.length ?? 0;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (const c of channels) s += c[i]!;
    if (s > 0) for (const c of channels) c[i] = c[i]! / s;
  }
}

/** Index of the largest channel at each voxel (0..K-1); 255 where every channel is 0. */
export function argmaxChannels(channels: Float32Array[]): Uint8Array {
  const n = channels[0]?.length ?? 0;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    let b = 255, best = 0;
    for (let k = 0; k < channels.length; k++) if (channels[k]![i]! > best) { best = channels[k]![i]!; b = k; }
    out[i] = b;
  }
  return out;
}
