/**
 * computeBrickFeatures on the wasm kernels. Semantics: plan.ts; oracle: reference.ts.
 *
 * Every image lives in wasm memory as an `Img`: the inner (halo-free) brick plus a margin per axis.
 * Gaussian derivative filters run as separable passes x, y, z, each cropping its own axis to the
 * margin the next step needs; all derivative orders of one scale share their x and y passes.
 * Specs are processed per scale so that working memory holds one scale at a time.
 */
import type { AnyVoxelArray, Shape3 } from '../volume/types';
import { BrickContext, fillOutside, type Img } from './brick-context';
import { computeCoarse } from './coarse';
import { runGroup } from './compute-spec';
import { wasmKernels, type WasmKernels } from './kernels-wasm';
import {
  checkBrickInput,
  checkSet,
  componentCount,
  derivativeFactors,
  DOG_RATIO,
  featureHalo,
  featureNames,
  featuresPerChannel,
  isCoarse,
  isSkimage,
  kernelRadius,
  resolveExtent,
  rehalo,
  truncateOf,
  voxelSigmas,
  type BrickOptions,
} from './plan';
import type { BrickFeatures, FeatureSet } from './types';

export type ComputeOptions = BrickOptions & { channelNames?: string[]; /** multiplies the input values */ scale?: number };

export async function computeBrickFeaturesWasm(
  channels: AnyVoxelArray[],
  shapeWithHalo: Shape3,
  halo: Shape3,
  spacingUm: [number, number, number],
  set: FeatureSet,
  opts: ComputeOptions = {},
): Promise<BrickFeatures> {
  let data: Float32Array | undefined;
  const inner = await computeBrickFeaturesPlanar(channels, shapeWithHalo, halo, spacingUm, set, opts, (K, planar, nVox, nF) => {
    data = interleave(K, planar, nVox, nF);
  });
  const names = featureNames(set, opts.channelNames ?? channels.map((_, i) => (channels.length === 1 ? 'xrm' : `ch${i}`)));
  return { shape: inner, nFeatures: names.length, names, data: data! };
}

/**
 * Receives the features of a brick where the kernels left them: feature-major planes in the wasm
 * memory of `K` (feature f of voxel v at byte `planar + 4 * (f * nVox + v)`). It may allocate more
 * wasm memory (K.alloc) and must not keep views after it returns: the memory is reused.
 */
export type PlanarConsumer = (K: WasmKernels, planar: number, nVox: number, nF: number) => void;

/** The features of a brick, handed to `consume` as planes in wasm memory (no rows, no copy). */
export async function computeBrickFeaturesPlanar(
  channels: AnyVoxelArray[],
  shapeWithHalo: Shape3,
  halo: Shape3,
  spacingUm: [number, number, number],
  set: FeatureSet,
  opts: ComputeOptions,
  consume: PlanarConsumer,
): Promise<Shape3> {
  checkSet(set, spacingUm);
  const inner = checkBrickInput(channels, shapeWithHalo, halo);
  const need = featureHalo(set, spacingUm);
  const extent = resolveExtent(inner, halo, need, opts);
  const nPer = featuresPerChannel(set);
  const nF = nPer * channels.length;
  const nVox = inner[0] * inner[1] * inner[2];
  const skimage = isSkimage(set);
  const f = derivativeFactors(spacingUm);
  const K = wasmKernels();
  K.reset();
  const out = K.alloc(nVox * nF); // feature-major (planar) while computing, see interleave()
  // bound of all kernel weights: per spec and axis 4 scales x 3 orders of at most 2 r(1.6 s) + 1 taps
  let arenaCap = 64;
  for (const sp of set.specs) {
    for (const sa of voxelSigmas(sp.sigmaUm, spacingUm)) arenaCap += 12 * (2 * kernelRadius(DOG_RATIO * sa) + 1 + 4);
  }
  const arena = K.alloc(arenaCap);
  const ctx = new BrickContext(K, inner, out, nF, arena, arenaCap, truncateOf(set));
  const needsSquare = set.specs.some((sp) => sp.filter === 'localVariance' || sp.filter === 'nonLocalMean');

  // spec column offsets within a channel
  const col: number[] = [];
  let acc = 0;
  for (const sp of set.specs) {
    col.push(acc);
    acc += componentCount(sp.filter);
  }
  // specs grouped by scale (same sigmaUm)
  const groups = new Map<number, number[]>();
  const coarseIdx: number[] = [];
  set.specs.forEach((sp, i) => {
    if (isCoarse(set, sp, spacingUm)) {
      coarseIdx.push(i);
      return;
    }
    const g = groups.get(sp.sigmaUm) ?? [];
    g.push(i);
    groups.set(sp.sigmaUm, g);
  });

  for (let c = 0; c < channels.length; c++) {
    const chMark = K.mark();
    const { data: ext, shape: extShape } = rehalo(channels[c]!, shapeWithHalo, halo, need);
    const X: Img = { ptr: K.alloc(ext.length), margin: need, dims: extShape };
    const scale = opts.scale ?? 1;
    if (ext instanceof Float32Array) {
      K.f32(X.ptr, ext.length).set(ext);
      if (scale !== 1) K.k.scale(X.ptr, scale, ext.length);
    } else {
      // integer scans: converted (and scaled) in wasm, no float copy in JS
      const m = K.mark();
      K.k.fromInt(K.putBytes(ext), ext.BYTES_PER_ELEMENT, X.ptr, ext.length, scale);
      K.release(m);
    }
    if (skimage) fillOutside(K, X, extent, 'nearest');
    ctx.X = X;
    ctx.x2 = undefined;
    ctx.centre();
    if (needsSquare) ctx.makeSquared();

    for (const idxs of groups.values()) {
      runGroup(ctx, set.specs, idxs, (sp) => voxelSigmas(sp.sigmaUm, spacingUm), f, (i) => c * nPer + col[i]!, skimage, extent);
    }
    if (coarseIdx.length) computeCoarse(ctx, set, coarseIdx, spacingUm, f, (i) => c * nPer + col[i]!, opts.origin ?? [0, 0, 0]);
    K.release(chMark);
  }
  try {
    consume(K, out, nVox, nF);
  } finally {
    K.reset();
  }
  return inner;
}

/**
 * Planar (feature-major) -> voxel-major rows, block by block through a small wasm buffer (sequential
 * reads, the written block stays in cache; no second full-size copy in wasm memory).
 */
function interleave(K: WasmKernels, planar: number, n: number, nF: number): Float32Array {
  const out = new Float32Array(n * nF);
  const block = Math.max(1, Math.min(n, Math.floor((1 << 18) / nF)));
  const mark = K.mark();
  const buf = K.alloc(block * nF);
  for (let v0 = 0; v0 < n; v0 += block) {
    const count = Math.min(block, n - v0);
    K.k.interleave(planar, n, nF, v0, count, buf);
    out.set(K.f32(buf, count * nF), v0 * nF);
  }
  K.release(mark);
  return out;
}
