import { describe, expect, it } from 'vitest';
import * as tfl from '@tensorflow/tfjs-layers';
import { brickOutputs } from '../../../lib/classify/brick-predict';
import { fusedMlpOf, fusedPredictRows } from '../../../lib/classify/fused-mlp';
import { buildMlp, predictRows, type TrainedModel } from '../../../lib/classify/model';
import { rng } from '../../../lib/classify/rng';
import { getTf } from '../../../lib/classify/tf-node';
import { kernelsFlavour, kernelsModule, WasmKernels, wasmKernels } from '../../../lib/features/kernels-wasm';
import { featureSource, predictBrick } from '../../../lib/classify/predict-brick';
import type { Box3 } from '../../../lib/volume/types';
import { denseStore, TEST_SET } from './helpers';
import { fixture } from './sample';

/** A model with random (not trained) weights; biases random too, so every term of the kernel counts. */
async function model(nF: number, hidden: number[], classes: number[], seed: number, o: { dropout?: number; inputNoise?: number } = {}): Promise<TrainedModel> {
  const tf = await getTf();
  const m = buildMlp(nF, hidden, classes.length, { seed, dropout: o.dropout, inputNoise: o.inputNoise, l2: 1e-3 });
  const r = rng(seed);
  m.setWeights(m.getWeights().map((w) => tf.tensor(Float32Array.from({ length: w.size }, () => (r() - 0.5) * 1.2), w.shape)));
  const mean = Float32Array.from({ length: nF }, () => 20000 + 3000 * r());
  const std = Float32Array.from({ length: nF }, () => 500 + 4000 * r());
  return { model: m, classes, mean, std, featureNames: [], hidden, history: [], bestEpoch: 0 };
}

function rows(tm: TrainedModel, n: number, seed: number): Float32Array {
  const r = rng(seed);
  const nF = tm.mean.length;
  const x = new Float32Array(n * nF);
  for (let i = 0; i < n; i++) for (let f = 0; f < nF; f++) x[i * nF + f] = tm.mean[f]! + tm.std[f]! * 2.5 * (r() + r() + r() - 1.5);
  return x;
}

