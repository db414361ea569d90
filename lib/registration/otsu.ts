/**
 * Otsu's threshold (N. Otsu, "A threshold selection method from gray-level histograms", 1979):
 * the cut of a 256-bin histogram that maximises the between-class variance. Also returns both
 * class means, which the surface finder uses to place its crossing level half-way between them.
 */
export interface OtsuResult {
  threshold: number;
  lowMean: number;
  highMean: number;
}

export function otsu(values: Float32Array, bins = 256): OtsuResult {
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < values.length; i++) { const v = values[i]; if (v === v) { if (v < lo) lo = v; if (v > hi) hi = v; } }
  if (!(hi > lo)) return { threshold: lo, lowMean: lo, highMean: lo };
  const hist = new Float64Array(bins);
  const w = (hi - lo) / bins;
  for (let i = 0; i < values.length; i++) { const v = values[i]; if (v === v) hist[Math.min(bins - 1, Math.floor((v - lo) / w))]++; }
  let total = 0, sum = 0;
  for (let i = 0; i < bins; i++) { total += hist[i]; sum += hist[i] * (i + 0.5); }
  let n0 = 0, s0 = 0, best = -1, bestI = 0;
  for (let i = 0; i < bins - 1; i++) {
    n0 += hist[i]; s0 += hist[i] * (i + 0.5);
    const n1 = total - n0;
    if (n0 === 0 || n1 === 0) continue;
    const d = s0 / n0 - (sum - s0) / n1;
    const between = n0 * n1 * d * d;
    if (between > best) { best = between; bestI = i; }
  }
  n0 = 0; s0 = 0;
  for (let i = 0; i <= bestI; i++) { n0 += hist[i]; s0 += hist[i] * (i + 0.5); }
  const toValue = (b: number) => lo + b * w;
  return { threshold: toValue(bestI + 1), lowMean: toValue(s0 / n0), highMean: toValue((sum - s0) / (total - n0)) };
}
