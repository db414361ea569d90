/**
 * The kept similarity's polish (issue 19, stops 29 and 30). Every map that keeps the similarity
 * (no field layout) has its shifts and rotation (the similarity's area held) taken to the centre of
 * the registration's criterion's basin (basin-centre.ts, rigid modes; started from a rigid climb,
 * affine-climb.ts) on the slab **extrapolated to the surface** (affine-polish.ts surfaceSlab:
 * S + (S - S0.5), where `slab.below` is given) **without its outermost pixel ring** (EDGE_ERODE_PX:
 * interpolated against the volume's boundary).
 * - The ring (stop 29): climbed from the truth the rigid 100 % map read 0.121 voxel with it, 0.037
 *   without; bench rigid 100 % 0.086 -> 0.025 voxel.
 * - The extrapolated slab and the basin centre (stop 30, as the kept affine's polish):
 *   the CT's blur shows inclined grain boundaries ~0.65 voxel below the surface, and a climb ends on
 *   whichever ripple of the rough criterion it meets. Measured on 15 rigid maps (bench, held-out,
 *   fresh; docs/registration-models.md stop 30): mean 0.074 -> 0.060 voxel, 12 better, 3 worse
 *   (+0.002 to +0.023, all <= 0.081); the maps off the ring, which stop 29 left untouched, gain too
 *   (7 rigid 0.073 -> 0.062; the 51 px 1 % shear 0.217 -> 0.109).
 * Without `below` (a caller that gave no deeper slab) the slab is used as it is.
 */
import type { Affine2 } from '../coords';
import { climbAffine } from './affine-climb';
import { surfaceScore } from './affine-polish';
import { basinCentre } from './basin-centre';
import type { SlabWithBelow } from './extract-slab';
import { NO_CLASS, type MovingImage } from './moving-image';
import { EDGE_ERODE_PX, erodeSlabEdge } from './refine-fields';
import type { Slab } from './types';

export interface PolishedSimilarity {
  edsToSlab: Affine2;
  /** share of the map's classified pixels that fall on the slab's edge ring under the similarity */
  onRing: number;
  /** whether the slab was extrapolated to the surface (it had `below`) */
  extrapolated: boolean;
  /** gain of the polish's criterion over the similarity */
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

/** Polish the similarity G (rigid modes, its area held) on the slab extrapolated to the surface without its edge ring. */
export function polishSimilarity(slab: SlabWithBelow, mov: MovingImage, G: Affine2, signal?: AbortSignal): PolishedSimilarity {
  const onRing = ringShare(slab, erodeSlabEdge(slab, EDGE_ERODE_PX).data, mov, G);
  // the overlap damping at G's overlap on the masked slab (as register-eds.ts's scoreOn on a mask)
  const { score, extrapolated } = surfaceScore(slab, mov, G);
  const climbed = climbAffine(score, G, mov.width, mov.height, { signal, rigid: true }).edsToSlab;
  const edsToSlab = basinCentre(score, climbed, mov.width, mov.height, { rigid: true, signal }).edsToSlab;
  return { edsToSlab, onRing, extrapolated, gain: score(edsToSlab) - score(G) };
}
