/**
 * 3D feature bank (public API). Semantics of every filter: see plan.ts.
 */
import { invalidInput, throwIfAborted, type StageOptions } from '../errors';
import type { VolumeStore } from '../volume/store';
import type { AnyVoxelArray, Box3, Shape3 } from '../volume/types';
import { computeBrickFeaturesPlanar, computeBrickFeaturesWasm, type PlanarConsumer } from './compute';
import { extentOfBox, featureHalo, type BrickOptions } from './plan';
import type { BrickFeatures, FeatureSet } from './types';

export type { PlanarConsumer } from './compute';
export type { BrickFeatures, FeatureSet, FeatureSpec, FilterName } from './types';
export { extentOfBox, featureHalo, featureNames, featuresPerChannel, type BrickOptions, type Extent } from './plan';
export { DEFAULT_FEATURE_SET, DEFAULT_SIGMAS_UM, DEFAULT_SIGMAS_VOX, defaultFeatureSet, skimagePreset } from './sets';

/**
 * Features of one brick; `channels[c]` is float32 data of shape shapeWithHalo (z-major), halo per
 * axis. Runs in the calling thread (wasm). A halo smaller than featureHalo(set) is completed by
 * reflecting the given array (so a whole volume with halo 0 gives scipy 'reflect' borders).
 */
export async function computeBrickFeatures(
  channels: Float32Array[],
  shapeWithHalo: Shape3,
  halo: Shape3,
  spacingUm: [number, number, number],
  set: FeatureSet,
  opts?: BrickOptions & { channelNames?: string[] },
): Promise<BrickFeatures> {
  return computeBrickFeaturesWasm(channels, shapeWithHalo, halo, spacingUm, set, opts);
}

/**
 * Reads box + halo from the store (all channels, level 0) and computes its features. With the
 * skimage preset, integer scans are scaled to [0, 1] first, as skimage's img_as_float32 does.
 */
export async function featuresForBox(store: VolumeStore, box: Box3, set: FeatureSet, opts: StageOptions = {}): Promise<BrickFeatures> {
  const input = await readFeatureInput(store, box, set, opts);
  const out = await computeBrickFeaturesWasm(input.channels, input.shapeWithHalo, input.halo, store.meta.spacingUm, set, input.options);
  opts.onProgress?.(1, 'features computed');
  return out;
}

/**
 * featuresForBox without the rows: the features of `box` go to `consume` as feature-major planes
 * in wasm memory (see PlanarConsumer), e.g. straight into the fused classifier of lib/classify.
 */
export async function featuresForBoxPlanar(store: VolumeStore, box: Box3, set: FeatureSet, consume: PlanarConsumer, opts: StageOptions = {}): Promise<void> {
  const input = await readFeatureInput(store, box, set, opts);
  await computeBrickFeaturesPlanar(input.channels, input.shapeWithHalo, input.halo, store.meta.spacingUm, set, input.options, consume);
}

/** Box + halo of every channel (level 0, raw values), and how computeBrickFeatures must see them. */
async function readFeatureInput(store: VolumeStore, box: Box3, set: FeatureSet, opts: StageOptions) {
  throwIfAborted(opts.signal);
  const spacing = store.meta.spacingUm;
  const halo = featureHalo(set, spacing);
  // the skimage preset sees integer scans as skimage does (img_as_float32: / 255 or / 65535)
  const dtype = store.meta.dtype;
  const scale = set.preset === 'skimage' && dtype !== 'float32' ? 1 / (dtype === 'uint8' ? 255 : 65535) : 1;
  // raw values (converted to float32 inside the wasm memory)
  const channels: AnyVoxelArray[] = [];
  for (let c = 0; c < store.meta.channels.length; c++) {
    channels.push(await store.readBlock(box, { channel: c, halo, signal: opts.signal }));
    throwIfAborted(opts.signal);
  }
  const shapeWithHalo: Shape3 = [box.shape[0] + 2 * halo[0], box.shape[1] + 2 * halo[1], box.shape[2] + 2 * halo[2]];
  const options = { volumeExtent: extentOfBox(box, store.meta.shape), origin: box.start, channelNames: store.meta.channels, scale };
  return { channels, shapeWithHalo, halo, options };
}

