/**
 * Grey-value histogram and percentiles, computed in the browser from a raw slice sample.
 * Pure functions: no React, no DOM.
 *
 * Percentiles come from the sorted sample (exact), not from the bins: a single hot pixel at
 * 65535 would otherwise make the bins so wide that the 1–99 % window lands bins away from the
 * data. For the same reason the plotted range is the 0.1–99.9 % range (padded), not min..max.
 */
export interface HistogramData {
  /** counts per bin over [lo, hi] (values outside are not plotted) */
  counts: number[];
  /** plotted range: left edge of bin 0, right edge of the last bin */
  lo: number;
  hi: number;
  /** 1st and 99th percentile (the "auto" window) */
  p1: number;
  p99: number;
  /** smallest and largest sampled value (the "full" window) */
  min: number;
  max: number;
  /** number of values sampled */
  n: number;
}

/** At most this many values are sorted; larger inputs are sampled with a regular stride. */
const MAX_SAMPLE = 1 << 18;

export function computeHistogram(values: ArrayLike<number>, nBins = 128): HistogramData {
  const sorted = finiteSample(values).sort();
  const n = sorted.length;
  if (n === 0) return { counts: new Array(nBins).fill(0), lo: 0, hi: 1, p1: 0, p99: 1, min: 0, max: 1, n: 0 };
  const q = (f: number) => quantileSorted(sorted, f);
  const min = sorted[0]!;
  const max = sorted[n - 1]!;
  let lo = q(0.001);
  let hi = q(0.999);
  const pad = (hi - lo) * 0.03;
  lo = Math.max(min, lo - pad);
  hi = Math.min(max, hi + pad);
  if (hi <= lo) hi = lo + 1;
  const counts = new Array<number>(nBins).fill(0);
  const scale = nBins / (hi - lo);
  for (let i = 0; i < n; i++) {
    const v = sorted[i]!;
    if (v < lo || v > hi) continue;
    counts[Math.min(nBins - 1, Math.floor((v - lo) * scale))]!++;
  }
  let p1 = q(0.01);
  let p99 = q(0.99);
  if (p99 <= p1) p99 = p1 + 1;
  return { counts, lo, hi, p1, p99, min, max, n };
}

function finiteSample(values: ArrayLike<number>): Float32Array {
  const stride = Math.max(1, Math.ceil(values.length / MAX_SAMPLE));
  const out = new Float32Array(Math.ceil(values.length / stride));
  let k = 0;
  for (let i = 0; i < values.length; i += stride) {
    const v = values[i]!;
    if (Number.isFinite(v)) out[k++] = v;
  }
  return out.subarray(0, k);
}

/** Linear-interpolated quantile of an ascending array. */
export function quantileSorted(sorted: ArrayLike<number>, f: number): number {
  const pos = Math.max(0, Math.min(sorted.length - 1, f * (sorted.length - 1)));
  const i = Math.floor(pos);
  const a = sorted[i]!;
  const b = sorted[Math.min(sorted.length - 1, i + 1)]!;
  return a + (b - a) * (pos - i);
}
