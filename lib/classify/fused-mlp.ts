/**
 * Fused inference of the voxel classifier in the wasm SIMD kernels (wasm/assembly/kernels/mlp.ts):
 * standardisation, dense -> ReLU -> ... -> dense -> softmax, arg max, the quantised probabilities
 * and the uncertainty of a brick in one pass over its feature planes, in the same wasm memory the
 * feature kernels left them in (no rows, no tensors, no per-brick JS arrays besides the outputs).
 *
 * TF.js stays the training engine and the model format: the weights are read from the trained
 * model through the TF.js layers API. Supported: Sequential stacks of Dense layers (ReLU or linear
 * hidden activations, softmax output), with Dropout / GaussianNoise (no-ops at inference) in
 * between. Any other model gives null and prediction falls back to TF.js (predictRows).
 */
import type { Tensor } from '@tensorflow/tfjs-core';
import type { WasmKernels } from '../features/kernels-wasm';
import type { BrickOutputs } from './brick-predict';
import type { TrainedModel } from './model';

interface PackedLayer {
  inDim: number;
  outPad: number;
  /** 0 linear, 1 relu, 2 softmax */
  act: number;
  /** per block of 4 outputs: inDim groups of 4 weights, each weight 4 times (a ready f32x4 splat) */
  w: Float32Array;
  b: Float32Array;
}

/** The network of a TrainedModel, packed for the kernel. */
export interface FusedMlp {
  nF: number;
  nClasses: number;
  classes: number[];
  mean: Float32Array;
  std: Float32Array;
  layers: PackedLayer[];
  maxUnits: number;
}

const ACT: Record<string, number> = { linear: 0, relu: 1, softmax: 2 };
const IDENTITY_AT_INFERENCE = new Set(['Dropout', 'GaussianNoise', 'GaussianDropout', 'InputLayer']);
const cache = new WeakMap<TrainedModel, FusedMlp | null>();

/** The packed network of `tm`, or null when the kernel does not support its layers. */
export function fusedMlpOf(tm: TrainedModel): FusedMlp | null {
  if (cache.has(tm)) return cache.get(tm)!;
  const plan = pack(tm);
  cache.set(tm, plan);
  return plan;
}

function pack(tm: TrainedModel): FusedMlp | null {
  const nF = tm.mean.length;
  const K = tm.classes.length;
  const layers: PackedLayer[] = [];
  let inDim = nF, inReal = nF;
  for (const layer of tm.model.layers) {
    const kind = layer.getClassName();
    if (IDENTITY_AT_INFERENCE.has(kind)) continue;
    if (kind !== 'Dense') return null;
    const cfg = layer.getConfig() as { activation?: string; useBias?: boolean };
    const act = ACT[cfg.activation ?? 'linear'];
    if (act === undefined) return null;
    const weights = layer.getWeights() as Tensor[];
    const kernel = weights[0];
    if (!kernel || kernel.shape.length !== 2 || kernel.shape[0] !== inReal) return null;
    const out = kernel.shape[1]!;
    const kw = kernel.dataSync() as Float32Array;
    const bias = cfg.useBias === false ? new Float32Array(out) : (weights[1]?.dataSync() as Float32Array | undefined);
    if (!bias || bias.length !== out) return null;
    const outPad = Math.ceil(out / 4) * 4;
    const w = new Float32Array(4 * outPad * inDim);
    for (let hb = 0; hb < outPad; hb += 4) {
      for (let f = 0; f < inReal; f++) for (let j = 0; j < 4 && hb + j < out; j++) w.fill(kw[f * out + hb + j]!, 4 * (hb * inDim + f * 4 + j), 4 * (hb * inDim + f * 4 + j) + 4);
    }
    const b = new Float32Array(outPad);
    b.set(bias);
    layers.push({ inDim, outPad, act, w, b });
    inDim = outPad;
    inReal = out;
  }
  const last = layers.at(-1);
  // softmax only as the output, over exactly the classes
  if (!last || last.act !== 2 || inReal !== K || layers.slice(0, -1).some((l) => l.act === 2)) return null;
  return { nF, nClasses: K, classes: tm.classes, mean: tm.mean, std: tm.std, layers, maxUnits: Math.max(...layers.map((l) => l.outPad)), };
}

