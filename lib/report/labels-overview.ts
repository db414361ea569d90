/**
 * A coarse copy of a label volume for a 3D view: the longest axis at most `maxEdge` voxels. It
 * reads the pyramid level just above that size (majority-downsampled for label stores) and picks
 * every f-th voxel of it, so the work is bounded by about maxEdge × (2 maxEdge)² voxels read,
 * whatever the size of the volume (when the store has a complete pyramid).
 */
import { throwIfAborted, type StageOptions } from '../errors';
import type { VolumeStore } from '../volume/store';
import type { Shape3 } from '../volume/types';
import { niftiHeader } from './volume-headers';

export const OVERVIEW_MAX_EDGE = 160;

export interface LabelsOverview {
  /** (z, y, x) */
  shape: Shape3;
  /** (z, y, x) µm per voxel of the overview */
  spacingUm: [number, number, number];
  /** pyramid level read, and the step taken in it */
  level: number;
  step: number;
  data: Uint8Array;
}

/** The pyramid level read for an overview of at most `maxEdge` voxels along the longest axis. */
export function overviewLevel(store: Pick<VolumeStore, 'levels' | 'levelShape'> & { pyramidComplete?: boolean }, maxEdge: number): number {
  if (store.pyramidComplete === false) return 0;
  let level = 0;
  for (let k = 1; k < store.levels; k++) if (Math.max(...store.levelShape(k)) >= maxEdge) level = k;
  return level;
}

export async function labelsOverview(store: VolumeStore, opts: StageOptions & { maxEdge?: number } = {}): Promise<LabelsOverview> {
  const maxEdge = Math.max(1, Math.floor(opts.maxEdge ?? OVERVIEW_MAX_EDGE));
  const level = overviewLevel(store as VolumeStore & { pyramidComplete?: boolean }, maxEdge);
  const ls = store.levelShape(level);
  const s0 = store.meta.shape;
  const f = Math.max(1, Math.ceil(Math.max(...ls) / maxEdge));
  const out = ls.map((n) => Math.ceil(n / f)) as Shape3;
  // physical extent is kept: a level voxel spans shape0 / levelShape voxels of level 0
  const spacingUm = store.meta.spacingUm.map((s, a) => ((s * s0[a]!) / ls[a]!) * f) as [number, number, number];
  const data = new Uint8Array(out[0] * out[1] * out[2]);
  let o = 0;
  for (let z = 0; z < out[0]; z++) {
    throwIfAborted(opts.signal);
    const s = await store.readBlock({ start: [z * f, 0, 0], shape: [1, ls[1], ls[2]] }, { level, signal: opts.signal });
    for (let y = 0; y < out[1]; y++) for (let x = 0; x < out[2]; x++) data[o++] = s[y * f * ls[2] + x * f]!;
    opts.onProgress?.((z + 1) / out[0], `3D view: slice ${z + 1} of ${out[0]}`);
  }
  return { shape: out, spacingUm, level, step: f, data };
}

/** The overview as a single-file NIfTI-1 (uint8, mm; no origin: it only feeds a viewer). */
export async function labelsOverviewNifti(store: VolumeStore, opts: StageOptions & { maxEdge?: number } = {}): Promise<Uint8Array> {
  const ov = await labelsOverview(store, opts);
  const head = niftiHeader({ shape: ov.shape, spacingUm: ov.spacingUm, units: 'mm', description: 'petromap labels (overview)' });
  const buf = new Uint8Array(head.length + ov.data.length);
  buf.set(head, 0);
  buf.set(ov.data, head.length);
  return buf;
}
