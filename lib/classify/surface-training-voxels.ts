/**
 * Surface labels (registered EDS map) -> training voxels of the layer just below the surface:
 * labelled voxels of the eroded classes and, at phase boundaries, voxels with soft targets.
 */
import { applyAffine2to3 } from '../coords';
import type { SurfaceLabels } from '../registration/transfer-labels';
import type { Shape3 } from '../volume/types';
import type { LabelledVoxel, PartialVoxel } from './labelled-voxels';

export interface SurfaceVoxelOptions {
  /** depth of the first labelled layer below the surface plane, voxels along z (default SURFACE_LABEL_DEPTH_VOX) */
  depthVox?: number;
  /** number of consecutive layers labelled from there (default SURFACE_LABEL_LAYERS) */
  layers?: number;
}

/**
 * Where the EDS labels go: the one voxel layer whose centres lie within [plane, plane + 1), i.e.
 * nearest below the plane the EDS map measured. Small phases change within a voxel of depth, so
 * deeper layers carry wrong labels: on the synthetic sandstone (128x192x192, seed 11; eroded labels)
 * the share of transferred labels that disagree with the truth is 0.7 % at depth 0.5, 2.4 % at
 * depth 1 and 4.6 % over depths 1-2 (pyrite 34 %, clay 24 %), and the 3D mean IoU of the
 * classifier 0.587 / 0.566 / 0.497 (seed 12: 0.578 / 0.587 / 0.546). Features of that layer are
 * computed on the mirrored volume (lib/classify/mirror.ts), so they see no air.
 */
export const SURFACE_LABEL_DEPTH_VOX = 0.5;
export const SURFACE_LABEL_LAYERS = 1;

/**
 * Surface labels (one class per slab pixel, slab on the surface plane) -> voxels of the layer(s)
 * just below the surface (z = round(plane + depth + layer)). Voxels reached by slab pixels of
 * different classes are dropped.
 */
export function surfaceLabelVoxels(sl: SurfaceLabels, shape: Shape3, opts: SurfaceVoxelOptions = {}): LabelledVoxel[] {
  return surfaceTrainingVoxels(sl, shape, { ...opts, boundary: false }).labelled;
}

/**
 * Footprint of a boundary pixel, slab pixels: the soft target of a boundary voxel is the share of
 * each class among the classes of its pixel's 3x3 neighbourhood, weighted by a Gaussian of this
 * sd around the pixel (own pixel 1, edge neighbours 0.085, corners 0.007). Pixel and registration
 * error are each under a voxel, so the own pixel dominates, but a lone pyrite pixel among pore
 * reads 74 % pyrite, not 100 %. Harness (synthetic sandstone 128x192x192, seeds 11 and 12, 3 model
 * seeds each) mean IoU: sd 0.3 0.690, 0.45 0.688, 0.7 0.680; no boundary voxels 0.649.
 */
export const BOUNDARY_FOOTPRINT_SD = 0.45;

/**
 * The surface layer's training voxels: `labelled` as surfaceLabelVoxels (the eroded EDS classes),
 * and `partial`, the voxels at EDS phase boundaries that erosion drops, with soft targets.
 * The EDS pixel is about a voxel wide, so at a boundary neither the map nor the registration says
 * for sure which side a voxel's centre lies on; but these voxels are most of the small phases
 * (synthetic sandstone 128x192x192: erosion keeps 30 % of the clay and 20 % of the pyrite of the
 * mapped layer), and a model that never sees them reads a pyrite/pore partial-volume voxel as
 * quartz and pore-filling clay next to a pore as pore. A boundary pixel is used when it has a
 * class and none of its 3x3 neighbours shows a mineral the class table drops; unclassified and
 * off-map neighbours are ignored.
 */
export function surfaceTrainingVoxels(
  sl: SurfaceLabels,
  shape: Shape3,
  opts: SurfaceVoxelOptions & { boundary?: boolean; footprintSd?: number } = {},
): { labelled: LabelledVoxel[]; partial: PartialVoxel[] } {
  const depth = opts.depthVox ?? SURFACE_LABEL_DEPTH_VOX, layers = opts.layers ?? SURFACE_LABEL_LAYERS;
  const sd = opts.footprintSd ?? BOUNDARY_FOOTPRINT_SD;
  const wAt = [1, Math.exp(-1 / (2 * sd * sd)), Math.exp(-2 / (2 * sd * sd))]; // by |du| + |dv|
  const [nz, ny, nx] = shape;
  const { width: W, height: H, labels, warped, dropped } = sl;
  const hard = new Map<number, number>();
  const soft = new Map<number, { p: Map<number, number>; n: number }>();
  const withBoundary = (opts.boundary ?? true) && warped !== undefined;
  const share = new Map<number, number>();
  for (let v = 0; v < H; v++) for (let u = 0; u < W; u++) {
    const c = labels[v * W + u];
    const c0 = withBoundary ? warped[v * W + u] : 0;
    if (!c && !c0) continue;
    share.clear();
    if (!c) {
      let ok = true, total = 0;
      for (let dv = -1; dv <= 1 && ok; dv++) for (let du = -1; du <= 1; du++) {
        const uu = u + du, vv = v + dv;
        if (uu < 0 || vv < 0 || uu >= W || vv >= H) continue;
        if (dropped?.[vv * W + uu]) { ok = false; break; }
        const w = warped![vv * W + uu];
        if (!w) continue;
        const wt = wAt[Math.abs(du) + Math.abs(dv)]!;
        share.set(w, (share.get(w) ?? 0) + wt);
        total += wt;
      }
      if (!ok) continue;
      for (const [k, w] of share) share.set(k, w / total);
    }
    const [zf, yf, xf] = applyAffine2to3(sl.slabToVoxel, u, v);
    const y = Math.round(yf), x = Math.round(xf);
    if (y < 0 || x < 0 || y >= ny || x >= nx) continue;
    for (let l = 0; l < layers; l++) {
      const z = Math.round(zf + depth + l);
      if (z < 0 || z >= nz) continue;
      const key = (z * ny + y) * nx + x;
      if (c) {
        const prev = hard.get(key);
        hard.set(key, prev === undefined || prev === c ? c : -1);
      } else {
        let e = soft.get(key);
        if (!e) soft.set(key, (e = { p: new Map(), n: 0 }));
        e.n++;
        for (const [k, w] of share) e.p.set(k, (e.p.get(k) ?? 0) + w);
      }
    }
  }
  const at = (key: number) => ({ x: key % nx, y: Math.floor(key / nx) % ny, z: Math.floor(key / (nx * ny)) });
  const labelled: LabelledVoxel[] = [];
  for (const [key, c] of hard) if (c > 0) labelled.push({ ...at(key), cls: c });
  const partial: PartialVoxel[] = [];
  for (const [key, e] of soft) {
    if (hard.has(key)) continue;
    const classes = [...e.p.keys()].sort((a, b) => a - b);
    partial.push({ ...at(key), classes, p: classes.map((c) => e.p.get(c)! / e.n) });
  }
  return { labelled, partial };
}