const TILE = 64;

/** Where mlpPredict writes (wasm byte offsets; 0 = not wanted). */
export interface FusedOutputs {
  /** n class codes (u8) */
  labels: number;
  /** nClasses planes of `stride` bytes: round(255 p) */
  probsU8: number;
  stride: number;
  /** n bytes: round(255 (1 - (p1 - p2))) */
  unc: number;
  /** n rows of nClasses f32 probabilities */
  probsF32: number;
}

/**
 * Runs the network over voxels [0, n) of the feature planes at `planar` (in K's memory, see
 * PlanarConsumer), writing `out`. Allocates its weights and scratch on K (released on return).
 */
export function runFusedMlp(K: WasmKernels, net: FusedMlp, planar: number, n: number, out: FusedOutputs): void {
  const mark = K.mark();
  try {
    const mean = K.put(net.mean);
    const std = K.put(net.std);
    const desc = K.alloc(5 * net.layers.length);
    const rec = net.layers.flatMap((l) => [l.inDim, l.outPad, l.act, K.put(l.w), K.put(l.b)]);
    // the view after the puts: a put may grow the memory (and detach older views)
    K.i32(desc, rec.length).set(rec);
    const lut = K.alloc(Math.ceil(net.nClasses / 4) + 1);
    new Uint8Array(K.memory.buffer, lut, net.nClasses).set(net.classes);
    const scratch = K.alloc((2 * net.maxUnits + Math.max(net.nF, net.maxUnits)) * TILE);
    K.k.mlpPredict(planar, n, net.nF, 0, n, mean, std, desc, net.layers.length, net.maxUnits, net.nClasses, scratch, lut, out.labels, out.probsU8, out.stride, out.unc, out.probsF32);
  } finally {
    K.release(mark);
  }
}

/** runFusedMlp into `out` (arrays of nVox voxels): labels, quantised probabilities, uncertainty. */
export function runFusedMlpInto(K: WasmKernels, net: FusedMlp, planar: number, nVox: number, out: BrickOutputs): void {
  const nK = net.nClasses;
  const mark = K.mark();
  try {
    const o = K.alloc(Math.ceil(((nK + 2) * nVox) / 4));
    runFusedMlp(K, net, planar, nVox, { labels: o, probsU8: o + nVox, stride: nVox, unc: o + (nK + 1) * nVox, probsF32: 0 });
    const bytes = new Uint8Array(K.memory.buffer, o, (nK + 2) * nVox);
    out.labels.set(bytes.subarray(0, nVox));
    for (let k = 0; k < nK; k++) out.probabilities[k]!.set(bytes.subarray((k + 1) * nVox, (k + 2) * nVox));
    out.uncertainty.set(bytes.subarray((nK + 1) * nVox));
  } finally {
    K.release(mark);
  }
}

/** Class probabilities (n x K rows) of raw feature rows through the fused kernel (tests, tools). */
export function fusedPredictRows(K: WasmKernels, net: FusedMlp, x: Float32Array, n: number): Float32Array {
  const mark = K.mark();
  try {
    const planar = K.alloc(n * net.nF);
    const p = K.f32(planar, n * net.nF);
    for (let v = 0; v < n; v++) for (let f = 0; f < net.nF; f++) p[f * n + v] = x[v * net.nF + f]!;
    const probs = K.alloc(n * net.nClasses);
    runFusedMlp(K, net, planar, n, { labels: 0, probsU8: 0, stride: 0, unc: 0, probsF32: probs });
    return K.f32(probs, n * net.nClasses).slice();
  } finally {
    K.release(mark);
  }
}
