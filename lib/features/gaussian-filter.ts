/**
 * scipy.ndimage's Gaussian filtering in plain float64 (kernels, correlate1d, gaussian_filter):
 * the reference of the wasm kernels, and the source of the weights they apply.
 */
import type { Shape3 } from '../volume/types';
import { kernelRadius, TRUNCATE } from './plan';

/** scipy.ndimage._gaussian_kernel1d(sigma, order, radius): kernel over x = -radius..radius. */
export function gaussianKernel1d(sigma: number, order: number, radius: number): Float64Array {
  const n = 2 * radius + 1;
  const phi = new Float64Array(n);
  const s2 = sigma * sigma;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const x = i - radius;
    phi[i] = Math.exp((-0.5 / s2) * x * x);
    sum += phi[i]!;
  }
  for (let i = 0; i < n; i++) phi[i]! /= sum;
  if (order === 0) return phi;
  // polynomial q with (q * phi)' = (q' + q * p') phi, p' = -x / s2
  let q = [1];
  for (let o = 0; o < order; o++) {
    const next = new Array<number>(q.length + 1).fill(0);
    for (let k = 1; k < q.length; k++) next[k - 1]! += k * q[k]!;
    for (let k = 0; k < q.length; k++) next[k + 1]! += -q[k]! / s2;
    q = next;
  }
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const x = i - radius;
    let v = 0;
    for (let k = q.length - 1; k >= 0; k--) v = v * x + q[k]!;
    out[i] = v * phi[i]!;
  }
  return out;
}

/**
 * The correlation weights scipy's gaussian_filter1d applies: the kernel reversed
 * (out[i] = sum_k w[k + r] in[i + k]).
 */
export function gaussianWeights(sigma: number, order: number, truncate = TRUNCATE): Float64Array {
  const r = kernelRadius(sigma, truncate);
  if (r === 0) return Float64Array.of(order === 0 ? 1 : 0);
  return gaussianKernel1d(sigma, order, r).reverse();
}

export function mapIndex(i: number, n: number, mode: 'reflect' | 'nearest'): number {
  if (mode === 'nearest') return i < 0 ? 0 : i >= n ? n - 1 : i;
  if (n === 1) return 0;
  const p = 2 * n;
  let m = i % p;
  if (m < 0) m += p;
  return m < n ? m : p - 1 - m;
}

/** scipy.ndimage.correlate1d(src, weights, axis, mode), origin 0, float64. */
export function correlate1d(
  src: Float64Array,
  shape: Shape3,
  axis: number,
  weights: ArrayLike<number>,
  mode: 'reflect' | 'nearest' = 'reflect',
): Float64Array {
  const out = new Float64Array(src.length);
  const [nz, ny, nx] = shape;
  const n = shape[axis]!;
  const stride = axis === 0 ? ny * nx : axis === 1 ? nx : 1;
  const r = (weights.length - 1) / 2;
  const idx = new Int32Array(n + 2 * r);
  for (let i = 0; i < n + 2 * r; i++) idx[i] = mapIndex(i - r, n, mode);
  const line = new Float64Array(n);
  for (let z = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) {
    const pos = [z, y, x];
    if (pos[axis] !== 0) continue;
    const base = (z * ny + y) * nx + x;
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let k = 0; k < weights.length; k++) s += weights[k]! * src[base + idx[i + k]! * stride]!;
      line[i] = s;
    }
    for (let i = 0; i < n; i++) out[base + i * stride] = line[i]!;
  }
  return out;
}

/** scipy.ndimage.gaussian_filter(src, sigma=sigmas, order=orders, mode, truncate=4). */
export function gaussianFilter(
  src: Float64Array,
  shape: Shape3,
  sigmas: readonly number[],
  orders: readonly number[] = [0, 0, 0],
  mode: 'reflect' | 'nearest' = 'reflect',
): Float64Array {
  let cur = src;
  for (let a = 0; a < 3; a++) {
    if (sigmas[a]! <= 1e-15 && orders[a] === 0) continue;
    cur = correlate1d(cur, shape, a, gaussianWeights(sigmas[a]!, orders[a]!), mode);
  }
  return cur === src ? Float64Array.from(src) : cur;
}

