import { describe, expect, it } from 'vitest';
import { computeBrickFeatures } from '../../../lib/features';
import { WasmKernels } from '../../../lib/features/kernels-wasm';
import { FILTERS } from '../../../lib/features/plan';
import { computeBrickFeaturesReference, eigSym3 } from '../../../lib/features/reference';
import type { FeatureSet } from '../../../lib/features/types';
import type { Shape3 } from '../../../lib/volume/types';
import { column, maxRelErr } from './fixture';

function randomVolume(shape: Shape3, seed: number): Float32Array {
  let s = seed >>> 0;
  const rnd = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const n = shape[0] * shape[1] * shape[2];
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = 100 + 50 * rnd() + (i % shape[2] > shape[2] / 2 ? 30 : 0);
  return out;
}

async function compare(set: FeatureSet, shape: Shape3, spacing: [number, number, number], halo: Shape3 = [0, 0, 0]) {
  const ext: Shape3 = [shape[0] + 2 * halo[0], shape[1] + 2 * halo[1], shape[2] + 2 * halo[2]];
  const vol = randomVolume(ext, 7);
  const a = await computeBrickFeatures([vol], ext, halo, spacing, set);
  const b = computeBrickFeaturesReference([vol], ext, halo, spacing, set);
  expect(a.names).toEqual(b.names);
  expect(a.shape).toEqual(shape);
  const errs: Record<string, number> = {};
  for (let f = 0; f < a.nFeatures; f++) errs[a.names[f]!] = maxRelErr(column(a.data, a.nFeatures, f), column(b.data, b.nFeatures, f));
  return errs;
}

describe('wasm kernels vs float64 reference', () => {
  it('every filter, isotropic, two scales (max error <= 1e-4 of the value range)', async () => {
    const set: FeatureSet = { specs: FILTERS.flatMap((filter) => [0.7, 1.6].map((sigmaUm) => ({ filter, sigmaUm }))), preset: 'custom' };
    const errs = await compare(set, [10, 12, 19], [1, 1, 1]);
    if (process.env.SHOW_ERRS) console.log(errs);
    for (const [name, e] of Object.entries(errs)) expect(e, name).toBeLessThanOrEqual(1e-4);
  });

  it('every filter, anisotropic voxels, halo given by the caller', async () => {
    const set: FeatureSet = { specs: FILTERS.map((filter) => ({ filter, sigmaUm: 2.5 })), preset: 'custom' };
    const errs = await compare(set, [9, 11, 13], [2.0, 1.0, 1.25], [3, 5, 7]);
    if (process.env.SHOW_ERRS) console.log(errs);
    for (const [name, e] of Object.entries(errs)) expect(e, name).toBeLessThanOrEqual(1e-4);
  });

  it('skimage preset semantics (borders given explicitly)', async () => {
    const set: FeatureSet = {
      specs: [{ filter: 'gaussian', sigmaUm: 1 }, { filter: 'gradientMagnitude', sigmaUm: 1 }, { filter: 'hessianEigen', sigmaUm: 1.3 }],
      preset: 'skimage',
    };
    const errs = await compare(set, [8, 10, 12], [1, 1, 1]);
    if (process.env.SHOW_ERRS) console.log(errs);
    for (const [name, e] of Object.entries(errs)) expect(e, name).toBeLessThanOrEqual(1e-4);
  });
});

describe('wasm eig3', () => {
  it('exact on known symmetric matrices (repeated, zero, diagonal) and matches Jacobi on random ones', () => {
    const known: Array<[number[], number[]]> = [
      [[3, 0, 0, 1, 0, 2], [3, 2, 1]],
      [[2, 1, 0, 2, 0, 5], [5, 3, 1]],
      [[0, 0, 0, 0, 0, 0], [0, 0, 0]],
      [[4, 0, 0, 4, 0, 4], [4, 4, 4]],
      [[2, 1, 1, 2, 1, 2], [4, 1, 1]],
      [[-1, 0, 0, -1, 0, 3], [3, -1, -1]],
    ];
    let seed = 11;
    const rnd = () => ((seed = (Math.imul(seed, 48271) % 2147483647) >>> 0) / 2147483647) * 2 - 1;
    const mats = known.map((k) => k[0]);
    for (let i = 0; i < 1001; i++) mats.push([rnd(), rnd() * 1e-3, rnd(), rnd(), rnd() * 0.5, rnd() * 100]);
    const n = mats.length;
    const K = new WasmKernels();
    const h = [0, 1, 2, 3, 4, 5].map((c) => K.put(mats.map((m) => m[c]!)));
    const out = [K.alloc(n), K.alloc(n), K.alloc(n)];
    K.k.eig3(h[0]!, h[1]!, h[2]!, h[3]!, h[4]!, h[5]!, 1, 1, 1, 1, 1, 1, n, out[0]!, out[1]!, out[2]!);
    const e = out.map((p) => Array.from(K.f32(p, n)));
    known.forEach(([, want], i) => {
      for (let k = 0; k < 3; k++) expect(e[k]![i]!, `matrix ${i} eigenvalue ${k}`).toBeCloseTo(want[k]!, 5);
    });
    for (let i = 0; i < n; i++) {
      const m = mats[i]!.map(Math.fround);
      const want = eigSym3(m[0]!, m[1]!, m[2]!, m[3]!, m[4]!, m[5]!);
      const scale = Math.max(1, Math.abs(want[0]), Math.abs(want[2]));
      for (let k = 0; k < 3; k++) expect(Math.abs(e[k]![i]! - want[k]!) / scale).toBeLessThan(1e-6);
    }
  });
});
