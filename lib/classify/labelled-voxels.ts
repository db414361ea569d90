/** Training voxels: one class (labelled) or a distribution over candidates (partial); painted strokes. */
import { invalidInput, throwIfAborted } from '../errors';
import type { VolumeStore } from '../volume/store';
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

/** Fewest labelled voxels per class kept from a label volume (labelVolumeVoxels), before the training set's own cap. */
export const LABEL_VOLUME_MAX_PER_CLASS = 200_000;

/**
 * The labelled voxels of a label store aligned with the scan (painted strokes, or a label volume
 * from another program: 0 = unlabelled, 1..255 = class code), streamed in slabs of `slabZ` slices.
 * Memory stays bounded whatever the volume: each class keeps at most `maxPerClass` voxels (a seeded
 * reservoir sample, so a densely labelled volume is thinned evenly over its whole extent). A value
 * that is not a whole number in 0..255 is refused with its position.
 */
export async function labelVolumeVoxels(
  store: VolumeStore,
  opts: { maxPerClass?: number; seed?: number; slabZ?: number; signal?: AbortSignal; source?: string } = {},
): Promise<LabelledVoxel[]> {
  const [nz, ny, nx] = store.meta.shape;
  const dz = opts.slabZ ?? 16;
  const cap = opts.maxPerClass ?? LABEL_VOLUME_MAX_PER_CLASS;
  const src = opts.source ?? 'The label volume';
  const kept = new Map<number, LabelledVoxel[]>();
  const seen = new Map<number, number>();
  let s = (opts.seed ?? 1) >>> 0 || 0x9e3779b9;
  const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
  for (let z0 = 0; z0 < nz; z0 += dz) {
    throwIfAborted(opts.signal);
    const data = await store.readBlock({ start: [z0, 0, 0], shape: [Math.min(dz, nz - z0), ny, nx] }, { signal: opts.signal });
    for (let i = 0; i < data.length; i++) {
      const c = data[i]!;
      if (c === 0) continue;
      const z = z0 + Math.floor(i / (nx * ny)), y = Math.floor(i / nx) % ny, x = i % nx;
      if (!(Number.isInteger(c) && c >= 1 && c <= 255)) throw invalidInput(`${src}: value ${c} at voxel (z ${z}, y ${y}, x ${x}) is not a class code; labels must be whole numbers 1..255 (0 = unlabelled).`);
      const n = (seen.get(c) ?? 0) + 1;
      seen.set(c, n);
      let a = kept.get(c);
      if (!a) kept.set(c, (a = []));
      if (a.length < cap) a.push({ z, y, x, cls: c });
      else {
        const j = Math.floor(rand() * n);
        if (j < cap) a[j] = { z, y, x, cls: c };
      }
    }
  }
  const out = [...kept.values()].flat();
  // z-major order as painted (the reservoir swaps entries)
  out.sort((a, b) => (a.z - b.z) || (a.y - b.y) || (a.x - b.x));
  return out;
}
