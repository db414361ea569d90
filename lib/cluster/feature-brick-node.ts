/**
 * One feature brick of a training set, as a `petromap worker` thread computes it (kind 'features'):
 * the files of a feature run in the shared workspace and the pure function from them to the rows.
 *
 *   <runDir>/run.json          { featureSet, mirror, mirrorOptions }: what buildTrainingSet computes with
 *   <runDir>/voxels-<i>.i32    the labelled voxels of box i: int32 (z, y, x) per voxel, little-endian
 *   <runDir>/rows-<i>.f32      their feature rows: float32, voxel-major (n x nFeatures), little-endian
 *   <runDir>/rows-<i>.json     { n, nFeatures, names }: written last (the brick's marker)
 *
 * The worker computes featuresForBox(mirrorAboveSurface(store, mirror, mirrorOptions), box, set),
 * the call buildTrainingSet makes in process (featureFnFor), and copies out the rows of the box's
 * voxels exactly as gatherFeatures does, so the rows are bit for bit the in-process ones.
 * Every file is written to a temp name and renamed.
 */
import { access, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { mirrorAboveSurface, type MirrorOptions, type SurfacePlane } from '../classify/mirror';
import { PetromapError, throwIfAborted } from '../errors';
import { featuresForBox } from '../features';
import type { FeatureSet } from '../features/types';
import type { VolumeStore } from '../volume/store';
import type { Box3 } from '../volume/types';
import { openVolume } from '../volume/zarr-store-node';

export interface FeatureRunFile {
  featureSet: FeatureSet;
  mirror: SurfacePlane | null;
  mirrorOptions?: MirrorOptions;
}

export interface FeatureRowsHeader {
  n: number;
  nFeatures: number;
  names: string[];
  ms: number;
}

export const featureRunFiles = (runDir: string, index: number) => ({
  voxels: join(runDir, `voxels-${index}.i32`),
  rows: join(runDir, `rows-${index}.f32`),
  header: join(runDir, `rows-${index}.json`),
});

/** Temp name + rename, so a reader never sees half a file. */
export async function writeAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}

export const bytesOf = (a: Int32Array | Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** A little-endian int32/float32 file as a typed array (copied, so it is aligned). */
export async function readTyped<T extends Int32Array | Float32Array>(path: string, ctor: new (b: ArrayBuffer) => T): Promise<T> {
  const buf = await readFile(path);
  if (buf.byteLength % 4) throw new PetromapError('Unprocessable', `${path} is truncated (${buf.byteLength} bytes, not a multiple of 4).`);
  const ab = new ArrayBuffer(buf.byteLength);
  new Uint8Array(ab).set(buf);
  return new ctor(ab);
}

/** True when the brick's rows are written (its header exists). */
export const featureBrickIsDone = (runDir: string, index: number) => access(featureRunFiles(runDir, index).header).then(() => true, () => false);

export interface FeatureBrickSpec {
  storePath: string;
  runDir: string;
  index: number;
  box: Box3;
}

/** The opened source of one run (volume, mirrored when the run says so), kept by the caller per run. */
export async function openFeatureRun(storePath: string, runDir: string): Promise<{ run: FeatureRunFile; src: VolumeStore }> {
  let run: FeatureRunFile;
  try {
    run = JSON.parse(await readFile(join(runDir, 'run.json'), 'utf8')) as FeatureRunFile;
  } catch (err) {
    throw new PetromapError('NotFound', `The feature run ${runDir} has no readable run.json (removed by its coordinator?).`, { cause: err });
  }
  if (!run?.featureSet || !Array.isArray(run.featureSet.specs)) throw new PetromapError('InvalidInput', `${join(runDir, 'run.json')} names no feature set.`);
  const store = await openVolume(storePath);
  return { run, src: run.mirror ? mirrorAboveSurface(store, run.mirror, run.mirrorOptions ?? {}) : store };
}

/** Computes box `index`'s features and writes the rows of its voxels (rows file, then header). */
export async function computeFeatureBrick(
  opened: { run: FeatureRunFile; src: VolumeStore },
  spec: FeatureBrickSpec,
  opts: { signal?: AbortSignal } = {},
): Promise<{ ms: number; voxels: number }> {
  const t0 = Date.now();
  const f = featureRunFiles(spec.runDir, spec.index);
  const vox = await readTyped(f.voxels, Int32Array);
  if (vox.length % 3) throw new PetromapError('Unprocessable', `${f.voxels} does not hold (z, y, x) triples.`);
  const n = vox.length / 3;
  const { start: [z0, y0, x0], shape: [sz, sy, sx] } = spec.box;
  for (let i = 0; i < n; i++) {
    const z = vox[3 * i]! - z0, y = vox[3 * i + 1]! - y0, x = vox[3 * i + 2]! - x0;
    if (z < 0 || y < 0 || x < 0 || z >= sz || y >= sy || x >= sx) {
      throw new PetromapError('InvalidInput', `${f.voxels}: voxel (${vox[3 * i]}, ${vox[3 * i + 1]}, ${vox[3 * i + 2]}) lies outside its box; refused.`);
    }
  }
  throwIfAborted(opts.signal);
  const bf = await featuresForBox(opened.src, spec.box, opened.run.featureSet, { signal: opts.signal });
  const nF = bf.nFeatures;
  const rows = new Float32Array(n * nF);
  for (let i = 0; i < n; i++) {
    const r = ((vox[3 * i]! - z0) * sy + (vox[3 * i + 1]! - y0)) * sx + (vox[3 * i + 2]! - x0);
    rows.set(bf.data.subarray(r * nF, (r + 1) * nF), i * nF);
  }
  await writeAtomic(f.rows, bytesOf(rows));
  const ms = Date.now() - t0;
  await writeAtomic(f.header, JSON.stringify({ n, nFeatures: nF, names: bf.names, ms } satisfies FeatureRowsHeader));
  return { ms, voxels: sz * sy * sx };
}
