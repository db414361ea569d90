/**
 * EDS (SEM energy-dispersive X-ray) mineral map contracts.
 * Images are row-major: index = v * width + u, u = column (x), v = row (y), in EDS pixels.
 */
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
  /** phase id per pixel; 0 = unclassified */
  labels: Uint16Array;
  legend: MineralPhase[];
  companions: CompanionImage[];
  /** where the map came from (file or folder name), for messages */
  source?: string;
}

export function unclassifiedFraction(map: MineralMap): number {
  let n = 0;
  for (let i = 0; i < map.labels.length; i++) if (map.labels[i] === 0) n++;
  return map.labels.length ? n / map.labels.length : 0;
}
