/** A seeded synthetic volume with structure at every scale of the bank, and what the feature-version tests measure on it. */
import { buildMlp, type TrainedModel } from '../../../lib/classify/model';
import { featuresForBox, type FeatureSet } from '../../../lib/features';
import { memoryVolumeStore } from '../../../lib/volume/memory-store';
import type { Box3, Shape3 } from '../../../lib/volume/types';

/** Blobs of 2-8 voxels plus a little noise: structure at every scale of the bank. */
export function blobs(shape: Shape3, seed: number): Float32Array {
  let s = seed >>> 0;
  const r = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s >>> 8) / 16777216;
  };
  const bl = Array.from({ length: 30 }, () => [r() * shape[0], r() * shape[1], r() * shape[2], 2 + 6 * r(), r()] as const);
  const out = new Float32Array(shape[0] * shape[1] * shape[2]);
  let i = 0;
  for (let z = 0; z < shape[0]; z++) for (let y = 0; y < shape[1]; y++) for (let x = 0; x < shape[2]; x++) {
    let v = 0.1 * r();
    for (const [bz, by, bx, rad, a] of bl) v += a * Math.exp(-((z - bz) ** 2 + (y - by) ** 2 + (x - bx) ** 2) / (rad * rad));
    out[i++] = 1000 * v;
  }
  return out;
}

/** A one-channel float32 volume in memory. */
export const floatStore = (shape: Shape3, data: Float32Array, spacing: [number, number, number] = [1, 1, 1]) =>
  memoryVolumeStore({ meta: { shape, spacingUm: spacing, originUm: [0, 0, 0], dtype: 'float32', channels: ['xrm'] }, data });

/** Worst |brick - whole| relative to each feature's range, over the given bricks of the blobs of seed 7. */
export async function seams(set: FeatureSet, shape: Shape3, spacing: [number, number, number], boxes: Box3[]) {
  const store = floatStore(shape, blobs(shape, 7), spacing);
  const whole = await featuresForBox(store, { start: [0, 0, 0], shape }, set);
  const nF = whole.nFeatures;
  const lo = new Array(nF).fill(Infinity);
  const hi = new Array(nF).fill(-Infinity);
  whole.data.forEach((v, i) => {
    lo[i % nF] = Math.min(lo[i % nF], v);
    hi[i % nF] = Math.max(hi[i % nF], v);
  });
  let worst = 0;
  for (const box of boxes) {
    const part = await featuresForBox(store, box, set);
    const [bz, by, bx] = box.shape;
    for (let z = 0; z < bz; z++) for (let y = 0; y < by; y++) for (let x = 0; x < bx; x++) {
      const v = (z * by + y) * bx + x;
      const w = ((z + box.start[0]) * shape[1] + y + box.start[1]) * shape[2] + x + box.start[2];
      for (let f = 0; f < nF; f++) worst = Math.max(worst, Math.abs(part.data[v * nF + f]! - whole.data[w * nF + f]!) / (hi[f] - lo[f] || 1));
    }
  }
  return worst;
}

/** An untrained 3-class network (seed 3, 8 hidden units) over `names`, saved with `featureSet`. */
export const untrainedModel = (names: string[], featureSet: FeatureSet): TrainedModel => ({
  model: buildMlp(names.length, [8], 3, { seed: 3 }), classes: [1, 2, 3], mean: new Float32Array(names.length).fill(300),
  std: new Float32Array(names.length).fill(100), featureNames: names, featureSet, hidden: [8], history: [], bestEpoch: 0,
});
