/**
 * Training set for the voxel classifier: labelled voxels (from the registered EDS surface labels
 * or from painted strokes) -> class-balanced samples, split by spatial tiles into train and
 * held-out (neighbouring voxels are strongly correlated, so a random split would overstate
 * accuracy), and their feature rows, computed only on the bricks that contain sampled voxels.
 */
import { applyAffine2to3 } from '../coords';
import { invalidInput, throwIfAborted, unprocessable, type StageOptions } from '../errors';
import { featuresForBox } from '../features';
import type { BrickFeatures, FeatureSet } from '../features/types';
import type { SurfaceLabels } from '../registration/transfer-labels';
import type { VolumeStore } from '../volume/store';
import type { Box3, Shape3 } from '../volume/types';
import { mirrorAboveSurface, type MirrorOptions, type SurfacePlane } from './mirror';
import { rng, shuffle } from './rng';
import { measureEdgeProfile } from './surface-edge';

/** One labelled voxel: (z, y, x) index and class code (1..255). */
export interface LabelledVoxel {
  z: number;
  y: number;
  x: number;
  cls: number;
}

/**
 * A voxel whose class is uncertain: on the surface, a voxel at a phase boundary of the EDS map.
 * Trained towards a distribution over its candidate classes (soft target), not one class.
 */
export interface PartialVoxel {
  z: number;
  y: number;
  x: number;
  /** candidate class codes (1..255), at least one */
  classes: number[];
  /** target probability of each candidate (sums to 1) */
  p: number[];
}

/** Features of one box of a store (e.g. lib/features featuresForBox bound to a FeatureSet). */
export type FeatureFn = (store: VolumeStore, box: Box3, signal?: AbortSignal) => Promise<BrickFeatures>;

export interface FeatureRows {
  /** row-major, n x nFeatures */
  x: Float32Array;
  /** class code per row */
  y: Uint8Array;
  n: number;
  /** (z, y, x) of each row, 3 per row */
  positions: Int32Array;
}

/** Rows with a soft target: target[i * K + k] = probability that row i is classes[k]. */
export interface PartialRows {
  x: Float32Array;
  n: number;
  positions: Int32Array;
  /** n x K, rows sum to 1, in TrainingSet.classes order */
  target: Float32Array;
}

export interface ClassCount {
  class: number;
  /** labelled voxels available */
  available: number;
  train: number;
  heldOut: number;
}

export interface TrainingSet {
  nFeatures: number;
  featureNames: string[];
  /** class codes present in the training rows, ascending: model output k means classes[k] */
  classes: number[];
  train: FeatureRows;
  heldOut: FeatureRows;
  /** boundary voxels of the train tiles with their candidate classes (trained on, never validated on) */
  partial?: PartialRows;
  counts: ClassCount[];
  featureSet?: FeatureSet;
  /** the surface the features were mirrored across, if any */
  mirrorSurface?: SurfacePlane;
}

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

/** Painted strokes as a sparse label volume (0 = not painted), (z, y, x) z-major. */
export function strokeVoxels(labels: Uint8Array, shape: Shape3): LabelledVoxel[] {
  const [nz, ny, nx] = shape;
  if (labels.length !== nz * ny * nx) throw invalidInput(`Painted labels have ${labels.length} voxels but the volume has ${nz}x${ny}x${nx}.`);
  const out: LabelledVoxel[] = [];
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i];
    if (c) out.push({ z: Math.floor(i / (nx * ny)), y: Math.floor(i / nx) % ny, x: i % nx, cls: c });
  }
  return out;
}

export interface BuildTrainingSetOptions extends StageOptions {
  /** computes features of a box (bound to the feature set) */
  features: FeatureFn;
  featureSet?: FeatureSet;
  /** cap of training samples per class (default 4000); held-out cap scales with heldOutFraction */
  maxPerClass?: number;
  /** share of labelled voxels (by tiles) held out for validation (default 0.25) */
  heldOutFraction?: number;
  /** edge of the square (x, y) tiles of the spatial split, voxels (default 32) */
  tileVox?: number;
  /** bricks in which features are computed, on the bounding box of their labelled voxels (default [32, 128, 128]: thin surface layers need few, wide boxes, the halo dominates otherwise) */
  brick?: Shape3;
  /** voxels with soft targets (surfaceTrainingVoxels); those in held-out tiles are not used */
  partial?: PartialVoxel[];
  /** cap of partial voxels in the training set (default: as many as the labelled training voxels) */
  maxPartial?: number;
  /** mirror the volume above this surface before computing features (recommended for surface labels) */
  mirrorSurface?: SurfacePlane;
  mirror?: MirrorOptions;
  /** measure the edge spread below mirrorSurface and un-mix the air from the first rock layers (default true; lib/classify/surface-edge.ts) */
  edgeCorrection?: boolean;
  seed?: number;
  /** what the labels are, for messages (e.g. 'EDS map sample-3.png') */
  source?: string;
}

