/**
 * Time and memory of a whole-volume prediction (lib/classify/predict-node predictVolume) with a
 * feature set: feature filtering seconds from a measured throughput (lib/features/throughput-node)
 * and the filters' relative costs (lib/features/choices), memory of the bricks in flight.
 */
import { featureHalo, featuresPerChannel } from '../features/plan';
import type { FeatureSet } from '../features/types';
import { filterCost } from '../features/choices';
import type { Shape3 } from '../volume/types';
import { DEFAULT_PREDICT_BRICK } from './brick-predict';

export interface FeatureEstimate {
  nFeatures: number;
  voxels: number;
  /** whole-volume prediction: seconds of feature filtering on one thread (not counting the model and I/O); NaN without a throughput */
  seconds: number;
  /** peak memory of the prediction: `threads` bricks with halo and feature rows, bytes */
  memoryBytes: number;
  /** one brick's share of memoryBytes */
  brickBytes: number;
  brick: Shape3;
  haloVox: Shape3;
  threads: number;
}

export function estimatePrediction(
  set: FeatureSet,
  meta: { shape: Shape3; spacingUm: [number, number, number]; channels: string[] },
  throughput: { unitsPerSec: number } | undefined,
  opts: { brick?: Shape3; threads: number },
): FeatureEstimate {
  const nF = featuresPerChannel(set) * meta.channels.length;
  const voxels = meta.shape[0] * meta.shape[1] * meta.shape[2];
  const h = featureHalo(set, meta.spacingUm);
  const b = (opts.brick ?? DEFAULT_PREDICT_BRICK).map((n, a) => Math.min(n, meta.shape[a]!)) as Shape3;
  const haloFactor = b.reduce((acc, n, a) => acc * ((n + 2 * h[a]!) / n), 1);
  const units = set.specs.reduce((a, s) => a + filterCost(s.filter), 0) * meta.channels.length;
  const seconds = throughput && throughput.unitsPerSec > 0 ? (voxels * units * haloFactor) / throughput.unitsPerSec : NaN;
  const withHalo = b.reduce((acc, n, a) => acc * (n + 2 * h[a]!), 1);
  // feature rows (float32) + the input with halo and ~6 filter planes at a time + probabilities
  const brickBytes = b[0] * b[1] * b[2] * (nF + 8) * 4 + withHalo * 4 * 6;
  return { nFeatures: nF, voxels, seconds, memoryBytes: opts.threads * brickBytes, brickBytes, brick: b, haloVox: h, threads: opts.threads };
}
