/**
 * Robust fit of the plane z = a*x + b*y + c to column heights: RANSAC (Fischler & Bolles 1981)
 * on 3-point samples, then least squares re-fitted on the inliers a few times with a band
 * that shrinks to 2.5 x the inlier RMS (pores, grain pull-outs and sample edges are outliers).
 */
export interface PlaneFitResult {
  a: number;
  b: number;
  c: number;
  residualRms: number;
  inliers: number;
}

/** Small deterministic PRNG (mulberry32) so surface detection is reproducible. */
export function mulberry32(seed: number): () => number {
  let t = seed >>> 0;
  return () => {
    t = (t + 0x6d2b79f5) >>> 0;
    let r = Math.imul(t ^ (t >>> 15), 1 | t);
    r ^= r + Math.imul(r ^ (r >>> 7), 61 | r);
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
}

function solve3(m: number[], r: number[]): [number, number, number] | null {
  const [a, b, c, d, e, f, g, h, i] = m;
  const det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
  if (Math.abs(det) < 1e-9) return null;
  const x = (r[0] * (e * i - f * h) - b * (r[1] * i - f * r[2]) + c * (r[1] * h - e * r[2])) / det;
  const y = (a * (r[1] * i - f * r[2]) - r[0] * (d * i - f * g) + c * (d * r[2] - r[1] * g)) / det;
  const z = (a * (e * r[2] - r[1] * h) - b * (d * r[2] - r[1] * g) + r[0] * (d * h - e * g)) / det;
  return [x, y, z];
}

/** Least squares over points whose |residual| to `prev` is below `band` (all when prev is null). */
function leastSquares(xs: Float32Array, ys: Float32Array, zs: Float32Array, prev: number[] | null, band: number) {
  const m = [0, 0, 0, 0, 0, 0, 0, 0, 0], r = [0, 0, 0];
  let n = 0;
  for (let i = 0; i < zs.length; i++) {
    const x = xs[i], y = ys[i], z = zs[i];
    if (prev && Math.abs(z - (prev[0] * x + prev[1] * y + prev[2])) > band) continue;
    m[0] += x * x; m[1] += x * y; m[2] += x; m[4] += y * y; m[5] += y; m[8] += 1;
    r[0] += x * z; r[1] += y * z; r[2] += z; n++;
  }
  m[3] = m[1]; m[6] = m[2]; m[7] = m[5];
  return n >= 3 ? solve3(m, r) : null;
}

function residualStats(xs: Float32Array, ys: Float32Array, zs: Float32Array, p: number[], band: number) {
  const a = p[0], b = p[1], c = p[2];
  let n = 0, ss = 0;
  for (let i = 0; i < zs.length; i++) {
    const d = zs[i] - (a * xs[i] + b * ys[i] + c);
    if (d <= band && d >= -band) { n++; ss += d * d; }
  }
  return { n, rms: n ? Math.sqrt(ss / n) : Infinity };
}

/**
 * Inliers of plane p within band, or -1 as soon as it cannot exceed `beat` (more than N - beat
 * outliers seen): the RANSAC loop keeps a hypothesis only when it beats the best so far.
 */
function inliersAbove(xs: Float32Array, ys: Float32Array, zs: Float32Array, p: number[], band: number, beat: number): number {
  const a = p[0], b = p[1], c = p[2], allowed = zs.length - beat;
  let out = 0;
  for (let i = 0; i < zs.length; i++) {
    const d = zs[i] - (a * xs[i] + b * ys[i] + c);
    if (!(d <= band && d >= -band) && ++out >= allowed) return -1;
  }
  return zs.length - out;
}

export function fitPlaneRobust(xs: Float32Array, ys: Float32Array, zs: Float32Array, seed = 1): PlaneFitResult | null {
  const N = zs.length;
  if (N < 3) return null;
  const rand = mulberry32(seed);
  const band0 = 1.0;
  let best: number[] | null = null, bestN = -1;
  for (let it = 0; it < 300; it++) {
    const i = (rand() * N) | 0, j = (rand() * N) | 0, k = (rand() * N) | 0;
    const p = solve3([xs[i], ys[i], 1, xs[j], ys[j], 1, xs[k], ys[k], 1], [zs[i], zs[j], zs[k]]);
    if (!p) continue;
    const n = inliersAbove(xs, ys, zs, p, band0, bestN);
    if (n > bestN) { bestN = n; best = p; }
  }
  if (!best) return null;
  let p: number[] = best, band = band0;
  for (let it = 0; it < 5; it++) {
    const q = leastSquares(xs, ys, zs, p, band);
    if (!q) break;
    p = q;
    band = Math.max(0.5, 2.5 * residualStats(xs, ys, zs, p, band).rms);
  }
  const { n, rms } = residualStats(xs, ys, zs, p, band);
  return { a: p[0], b: p[1], c: p[2], residualRms: rms, inliers: n };
}
