/**
 * EDS (SEM energy-dispersive X-ray) mineral map contracts.
 * Images are row-major: index = v * width + u, u = column (x), v = row (y), in EDS pixels.
 *
 * Label 0 covers two different things, told apart by `measured`:
 * - "not measured": mosaic area no field of the instrument covered (`measured[i] === 0`);
 * - "unclassified": measured pixels that got no mineral (`labels[i] === 0`, `measured[i] === 1`).
 * Both stay label 0, so anything that learns from the map (training labels) leaves both out.
 */
import type { FieldRect } from '../registration/types';

export interface MineralPhase {
  /** label value in `labels`; 0 is reserved for unclassified */
  id: number;
  name: string;
  color: [number, number, number];
}

export interface CompanionImage {
  /** e.g. 'BSE', 'Fe', 'Si' */
  name: string;
  /** same width x height as the map, row-major */
  data: Float32Array;
}

export interface MineralMap {
  width: number;
  height: number;
  /** physical size of one EDS pixel in micrometres */
  pixelSizeUm: number;
  /** phase id per pixel; 0 = unclassified or not measured */
  labels: Uint16Array;
  legend: MineralPhase[];
  companions: CompanionImage[];
  /** where the map came from (file or folder name), for messages */
  source?: string;
  /** 1 where the instrument measured the pixel, 0 where no field covers it; absent = all measured */
  measured?: Uint8Array;
  /** the sample's name from the instrument's project files (e.g. a TIMA replicate caption) */
  sampleName?: string;
  /**
   * the instrument's field layout (TIMA exports: each field's rectangle in map pixels, overlaps cut
   * where the stitching cuts, tima-fields.ts), for per-field registration; absent for other maps
   */
  fields?: FieldRect[];
  /**
   * the box of the map as exported that this map is (petromap import-eds --crop), in its pixels: pixel
   * (u, v) here is (u + x, v + y) there; absent for an uncropped map
   */
  crop?: MapCrop;
}

/** A cropped map's box in the map as exported (whole pixels) and that map's size. */
export interface MapCrop {
  x: number;
  y: number;
  width: number;
  height: number;
  fromWidth: number;
  fromHeight: number;
}

/** Pixels the instrument did not measure (outside every field). */
export function notMeasuredPixels(map: MineralMap): number {
  const m = map.measured;
  if (!m) return 0;
  let n = 0;
  for (let i = 0; i < m.length; i++) if (m[i] === 0) n++;
  return n;
}

/** Measured pixels with no mineral (label 0 inside the measured area). */
export function unclassifiedPixels(map: MineralMap): number {
  const m = map.measured;
  let n = 0;
  for (let i = 0; i < map.labels.length; i++) if (map.labels[i] === 0 && (!m || m[i] !== 0)) n++;
  return n;
}

/** Share of all map pixels that were measured but got no mineral. */
export function unclassifiedFraction(map: MineralMap): number {
  return map.labels.length ? unclassifiedPixels(map) / map.labels.length : 0;
}

/** Share of all map pixels that no field covers (0 for maps without a measured-area mask). */
export function notMeasuredFraction(map: MineralMap): number {
  return map.labels.length ? notMeasuredPixels(map) / map.labels.length : 0;
}
