/**
 * Depth profile: class fractions per depth below the polished surface (distance along the plane
 * normal), e.g. to see alteration or polishing damage near the surface.
 */
import type { StageOptions } from '../errors';
import type { VolumeStore } from '../volume/store';
import type { SurfacePlane } from '../classify/mirror';
import type { ReportClass } from './modal';
import { labelCensus, type LabelCensus } from './label-census';

export interface DepthProfile {
  classes: ReportClass[];
  /** upper edge of each bin below the surface, µm (bin k covers [k, k+1) * binUm) */
  depthUm: number[];
  binUm: number;
  /** counts[bin][classIndex] */
  counts: number[][];
  /** fractions[bin][classIndex] of the classified voxels of that bin (0 where the bin is empty) */
  fractions: number[][];
  /** classified voxels per bin */
  totals: number[];
}

export interface DepthProfileOptions extends StageOptions {
  /** bin thickness in voxels along the normal (default 1) */
  binVox?: number;
  slabZ?: number;
  /** the labels' census already counted over this surface (labelCensus, the same binVox): no read */
  census?: LabelCensus;
}

/** `classes` default: every non-zero code found, named "class N". */
export async function depthProfile(labels: VolumeStore, surface: SurfacePlane, classes?: ReportClass[], opts: DepthProfileOptions = {}): Promise<DepthProfile> {
  const census = opts.census ?? (await labelCensus(labels, surface, { binVox: opts.binVox, slabZ: opts.slabZ, signal: opts.signal, onProgress: opts.onProgress }));
  const binVox = census.binVox;
  let cls = (classes ?? Array.from({ length: 255 }, (_, k) => ({ code: k + 1, name: `class ${k + 1}` }))).filter((c) => c.code !== 0);
  // bins in use: 1 + the deepest bin holding a classified voxel
  let used = 0;
  for (let bin = 0; bin < census.bins; bin++) if (cls.some((c) => census.counts[bin * 256 + c.code]! > 0)) used = bin + 1;
  let counts: number[][] = Array.from({ length: used }, (_, bin) => cls.map((c) => census.counts[bin * 256 + c.code]!));
  if (!classes) {
    // keep the codes that occur
    const keep = cls.map((_, k) => counts.some((r) => r[k]! > 0));
    cls = cls.filter((_, k) => keep[k]);
    for (let b = 0; b < counts.length; b++) counts[b] = counts[b]!.filter((_, k) => keep[k]);
  }
  const totals = counts.map((r) => r.reduce((a, b) => a + b, 0));
  const spacing = labels.meta.spacingUm[0];
  return {
    classes: cls,
    binUm: binVox * spacing,
    depthUm: counts.map((_, k) => (k + 1) * binVox * spacing),
    counts,
    fractions: counts.map((r, k) => r.map((v) => (totals[k] ? v / totals[k]! : 0))),
    totals,
  };
}
