/**
 * Find the polished top surface of the sample inside the volume: per (x, y) column the subvoxel
 * depth where air turns into rock, then a robust plane fit (see plane-fit.ts). The plane returned
 * passes through the centres of the first rock voxel layer (the air/rock edge + 0.5 voxel).
 *
 * Throws Unprocessable when there is no air above the sample (volume cropped at the surface) or
 * no column reaches rock within the searched depth.
 */
import { throwIfAborted, unprocessable, type StageOptions } from '../errors';
import { otsu } from './otsu';
import { fitPlaneRobust } from './plane-fit';
import type { SurfaceFit } from './types';
import { readZRange, type VolumeSource } from './volume-source';

export interface DetectSurfaceOptions extends StageOptions {
  /** how many slices from the top to search (default min(nz, 64)) */
  maxDepthVox?: number;
  /** keep the per-column heights in the result (default false) */
  keepHeightMap?: boolean;
}

/**
 * 3x3 in-plane box mean of every slice, so single noisy voxels do not fake a crossing. Separable
 * (rows of three, then three rows); the sums of float32 voxels in float64 are exact, so this is the
 * plain 3x3 mean.
 */
function smoothSlices(data: Float32Array, nz: number, ny: number, nx: number): Float32Array {
  const out = new Float32Array(data.length);
  const rows = new Float64Array(ny * nx), nr = new Float64Array(nx);
  for (let x = 0; x < nx; x++) nr[x] = (x > 0 ? 1 : 0) + 1 + (x + 1 < nx ? 1 : 0);
  for (let z = 0; z < nz; z++) {
    const o = z * ny * nx;
    for (let y = 0; y < ny; y++) rowSums(data, o + y * nx, rows, y * nx, nx);
    for (let y = 0; y < ny; y++) {
      const up = y > 0 ? (y - 1) * nx : -1, down = y + 1 < ny ? (y + 1) * nx : -1;
      const m = (up < 0 ? 0 : 1) + 1 + (down < 0 ? 0 : 1);
      for (let x = 0; x < nx; x++) {
        let sum = rows[y * nx + x];
        if (up >= 0) sum = rows[up + x] + sum;
        if (down >= 0) sum += rows[down + x];
        out[o + y * nx + x] = sum / (m * nr[x]);
      }
    }
  }
  return out;
}

/** Sums of three neighbours along one row (two at its ends). */
function rowSums(data: Float32Array, from: number, rows: Float64Array, to: number, nx: number): void {
  for (let x = 0; x < nx; x++) {
    let s = data[from + x];
    if (x > 0) s = data[from + x - 1] + s;
    if (x + 1 < nx) s += data[from + x + 1];
    rows[to + x] = s;
  }
}

/** Linear-interpolated position where column values cross `level` upwards, searching z in [lo, hi). */
function crossing(d: Float32Array, plane: number, col: number, level: number, lo: number, hi: number): number {
  for (let z = Math.max(1, lo); z < hi; z++) {
    const v = d[z * plane + col];
    if (v < level) continue;
    const p = d[(z - 1) * plane + col];
    if (p >= level) continue;
    return z - 1 + (level - p) / (v - p);
  }
  return NaN;
}

/**
 * Subvoxel height of the air -> rock transition in column (y, x). A rough crossing of the global
 * level (value and the next one above it) locates the edge; the edge is then placed where the
 * column crosses half-way between air and the rock just below it (the 50 % point of a blurred
 * step), so a dark or bright mineral at the surface does not bias the depth. NaN when the column
 * starts in rock (or in one dark voxel) or never reaches rock.
 */
