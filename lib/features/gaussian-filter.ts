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

/**
 * Feature definition version 3 (plan.ts): the one-sided ("downward-looking") weights along z.
 * Over the taps j = 0..R (R = kernelRadius(sigma, truncate), at least `order`), with the
 * half-Gaussian weights phi(j) = exp(-j^2 / 2 sigma^2), order 0 is the weighted mean
 * (phi / sum phi), order 1 the slope of the weighted least-squares line through the samples and
 * order 2 twice the quadratic coefficient of the weighted least-squares parabola: exact on
 * polynomials of that degree (orders 1 and 2 sum to 0), so constants and ramps read as they do with
 * the symmetric kernels. Returned as correlation weights of length 2R + 1 whose first R are 0
 * (out[i] = sum_k w[k + R] in[i + k], k = -R..R): a voxel reads only itself and the voxels after it.
 */
export function oneSidedWeights(sigma: number, order: number, truncate = TRUNCATE): Float64Array {
  if (order < 0 || order > 2) throw new Error(`internal: one-sided weights of order ${order}`);
  const R = Math.max(kernelRadius(sigma, truncate), order, 1);
  const phi = new Float64Array(R + 1);
  for (let j = 0; j <= R; j++) phi[j] = Math.exp((-0.5 * j * j) / (sigma * sigma));
  const deg = order; // polynomial degree of the fit
  const nb = deg + 1;
  // normal equations (A^T Phi A) c = A^T Phi y, basis j^p; weights = row `order` of (A^T Phi A)^-1 A^T Phi
  const M: number[][] = Array.from({ length: nb }, () => new Array<number>(nb).fill(0));
  for (let j = 0; j <= R; j++) for (let p = 0; p < nb; p++) for (let q = 0; q < nb; q++) M[p]![q]! += phi[j]! * j ** (p + q);
  const inv = invertSmall(M);
  const out = new Float64Array(2 * R + 1);
  const fact = order === 2 ? 2 : 1;
  for (let j = 0; j <= R; j++) {
    let v = 0;
    for (let q = 0; q < nb; q++) v += inv[order]![q]! * j ** q;
    out[R + j] = fact * v * phi[j]!;
  }
  return out;
}

/** Inverse of a small symmetric positive definite matrix (Gauss-Jordan, float64). */
function invertSmall(m: number[][]): number[][] {
  const n = m.length;
  const a = m.map((row, i) => [...row, ...Array.from({ length: n }, (_, j) => (i === j ? 1 : 0))]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(a[r]![c]!) > Math.abs(a[p]![c]!)) p = r;
    [a[c], a[p]] = [a[p]!, a[c]!];
    const d = a[c]![c]!;
    for (let k = 0; k < 2 * n; k++) a[c]![k]! /= d;
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = a[r]![c]!;
      for (let k = 0; k < 2 * n; k++) a[r]![k]! -= f * a[c]![k]!;
    }
  }
  return a.map((row) => row.slice(n));
}
