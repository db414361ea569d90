/**
 * Minor phases: phases covering fewer than `thresholdPx` pixels stay in the data (labels, legend,
 * stored map) but displays group them into one "minor phases" row, with the threshold shown,
 * instead of a long tail of 0 % rows. Framework-free (the web legend, the CLI and the preview).
 */
import type { MineralMap, MineralPhase } from './types';

/** Default threshold: phases with fewer pixels than this are grouped as minor. */
export const MINOR_PHASE_PX = 10;

export interface PhaseArea extends MineralPhase {
  /** pixels of this phase in the map */
  pixels: number;
  /** fraction of all map pixels */
  areaFraction: number;
}

export interface MinorPhases {
  /** phases with fewer pixels than this are minor */
  thresholdPx: number;
  phases: PhaseArea[];
  pixels: number;
  areaFraction: number;
}

export interface GroupedLegend {
  /** phases at or above the threshold, by area (largest first) */
  major: PhaseArea[];
  /** the grouped tail, or null when no phase is below the threshold */
  minor: MinorPhases | null;
}

/** Pixels per legend phase (0 for phases absent from the map). */
export function phasePixelCounts(map: Pick<MineralMap, 'labels' | 'legend'>): Map<number, number> {
  const counts = new Float64Array(65536);
  const l = map.labels;
  for (let i = 0; i < l.length; i++) counts[l[i]]++;
  return new Map(map.legend.map((p) => [p.id, counts[p.id]]));
}

/** Legend rows with pixels and area, for a map. */
export function phaseAreas(map: Pick<MineralMap, 'labels' | 'legend'>): PhaseArea[] {
  const counts = phasePixelCounts(map);
  const n = map.labels.length || 1;
  return map.legend.map((p) => ({ ...p, color: [...p.color] as [number, number, number], pixels: counts.get(p.id) ?? 0, areaFraction: (counts.get(p.id) ?? 0) / n }));
}

/**
 * Splits legend rows at `thresholdPx` (default 10 px). Rows without a pixel count are derived
 * from `areaFraction * totalPixels` when `totalPixels` is given, else kept as major.
 */
export function groupMinorPhases<T extends MineralPhase & { pixels?: number | null; areaFraction?: number | null }>(
  rows: T[],
  thresholdPx: number = MINOR_PHASE_PX,
  totalPixels?: number,
): { major: T[]; minor: (Omit<MinorPhases, 'phases'> & { phases: T[] }) | null } {
  const px = (r: T) => r.pixels ?? (totalPixels !== undefined && r.areaFraction != null ? Math.round(r.areaFraction * totalPixels) : Infinity);
  const sorted = [...rows].sort((a, b) => (b.areaFraction ?? px(b)) - (a.areaFraction ?? px(a)) || a.id - b.id);
  const major = sorted.filter((r) => !(px(r) < thresholdPx));
  const tail = sorted.filter((r) => px(r) < thresholdPx);
  if (!tail.length) return { major, minor: null };
  return {
    major,
    minor: {
      thresholdPx,
      phases: tail,
      pixels: tail.reduce((a, r) => a + px(r), 0),
      areaFraction: tail.reduce((a, r) => a + (r.areaFraction ?? 0), 0),
    },
  };
}
