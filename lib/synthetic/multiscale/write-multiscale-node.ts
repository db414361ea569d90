/**
 * Writes a synthetic multi-scale sample with exact truth (see fields.ts):
 *   low.ome.zarr          the large low-resolution scan (uint16): the footprint means of the hi-res
 *                         grey, then the blur and noise of a coarser scan and another grey scale
 *   classes.ome.zarr      lithology classes per low-res voxel (uint8, 1..3)
 *   interior-<k>.ome.zarr high-resolution interior scans (uint16) at known poses (rotation about z)
 *   truth.json            MultiscaleTruth: porosity per class and of the whole sample, per depth, poses
 * Streams: the low-res scan is synthesised slab by slab (memory: one slab of the large scan), an
 * interior from its low-res layers (memory: one byte per interior voxel plus one slab).
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { throwIfAborted, type StageOptions } from '../../errors';
import type { Shape3 } from '../../volume/types';
import { createVolume, PyramidSlabWriter } from '../../volume/zarr-store-node';
import { footprintBox, poseAffine, type InteriorPose, type Vec3 } from '../../upscale/interior-pose';
import { gaussianBlur3 } from '../blur';
import { gaussian, mulberry32 } from '../prng';
import { createPool } from '../../parallel/pool-node';
import { HI_GAIN, lowSlab, toU16, type LowSlab, type LowSlabJob } from './low-slab';
import { MULTISCALE_CLASSES, MultiscaleField, PORE_GREY, type MultiscaleClassCode } from './fields';

export interface InteriorSpec {
  /** low-res voxel index of the interior's centre (z, y, x) */
  centre: Vec3;
  angleDeg: number;
  /** interior shape in hi-res voxels (z, y, x) */
  shape: Shape3;
  /** voxel size written into the store (default the true one): a wrong value makes bad input */
  declaredVoxelUm?: number;
}

export interface MultiscaleOptions {
  seed?: number;
  /** low-res shape (z, y, x), default 64³ */
  shape?: Shape3;
  /** hi-res voxels per low-res voxel edge (integer), default 4 */
  ratio?: number;
  lowVoxelUm?: number;
  interiors?: InteriorSpec[];
  /** noise σ of the low-res / hi-res scans, in grain-grey units */
  lowNoise?: number;
  hiNoise?: number;
  chunk?: Shape3;
  /** also write each interior's true pore/solid labels (interior-<k>-pores.ome.zarr, uint8 1 = pore, 2 = solid) */
  poreLabels?: boolean;
  /** worker threads for the large scan (default: the machine's cores from 16 M voxels up, else none) */
  threads?: number;
}

export interface MultiscaleTruth {
  seed: number;
  ratio: number;
  lowShape: Shape3;
  lowVoxelUm: number;
  hiVoxelUm: number;
  classes: { code: number; name: string; porosity: number; voxels: number }[];
  totalPorosity: number;
  /** mean porosity per low-res z slice */
  depthPorosity: number[];
  /** poresPath: the true pore/solid labels of the interior (1 = pore, 2 = solid) when asked for (poreLabels) */
  interiors: { path: string; shape: Shape3; pose: InteriorPose; declaredVoxelUm: number; poresPath?: string }[];
  paths: { volume: string; classes: string };
}


/** Default interiors: one in each layer, both across the fracture, rotated a few degrees. */
export function defaultInteriors(field: MultiscaleField, hiEdge: number): InteriorSpec[] {
  const [nz, ny, nx] = field.p.shape;
  const out: InteriorSpec[] = [];
  for (const [k, zf] of [[0, 0.27], [1, 0.75]] as const) {
    const z = nz * zf, y = ny * (0.45 + 0.1 * k);
    // centre on the fracture's mid-plane at this depth (fields.ts), shifted a little into the layer
    let x = nx / 2, best = Infinity;
    for (let xi = 0; xi < nx; xi++) {
      if (field.classAt(Math.round(z), Math.round(y), xi) !== 3) continue;
      const d = Math.abs(xi - nx / 2);
      if (d < best) { best = d; x = xi; }
    }
    out.push({ centre: [z, y, x + (k ? -3 : 3)], angleDeg: k ? -6 : 4, shape: [hiEdge, hiEdge, hiEdge] });
  }
  return out;
}

