/**
 * One slab of the synthetic large low-resolution scan (write-multiscale-node.ts): the exact
 * footprint-mean grey of every low-res voxel (fields.ts, straight at low resolution: no
 * high-resolution voxel is made), the blur and noise of a coarser scan, uint16; its classes and
 * the exact porosity sums per class and per slice (the truth). Pure, so a worker thread
 * (low-slab.worker.ts) or the caller can run it; the same job gives the same bytes in either.
 */
import type { Shape3 } from '../../volume/types';
import { gaussianBlur3 } from '../blur';
import { gaussian, mulberry32 } from '../prng';
import { MultiscaleField } from './fields';

export const LOW_GAIN = 18000, LOW_OFFSET = 1500, HI_GAIN = 20000;
/** blur of the low-res scan (σ, voxels) and the halo of planes it needs */
const SIGMA = 0.7, HALO = 3;

export const toU16 = (v: number) => Math.max(0, Math.min(65535, Math.round(v)));

export interface LowSlabJob {
  seed: number;
  shape: Shape3;
  ratio: number;
  z0: number;
  dz: number;
  /** noise σ in grain-grey units */
  noise: number;
}

export interface LowSlab {
  grey: Uint16Array;
  classes: Uint8Array;
  /** porosity sum and voxel count per class (1..3 at 0..2), mean porosity per slice */
  sum: number[];
  count: number[];
  depth: number[];
}

let cached: MultiscaleField | null = null;

export function lowSlab(job: LowSlabJob): LowSlab {
  const { shape, z0, dz } = job, [, ny, nx] = shape, plane = ny * nx;
  const p = cached?.p;
  if (!cached || p!.seed !== job.seed || p!.ratio !== job.ratio || p!.shape.some((n, a) => n !== shape[a])) cached = new MultiscaleField({ seed: job.seed, shape, ratio: job.ratio });
  const field = cached;
  const hz = dz + 2 * HALO;
  const grey = new Float32Array(hz * plane), classes = new Uint8Array(dz * plane);
  const cls = new Uint8Array(plane), phi = new Float64Array(plane);
  const sum = [0, 0, 0], count = [0, 0, 0], depth: number[] = [];
  for (let a = 0; a < hz; a++) {
    const z = z0 - HALO + a, inside = a >= HALO && a < HALO + dz;
    field.plane(z, cls, phi);
    let zs = 0;
    for (let i = 0; i < plane; i++) {
      const c = cls[i]! as 1 | 2 | 3, v = phi[i]!;
      grey[a * plane + i] = field.greyAt(v, c);
      if (inside) { sum[c - 1] += v; count[c - 1]++; zs += v; }
    }
    if (inside) { classes.set(cls, (a - HALO) * plane); depth.push(zs / plane); }
  }
  gaussianBlur3(grey, [hz, ny, nx], SIGMA);
  const g = gaussian(mulberry32(job.seed * 7919 + z0));
  const out = new Uint16Array(dz * plane);
  for (let i = 0; i < out.length; i++) out[i] = toU16(LOW_OFFSET + LOW_GAIN * (grey[HALO * plane + i]! + job.noise * g()));
  return { grey: out, classes, sum, count, depth };
}
