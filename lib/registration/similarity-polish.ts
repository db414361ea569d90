/**
 * The kept similarity's polish on maps that reach the slab's edge (issue 19, stop 29). The slab's
 * outermost pixel ring is interpolated against the volume's boundary and pulls the correlation
 * ratio's optimum of a map that covers it (stop 29: climbed from the truth on the rigid 100 % map,
 * 0.121 voxel with the ring, 0.037 without). The kept affine's polish leaves the ring out
 * (affine-polish.ts); this step does the same for a map that keeps the similarity: the shifts and
 * the rotation climbed (affine-climb.ts, rigid modes) at the similarity's area on the slab without
 * its ring. Maps whose footprint does not reach the ring are left as they are (their score would
 * not change).
 * Measured (stop 29, docs/registration-models.md): bench rigid 100 % 0.086 -> 0.025 voxel; held-out
 * and fresh rigid maps on the ring (0.7-1.6 % of their pixels) 8 of 8 gain, mean 0.101 -> 0.074
 * (0.003-0.061 each); maps off the ring unchanged.
 */
import type { Affine2 } from '../coords';
import { climbAffine } from './affine-climb';
import type { ScoreOn } from './choose-model';
import { NO_CLASS, type MovingImage } from './moving-image';
import { EDGE_ERODE_PX, erodeSlabEdge } from './refine-fields';
import type { Slab } from './types';

export interface PolishedSimilarity {
  edsToSlab: Affine2;
  /** share of the map's classified pixels that fall on the slab's edge ring under the similarity */
  onRing: number;
  /** gain of the ring-free criterion over the similarity */
  gain: number;
}

/** Map pixels (classified) that land on slab pixels of the ring, as a share of those landing on the slab. */
function ringShare(slab: Slab, inner: Float32Array, mov: MovingImage, G: Affine2): number {
  const { width: sw, height: sh, data } = slab;
  let on = 0, ring = 0;
  for (let v = 0; v < mov.height; v++) for (let u = 0; u < mov.width; u++) {
    if (mov.labels[v * mov.width + u] === NO_CLASS) continue;
    const x = Math.round(G[0] * u + G[1] * v + G[2]), y = Math.round(G[3] * u + G[4] * v + G[5]);
    if (x < 0 || y < 0 || x >= sw || y >= sh) continue;
    const i = y * sw + x;
    if (data[i] !== data[i]) continue;
    on++;
    if (inner[i] !== inner[i]) ring++;
  }
  return on ? ring / on : 0;
}

/** Polish the similarity G on the slab without its edge ring; G itself when the map does not reach the ring. */
export function polishSimilarity(slab: Slab, mov: MovingImage, G: Affine2, scoreOn: ScoreOn, signal?: AbortSignal): PolishedSimilarity {
  const inner = erodeSlabEdge(slab, EDGE_ERODE_PX);
  const onRing = ringShare(slab, inner.data, mov, G);
  if (onRing === 0) return { edsToSlab: G, onRing, gain: 0 };
  const score = scoreOn(Uint8Array.from(inner.data, (g) => (g === g ? 1 : 0)), G);
  const c = climbAffine(score, G, mov.width, mov.height, { signal, rigid: true });
  return { edsToSlab: c.edsToSlab, onRing, gain: c.score - score(G) };
}