function columnHeight(d: Float32Array, nz: number, plane: number, col: number, rough: number): number {
  // two air voxels on top: a single dark top voxel is as likely a pore cut by the volume's edge
  if (d[col] >= rough || d[plane + col] >= rough) return NaN;
  let z1 = -1;
  for (let z = 2; z + 1 < nz; z++) {
    if (d[z * plane + col] >= rough && d[(z + 1) * plane + col] >= rough) { z1 = z; break; }
  }
  if (z1 < 0 || z1 + 3 >= nz) return NaN;
  // this column's own air and rock levels (a global air level is biased by pores in the top slice)
  let rock = 0, air = 0;
  for (let z = z1 + 2; z <= z1 + 3; z++) rock += d[z * plane + col] / 2;
  for (let z = 0; z <= z1 - 2; z++) air += d[z * plane + col] / (z1 - 1);
  return crossing(d, plane, col, (air + rock) / 2, z1 - 2, z1 + 3);
}

export async function detectSurface(volume: VolumeSource, opts: DetectSurfaceOptions = {}): Promise<SurfaceFit> {
  const { signal, onProgress } = opts;
  const [nz, ny, nx] = volume.meta.shape;
  const depth = Math.min(nz, Math.max(4, opts.maxDepthVox ?? 64));
  onProgress?.(0, 'reading the top of the volume');
  const top = await readZRange(volume, 0, depth, signal);
  throwIfAborted(signal);
  const d = smoothSlices(top.data, depth, ny, nx);
  const { threshold, lowMean, highMean } = otsu(d);
  const plane = ny * nx;
  let airTop = 0, air = 0;
  for (let i = 0; i < plane; i++) if (d[i] < threshold) { airTop++; air += d[i]; }
  air = airTop ? air / airTop : lowMean;
  const level = air + 0.35 * (highMean - air);
  if (!(highMean > lowMean) || airTop < 0.2 * plane) {
    throw unprocessable(
      `No air layer found above the sample in the top ${depth} slices: is the volume cropped at the surface? ` +
        'Registration needs a few slices of air above the polished surface.',
      { details: { airTopFraction: airTop / plane } },
    );
  }
  onProgress?.(0.3, 'tracing the air/rock transition');
  const heights = new Float32Array(plane);
  const xs: number[] = [], ys: number[] = [], zs: number[] = [];
  const step = Math.max(1, Math.floor(Math.sqrt(plane / 40000)));
  for (let y = 0; y < ny; y++) {
    throwIfAborted(signal);
    for (let x = 0; x < nx; x++) {
      const h = columnHeight(d, depth, plane, y * nx + x, level);
      heights[y * nx + x] = h;
      if (h === h && y % step === 0 && x % step === 0) { xs.push(x); ys.push(y); zs.push(h); }
    }
  }
  const columns = plane / (step * step);
  if (zs.length < Math.max(3, 0.3 * columns)) {
    throw unprocessable(
      `An air layer above the sample was found over only ${Math.round((100 * zs.length) / columns)} % of the field in the top ${depth} slices: ` +
        'is the volume cropped at (or through) the surface? Registration needs air above most of the polished surface; otherwise give the surface plane explicitly.',
    );
  }
  onProgress?.(0.7, 'fitting the surface plane');
  const fit = fitPlaneRobust(Float32Array.from(xs), Float32Array.from(ys), Float32Array.from(zs));
  if (!fit || fit.inliers < 0.5 * zs.length) {
    throw unprocessable('The air/rock transition does not form a plane (rough or broken surface, or no air above the sample): cannot find the polished surface; give the surface plane explicitly.');
  }
  const [sz, sy, sx] = volume.meta.spacingUm;
  const gx = (fit.a * sz) / sx, gy = (fit.b * sz) / sy;
  onProgress?.(1, 'surface found');
  return {
    a: fit.a,
    b: fit.b,
    // the 50 % crossing lies half a voxel above the centres of the first rock layer, which is
    // where the plane is defined (lib/synthetic's convention: EDS pixels sit on rock voxel centres)
    c: fit.c + top.z0 + 0.5,
    tiltDeg: (Math.atan(Math.hypot(gx, gy)) * 180) / Math.PI,
    azimuthDeg: (Math.atan2(gy, gx) * 180) / Math.PI,
    residualRms: fit.residualRms,
    inlierFraction: fit.inliers / (plane / (step * step)),
    threshold: level,
    heightMap: opts.keepHeightMap ? heights : undefined,
  };
}
