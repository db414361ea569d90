/** Training voxels: one class (labelled) or a distribution over candidates (partial); painted strokes. */
import { invalidInput } from '../errors';
import type { Shape3 } from '../volume/types';

/** One labelled voxel: (z, y, x) index and class code (1..255). */
export interface LabelledVoxel {
  z: number;
  y: number;
  x: number;
  cls: number;
}

/**
 * A voxel whose class is uncertain: on the surface, a voxel at a phase boundary of the EDS map.
 * Trained towards a distribution over its candidate classes (soft target), not one class.
 */
export interface PartialVoxel {
  z: number;
  y: number;
  x: number;
  /** candidate class codes (1..255), at least one */
  classes: number[];
  /** target probability of each candidate (sums to 1) */
  p: number[];
}

/** Painted strokes as a sparse label volume (0 = not painted), (z, y, x) z-major. */
export function strokeVoxels(labels: Uint8Array, shape: Shape3): LabelledVoxel[] {
  const [nz, ny, nx] = shape;
  if (labels.length !== nz * ny * nx) throw invalidInput(`Painted labels have ${labels.length} voxels but the volume has ${nz}x${ny}x${nx}.`);
  const out: LabelledVoxel[] = [];
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i];
    if (c) out.push({ z: Math.floor(i / (nx * ny)), y: Math.floor(i / nx) % ny, x: i % nx, cls: c });
  }
  return out;
}
