/**
 * Modal mineralogy: volume % of each class in a predicted label volume (below the surface,
 * air / "no label" excluded), next to the area % of the same classes in the EDS map. The EDS %
 * are of the classified pixels; the pixels left out are counted apart: measured but unclassified,
 * not measured (mosaic area no field covers), and phases the class table drops.
 */
import { throwIfAborted, type StageOptions } from '../errors';
import { notMeasuredPixels, unclassifiedPixels, type MineralMap } from '../eds/types';
import type { ClassMap } from '../registration/transfer-labels';
import type { VolumeStore } from '../volume/store';
import type { Shape3 } from '../volume/types';
import type { SurfacePlane } from '../classify/mirror';

export interface ReportClass {
  code: number;
  name: string;
}

export interface ModalRow {
  class: number;
  name: string;
  voxels: number;
  /** % of classified voxels below the surface */
  volumePercent: number;
  /** EDS pixels mapped to this class (when a map was given) */
  edsPixels?: number;
  /** % of classified EDS pixels */
  edsAreaPercent?: number;
}

export interface ModalMineralogy {
  rows: ModalRow[];
  /** classified voxels counted (label ≠ 0, below the surface) */
  totalVoxels: number;
  /** voxels with a code that is not in `classes` (counted nowhere) */
  unknownVoxels: number;
  totalEdsPixels?: number;
  /** EDS pixels measured but without a mineral (not in the EDS %) */
  edsUnclassifiedPixels?: number;
  /** EDS map pixels no field covers (not in the EDS %) */
  edsNotMeasuredPixels?: number;
  /** EDS pixels of phases the class table drops or maps to no listed class (not in the EDS %) */
  edsDroppedPixels?: number;
  /** all EDS map pixels */
  edsMapPixels?: number;
}

export interface ModalOptions extends StageOptions {
  map?: MineralMap;
  /** EDS phase id -> class code (required with `map`) */
  classMap?: ClassMap;
  /** only voxels below this surface count (labels above it should be 0 anyway) */
  surface?: SurfacePlane;
  /** slices read at a time (default: the store's chunk depth, so each chunk is decoded once; 32 without chunks) */
  slabZ?: number;
}

/** Slices per read: the store's chunk depth (a slab that cuts chunks decodes them twice), at most ~256 MiB. */
function slabDepth(store: VolumeStore, asked?: number): number {
  if (asked) return asked;
  const [, ny, nx] = store.meta.shape;
  const chunkZ = (store as { chunk?: readonly number[] }).chunk?.[0] ?? 32;
  const bytes = store.meta.dtype === 'uint8' ? 1 : store.meta.dtype === 'uint16' ? 2 : 4;
  return Math.max(1, Math.min(chunkZ, Math.floor(2 ** 28 / (ny * nx * bytes))));
}

/** Count label codes per slab of z, calling `visit(z, slice)` for each slice. */
export async function forEachSlice(store: VolumeStore, visit: (z: number, slice: ArrayLike<number>) => void, opts: StageOptions & { slabZ?: number } = {}): Promise<void> {
  const [nz, ny, nx] = store.meta.shape;
  const slab = slabDepth(store, opts.slabZ);
  const plane = ny * nx;
  for (let z0 = 0; z0 < nz; z0 += slab) {
    throwIfAborted(opts.signal);
    const d = Math.min(slab, nz - z0);
    const data = await store.readBlock({ start: [z0, 0, 0], shape: [d, ny, nx] as Shape3 }, { signal: opts.signal });
    for (let k = 0; k < d; k++) visit(z0 + k, data.subarray(k * plane, (k + 1) * plane));
    opts.onProgress?.(Math.min(1, (z0 + d) / nz), `counting slice ${z0 + d} of ${nz}`);
  }
}

export async function modalMineralogy(labels: VolumeStore, classes: ReportClass[], opts: ModalOptions = {}): Promise<ModalMineralogy> {
  const [, ny, nx] = labels.meta.shape;
  const counts = new Float64Array(256);
  const s = opts.surface;
  await forEachSlice(labels, (z, slice) => {
    if (!s) {
      for (let i = 0; i < slice.length; i++) counts[slice[i]]++;
      return;
    }
    // isAboveSurface(s, z, y, x), the same expression, with the row's part taken out of the x loop
    const { a, b, c } = s;
    for (let y = 0; y < ny; y++) {
      const by = b * y;
      const row = y * nx;
      for (let x = 0; x < nx; x++) if (!(z < a * x + by + c - 0.5)) counts[slice[row + x]]++;
    }
  }, opts);
  const known = new Set(classes.map((c) => c.code));
  let total = 0, unknown = 0;
  for (let c = 1; c < 256; c++) {
    if (known.has(c)) total += counts[c];
    else unknown += counts[c];
  }
  let eds: Float64Array | undefined;
  let edsTotal = 0, edsDropped = 0;
  if (opts.map) {
    eds = new Float64Array(256);
    const cm = opts.classMap ?? {};
    const ids = new Float64Array(65536);
    for (let i = 0; i < opts.map.labels.length; i++) ids[opts.map.labels[i]]++;
    for (let id = 1; id < 65536; id++) {
      if (!ids[id]) continue;
      const c = cm[id];
      if (c !== null && c !== undefined && known.has(c)) {
        eds[c] += ids[id];
        edsTotal += ids[id];
      } else edsDropped += ids[id];
    }
  }
  const rows: ModalRow[] = classes.filter((c) => c.code !== 0).map((c) => ({
    class: c.code,
    name: c.name,
    voxels: counts[c.code],
    volumePercent: total ? (100 * counts[c.code]) / total : 0,
    ...(eds ? { edsPixels: eds[c.code], edsAreaPercent: edsTotal ? (100 * eds[c.code]) / edsTotal : 0 } : {}),
  }));
  const edsApart = opts.map
    ? { edsUnclassifiedPixels: unclassifiedPixels(opts.map), edsNotMeasuredPixels: notMeasuredPixels(opts.map), edsDroppedPixels: edsDropped, edsMapPixels: opts.map.labels.length }
    : {};
  return { rows, totalVoxels: total, unknownVoxels: unknown, ...(eds ? { totalEdsPixels: edsTotal } : {}), ...edsApart };
}
