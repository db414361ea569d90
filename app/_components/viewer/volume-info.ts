/**
 * What the viewer needs to know about a volume dataset, independent of how the server names
 * it. `toVolumeInfo` (in the dataset page) maps the tRPC output onto this.
 */
import type { Vec3 } from './slice-geometry';

export interface VolumeInfo {
  datasetId: string;
  name: string;
  /** level-0 shape (z, y, x), voxels */
  shape: Vec3;
  /** voxel size (z, y, x), µm */
  spacing: Vec3;
  dtype: string;
  channels: string[];
  /** shape of every pyramid level, level 0 first */
  levelShapes: Vec3[];
  /** the file gave no voxel size: `spacing` is the 1 µm the import assumed */
  spacingAssumed?: boolean;
}

/** Level shapes when the server does not list them: level k halves y and x (see lib/volume/store). */
export function guessLevelShapes(shape: Vec3, levels: number): Vec3[] {
  const out: Vec3[] = [shape];
  for (let k = 1; k < levels; k++) {
    const p = out[k - 1]!;
    out.push([p[0], Math.ceil(p[1] / 2), Math.ceil(p[2] / 2)]);
  }
  return out;
}

export interface SliceQuery {
  axis: 'z' | 'y' | 'x';
  index: number;
  level: number;
  channel: number;
  format: 'png' | 'raw';
  min?: number;
  max?: number;
}

/** URL of the slice route handler (app/api/datasets/[datasetId]/slice). */
export function sliceUrl(datasetId: string, q: SliceQuery): string {
  const p = new URLSearchParams({
    axis: q.axis, index: String(q.index), level: String(q.level), channel: String(q.channel), format: q.format,
  });
  if (q.min !== undefined && q.max !== undefined) {
    p.set('min', String(+q.min.toPrecision(6)));
    p.set('max', String(+q.max.toPrecision(6)));
  }
  return `/api/datasets/${encodeURIComponent(datasetId)}/slice?${p}`;
}