interface Split {
  train: LabelledVoxel[];
  heldOut: LabelledVoxel[];
  /** is (y, x) in a held-out tile */
  isHeldOut: (y: number, x: number) => boolean;
}

const tileKey = (y: number, x: number, tile: number) => Math.floor(y / tile) * 65536 + Math.floor(x / tile);

/** Assign (x, y) tiles to held-out until ~fraction of the labelled voxels are held out. */
function spatialSplit(voxels: LabelledVoxel[], tile: number, fraction: number, rand: () => number): Split {
  const byTile = new Map<number, LabelledVoxel[]>();
  for (const v of voxels) {
    const key = tileKey(v.y, v.x, tile);
    let a = byTile.get(key);
    if (!a) byTile.set(key, (a = []));
    a.push(v);
  }
  const keys = [...byTile.keys()].sort((a, b) => a - b);
  shuffle(keys, rand);
  const target = fraction * voxels.length;
  const held = new Set<number>();
  let n = 0;
  for (const k of keys) {
    if (n >= target || held.size >= keys.length - 1) break;
    held.add(k);
    n += byTile.get(k)!.length;
  }
  const out: Split = { train: [], heldOut: [], isHeldOut: (y, x) => held.has(tileKey(y, x, tile)) };
  for (const k of keys) (held.has(k) ? out.heldOut : out.train).push(...byTile.get(k)!);
  return out;
}

function capPerClass(voxels: LabelledVoxel[], cap: number, rand: () => number): LabelledVoxel[] {
  const by = new Map<number, LabelledVoxel[]>();
  for (const v of voxels) {
    let a = by.get(v.cls);
    if (!a) by.set(v.cls, (a = []));
    a.push(v);
  }
  const out: LabelledVoxel[] = [];
  for (const cls of [...by.keys()].sort((a, b) => a - b)) {
    const a = by.get(cls)!;
    shuffle(a, rand);
    out.push(...a.slice(0, cap));
  }
  return out;
}

/** Feature rows of the given voxels, computing features per brick on the bounding box of its voxels. */
export async function gatherFeatures(
  store: VolumeStore,
  voxels: LabelledVoxel[],
  features: FeatureFn,
  opts: { brick?: Shape3 } & StageOptions = {},
): Promise<{ rows: Float32Array; nFeatures: number; names: string[] }> {
  const brick = opts.brick ?? [32, 128, 128];
  const [nz, ny, nx] = store.meta.shape;
  const gy = Math.ceil(ny / brick[1]), gx = Math.ceil(nx / brick[2]);
  const groups = new Map<number, number[]>();
  voxels.forEach((v, i) => {
    if (v.z < 0 || v.y < 0 || v.x < 0 || v.z >= nz || v.y >= ny || v.x >= nx) {
      throw invalidInput(`Labelled voxel (z ${v.z}, y ${v.y}, x ${v.x}) lies outside the volume ${store.path} (${nz}x${ny}x${nx}).`);
    }
    const key = (Math.floor(v.z / brick[0]) * gy + Math.floor(v.y / brick[1])) * gx + Math.floor(v.x / brick[2]);
    let a = groups.get(key);
    if (!a) groups.set(key, (a = []));
    a.push(i);
  });
  let rows: Float32Array | null = null;
  let nF = 0;
  let names: string[] = [];
  let done = 0;
  for (const idx of groups.values()) {
    throwIfAborted(opts.signal);
    let z0 = Infinity, y0 = Infinity, x0 = Infinity, z1 = -1, y1 = -1, x1 = -1;
    for (const i of idx) {
      const v = voxels[i];
      z0 = Math.min(z0, v.z); y0 = Math.min(y0, v.y); x0 = Math.min(x0, v.x);
      z1 = Math.max(z1, v.z); y1 = Math.max(y1, v.y); x1 = Math.max(x1, v.x);
    }
    const box: Box3 = { start: [z0, y0, x0], shape: [z1 - z0 + 1, y1 - y0 + 1, x1 - x0 + 1] };
    const bf = await features(store, box, opts.signal);
    if (!rows) {
      nF = bf.nFeatures;
      names = bf.names;
      rows = new Float32Array(voxels.length * nF);
    }
    const [, sy, sx] = box.shape;
    for (const i of idx) {
      const v = voxels[i];
      const r = ((v.z - z0) * sy + (v.y - y0)) * sx + (v.x - x0);
      rows.set(bf.data.subarray(r * nF, (r + 1) * nF), i * nF);
    }
    done++;
    opts.onProgress?.(done / groups.size, `features of brick ${done}/${groups.size}`);
  }
  return { rows: rows ?? new Float32Array(0), nFeatures: nF, names };
}

