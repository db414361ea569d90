/**
 * Test helpers: an in-memory VolumeStore over a DenseVolume (reflect halo, like the zarr store) and
 * a small separable-Gaussian feature bank, so classify tests run before/without lib/features.
 */
import type { ReadBlockOptions, VolumeStore } from '../../../lib/volume/store';
import type { AnyVoxelArray, Box3, DenseVolume, Shape3 } from '../../../lib/volume/types';
import type { BrickFeatures, FeatureSet } from '../../../lib/features/types';
import { rng } from '../../../lib/classify/rng';
import type { FeatureRows } from '../../../lib/classify/training-set';

const reflect = (i: number, n: number): number => {
  while (i < 0 || i >= n) i = i < 0 ? -i - 1 : 2 * n - i - 1;
  return i;
};

export function denseStore(vol: DenseVolume, path = 'memory'): VolumeStore {
  const [nz, ny, nx] = vol.meta.shape;
  const data = vol.data;
  async function read(box: Box3, ro: ReadBlockOptions = {}): Promise<Float32Array> {
    const h: Shape3 = ro.halo === undefined ? [0, 0, 0] : typeof ro.halo === 'number' ? [ro.halo, ro.halo, ro.halo] : ro.halo;
    const sz = box.shape[0] + 2 * h[0], sy = box.shape[1] + 2 * h[1], sx = box.shape[2] + 2 * h[2];
    const out = new Float32Array(sz * sy * sx);
    let i = 0;
    for (let z = 0; z < sz; z++) {
      const gz = reflect(box.start[0] - h[0] + z, nz);
      for (let y = 0; y < sy; y++) {
        const gy = reflect(box.start[1] - h[1] + y, ny);
        const row = (gz * ny + gy) * nx;
        for (let x = 0; x < sx; x++) out[i++] = data[row + reflect(box.start[2] - h[2] + x, nx)];
      }
    }
    return out;
  }
  return {
    path,
    meta: vol.meta,
    levels: 1,
    levelShape: () => vol.meta.shape,
    readBlockF32: read,
    readBlock: async (box, ro) => Uint16Array.from(await read(box, ro)) as AnyVoxelArray,
    writeBlock: async () => {
      throw new Error('read-only');
    },
  };
}

function gaussKernel(s: number): Float32Array {
  const r = Math.ceil(3 * s);
  const k = new Float32Array(2 * r + 1);
  let sum = 0;
  for (let i = -r; i <= r; i++) sum += k[i + r] = Math.exp((-i * i) / (2 * s * s));
  for (let i = 0; i < k.length; i++) k[i] /= sum;
  return k;
}

function conv1(src: Float32Array, shape: Shape3, axis: number, k: Float32Array): Float32Array {
  const [sz, sy, sx] = shape;
  const r = (k.length - 1) / 2;
  const out = new Float32Array(src.length);
  const stride = axis === 0 ? sy * sx : axis === 1 ? sx : 1;
  const n = shape[axis];
  for (let z = 0; z < sz; z++) for (let y = 0; y < sy; y++) for (let x = 0; x < sx; x++) {
    const i = (z * sy + y) * sx + x;
    const p = axis === 0 ? z : axis === 1 ? y : x;
    let acc = 0;
    for (let j = -r; j <= r; j++) acc += k[j + r] * src[i + (reflect(p + j, n) - p) * stride];
    out[i] = acc;
  }
  return out;
}

export const SIGMAS = [0.7, 1.5, 3];
export const TEST_HALO = 10;

/** intensity + Gaussian(s) + gradient magnitude(s) for s in SIGMAS: 7 features per voxel. */
export async function simpleFeatures(store: VolumeStore, box: Box3): Promise<BrickFeatures> {
  const h = TEST_HALO;
  const blk = await store.readBlockF32(box, { halo: h });
  const shape: Shape3 = [box.shape[0] + 2 * h, box.shape[1] + 2 * h, box.shape[2] + 2 * h];
  const scale = 1 / 20000;
  for (let i = 0; i < blk.length; i++) blk[i] *= scale;
  const maps: Float32Array[] = [blk];
  const names = ['intensity'];
  for (const s of SIGMAS) {
    const k = gaussKernel(s);
    const g = conv1(conv1(conv1(blk, shape, 0, k), shape, 1, k), shape, 2, k);
    maps.push(g);
    names.push(`gaussian_${s}`);
    const gm = new Float32Array(g.length);
    const [sz, sy, sx] = shape;
    for (let z = 1; z < sz - 1; z++) for (let y = 1; y < sy - 1; y++) for (let x = 1; x < sx - 1; x++) {
      const i = (z * sy + y) * sx + x;
      const dz = g[i + sy * sx] - g[i - sy * sx], dy = g[i + sx] - g[i - sx], dx = g[i + 1] - g[i - 1];
      gm[i] = 0.5 * Math.sqrt(dz * dz + dy * dy + dx * dx);
    }
    maps.push(gm);
    names.push(`gradmag_${s}`);
  }
  const [bz, by, bx] = box.shape;
  const nF = maps.length;
  const data = new Float32Array(bz * by * bx * nF);
  let v = 0;
  for (let z = 0; z < bz; z++) for (let y = 0; y < by; y++) for (let x = 0; x < bx; x++, v++) {
    const i = ((z + h) * shape[1] + y + h) * shape[2] + x + h;
    for (let f = 0; f < nF; f++) data[v * nF + f] = maps[f][i];
  }
  return { shape: box.shape, nFeatures: nF, names, data };
}

/** A cheap lib/features bank (small halo) so prediction tests stay fast. */
export const TEST_SET: FeatureSet = {
  preset: 'custom',
  specs: [
    { filter: 'intensity', sigmaUm: 0 },
    { filter: 'gaussian', sigmaUm: 2 },
    { filter: 'gaussian', sigmaUm: 4 },
    { filter: 'gradientMagnitude', sigmaUm: 2 },
    { filter: 'laplacian', sigmaUm: 2 },
    { filter: 'localVariance', sigmaUm: 4 },
  ],
};

/** `counts[k]` rows of class `codes[k]` around `centres[k]` (2 features, unit Gaussian noise, seeded). */
export function gaussianRows(counts: number[], codes: number[], centres: number[][], seed: number): FeatureRows {
  const r = rng(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
  const n = counts.reduce((a, b) => a + b, 0);
  const x = new Float32Array(2 * n), y = new Uint8Array(n);
  let i = 0;
  counts.forEach((c, k) => {
    for (let j = 0; j < c; j++, i++) {
      x[2 * i] = centres[k]![0]! + gauss();
      x[2 * i + 1] = centres[k]![1]! + gauss();
      y[i] = codes[k]!;
    }
  });
  return { x, y, n, positions: new Int32Array(3 * n) };
}
