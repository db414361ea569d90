/**
 * Threshold below which `count` of the finite values in [lo, hi) lie, by a fine histogram: a linear
 * pass instead of sorting millions of voxels. Values outside [lo, hi) (incl. NaN, Infinity) are
 * ignored; the result is exact to (hi - lo) / bins.
 */
export function thresholdForCount(values: Float32Array, count: number, lo: number, hi: number, bins = 1 << 16): number {
  const hist = new Uint32Array(bins);
  const scale = bins / (hi - lo);
  for (let i = 0; i < values.length; i++) {
    const b = Math.floor((values[i] - lo) * scale);
    if (b >= 0 && b < bins) hist[b]++;
  }
  let acc = 0;
  for (let b = 0; b < bins; b++) {
    acc += hist[b];
    if (acc >= count) return lo + (b + 1) / scale;
  }
  return hi;
}
