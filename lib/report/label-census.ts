/**
 * One pass over a label volume for the whole report: how many voxels of each code lie in each depth
 * bin below the surface. Modal mineralogy (modal.ts) sums the bins, the depth profile (depth.ts)
 * reads them, so a report decodes the labels once instead of twice.
 *
 * Which voxels count, and in which bin, is the per-voxel definition:
 * - a voxel is in the sample when it is not above the surface (`isAboveSurface` of mirror.ts:
 *   `z < a·x + b·y + c − 0.5`), every voxel when there is no surface;
 * - its bin is `⌊d / binVox⌋` with d = (z − (a·x + (b·y + c − 0.5))) / √(1 + a² + b²), its distance
 *   below the surface along the plane's normal, in voxels (0 for the few sample voxels whose d
 *   rounds to just below 0).
 * Along a row both are monotone in x, even as rounded floating-point expressions (each operation
 * rounds monotonically), so a row splits into a few runs of one bin. The runs' ends are found by
 * evaluating the definition itself (a galloping search), and a run is counted with one histogram
 * increment per voxel: no per-voxel arithmetic, the same counts as the voxel-by-voxel loop.
 */
import { invalidInput, type StageOptions } from '../errors';
import type { SurfacePlane } from '../classify/mirror';
import type { VolumeStore } from '../volume/store';
import { forEachSlice } from './slices';

export interface LabelCensus {
  /** counts[bin * 256 + code]: voxels of `code` in the sample in depth bin `bin` */
  counts: Float64Array;
  /** bins allocated (the deepest voxel's bin + 1; 1 without a surface) */
  bins: number;
  /** bin thickness along the normal, voxels */
  binVox: number;
  /** the surface the bins are measured from (none: every voxel counts, in bin 0) */
  surface?: SurfacePlane;
}

export interface LabelCensusOptions extends StageOptions {
  /** bin thickness in voxels along the normal (default 1) */
  binVox?: number;
  /** slices read at a time (default: the store's chunk depth) */
  slabZ?: number;
}

export async function labelCensus(labels: VolumeStore, surface: SurfacePlane | undefined, opts: LabelCensusOptions = {}): Promise<LabelCensus> {
  if (labels.meta.dtype !== 'uint8') throw invalidInput(`A label volume holds one byte per voxel (class codes 0–255); this one is ${labels.meta.dtype}.`);
  const binVox = opts.binVox ?? 1;
  if (!(binVox > 0)) throw invalidInput(`The depth bin must be thicker than 0 voxels, got ${binVox}.`);
  const [nz, ny, nx] = labels.meta.shape;
  if (!surface) {
    const counts = new Float64Array(256);
    await forEachSlice(labels, (_z, slice) => {
      for (let i = 0; i < slice.length; i++) counts[slice[i]!]++;
    }, opts);
    return { counts, bins: 1, binVox };
  }
  const { a, b, c } = surface;
  const norm = Math.sqrt(1 + a * a + b * b);
  // the deepest voxel's depth bounds the bins (the distance is linear in x and y: a corner holds it)
  let maxD = 0;
  for (const y of [0, ny - 1]) for (const x of [0, nx - 1]) maxD = Math.max(maxD, (nz - 1 - (a * x + (b * y + c - 0.5))) / norm);
  const bins = Math.max(1, Math.floor(maxD / binVox) + 1);
  const counts = new Float64Array(bins * 256);
  await forEachSlice(labels, (z, slice) => {
    for (let y = 0; y < ny; y++) {
      const by = b * y;
      const rowPlane = by + c - 0.5;
      // -1 above the surface, else the depth bin: monotone in x
      const key = (x: number): number => (z < a * x + by + c - 0.5 ? -1 : ((z - (a * x + rowPlane)) / norm / binVox) | 0);
      const row = y * nx;
      let x = 0;
      while (x < nx) {
        const k = key(x);
        // gallop, then bisect, to the first x whose key differs
        let lo = x;
        let step = 1;
        while (lo + step < nx && key(lo + step) === k) {
          lo += step;
          step *= 2;
        }
        let hi = Math.min(nx, lo + step);
        while (hi - lo > 1) {
          const m = (lo + hi) >> 1;
          if (key(m) === k) lo = m;
          else hi = m;
        }
        if (k >= 0) {
          const base = Math.min(k, bins - 1) * 256;
          for (let i = row + x, end = row + hi; i < end; i++) counts[base + slice[i]!]++;
        }
        x = hi;
      }
    }
  }, opts);
  return { counts, bins, binVox, surface };
}

/** Voxels of each code (0–255) over all bins. */
export function censusTotals(census: LabelCensus): Float64Array {
  const t = new Float64Array(256);
  for (let bin = 0; bin < census.bins; bin++) {
    const base = bin * 256;
    for (let code = 0; code < 256; code++) t[code] += census.counts[base + code]!;
  }
  return t;
}
