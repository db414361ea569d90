/**
 * Truth-free measures of a classifier's probabilities (lib/classify/quality-estimate): temperature
 * scaling fitted on labelled rows, the expected IoU per class from probabilities (a soft confusion
 * matrix), the mean top probability. No TF.js: plain arrays, testable on their own.
 */

/** p^(1/T), renormalised per row (temperature scaling of the log-probabilities; exact for a softmax model). */
export function withTemperature(p: Float32Array, K: number, T: number): Float32Array {
  if (T === 1) return p;
  const out = new Float32Array(p.length);
  const inv = 1 / T;
  for (let i = 0; i < p.length; i += K) {
    let s = 0;
    for (let k = 0; k < K; k++) s += out[i + k] = Math.pow(Math.max(p[i + k]!, 1e-12), inv);
    for (let k = 0; k < K; k++) out[i + k] = out[i + k]! / s;
  }
  return out;
}

/** Mean negative log-likelihood of the labels (class indices, -1 = skip) under p at temperature T. */
export function nll(p: Float32Array, y: Int32Array, K: number, T: number): number {
  let s = 0, m = 0;
  const inv = 1 / T;
  for (let i = 0; i < y.length; i++) {
    const k0 = y[i]!;
    if (k0 < 0) continue;
    let lse = 0;
    for (let k = 0; k < K; k++) lse += Math.pow(Math.max(p[i * K + k]!, 1e-12), inv);
    s -= inv * Math.log(Math.max(p[i * K + k0]!, 1e-12)) - Math.log(lse);
    m++;
  }
  return m ? s / m : NaN;
}

/**
 * The temperature (0.25..8, golden-section on log T) that minimises the NLL of the labelled rows:
 * T > 1 softens an over-confident model. 1 without rows.
 */
export function fitTemperature(p: Float32Array, y: Int32Array, K: number): number {
  if (!y.some((k) => k >= 0)) return 1;
  let a = Math.log(0.25), b = Math.log(8);
  const g = (Math.sqrt(5) - 1) / 2;
  let c = b - g * (b - a), d = a + g * (b - a);
  let fc = nll(p, y, K, Math.exp(c)), fd = nll(p, y, K, Math.exp(d));
  for (let it = 0; it < 40; it++) {
    if (fc < fd) { b = d; d = c; fd = fc; c = b - g * (b - a); fc = nll(p, y, K, Math.exp(c)); }
    else { a = c; c = d; fc = fd; d = a + g * (b - a); fd = nll(p, y, K, Math.exp(d)); }
  }
  return Math.exp((a + b) / 2);
}

/**
 * Expected IoU per class from probabilities: with predicted class = argmax, E[TP_c] = sum of p_c
 * over voxels predicted c, E[support_c] = sum of p_c over all voxels, so E[IoU_c] ≈ E[TP] /
 * (E[support] + predicted_c - E[TP]). NaN for a class neither predicted nor expected (< 0.5 voxel).
 * `decide`: the probabilities the map's argmax is taken from, when `p` are other (calibrated) ones.
 */
export function expectedIoUPerClass(p: Float32Array, K: number, decide?: Float32Array): number[] {
  const n = p.length / K;
  const tp = new Float64Array(K), support = new Float64Array(K), predicted = new Float64Array(K);
  const d = decide ?? p;
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let k = 1; k < K; k++) if (d[i * K + k]! > d[i * K + best]!) best = k;
    predicted[best]++;
    tp[best] += p[i * K + best]!;
    for (let k = 0; k < K; k++) support[k] += p[i * K + k]!;
  }
  return Array.from({ length: K }, (_, k) => {
    const u = support[k]! + predicted[k]! - tp[k]!;
    if (support[k]! < 0.5 && predicted[k]! === 0) return NaN;
    return u > 0 ? tp[k]! / u : 0;
  });
}

/** Mean of the finite values (NaN when none). */
export function finiteMean(v: number[]): number {
  const f = v.filter(Number.isFinite);
  return f.length ? f.reduce((a, b) => a + b, 0) / f.length : NaN;
}

/** Class codes -> class indices of `classes` (-1 for codes not among them). */
export function classIndices(y: Uint8Array, classes: number[]): Int32Array {
  const lut = new Int32Array(256).fill(-1);
  classes.forEach((c, k) => (lut[c] = k));
  return Int32Array.from(y, (c) => lut[c]!);
}


/**
 * Probabilities under other class priors (label shift, Saerens et al. 2002): p_k * to_k / from_k,
 * renormalised. A model trained on class-capped labels assumes the capped shares (`from`); the
 * volume has its own (`to`: the EDS map's area shares, which are the volume shares by Delesse).
 */
export function withPriors(p: Float32Array, K: number, from: number[], to: number[]): Float32Array {
  const w = Array.from({ length: K }, (_, k) => Math.max(1e-6, to[k]!) / Math.max(1e-6, from[k]!));
  const out = new Float32Array(p.length);
  for (let i = 0; i < p.length; i += K) {
    let s = 0;
    for (let k = 0; k < K; k++) s += out[i + k] = p[i + k]! * w[k]!;
    for (let k = 0; k < K; k++) out[i + k] = s > 0 ? out[i + k]! / s : 1 / K;
  }
  return out;
}

/**
 * Each class's ceiling: the mean probability the model gives a class on labelled rows of that
 * class (at temperature T), i.e. what "surely this class" looks like to the model. Trained on EDS
 * labels, a model never reaches 1 on a class whose labels are often wrong (small grains such as
 * pyrite: nearly every EDS pixel mixes phases), so its probabilities for that class read low
 * everywhere, also where its map is right. Not below `floor`: a class the model hardly ever
 * predicts (style B's clay: ceiling 0.15) is confused, not cautious, and dividing by its ceiling
 * would hand it the other classes' voxels (floor 0.6: fitted with DEPTH_TEMPERATURE). 1 for a class with fewer than `minRows` labelled rows.
 */