export async function writeMultiscaleSample(dir: string, o: MultiscaleOptions = {}, opts: StageOptions = {}): Promise<MultiscaleTruth> {
  const seed = o.seed ?? 1, ratio = o.ratio ?? 4;
  const shape: Shape3 = o.shape ?? [64, 64, 64];
  const lowVoxelUm = o.lowVoxelUm ?? 8, hiVoxelUm = lowVoxelUm / ratio;
  const field = new MultiscaleField({ seed, shape, ratio });
  const interiors = o.interiors ?? defaultInteriors(field, Math.min(128, Math.round((shape[2] * ratio) / 2)));
  await mkdir(dir, { recursive: true });
  const low = await writeLow(dir, field, o, lowVoxelUm, opts);
  const truthInteriors: MultiscaleTruth['interiors'] = [];
  for (let k = 0; k < interiors.length; k++) {
    const spec = interiors[k]!;
    const p = path.join(dir, `interior-${k + 1}.ome.zarr`);
    const pose: InteriorPose = { centre: spec.centre, angleDeg: spec.angleDeg, scale: [1 / ratio, 1 / ratio, 1 / ratio] };
    const poresPath = o.poreLabels ? path.join(dir, `interior-${k + 1}-pores.ome.zarr`) : undefined;
    await writeInterior(p, field, spec, pose, spec.declaredVoxelUm ?? hiVoxelUm, o, opts, poresPath);
    truthInteriors.push({ path: p, shape: spec.shape, pose, declaredVoxelUm: spec.declaredVoxelUm ?? hiVoxelUm, ...(poresPath ? { poresPath } : {}) });
  }
  const truth: MultiscaleTruth = {
    seed, ratio, lowShape: shape, lowVoxelUm, hiVoxelUm,
    classes: MULTISCALE_CLASSES.map((c, i) => ({ code: c.code, name: c.name, porosity: low.sum[i]! / Math.max(1, low.count[i]!), voxels: low.count[i]! })),
    totalPorosity: low.sum.reduce((a, b) => a + b, 0) / (shape[0] * shape[1] * shape[2]),
    depthPorosity: low.depth,
    interiors: truthInteriors,
    paths: { volume: path.join(dir, 'low.ome.zarr'), classes: path.join(dir, 'classes.ome.zarr') },
  };
  const tmp = path.join(dir, `truth.json.tmp-${process.pid}`);
  await writeFile(tmp, JSON.stringify(truth, null, 2) + '\n');
  await rename(tmp, path.join(dir, 'truth.json'));
  return truth;
}

/** Voxels above which the large scan's slabs are made in worker threads */
const THREADED_VOXELS = 1 << 24;

async function writeLow(dir: string, field: MultiscaleField, o: MultiscaleOptions, voxelUm: number, opts: StageOptions) {
  const shape = field.p.shape, [nz, ny, nx] = shape;
  const chunk: Shape3 = o.chunk ?? [64, 64, 64];
  const meta = { shape, spacingUm: [voxelUm, voxelUm, voxelUm] as Vec3, originUm: [0, 0, 0] as Vec3, channels: ['grey'] };
  const vol = await createVolume(path.join(dir, 'low.ome.zarr'), { ...meta, dtype: 'uint16' }, { chunk });
  const cls = await createVolume(path.join(dir, 'classes.ome.zarr'), { ...meta, dtype: 'uint8', channels: ['lithology'] }, { chunk, downsample: 'mode' });
  const wv = new PyramidSlabWriter(vol), wc = new PyramidSlabWriter(cls);
  const sum = [0, 0, 0], count = [0, 0, 0], depth: number[] = [];
  const jobs: LowSlabJob[] = [];
  for (let z0 = 0; z0 < nz; z0 += chunk[0]) jobs.push({ seed: field.p.seed, shape, ratio: field.p.ratio, z0, dz: Math.min(chunk[0], nz - z0), noise: o.lowNoise ?? 0.012 });
  const threads = Math.max(1, Math.min(o.threads ?? (nz * ny * nx >= THREADED_VOXELS ? availableParallelism() : 1), jobs.length));
  const pool = threads > 1 ? createPool<LowSlabJob, LowSlab>(new URL('./low-slab.worker.ts', import.meta.url), threads) : null;
  try {
    // slabs are made ahead (at most `threads` in flight) and written in z order
    const pending: Promise<LowSlab>[] = [];
    let next = 0;
    const fill = () => { while (next < jobs.length && pending.length < threads) pending.push(pool ? pool.run(jobs[next++]!, [], opts.signal) : Promise.resolve(lowSlab(jobs[next++]!))); };
    for (const job of jobs) {
      throwIfAborted(opts.signal);
      fill();
      const r = await pending.shift()!;
      fill();
      for (let c = 0; c < 3; c++) { sum[c] += r.sum[c]!; count[c] += r.count[c]!; }
      for (const d of r.depth) depth.push(d);
      await wv.push(job.z0, job.dz, r.grey);
      await wc.push(job.z0, job.dz, r.classes);
      opts.onProgress?.((0.5 * (job.z0 + job.dz)) / nz, 'large scan');
    }
  } finally {
    await pool?.close();
  }
  await wv.finish();
  await wc.finish();
  return { sum, count, depth };
}

