/**
 * Class labels, per-class probabilities and uncertainty of one brick from its feature rows.
 * Voxels above the surface (air) get label 0 (no label), probability 0 and uncertainty 0.
 */
import { throwIfAborted } from '../errors';
import type { VolumeStore } from '../volume/store';
import type { Box3, Shape3 } from '../volume/types';
import { isAboveSurface, type SurfacePlane } from './mirror';

/** predictVolume's default brick = output chunk shape (z, y, x). */
export const DEFAULT_PREDICT_BRICK: Shape3 = [64, 128, 128];

export interface BrickOutputs {
  labels: Uint8Array;
  /** one array per class (model output order), 0..255 */
  probabilities: Uint8Array[];
  /** 255 * (1 - (p1 - p2)), p1 >= p2 the two highest probabilities */
  uncertainty: Uint8Array;
}

export function brickOutputs(p: Float32Array, classes: number[], box: Box3, surface?: SurfacePlane): BrickOutputs {
  const K = classes.length;
  const [bz, by, bx] = box.shape;
  const n = bz * by * bx;
  const labels = new Uint8Array(n);
  const probabilities = classes.map(() => new Uint8Array(n));
  const uncertainty = new Uint8Array(n);
  let i = 0;
  for (let z = 0; z < bz; z++) for (let y = 0; y < by; y++) for (let x = 0; x < bx; x++, i++) {
    if (surface && isAboveSurface(surface, box.start[0] + z, box.start[1] + y, box.start[2] + x)) continue;
    let b1 = 0, p1 = -1, p2 = 0;
    for (let k = 0; k < K; k++) {
      const v = p[i * K + k];
      probabilities[k][i] = Math.round(255 * Math.min(1, Math.max(0, v)));
      if (v > p1) {
        p2 = p1 < 0 ? 0 : p1;
        p1 = v;
        b1 = k;
      } else if (v > p2) p2 = v;
    }
    labels[i] = classes[b1];
    uncertainty[i] = Math.round(255 * Math.min(1, Math.max(0, 1 - (p1 - p2))));
  }
  return { labels, probabilities, uncertainty };
}

/** Sets the outputs of the voxels above the surface (air) to 0, as brickOutputs leaves them. */
export function clearAboveSurface(o: BrickOutputs, box: Box3, surface: SurfacePlane): void {
  const [bz, by, bx] = box.shape;
  for (let y = 0; y < by; y++) for (let x = 0; x < bx; x++) {
    // isAboveSurface grows false with z: clear the column down to the first voxel below
    for (let z = 0; z < bz && isAboveSurface(surface, box.start[0] + z, box.start[1] + y, box.start[2] + x); z++) {
      const i = (z * by + y) * bx + x;
      o.labels[i] = 0;
      o.uncertainty[i] = 0;
      for (const p of o.probabilities) p[i] = 0;
    }
  }
}

/** True when every voxel of the box lies above the surface (nothing to classify). */
export function boxAboveSurface(box: Box3, surface: SurfacePlane): boolean {
  const zEnd = box.start[0] + box.shape[0] - 1;
  for (const y of [box.start[1], box.start[1] + box.shape[1] - 1]) for (const x of [box.start[2], box.start[2] + box.shape[2] - 1]) {
    if (!isAboveSurface(surface, zEnd, y, x)) return false;
  }
  return true;
}

export const markerName = (box: Box3) => `${box.start[0]}_${box.start[1]}_${box.start[2]}.done`;

export interface LabelCheck {
  /** voxels inside the sample (below the surface when there is one, else all) */
  sampleVoxels: number;
  /** of those, voxels with label 0 (no label) */
  unlabelled: number;
  /** the boxes (of those checked) that hold at least one unlabelled sample voxel */
  holes: Box3[];
}

/**
 * Verification pass of a whole-volume prediction: counts voxels inside the sample (below the
 * surface plane when there is one, i.e. not isAboveSurface; everywhere otherwise) whose label is
 * 0. Streams `boxes` (which must tile the volume, e.g. the prediction's chunkGrid) one at a time,
 * so memory stays at one box; boxes entirely above the surface are not read.
 */
export async function countUnlabelled(labels: VolumeStore, boxes: Box3[], surface: SurfacePlane | null, opts: { signal?: AbortSignal; onProgress?: (fraction: number) => void } = {}): Promise<LabelCheck> {
  let sampleVoxels = 0, unlabelled = 0, k = 0;
  const holes: Box3[] = [];
  let first = new Int32Array(0);
  for (const box of boxes) {
    throwIfAborted(opts.signal);
    opts.onProgress?.(k++ / boxes.length);
    if (surface && boxAboveSurface(box, surface)) continue;
    const d = await labels.readBlock(box, { signal: opts.signal });
    const [bz, by, bx] = box.shape;
    let inside = 0, zeros = 0;
    if (!surface) {
      inside = d.length;
      for (let i = 0; i < d.length; i++) if (d[i] === 0) zeros++;
    } else {
      // first z of each column inside the sample (isAboveSurface is z < plane - 0.5), then the
      // block in memory order (a column at a time strides by a whole slice: a cache miss per voxel)
      if (first.length < by * bx) first = new Int32Array(by * bx);
      for (let y = 0; y < by; y++) for (let x = 0; x < bx; x++) {
        const gy = box.start[1] + y, gx = box.start[2] + x;
        let z = 0;
        while (z < bz && isAboveSurface(surface, box.start[0] + z, gy, gx)) z++;
        first[y * bx + x] = z;
        inside += bz - z;
      }
      for (let z = 0, i = 0; z < bz; z++) for (let j = 0; j < by * bx; j++, i++) if (d[i] === 0 && z >= first[j]!) zeros++;
    }
    sampleVoxels += inside;
    unlabelled += zeros;
    if (zeros) holes.push(box);
  }
  opts.onProgress?.(1);
  return { sampleVoxels, unlabelled, holes };
}
