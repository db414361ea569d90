/** Loads the committed scikit-image / scipy fixtures (tests/fixtures/skimage). */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Shape3 } from '../../../lib/volume/types';

const dir = fileURLToPath(new URL('../../fixtures/skimage/', import.meta.url));

function f32(name: string): Float32Array {
  const b = readFileSync(dir + name);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

export interface Fixture {
  volume: Float32Array;
  shape: Shape3;
  features: Float32Array;
  nFeatures: number;
  scipyInput: Float32Array;
  scipyShape: Shape3;
  scipyCases: Array<{ sigma: number[]; order: number[]; out: Float32Array }>;
}

export function loadFixture(): Fixture {
  const meta = JSON.parse(readFileSync(dir + 'fixture.json', 'utf8'));
  const shape = meta.volume.shape as Shape3;
  const scipyShape = meta.scipy_gaussian.inputShape as Shape3;
  const n = scipyShape[0] * scipyShape[1] * scipyShape[2];
  const all = f32(meta.scipy_gaussian.file);
  return {
    volume: f32(meta.volume.file),
    shape,
    features: f32(meta.features.file),
    nFeatures: meta.features.shape[3],
    scipyInput: f32(meta.scipy_gaussian.input),
    scipyShape,
    scipyCases: meta.scipy_gaussian.cases.map((c: { sigma: number[]; order: number[] }, i: number) => ({
      ...c,
      out: all.subarray(i * n, (i + 1) * n),
    })),
  };
}

/** max |a - b| / (max b - min b) over the given feature column(s). */
export function maxRelErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let lo = Infinity;
  let hi = -Infinity;
  let err = 0;
  for (let i = 0; i < b.length; i++) {
    lo = Math.min(lo, b[i]!);
    hi = Math.max(hi, b[i]!);
    err = Math.max(err, Math.abs(a[i]! - b[i]!));
  }
  return err / Math.max(hi - lo, 1e-12);
}

export function column(data: Float32Array, nFeatures: number, f: number): Float32Array {
  const n = data.length / nFeatures;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = data[i * nFeatures + f]!;
  return out;
}