function toRows(vox: LabelledVoxel[], rows: Float32Array, nF: number, offset: number): FeatureRows {
  const n = vox.length;
  const positions = new Int32Array(3 * n);
  const y = new Uint8Array(n);
  vox.forEach((v, i) => {
    positions[3 * i] = v.z; positions[3 * i + 1] = v.y; positions[3 * i + 2] = v.x;
    y[i] = v.cls;
  });
  return { x: rows.slice(offset * nF, (offset + n) * nF), y, n, positions };
}

export async function buildTrainingSet(store: VolumeStore, voxels: LabelledVoxel[], opts: BuildTrainingSetOptions): Promise<TrainingSet> {
  const src = opts.source ?? 'the labels';
  const fraction = opts.heldOutFraction ?? 0.25;
  const cap = opts.maxPerClass ?? 4000;
  const rand = rng(opts.seed ?? 1);
  for (const v of voxels) {
    if (!Number.isInteger(v.cls) || v.cls < 1 || v.cls > 255) throw invalidInput(`${src}: class code ${v.cls} at voxel (${v.z}, ${v.y}, ${v.x}) must be 1..255 (0 means "no label").`);
  }
  const classesAll = [...new Set(voxels.map((v) => v.cls))].sort((a, b) => a - b);
  if (classesAll.length < 2) {
    throw unprocessable(`${src}: need labelled voxels of at least two classes to train a classifier, found ${classesAll.length === 0 ? 'none' : `only class ${classesAll[0]}`}. Check the registration and the mineral-to-class table.`);
  }
  const split = spatialSplit(voxels, opts.tileVox ?? 32, fraction, rand);
  const train = capPerClass(split.train, cap, rand);
  const heldOut = capPerClass(split.heldOut, Math.max(1, Math.round((cap * fraction) / Math.max(1e-6, 1 - fraction))), rand);
  const counts: ClassCount[] = classesAll.map((c) => ({
    class: c,
    available: voxels.filter((v) => v.cls === c).length,
    train: train.filter((v) => v.cls === c).length,
    heldOut: heldOut.filter((v) => v.cls === c).length,
  }));
  const classes = counts.filter((c) => c.train > 0).map((c) => c.class);
  if (classes.length < 2) throw unprocessable(`${src}: after the spatial split fewer than two classes remain for training; label a larger area.`);
  let surface: SurfacePlane | undefined;
  if (opts.mirrorSurface) {
    const { a, b, c } = opts.mirrorSurface;
    const edge = opts.mirrorSurface.edge ?? (opts.edgeCorrection === false ? undefined : await measureEdgeProfile(store, opts.mirrorSurface, { signal: opts.signal }));
    surface = edge ? { a, b, c, edge } : { a, b, c };
  }
  const fstore = surface ? mirrorAboveSurface(store, surface, opts.mirror) : store;
  const K = classes.length;
  const kOf = new Map(classes.map((c, k) => [c, k]));
  const partial: { v: PartialVoxel; t: Float32Array }[] = [];
  for (const v of opts.partial ?? []) {
    if (split.isHeldOut(v.y, v.x)) continue;
    const t = new Float32Array(K);
    let sum = 0;
    v.classes.forEach((c, j) => {
      const k = kOf.get(c);
      if (k !== undefined) { t[k] += v.p[j]; sum += v.p[j]; }
    });
    if (sum <= 0) continue;
    for (let k = 0; k < K; k++) t[k] /= sum;
    partial.push({ v, t });
  }
  shuffle(partial, rand);
  partial.length = Math.min(partial.length, opts.maxPartial ?? train.length);
  const partialVox = partial.map((p) => ({ ...p.v, cls: 0 }));
  const g = await gatherFeatures(fstore, [...train, ...heldOut, ...partialVox], opts.features, { brick: opts.brick, signal: opts.signal, onProgress: opts.onProgress });
  let partialRows: PartialRows | undefined;
  if (partial.length) {
    const { x, n, positions } = toRows(partialVox, g.rows, g.nFeatures, train.length + heldOut.length);
    const target = new Float32Array(n * K);
    partial.forEach((p, i) => target.set(p.t, i * K));
    partialRows = { x, n, positions, target };
  }
  return {
    nFeatures: g.nFeatures,
    featureNames: g.names,
    classes,
    train: toRows(train, g.rows, g.nFeatures, 0),
    heldOut: toRows(heldOut, g.rows, g.nFeatures, train.length),
    partial: partialRows,
    counts,
    featureSet: opts.featureSet,
    mirrorSurface: surface,
  };
}

/** FeatureFn of a feature set of lib/features (what training and prediction use). */
export function featureFnFor(set: FeatureSet): FeatureFn {
  return (store, box, signal) => featuresForBox(store, box, set, { signal });
}