export function classCeilings(p: Float32Array, y: Int32Array, K: number, T: number, o: { minRows?: number; floor?: number } = {}): number[] {
  const minRows = o.minRows ?? 10, floor = o.floor ?? 0.6;
  const q = withTemperature(p, K, T);
  const sum = new Float64Array(K), cnt = new Float64Array(K);
  for (let i = 0; i < y.length; i++) {
    const k = y[i]!;
    if (k < 0) continue;
    sum[k] += q[i * K + k]!;
    cnt[k]++;
  }
  return Array.from({ length: K }, (_, k) => (cnt[k]! >= minRows && sum[k]! > 0 ? Math.max(floor, sum[k]! / cnt[k]!) : 1));
}

/**
 * The soft confusion of an argmax map: entry [t * K + c] = sum of q_t over the voxels whose class
 * (argmax of `decide`) is c; column c sums to the count predicted c, row t to the expected support of t.
 */
export function softConfusion(q: Float32Array, K: number, decide: Float32Array = q): { confusion: Float64Array; predicted: Float64Array } {
  const n = q.length / K;
  const confusion = new Float64Array(K * K), predicted = new Float64Array(K);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let k = 1; k < K; k++) if (decide[i * K + k]! > decide[i * K + best]!) best = k;
    predicted[best]++;
    for (let t = 0; t < K; t++) confusion[t * K + best] += q[i * K + t]!;
  }
  return { confusion, predicted };
}

/**
 * The soft confusion raked toward a census of the true classes (iterative proportional fitting):
 * each row t is scaled to (1 - weight) * its own sum + weight * shares[t] * n, each column back to
 * the count the map predicts, alternately until both hold. `shares` (the EDS map's area fractions,
 * the volume's by Delesse) are renormalised over the K classes. weight 0: unchanged.
 */
export function rakeToCensus(confusion: Float64Array, predicted: Float64Array, K: number, shares: number[], weight: number, iterations = 60): Float64Array {
  const C = Float64Array.from(confusion);
  if (!(weight > 0)) return C;
  const n = predicted.reduce((a, b) => a + b, 0);
  const sTot = shares.reduce((a, b) => a + Math.max(0, b), 0);
  if (!(sTot > 0) || !(n > 0)) return C;
  const target = Array.from({ length: K }, (_, t) => {
    let row = 0;
    for (let c = 0; c < K; c++) row += C[t * K + c]!;
    return (1 - weight) * row + (weight * n * Math.max(0, shares[t]!)) / sTot;
  });
  for (let it = 0; it < iterations; it++) {
    for (let t = 0; t < K; t++) {
      let row = 0;
      for (let c = 0; c < K; c++) row += C[t * K + c]!;
      if (row > 0) for (let c = 0; c < K; c++) C[t * K + c] = (C[t * K + c]! * target[t]!) / row;
    }
    for (let c = 0; c < K; c++) {
      let col = 0;
      for (let t = 0; t < K; t++) col += C[t * K + c]!;
      if (col > 0) for (let t = 0; t < K; t++) C[t * K + c] = (C[t * K + c]! * predicted[c]!) / col;
    }
  }
  return C;
}

/** IoU per class of a (soft) confusion: diagonal / (row + column - diagonal); NaN for a class neither predicted nor expected (< 0.5 voxel). */
export function iouFromConfusion(C: Float64Array, predicted: Float64Array, K: number): number[] {
  return Array.from({ length: K }, (_, k) => {
    let row = 0;
    for (let c = 0; c < K; c++) row += C[k * K + c]!;
    if (row < 0.5 && predicted[k]! === 0) return NaN;
    const u = row + predicted[k]! - C[k * K + k]!;
    return u > 0 ? C[k * K + k]! / u : 0;
  });
}

/**
 * The soft confusion (softConfusion) with voxels whose features lie outside the training range
 * (`outside`: 1 at such a voxel) counted as partly belonging to no class the model knows: `weight`
 * of each such voxel's probabilities leaves its rows (a mineral the labels never showed, or one the
 * EDS map barely held, is called one of the known classes, and the model's probability there says
 * nothing). Those voxels stay in the count predicted for their class, so the class's IoU drops.
 * Returns the confusion and its column sums (the known-class part of each predicted count), which
 * rakeToCensus takes as the column totals. weight 0 or no `outside`: softConfusion's columns.
 */
export function withUnseen(confusion: Float64Array, q: Float32Array, K: number, decide: Float32Array, outside: ArrayLike<number> | null | undefined, weight: number): { confusion: Float64Array; columns: Float64Array } {
  const C = Float64Array.from(confusion);
  const n = q.length / K;
  if (outside && weight > 0) {
    for (let i = 0; i < n; i++) {
      if (!outside[i]) continue;
      let best = 0;
      for (let k = 1; k < K; k++) if (decide[i * K + k]! > decide[i * K + best]!) best = k;
      for (let t = 0; t < K; t++) C[t * K + best] -= weight * q[i * K + t]!;
    }
  }
  const columns = new Float64Array(K);
  for (let c = 0; c < K; c++) for (let t = 0; t < K; t++) columns[c] += Math.max(0, C[t * K + c]!);
  for (let i = 0; i < C.length; i++) C[i] = Math.max(0, C[i]!);
  return { confusion: C, columns };
}
