/**
 * computeBrickFeatures on the wasm kernels (for now: the float64 reference).
 */
import type { Shape3 } from '../volume/types';
import type { BrickOptions } from './plan';
import { computeBrickFeaturesReference } from './reference';
import type { BrickFeatures, FeatureSet } from './types';

export async function computeBrickFeaturesWasm(
  channels: Float32Array[],
  shapeWithHalo: Shape3,
  halo: Shape3,
  spacingUm: [number, number, number],
  set: FeatureSet,
  opts?: BrickOptions & { channelNames?: string[] },
): Promise<BrickFeatures> {
  return computeBrickFeaturesReference(channels, shapeWithHalo, halo, spacingUm, set, opts);
}
