/** Actual (not requested) composition of a sample: for the demo page, reports and test thresholds. */
import { SANDSTONE_CLASSES } from '../classes';
import type { SyntheticSample } from './types';

export interface SampleSummary {
  /** volume fraction of each class in the rock (air excluded), by class name */
  rockFractions: Record<string, number>;
  /** fraction of EDS pixels per legend name, and unclassified */
  edsFractions: Record<string, number>;
  edsUnclassified: number;
  airVoxels: number;
}

export function summariseSample(s: SyntheticSample): SampleSummary {
  const counts = new Float64Array(SANDSTONE_CLASSES.length);
  for (const c of s.truthLabels) counts[c]++;
  const rock = s.truthLabels.length - counts[0];
  const rockFractions: Record<string, number> = {};
  for (const c of SANDSTONE_CLASSES) if (c.code > 0) rockFractions[c.name] = rock ? counts[c.code] / rock : 0;

  const px = new Map<number, number>();
  for (const l of s.eds.labels) px.set(l, (px.get(l) ?? 0) + 1);
  const total = s.eds.labels.length || 1;
  const edsFractions: Record<string, number> = {};
  for (const p of s.eds.legend) edsFractions[p.name] = (px.get(p.id) ?? 0) / total;
  return { rockFractions, edsFractions, edsUnclassified: (px.get(0) ?? 0) / total, airVoxels: counts[0] };
}