export const DEFAULT_BRICK: Shape3 = [64, 64, 64];

/**
 * Brick grid over a volume (z-major order) with bricks of at most `brick` (default 64^3): per axis
 * the fewest bricks that fit, of balanced sizes (256 with 80 -> 64, 64, 64, 64, not 80, 80, 80, 16:
 * a thin brick costs as much halo as a full one). The bricks straddle chunks: use it to READ
 * (features, statistics); parallel writers use chunkGrid.
 */
export function brickGrid(shape: Shape3, brick: Shape3 = DEFAULT_BRICK): Box3[] {
  for (let a = 0; a < 3; a++) {
    if (!Number.isInteger(shape[a]) || shape[a]! < 1) throw invalidInput(`Brick grid: the volume shape must be positive whole numbers, got (${shape.join(', ')}).`);
    if (!Number.isInteger(brick[a]) || brick[a]! < 1) throw invalidInput(`Brick grid: the brick size must be positive whole numbers, got (${brick.join(', ')}).`);
  }
  const cuts = [0, 1, 2].map((a) => {
    const n = Math.ceil(shape[a]! / brick[a]!);
    const out: Array<[number, number]> = [];
    for (let i = 0; i < n; i++) {
      const s0 = Math.floor((i * shape[a]!) / n);
      const s1 = Math.floor(((i + 1) * shape[a]!) / n);
      out.push([s0, s1 - s0]);
    }
    return out;
  });
  const out: Box3[] = [];
  for (const [z, bz] of cuts[0]!) for (const [y, by] of cuts[1]!) for (const [x, bx] of cuts[2]!) {
    out.push({ start: [z, y, x], shape: [bz, by, bx] });
  }
  return out;
}

/**
 * Chunk-aligned brick grid (z-major order): bricks of `chunk * multiple` voxels starting at
 * multiples of that size, so every brick covers whole chunks of a store chunked `chunk`; only the
 * last brick along an axis is smaller (it ends at the volume's edge, which ends its chunks too).
 * This is the grid of every PARALLEL blockwise writer: a brick owns its chunks, no two bricks
 * share one, so no writer ever has to read-modify-write a chunk another thread is writing
 * (ZarrVolumeStore.writeBlock with `wholeChunks: true` enforces it). brickGrid's balanced bricks
 * (160 -> 53/53/54) straddle chunks and are for readers only (features, statistics).
 */
export function chunkGrid(shape: Shape3, chunk: Shape3, multiple: Shape3 = [1, 1, 1]): Box3[] {
  for (let a = 0; a < 3; a++) {
    if (!Number.isInteger(shape[a]) || shape[a]! < 1) throw invalidInput(`Chunk grid: the volume shape must be positive whole numbers, got (${shape.join(', ')}).`);
    if (!Number.isInteger(chunk[a]) || chunk[a]! < 1) throw invalidInput(`Chunk grid: the chunk size must be positive whole numbers, got (${chunk.join(', ')}).`);
    if (!Number.isInteger(multiple[a]) || multiple[a]! < 1) throw invalidInput(`Chunk grid: the brick must be a whole number of chunks per axis, got (${multiple.join(', ')}).`);
  }
  const cuts = [0, 1, 2].map((a) => {
    const step = chunk[a]! * multiple[a]!;
    const out: Array<[number, number]> = [];
    for (let s = 0; s < shape[a]!; s += step) out.push([s, Math.min(step, shape[a]! - s)]);
    return out;
  });
  const out: Box3[] = [];
  for (const [z, bz] of cuts[0]!) for (const [y, by] of cuts[1]!) for (const [x, bx] of cuts[2]!) {
    out.push({ start: [z, y, x], shape: [bz, by, bx] });
  }
  return out;
}

/**
 * Brick edge (cubic, a multiple of 8 between 16 and 128) that keeps one brick's feature rows
 * (voxels x nFeatures float32) under `bytes` (default 64 MiB): 64^3 for the 62 default features,
 * 80^3 for the 30 of the skimage preset.
 */
export function brickForMemory(nFeatures: number, bytes = 64 * 2 ** 20): Shape3 {
  let b = 128;
  while (b > 16 && b ** 3 * nFeatures * 4 > bytes) b -= 8;
  return [b, b, b];
}
