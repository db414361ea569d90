/**
 * Label transfer: the registered EDS map warped onto the surface slab by nearest neighbour
 * (ITK-Wasm's elastix package has no usable transformix here, and labels must not be blended),
 * minerals merged into classes or dropped, then each class eroded so that boundary pixels, where
 * registration error and partial volume make the label doubtful, do not train a classifier.
 */
import { invertAffine2, type Affine2, type Affine2to3 } from '../coords';
import type { MineralMap, MineralPhase } from '../eds/types';
import { invalidInput } from '../errors';
import { fieldAt } from './refine-fields';
import type { FieldCorrection } from './types';

export interface SurfaceLabels {
  width: number;
  height: number;
  /** class code per slab pixel, row-major; 0 = no label */
  labels: Uint8Array;
  /**
   * the warped classes before erosion (0 = unclassified, dropped mineral or off the map): where
   * `labels` is 0 but this is not, a phase boundary runs through the pixel's neighbourhood
   */
  warped?: Uint8Array;
  /** 1 where the map shows a mineral the class table drops (not unclassified, not off the map) */
  dropped?: Uint8Array;
  /** slab pixel (u, v) -> voxel (z, y, x) */
  slabToVoxel: Affine2to3;
}

/** EDS phase id -> class code (1..255), or null to drop the mineral. Missing ids are dropped. */
export type ClassMap = Record<number, number | null>;

export interface TransferLabelsOptions {
  /** erosion radius in slab pixels (default 1; 0 keeps boundary pixels) */
  erodeRadius?: number;
}

/** Build a ClassMap from the map legend and a mineral-name -> class table (e.g. the synthetic truth's). */
export function classMapFromNames(legend: MineralPhase[], nameToClass: Record<string, number | null>): ClassMap {
  const out: ClassMap = {};
  for (const p of legend) out[p.id] = nameToClass[p.name] ?? null;
  return out;
}

/**
 * EDS pixel shown at global map position (u, v): with per-field shifts, pixel p of a field shows
 * edsToSlab(p + shift), so the pixel at (u, v) - shift of the field that holds it. null where that
 * pixel lies in a field that could not be placed (`unplaced`, refine-fields.ts): its labels would
 * land up to the map's stitching error off, so they do not train.
 */
function unshift(fields: FieldCorrection[] | undefined, u: number, v: number): [number, number] | null {
  if (!fields) return [u, v];
  const f = fieldAt(fields, u, v);
  if (!f) return [u, v];
  let p: [number, number] = [u - f.shiftPx[0], v - f.shiftPx[1]];
  // near a seam the shifted point can fall into the neighbour: take that field's shift instead
  const g = fieldAt(fields, p[0], p[1]);
  if (g && g !== f) p = [u - g.shiftPx[0], v - g.shiftPx[1]];
  return fieldAt(fields, p[0], p[1])?.unplaced ? null : p;
}

function warpNearest(map: MineralMap, edsToSlab: Affine2, width: number, height: number, valid: (i: number) => boolean, cls: ClassMap, fields?: FieldCorrection[]): { out: Uint8Array; dropped: Uint8Array } {
  const inv = invertAffine2(edsToSlab);
  const out = new Uint8Array(width * height);
  const dropped = new Uint8Array(width * height);
  for (let v = 0; v < height; v++) for (let u = 0; u < width; u++) {
    const i = v * width + u;
    if (!valid(i)) continue;
    const at = unshift(fields, inv[0] * u + inv[1] * v + inv[2], inv[3] * u + inv[4] * v + inv[5]);
    if (!at) continue;
    const [fu, fv] = at;
    const eu = Math.round(fu), ev = Math.round(fv);
    if (eu < 0 || ev < 0 || eu >= map.width || ev >= map.height) continue;
    const id = map.labels[ev * map.width + eu];
    out[i] = id === 0 ? 0 : (cls[id] ?? 0);
    if (id !== 0 && !out[i]) dropped[i] = 1;
  }
  return { out, dropped };
}

/** Keep a pixel only if every pixel within `r` (disc) has its class. */
export function erodeLabels(labels: Uint8Array, width: number, height: number, r: number): Uint8Array {
  if (r <= 0) return labels.slice();
  const offs: [number, number][] = [];
  for (let dv = -r; dv <= r; dv++) for (let du = -r; du <= r; du++) if (du * du + dv * dv <= r * r && (du || dv)) offs.push([du, dv]);
  const out = new Uint8Array(labels.length);
  for (let v = 0; v < height; v++) for (let u = 0; u < width; u++) {
    const c = labels[v * width + u];
    if (!c) continue;
    let keep = true;
    for (const [du, dv] of offs) {
      const uu = u + du, vv = v + dv;
      if (uu < 0 || vv < 0 || uu >= width || vv >= height || labels[vv * width + uu] !== c) { keep = false; break; }
    }
    if (keep) out[v * width + u] = c;
  }
  return out;
}

export function transferLabels(
  map: MineralMap,
  /** `fields`: per-field shifts of a stitched map (model 'fields'), applied on top of edsToSlab; `unplaced` fields give no labels */
  registration: { edsToSlab: Affine2; slabToVoxel: Affine2to3; fields?: FieldCorrection[] },
  slab: { width: number; height: number; data?: Float32Array },
  classMap: ClassMap,
  opts: TransferLabelsOptions = {},
): SurfaceLabels {
  for (const [id, c] of Object.entries(classMap)) {
    if (c !== null && (!Number.isInteger(c) || c < 1 || c > 255)) {
      throw invalidInput(`transferLabels: class code for phase ${id} must be an integer 1..255 or null, got ${c}.`);
    }
  }
  const { width, height, data } = slab;
  const valid = data ? (i: number) => data[i] === data[i] : () => true;
  const { out: warped, dropped } = warpNearest(map, registration.edsToSlab, width, height, valid, classMap, registration.fields);
  const labels = erodeLabels(warped, width, height, opts.erodeRadius ?? 1);
  return { width, height, labels, warped, dropped, slabToVoxel: registration.slabToVoxel };
}
