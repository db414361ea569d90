/**
 * Grey-value histogram and percentiles, computed in the browser from a raw slice sample.
 * Pure functions: no React, no DOM.
 */
export interface HistogramData {
  /** counts per bin */
  counts: number[];
  /** value at the left edge of bin 0 and the right edge of the last bin */
  lo: number;
  hi: number;
  /** 1st and 99th percentile of the sampled values (the "auto" window) */
  p1: number;
  p99: number;
  /** number of values sampled */
  n: number;
}

type Numeric = ArrayLike<number>;

/**
 * Histogram over [min, max] of `values` with `nBins` equal bins; percentiles from the cumulative
 * counts (bin resolution is enough for a display window).
 */
export function computeHistogram(values: Numeric, nBins = 128): HistogramData {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (!Number.isFinite(lo)) return { counts: new Array(nBins).fill(0), lo: 0, hi: 1, p1: 0, p99: 1, n: 0 };
  if (hi === lo) hi = lo + 1;
  const counts = new Array<number>(nBins).fill(0);
  const scale = nBins / (hi - lo);
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) continue;
    counts[Math.min(nBins - 1, Math.floor((v - lo) * scale))]!++;
    n++;
  }
  return { counts, lo, hi, p1: percentileFromCounts(counts, lo, hi, 0.01), p99: percentileFromCounts(counts, lo, hi, 0.99), n };
}

/** Value below which `q` of the counts fall, interpolated inside the bin. */
export function percentileFromCounts(counts: number[], lo: number, hi: number, q: number): number {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return q < 0.5 ? lo : hi;
  const target = q * total;
  const w = (hi - lo) / counts.length;
  let acc = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i]!;
    if (acc + c >= target) return lo + w * (i + (c ? (target - acc) / c : 0));
    acc += c;
  }
  return hi;
}
