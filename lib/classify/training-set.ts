/**
 * Training set for the voxel classifier: labelled voxels (from the registered EDS surface labels
 * or from painted strokes) -> class-balanced samples, split by spatial tiles into train and
 * held-out (neighbouring voxels are strongly correlated, so a random split would overstate
 * accuracy), and their feature rows, computed only on the bricks that contain sampled voxels:
 * in process, or, for large training sets in distributed mode, by `petromap worker` processes
 * (lib/cluster/feature-queue-node.ts), with the same rows bit for bit.
 */
import type { ClusterTarget } from '../cluster/config';
import { invalidInput, throwIfAborted, unprocessable, type StageOptions } from '../errors';
import { featuresForBox } from '../features';
import type { BrickFeatures, FeatureSet } from '../features/types';
import type { VolumeStore } from '../volume/store';
import type { Box3, Shape3 } from '../volume/types';
import type { LabelledVoxel, PartialVoxel } from './labelled-voxels';
import { mirrorAboveSurface, type MirrorOptions, type SurfacePlane } from './mirror';
import { rng, shuffle } from './rng';
import { measureEdgeProfile } from './surface-edge';

export { strokeVoxels, type LabelledVoxel, type PartialVoxel } from './labelled-voxels';
export {
  SURFACE_LABEL_LAYERS,
  surfaceLabelVoxels,
  surfaceTrainingVoxels,
  type SurfaceVoxelOptions,
} from './surface-training-voxels';

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
  /** optional n x K class probabilities (TrainingSet.classes order): a train row's target is its class weight x these instead of x one-hot (lib/pipeline/depth-transfer) */
  soft?: Float32Array;
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
  /** the class names by code, for messages (a class is named 'class N' without one) */
  classNames?: Record<number, string>;
  /**
   * Distributed mode (docs/scale-out.md): when the features come from featureFnFor (they carry
   * their FeatureSet), the store is a zarr store inside the workspace and the labelled voxels fall
   * in at least `clusterMinBoxes` boxes, the boxes go to BullMQ and `petromap worker` processes
   * compute them; the rows are bit for bit the in-process ones. Default: from PETROMAP_REDIS_URL
   * (workspace PETROMAP_DATA); null: in process whatever the env.
   */
  cluster?: ClusterTarget | null;
  /** fewest boxes that go to the cluster (default CLUSTER_MIN_FEATURE_BOXES) */
  clusterMinBoxes?: number;
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
  const left = new Map<number, number>(); // labelled voxels of each class not held out
  for (const v of voxels) left.set(v.cls, (left.get(v.cls) ?? 0) + 1);
  for (const k of keys) {
    if (n >= target || held.size >= keys.length - 1) break;
    const cell = byTile.get(k)!;
    const per = new Map<number, number>();
    for (const v of cell) per.set(v.cls, (per.get(v.cls) ?? 0) + 1);
    // a class whose last tile this is stays in training (a few painted voxels of a class in one tile
    // would otherwise drop out of the model without a word)
    if ([...per].some(([c, m]) => left.get(c)! <= m)) continue;
    for (const [c, m] of per) left.set(c, left.get(c)! - m);
    held.add(k);
    n += cell.length;
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

/** Default brick of gatherFeatures (BuildTrainingSetOptions.brick). */
const DEFAULT_FEATURE_BRICK: Shape3 = [32, 128, 128];

/** The labelled voxels grouped by brick of the grid `brick`, each with the bounding box of its voxels (first-seen order). */
export function brickGroups(store: VolumeStore, voxels: { z: number; y: number; x: number }[], brick: Shape3 = DEFAULT_FEATURE_BRICK): { box: Box3; idx: number[] }[] {
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
  return [...groups.values()].map((idx) => {
    let z0 = Infinity, y0 = Infinity, x0 = Infinity, z1 = -1, y1 = -1, x1 = -1;
    for (const i of idx) {
      const v = voxels[i];
      z0 = Math.min(z0, v.z); y0 = Math.min(y0, v.y); x0 = Math.min(x0, v.x);
      z1 = Math.max(z1, v.z); y1 = Math.max(y1, v.y); x1 = Math.max(x1, v.x);
    }
    return { box: { start: [z0, y0, x0], shape: [z1 - z0 + 1, y1 - y0 + 1, x1 - x0 + 1] } as Box3, idx };
  });
}

/** Feature rows of the given voxels, computing features per brick on the bounding box of its voxels. */
export async function gatherFeatures(
  store: VolumeStore,
  voxels: LabelledVoxel[],
  features: FeatureFn,
  opts: { brick?: Shape3 } & StageOptions = {},
): Promise<{ rows: Float32Array; nFeatures: number; names: string[] }> {
  const groups = brickGroups(store, voxels, opts.brick);
  let rows: Float32Array | null = null;
  let nF = 0;
  let names: string[] = [];
  let done = 0;
  for (const { box, idx } of groups) {
    throwIfAborted(opts.signal);
    const [z0, y0, x0] = box.start;
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
    opts.onProgress?.(done / groups.length, `features of brick ${done}/${groups.length}`);
  }
  return { rows: rows ?? new Float32Array(0), nFeatures: nF, names };
}

/**
 * Distributed feature computation (docs/scale-out.md, "Training features"): with a cluster target,
 * a training set whose labelled voxels fall in at least this many boxes has its features computed
 * by `petromap worker` processes; smaller ones stay in process (the queue's fixed cost, ~1 s, would
 * outweigh their compute).
 */
export const CLUSTER_MIN_FEATURE_BOXES = 16;

/** The cluster target of buildTrainingSet: explicit, else PETROMAP_REDIS_URL (Node only). */
async function clusterTarget(given: ClusterTarget | null | undefined): Promise<ClusterTarget | null> {
  if (given !== undefined) return given;
  if (typeof process === 'undefined' || !process.env?.PETROMAP_REDIS_URL?.trim()) return null;
  const { clusterFromEnv } = await import('../cluster/config');
  return clusterFromEnv();
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
    const c = classesAll[0], name = c === undefined ? 'none' : opts.classNames?.[c] ? `only ${opts.classNames[c]} (class ${c})` : `only class ${c}`;
    throw unprocessable(`${src}: need labelled voxels of at least two classes to train a classifier, found ${name}. Check the registration and the mineral-to-class table.`);
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
  const all = [...train, ...heldOut, ...partialVox];
  const g = (await gatherOnCluster(store, all, surface ?? null, opts)) ??
    (await gatherFeatures(fstore, all, opts.features, { brick: opts.brick, signal: opts.signal, onProgress: opts.onProgress }));
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

/** The rows of gatherFeatures computed by `petromap worker` processes, or null when this set stays in process. */
async function gatherOnCluster(store: VolumeStore, voxels: LabelledVoxel[], surface: SurfacePlane | null, opts: BuildTrainingSetOptions): Promise<{ rows: Float32Array; nFeatures: number; names: string[] } | null> {
  const set = featureSetOf(opts.features);
  if (!set) return null; // a FeatureFn of its own: the workers could not compute it
  const cluster = await clusterTarget(opts.cluster);
  if (!cluster) return null;
  const groups = brickGroups(store, voxels, opts.brick);
  if (groups.length < (opts.clusterMinBoxes ?? CLUSTER_MIN_FEATURE_BOXES)) return null;
  const { ZarrVolumeStore } = await import('../volume/zarr-store-node');
  if (!(store instanceof ZarrVolumeStore)) return null; // workers open the store by its path
  const { gatherFeaturesOnQueue } = await import('../cluster/feature-queue-node');
  return gatherFeaturesOnQueue(
    { ...cluster, storePath: store.path, featureSet: set, mirror: surface, mirrorOptions: opts.mirror, voxels, groups },
    { signal: opts.signal, onProgress: opts.onProgress },
  );
}

const FEATURE_SET = Symbol('petromap.featureSet');

/** The FeatureSet a FeatureFn of featureFnFor computes (undefined for any other FeatureFn). */
export const featureSetOf = (fn: FeatureFn): FeatureSet | undefined => (fn as FeatureFn & { [FEATURE_SET]?: FeatureSet })[FEATURE_SET];

/** FeatureFn of a feature set of lib/features (what training and prediction use); it carries its set (featureSetOf). */
export function featureFnFor(set: FeatureSet): FeatureFn {
  const fn: FeatureFn = (store, box, signal) => featuresForBox(store, box, set, { signal });
  return Object.assign(fn, { [FEATURE_SET]: set });
}
