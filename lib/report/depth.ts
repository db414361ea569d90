/**
 * Depth profile: class fractions per depth below the polished surface (distance along the plane
 * normal), e.g. to see alteration or polishing damage near the surface.
 */
import type { StageOptions } from '../errors';
import type { VolumeStore } from '../volume/store';
import type { SurfacePlane } from '../classify/mirror';
import type { ReportClass } from './modal';
import { forEachSlice } from './modal';

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
}

/** `classes` default: every non-zero code found, named "class N". */
export async function depthProfile(labels: VolumeStore, surface: SurfacePlane, classes?: ReportClass[], opts: DepthProfileOptions = {}): Promise<DepthProfile> {
  const [, ny, nx] = labels.meta.shape;
  const binVox = opts.binVox ?? 1;
  const norm = Math.sqrt(1 + surface.a * surface.a + surface.b * surface.b);
  let cls = (classes ?? Array.from({ length: 255 }, (_, k) => ({ code: k + 1, name: `class ${k + 1}` }))).filter((c) => c.code !== 0);
  const lut = new Int16Array(256).fill(-1);
  cls.forEach((c, k) => (lut[c.code] = k));
  // bins: the deepest voxel's depth bounds them (the distance is linear in x and y: a corner holds it)
  const [nz] = labels.meta.shape;
  let maxD = 0;
  for (const y of [0, ny - 1]) for (const x of [0, nx - 1]) maxD = Math.max(maxD, (nz - 1 - (surface.a * x + (surface.b * y + surface.c - 0.5))) / norm);
  const nBins = Math.max(1, Math.floor(maxD / binVox) + 1);
  const nCls = cls.length;
  const flat = new Float64Array(nBins * nCls);
  let used = 0; // bins in use: 1 + the deepest bin holding a classified voxel
  const { a, b, c } = surface;
  await forEachSlice(labels, (z, slice) => {
    let deepest = used;
    for (let y = 0; y < ny; y++) {
      const rowPlane = b * y + c - 0.5; // physical air/rock edge
      const row = y * nx;
      for (let x = 0; x < nx; x++) {
        const d = (z - (a * x + rowPlane)) / norm;
        if (d < 0) continue;
        const k = lut[slice[row + x]!]!;
        if (k < 0) continue;
        const bin = (d / binVox) | 0; // = Math.floor: d >= 0
        flat[bin * nCls + k]++;
        if (bin >= deepest) deepest = bin + 1;
      }
    }
    used = deepest;
  }, opts);
  let counts: number[][] = Array.from({ length: used }, (_, bin) => Array.from(flat.subarray(bin * nCls, (bin + 1) * nCls)));
  if (!classes) {
    // keep the codes that occur
    const keep = cls.map((_, k) => counts.some((r) => r[k] > 0));
    cls = cls.filter((_, k) => keep[k]);
    for (let b = 0; b < counts.length; b++) counts[b] = counts[b].filter((_, k) => keep[k]);
  }
  const totals = counts.map((r) => r.reduce((a, b) => a + b, 0));
  const spacing = labels.meta.spacingUm[0];
  return {
    classes: cls,
    binUm: binVox * spacing,
    depthUm: counts.map((_, k) => (k + 1) * binVox * spacing),
    counts,
    fractions: counts.map((r, k) => r.map((v) => (totals[k] ? v / totals[k] : 0))),
    totals,
  };
}