async function writeInterior(p: string, field: MultiscaleField, spec: InteriorSpec, pose: InteriorPose, voxelUm: number, o: MultiscaleOptions, opts: StageOptions, poresPath?: string) {
  const r = field.p.ratio, [nz, ny, nx] = spec.shape, plane = ny * nx;
  const m = poseAffine(pose, spec.shape);
  const box = footprintBox(m, spec.shape, 1);
  const by = box.end[1] - box.start[1], bx = box.end[2] - box.start[2];
  // 0 = pore, c = grain of class c, per interior voxel
  const phase = new Uint8Array(nz * plane);
  let layer = -Infinity, cur: { pores: Uint8Array; classes: Uint8Array } | null = null;
  const NY = by * r, NX = bx * r;
  for (let pz = 0; pz < nz; pz++) {
    throwIfAborted(opts.signal);
    const qz = m[0] * pz + m[3];
    const Z = Math.round(r * qz + (r - 1) / 2), lz = Math.floor(Z / r);
    if (lz !== layer) { layer = lz; cur = field.poresOfBox(lz, box.start[1], box.start[2], 1, by, bx); }
    const jz = Z - lz * r;
    for (let py = 0; py < ny; py++) for (let px = 0; px < nx; px++) {
      const qy = m[5] * py + m[6] * px + m[7], qx = m[9] * py + m[10] * px + m[11];
      const Y = Math.round(r * qy + (r - 1) / 2) - box.start[1] * r, X = Math.round(r * qx + (r - 1) / 2) - box.start[2] * r;
      const pore = cur!.pores[(jz * NY + Y) * NX + X];
      phase[pz * plane + py * nx + px] = pore ? 0 : cur!.classes[Math.floor(Y / r) * bx + Math.floor(X / r)]!;
    }
    opts.onProgress?.(0.5 + (0.4 * pz) / nz, 'interior scan');
  }
  const chunk: Shape3 = [64, 64, 64];
  if (poresPath) {
    const labels = await createVolume(poresPath, { shape: spec.shape, spacingUm: [voxelUm, voxelUm, voxelUm], originUm: [0, 0, 0], dtype: 'uint8', channels: ['pores'] }, { chunk, downsample: 'mode' });
    const wl = new PyramidSlabWriter(labels);
    for (let z0 = 0; z0 < nz; z0 += chunk[0]) {
      const dz = Math.min(chunk[0], nz - z0), out = new Uint8Array(dz * plane);
      for (let i = 0; i < out.length; i++) out[i] = phase[z0 * plane + i] === 0 ? 1 : 2;
      await wl.push(z0, dz, out);
    }
    await wl.finish();
  }
  const store = await createVolume(p, { shape: spec.shape, spacingUm: [voxelUm, voxelUm, voxelUm], originUm: [0, 0, 0], dtype: 'uint16', channels: ['grey'] }, { chunk });
  const w = new PyramidSlabWriter(store);
  const H = 2, sigma = 0.4, noise = o.hiNoise ?? 0.04;
  const grains = MULTISCALE_CLASSES.map((c) => c.grain);
  for (let z0 = 0; z0 < nz; z0 += chunk[0]) {
    const dz = Math.min(chunk[0], nz - z0), hz = dz + 2 * H;
    const grey = new Float32Array(hz * plane);
    for (let a = 0; a < hz; a++) {
      const z = Math.min(nz - 1, Math.max(0, z0 - H + a));
      for (let i = 0; i < plane; i++) {
        const ph = phase[z * plane + i]! as 0 | MultiscaleClassCode;
        grey[a * plane + i] = ph === 0 ? PORE_GREY : grains[ph - 1]!;
      }
    }
    gaussianBlur3(grey, [hz, ny, nx], sigma);
    const g = gaussian(mulberry32(field.p.seed * 104729 + z0 + 17));
    const out = new Uint16Array(dz * plane);
    for (let i = 0; i < out.length; i++) out[i] = toU16(HI_GAIN * (grey[H * plane + i]! + noise * g()));
    await w.push(z0, dz, out);
  }
  await w.finish();
}

/** A start for registering an interior: `dist` low-res voxels and `deg` degrees from its true pose, in a seeded direction. */
export function perturbedStart(t: MultiscaleTruth['interiors'][number], seed: number, dist = 9.5, deg = 9.5) {
  const rng = mulberry32(seed);
  const u = [rng() - 0.5, rng() - 0.5, rng() - 0.5], n = Math.hypot(...u);
  return { centre: t.pose.centre.map((c, a) => c + (dist * u[a]!) / n) as Vec3, angleDeg: t.pose.angleDeg + (rng() < 0.5 ? -deg : deg) };
}
