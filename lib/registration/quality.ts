/**
 * Quality figures of a registration, computed on the slab: mutual information between slab grey
 * (32 quantile bins) and EDS class, and the share of the map that lands inside the volume.
 */
import { applyAffine2to3, invertAffine2, type Affine2, type Affine2to3 } from '../coords';
import type { Shape3 } from '../volume/types';
import type { MovingImage } from './moving-image';
import { rowSpan } from './pose';
import type { Slab } from './types';

/** MI in nats of (slab grey bin, EDS class) over slab pixels inside both images. */
export function mutualInformation(slab: Slab, mov: MovingImage, edsToSlab: Affine2, bins = 32): number {
  return mutualInformationOverlap(slab, mov, edsToSlab, bins).mi;
}

/**
 * Grey bin (0..bins-1, quantile cuts of the valid pixels) of every slab pixel, OUTSIDE outside
 * the volume. Cached per slab array: the search ranks 8 poses and the quality figures 2 more on the same slab.
 */
const OUTSIDE = 0xffff;
const binCache = new WeakMap<Float32Array, Map<number, Uint16Array>>();
function slabBins(data: Float32Array, bins: number): Uint16Array | null {
  let perSlab = binCache.get(data);
  const hit = perSlab?.get(bins);
  if (hit) return hit;
  const valid = data.filter((g) => g === g).sort();
  if (valid.length < 2) return null;
  const cuts = Array.from({ length: bins - 1 }, (_, i) => valid[Math.floor(((i + 1) * valid.length) / bins)]);
  const out = new Uint16Array(data.length).fill(OUTSIDE);
  for (let i = 0; i < data.length; i++) {
    const g = data[i];
    if (g !== g) continue;
    let lo = 0, hi = cuts.length;
    while (lo < hi) { const m = (lo + hi) >> 1; if (g >= cuts[m]) lo = m + 1; else hi = m; }
    out[i] = lo;
  }
  if (!perSlab) binCache.set(data, (perSlab = new Map()));
  perSlab.set(bins, out);
  return out;
}

/** MI and the number of slab pixels it was computed over. */
export function mutualInformationOverlap(slab: Pick<Slab, 'data' | 'width' | 'height'>, mov: MovingImage, edsToSlab: Affine2, bins = 32): { mi: number; overlap: number } {
  const binOf = slabBins(slab.data, bins);
  if (!binOf) return { mi: 0, overlap: 0 };
  const K = mov.classes, joint = new Float64Array(bins * K);
  const inv = invertAffine2(edsToSlab);
  let n = 0;
  for (let v = 0; v < slab.height; v++) {
    const [lo, hi] = rowSpan(inv, v, mov.width, mov.height, slab.width);
    for (let u = lo; u <= hi; u++) {
      const b = binOf[v * slab.width + u];
      if (b === OUTSIDE) continue;
      const eu = Math.round(inv[0] * u + inv[1] * v + inv[2]), ev = Math.round(inv[3] * u + inv[4] * v + inv[5]);
      if (eu < 0 || ev < 0 || eu >= mov.width || ev >= mov.height) continue;
      const k = mov.labels[ev * mov.width + eu];
      if (k < K) { joint[b * K + k]++; n++; }
    }
  }
  if (!n) return { mi: 0, overlap: 0 };
  const pb = new Float64Array(bins), pk = new Float64Array(K);
  for (let b = 0; b < bins; b++) for (let k = 0; k < K; k++) { pb[b] += joint[b * K + k] / n; pk[k] += joint[b * K + k] / n; }
  let mi = 0;
  for (let b = 0; b < bins; b++) for (let k = 0; k < K; k++) {
    const p = joint[b * K + k] / n;
    if (p > 0) mi += p * Math.log(p / (pb[b] * pk[k]));
  }
  return { mi, overlap: n };
}

/** Share of EDS pixel centres whose voxel position is inside the volume (z, y, x within bounds). */
export function mapCoverage(edsToVoxel: Affine2to3, width: number, height: number, shape: Shape3): number {
  let inside = 0, n = 0;
  const step = Math.max(1, Math.floor(Math.sqrt((width * height) / 250000)));
  for (let v = 0; v < height; v += step) for (let u = 0; u < width; u += step) {
    const [z, y, x] = applyAffine2to3(edsToVoxel, u, v);
    n++;
    if (z >= -0.5 && y >= -0.5 && x >= -0.5 && z <= shape[0] - 0.5 && y <= shape[1] - 0.5 && x <= shape[2] - 0.5) inside++;
  }
  return n ? inside / n : 0;
}

/**
 * Distance (voxels) between registered and true voxel positions of EDS pixel centres, over the
 * map's area inside the volume (true position within the volume). For synthetic samples, whose
 * generator knows the true EDS → voxel transform.
 */
export function registrationError(found: Affine2to3, truth: Affine2to3, width: number, height: number, shape: Shape3) {
  return registrationErrorAt((u, v) => applyAffine2to3(found, u, v), (u, v) => applyAffine2to3(truth, u, v), width, height, shape);
}

type PointMap = (u: number, v: number) => [number, number, number];

/** registrationError for maps that are not one affine (per-field registrations, distorted truth). */
export function registrationErrorAt(found: PointMap, truth: PointMap, width: number, height: number, shape: Shape3) {
  let sum = 0, max = 0, n = 0;
  for (let v = 0; v < height; v++) for (let u = 0; u < width; u++) {
    const t = truth(u, v);
    if (t[0] < -0.5 || t[1] < -0.5 || t[2] < -0.5 || t[0] > shape[0] - 0.5 || t[1] > shape[1] - 0.5 || t[2] > shape[2] - 0.5) continue;
    const f = found(u, v);
    const d = Math.hypot(f[0] - t[0], f[1] - t[1], f[2] - t[2]);
    sum += d; n++;
    if (d > max) max = d;
  }
  return { mean: n ? sum / n : Infinity, max: n ? max : Infinity, n };
}