describe('fused wasm MLP', () => {
  it.each([
    ['default 36 -> 48 -> 48 -> 5 with dropout', 36, [48, 48], [1, 2, 3, 4, 5], { dropout: 0.2 }],
    ['odd widths 13 -> 30 -> 7 -> 3 with input noise', 13, [30, 7], [2, 4, 9], { inputNoise: 0.3 }],
    ['one hidden layer, 6 classes', 36, [64], [0, 1, 2, 3, 4, 5], {}],
    ['the smaller 36 -> 32 -> 32 -> 5', 36, [32, 32], [1, 2, 3, 4, 5], { dropout: 0.2 }],
  ] as const)('gives model.predict\'s probabilities within 1e-5 (%s)', async (_name, nF, hidden, classes, o) => {
    const tm = await model(nF, [...hidden], [...classes], 7 + nF, o);
    const net = fusedMlpOf(tm);
    expect(net).not.toBeNull();
    const n = 1000 + 3; // not a multiple of the tile or of 4 voxels
    const x = rows(tm, n, 3);
    const want = await predictRows(tm, x, n);
    const got = fusedPredictRows(wasmKernels(), net!, x, n);
    let maxErr = 0;
    for (let i = 0; i < want.length; i++) maxErr = Math.max(maxErr, Math.abs(got[i]! - want[i]!));
    expect(maxErr).toBeLessThan(1e-5);
    // the probabilities are not all flat: the comparison means something
    let confident = 0;
    for (let i = 0; i < n; i++) if (Math.max(...want.subarray(i * classes.length, (i + 1) * classes.length)) > 0.6) confident++;
    expect(confident).toBeGreaterThan(n / 20);
  });

  it('gives the labels, probabilities and uncertainty of brickOutputs', async () => {
    const tm = await model(36, [48, 48], [1, 2, 3, 4, 5], 5);
    const net = fusedMlpOf(tm)!;
    const box: Box3 = { start: [0, 0, 0], shape: [3, 7, 11] };
    const n = 3 * 7 * 11;
    const x = rows(tm, n, 9);
    const ref = brickOutputs(await predictRows(tm, x, n), tm.classes, box);
    const K = wasmKernels();
    const mark = K.mark();
    const planar = K.alloc(n * 36);
    const p = K.f32(planar, n * 36);
    for (let v = 0; v < n; v++) for (let f = 0; f < 36; f++) p[f * n + v] = x[v * 36 + f]!;
    const out = K.alloc(Math.ceil((7 * n) / 4));
    const { runFusedMlp } = await import('../../../lib/classify/fused-mlp');
    runFusedMlp(K, net, planar, n, { labels: out, probsU8: out + n, stride: n, unc: out + 6 * n, probsF32: 0 });
    const bytes = new Uint8Array(K.memory.buffer, out, 7 * n).slice();
    K.release(mark);
    expect(Array.from(bytes.subarray(0, n))).toEqual(Array.from(ref.labels));
    // a probability within 1e-5 may round to the other side of a .5: at most 1 apart, rarely
    let off = 0;
    for (let k = 0; k < 5; k++) for (let i = 0; i < n; i++) {
      const d = Math.abs(bytes[n + k * n + i]! - ref.probabilities[k]![i]!);
      expect(d).toBeLessThanOrEqual(1);
      off += d;
    }
    for (let i = 0; i < n; i++) expect(Math.abs(bytes[6 * n + i]! - ref.uncertainty[i]!)).toBeLessThanOrEqual(1);
    expect(off).toBeLessThan(5);
  });

  it('runs the relaxed-SIMD build (fused multiply-adds) where the runtime accepts it, within 5e-6 of the SIMD build', async () => {
    // Node 20 takes relaxed SIMD behind V8's flag, which kernels-wasm turns on: this machine's
    // processes run the relaxed build unless PETROMAP_WASM_RELAXED_SIMD=0
    expect(kernelsModule('relaxed-simd')).not.toBeNull();
    expect(kernelsFlavour()).toBe(process.env.PETROMAP_WASM_RELAXED_SIMD === '0' ? 'simd' : 'relaxed-simd');
    expect(wasmKernels().flavour).toBe(kernelsFlavour());
    const tm = await model(36, [48, 48], [1, 2, 3, 4, 5], 11, { dropout: 0.2 });
    const net = fusedMlpOf(tm)!;
    const n = 4000 + 5;
    const x = rows(tm, n, 13);
    const relaxed = fusedPredictRows(new WasmKernels('relaxed-simd'), net, x, n);
    const simd = fusedPredictRows(new WasmKernels('simd'), net, x, n);
    let maxErr = 0, same = 0;
    for (let i = 0; i < simd.length; i++) {
      maxErr = Math.max(maxErr, Math.abs(relaxed[i]! - simd[i]!));
      if (relaxed[i] === simd[i]) same++;
    }
    expect(maxErr).toBeLessThan(5e-6); // measured 1.8e-6 with these random weights, 1e-6 on a trained model
    // fused: one rounding per multiply-add instead of two, so some values differ (this CPU has FMA)
    expect(same).toBeLessThan(simd.length);
    // and both stay within 1e-5 of model.predict
    const want = await predictRows(tm, x, n);
    for (const got of [relaxed, simd]) {
      let e = 0;
      for (let i = 0; i < want.length; i++) e = Math.max(e, Math.abs(got[i]! - want[i]!));
      expect(e).toBeLessThan(1e-5);
    }
  });

  it('quantises 4 voxels at a time to the same bytes as the voxel-by-voxel loop', async () => {
    const tm = await model(36, [48, 48], [1, 2, 3, 4, 5], 17);
    const net = fusedMlpOf(tm)!;
    const n = 2000 + 3;
    const x = rows(tm, n, 19);
    const K = wasmKernels();
    const mark = K.mark();
    const planar = K.alloc(n * 36);
    const p = K.f32(planar, n * 36);
    for (let v = 0; v < n; v++) for (let f = 0; f < 36; f++) p[f * n + v] = x[v * 36 + f]!;
    const { runFusedMlp } = await import('../../../lib/classify/fused-mlp');
    const bytes = (probsF32: number) => {
      const out = K.alloc(Math.ceil((7 * n) / 4));
      // asking for the float rows too takes the voxel-by-voxel loop
      runFusedMlp(K, net, planar, n, { labels: out, probsU8: out + n, stride: n, unc: out + 6 * n, probsF32 });
      return new Uint8Array(K.memory.buffer, out, 7 * n).slice();
    };
    const vector = bytes(0);
    const scalar = bytes(K.alloc(5 * n));
    K.release(mark);
    expect(new Set(vector.subarray(6 * n)).size).toBeGreaterThan(50); // the uncertainty varies
    let differ = 0;
    for (let i = 0; i < 7 * n; i++) if (vector[i] !== scalar[i]) differ++;
    expect(differ).toBe(0);
  });

  it('declines models it does not support (prediction then uses TF.js)', async () => {
    await getTf();
    const m = tfl.sequential();
    m.add(tfl.layers.dense({ units: 8, activation: 'tanh', inputShape: [4] }));
    m.add(tfl.layers.dense({ units: 3, activation: 'softmax' }));
    const tm: TrainedModel = { model: m, classes: [1, 2, 3], mean: new Float32Array(4), std: new Float32Array(4).fill(1), featureNames: [], hidden: [8], history: [], bestEpoch: 0 };
    expect(fusedMlpOf(tm)).toBeNull();
    const sig = tfl.sequential();
    sig.add(tfl.layers.dense({ units: 3, activation: 'sigmoid', inputShape: [4] }));
    expect(fusedMlpOf({ ...tm, model: sig })).toBeNull();
  });

  it('predictBrick: the fused path gives the TF.js path\'s outputs on a synthetic sample, air above the surface left empty', async () => {
    const { sample } = fixture();
    const store = denseStore(sample.volume);
    const surface = sample.truth.surface;
    // the TEST_SET features of this volume, a model with random weights standardised to them
    const nF = 6;
    const tm = await model(nF, [16, 16], [1, 2, 3, 4, 5], 21);
    tm.featureSet = TEST_SET;
    const box: Box3 = { start: [0, 8, 8], shape: [20, 24, 40] };
    // standardise to the real features so the classes are mixed (not one class everywhere)
    const { featuresForBox } = await import('../../../lib/features');
    const f = await featuresForBox(featureSource(store, surface), box, TEST_SET);
    expect(f.nFeatures).toBe(nF);
    const n = f.data.length / nF;
    for (let k = 0; k < nF; k++) {
      let m = 0, q = 0;
      for (let i = 0; i < n; i++) { m += f.data[i * nF + k]!; q += f.data[i * nF + k]! ** 2; }
      m /= n;
      tm.mean[k] = m;
      tm.std[k] = Math.sqrt(Math.max(1e-6, q / n - m * m));
    }
    const want = await predictBrick(tm, featureSource(store, surface), box, surface, { engine: 'tfjs' });
    const got = await predictBrick(tm, featureSource(store, surface), box, surface);
    expect(want.labels.filter((l) => l === 0).length).toBeGreaterThan(0); // air above the tilted surface
    // the outputs vary over the brick: the comparison below means something
    expect(new Set(want.uncertainty).size).toBeGreaterThan(20);
    expect(new Set(want.probabilities[0]).size).toBeGreaterThan(20);
    let differ = 0;
    for (let i = 0; i < n; i++) if (got.labels[i] !== want.labels[i]) differ++;
    expect(differ).toBeLessThanOrEqual(2); // only exact ties could differ
    let airNotEmpty = 0, maxDiff = 0;
    for (let i = 0; i < n; i++) {
      if (want.labels[i] === 0 && got.labels[i]! + got.uncertainty[i]! + got.probabilities.reduce((a, p) => a + p[i]!, 0) !== 0) airNotEmpty++;
      maxDiff = Math.max(maxDiff, Math.abs(got.uncertainty[i]! - want.uncertainty[i]!));
      for (let k = 0; k < 5; k++) maxDiff = Math.max(maxDiff, Math.abs(got.probabilities[k]![i]! - want.probabilities[k]![i]!));
    }
    expect(airNotEmpty).toBe(0);
    expect(maxDiff).toBeLessThanOrEqual(1);
  });
});
