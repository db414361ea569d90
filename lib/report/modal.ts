/**
 * Modal mineralogy: volume % of each class in a predicted label volume (below the surface,
 * air / "no label" excluded), next to the area % of the same classes in the EDS map. The EDS %
 * are of the classified pixels; the pixels left out are counted apart: measured but unclassified,
 * not measured (mosaic area no field covers), and phases the class table drops.
 */
import type { StageOptions } from '../errors';
import { notMeasuredPixels, unclassifiedPixels, type MineralMap } from '../eds/types';
import type { ClassMap } from '../registration/transfer-labels';
import type { VolumeStore } from '../volume/store';
import type { SurfacePlane } from '../classify/mirror';
import { censusTotals, labelCensus, type LabelCensus } from './label-census';

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
  /** the labels' census already counted (labelCensus over the same surface): no read */
  census?: LabelCensus;
}

export async function modalMineralogy(labels: VolumeStore, classes: ReportClass[], opts: ModalOptions = {}): Promise<ModalMineralogy> {
  const counts = censusTotals(opts.census ?? (await labelCensus(labels, opts.surface, opts)));
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
