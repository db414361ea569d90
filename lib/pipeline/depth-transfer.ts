/**
 * Depth transfer (issue 15 §1, docs/oracle-gap.md): the EDS labels sit on one layer next to the
 * surface, where the features are computed on the volume mirrored above the surface plane. Next to
 * that mirror the features differ from the same mineral's in depth (a filter of scale s sees the
 * layer's own rock twice instead of the rock above it), so a model trained there reads depth a
 * little wrong. Here the surface model (the teacher) labels thin layers deeper in the volume as it
 * would see them at the surface: each layer's features are computed on the volume mirrored above a
 * plane parallel to the surface, just above that layer, so the teacher sees its own kind of rows.
 * The same voxels' features as prediction computes them (mirrored at the real surface only) then
 * train the final model (the student) on the teacher's classes. No truth, no new prediction cost:
 * the student is a model of the same shape.
 */
import { throwIfAborted, type StageOptions } from '../errors';
import { mirrorAboveSurface, type SurfacePlane } from '../classify/mirror';
import { argmaxClasses, predictRows } from '../classify/model';
import type { TrainedModel } from '../classify/model-types';
import { rng, shuffle } from '../classify/rng';
import type { ClassCount, FeatureFn, FeatureRows, TrainingSet } from '../classify/training-set';
import type { VolumeStore } from '../volume/store';
import type { Box3 } from '../volume/types';

export interface DepthTransferOptions extends StageOptions {
  /** thin tiles in depth, each one layer of up to tileVox x tileVox columns (default 6) */
  tiles?: number;
  tileVox?: number;
  /** the tiles' planes lie at least this far below the surface plane and above the bottom, voxels (default 4, 8) */
  minDepthVox?: number;
  marginBottomVox?: number;
  /** cap of student rows per teacher class (default 4000, as the surface's maxPerClass) */
  perClass?: number;
  /** share of the tiles' 32-voxel cells held out for the student's early stopping (default 0.2) */
  heldOutFraction?: number;
  /**
   * 'hard': the student trains on the teacher's arg max; 'soft': on the teacher's probabilities;
   * 'mixed': the surface rows and boundary rows too, the depth rows as soft rows
   */
  mode?: 'hard' | 'soft' | 'mixed';
  seed?: number;
}

/** Rows of the depth layers: each voxel's features seen as at the surface (mirrored just above it) and as prediction sees them. */
export interface DepthLayerRows {
  vox: { z: number; y: number; x: number }[];
  /** tile of each voxel */
  tile: Int32Array;
  /** features on the volume mirrored above the layer's own plane (the teacher's kind of rows) */
  mirrored: Float32Array;
  /** features as prediction computes them (the volume mirrored above the real surface only) */
  plain: Float32Array;
  nFeatures: number;
}

/** Planes and in-plane tiles of the depth layers: deterministic for a seed. */
export function depthTiles(shape: [number, number, number], surface: SurfacePlane, o: Pick<DepthTransferOptions, 'tiles' | 'tileVox' | 'minDepthVox' | 'marginBottomVox' | 'seed'> = {}): { depth: number; y0: number; x0: number; sy: number; sx: number }[] {
  const [nz, ny, nx] = shape;
  const n = o.tiles ?? 6, t = o.tileVox ?? 128;
  const sy = Math.min(t, ny), sx = Math.min(t, nx);
  const rand = rng((o.seed ?? 1) * 131 + 7);
  const zAt = (y: number, x: number) => surface.a * x + surface.b * y + surface.c;
  const zTop = Math.max(zAt(0, 0), zAt(0, nx - 1), zAt(ny - 1, 0), zAt(ny - 1, nx - 1));
  const lo = o.minDepthVox ?? 4;
  // deepest plane: its lowest column stays marginBottomVox above the bottom
  const hi = Math.max(lo, nz - 1 - (o.marginBottomVox ?? 8) - zTop);
  const out = [];
  for (let i = 0; i < n; i++) {
    // stratified in depth, jittered; random in-plane position
    const depth = Math.round(lo + ((i + rand()) / n) * (hi - lo));
    out.push({ depth, y0: Math.floor(rand() * (ny - sy + 1)), x0: Math.floor(rand() * (nx - sx + 1)), sy, sx });
  }
  return out;
}

/**
 * The depth layers' rows. `surface` is the model's mirror surface (with its edge profile): the
 * plain rows are computed on the volume mirrored above it, as prediction does.
 */
export async function depthLayerRows(store: VolumeStore, surface: SurfacePlane, features: FeatureFn, o: DepthTransferOptions = {}): Promise<DepthLayerRows> {
  const [nz] = store.meta.shape;
  const plainStore = mirrorAboveSurface(store, surface);
  const vox: DepthLayerRows['vox'] = [];
  const tileOf: number[] = [];
  const mParts: Float32Array[] = [], pParts: Float32Array[] = [];
  let nF = 0;
  const tiles = depthTiles(store.meta.shape, surface, o);
  for (let ti = 0; ti < tiles.length; ti++) {
    throwIfAborted(o.signal);
    const { depth, y0, x0, sy, sx } = tiles[ti]!;
    // the layer as the surface's labelled layer: z = round(plane + 0.5), the plane moved down by depth
    const plane: SurfacePlane = { a: surface.a, b: surface.b, c: surface.c + depth };
    const tv: { z: number; y: number; x: number }[] = [];
    let z0 = Infinity, z1 = -Infinity;
    for (let y = y0; y < y0 + sy; y++) for (let x = x0; x < x0 + sx; x++) {
      const z = Math.round(plane.a * x + plane.b * y + plane.c + 0.5);
      if (z < 0 || z >= nz) continue;
      tv.push({ z, y, x });
      z0 = Math.min(z0, z); z1 = Math.max(z1, z);
    }
    if (!tv.length) continue;
    const box: Box3 = { start: [z0, y0, x0], shape: [z1 - z0 + 1, sy, sx] };
    const at = (v: { z: number; y: number; x: number }) => ((v.z - z0) * sy + (v.y - y0)) * sx + (v.x - x0);
    for (const [src, parts] of [[mirrorAboveSurface(store, plane), mParts], [plainStore, pParts]] as const) {
      const bf = await features(src, box, o.signal);
      nF = bf.nFeatures;
      const rows = new Float32Array(tv.length * nF);
      tv.forEach((v, i) => rows.set(bf.data.subarray(at(v) * nF, (at(v) + 1) * nF), i * nF));
      parts.push(rows);
    }
    for (const v of tv) { vox.push(v); tileOf.push(ti); }
  }
  const cat = (parts: Float32Array[]) => {
    const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
    let off = 0;
    for (const p of parts) { out.set(p, off); off += p.length; }
    return out;
  };
  return { vox, tile: Int32Array.from(tileOf), mirrored: cat(mParts), plain: cat(pParts), nFeatures: nF };
}

function rowsOf(d: DepthLayerRows, idx: number[], cls: Uint8Array): FeatureRows {
  const nF = d.nFeatures;
  const x = new Float32Array(idx.length * nF), y = new Uint8Array(idx.length), positions = new Int32Array(3 * idx.length);
  idx.forEach((i, j) => {
    x.set(d.plain.subarray(i * nF, (i + 1) * nF), j * nF);
    y[j] = cls[i]!;
    const v = d.vox[i]!;
    positions[3 * j] = v.z; positions[3 * j + 1] = v.y; positions[3 * j + 2] = v.x;
  });
  return { x, y, n: idx.length, positions };
}

/**
 * The student's training set: the depth rows (prediction's features) with the teacher's classes
 * (its probabilities on the same voxels seen as at the surface), capped per class, split by
 * 32-voxel cells of each tile for early stopping.
 */
export async function studentTrainingSet(ts: TrainingSet, teacher: TrainedModel, d: DepthLayerRows, o: DepthTransferOptions = {}): Promise<TrainingSet> {
  const n = d.vox.length, K = teacher.classes.length;
  const p = await predictRows(teacher, d.mirrored, n);
  const cls = argmaxClasses(p, teacher.classes);
  const rand = rng((o.seed ?? 1) * 977 + 3);
  const cellOf = (i: number) => (d.tile[i]! * 4096 + Math.floor(d.vox[i]!.y / 32)) * 4096 + Math.floor(d.vox[i]!.x / 32);
  const cells = [...new Set(Array.from({ length: n }, (_, i) => cellOf(i)))].sort((a, b) => a - b);
  shuffle(cells, rand);
  const held = new Set(cells.slice(0, Math.round(cells.length * (o.heldOutFraction ?? 0.2))));
  const cap = o.perClass ?? 4000;
  const pick = (want: boolean, c: number) => {
    const by = new Map<number, number[]>();
    for (let i = 0; i < n; i++) {
      if (held.has(cellOf(i)) !== want) continue;
      let a = by.get(cls[i]!);
      if (!a) by.set(cls[i]!, (a = []));
      a.push(i);
    }
    const out: number[] = [];
    for (const k of [...by.keys()].sort((a, b) => a - b)) {
      const a = by.get(k)!;
      shuffle(a, rand);
      out.push(...a.slice(0, c));
    }
    return out;
  };
  const trainIdx = pick(false, cap), heldIdx = pick(true, Math.max(1, Math.round(cap / 4)));
  const train = rowsOf(d, trainIdx, cls), heldOut = rowsOf(d, heldIdx, cls);
  const counts: ClassCount[] = teacher.classes.map((c) => ({
    class: c,
    available: Array.prototype.filter.call(cls, (v: number) => v === c).length,
    train: trainIdx.filter((i) => cls[i] === c).length,
    heldOut: heldIdx.filter((i) => cls[i] === c).length,
  }));
  const softOf = (idx: number[]) => {
    const t = new Float32Array(idx.length * K);
    idx.forEach((i, j) => t.set(p.subarray(i * K, (i + 1) * K), j * K));
    return t;
  };
  const mode = o.mode ?? 'hard';
  const base: TrainingSet = { ...ts, classes: teacher.classes, train, heldOut, partial: undefined, counts };
  if (mode === 'soft') return { ...base, train: { ...train, soft: softOf(trainIdx) } };
  if (mode === 'mixed') {
    // the surface's own rows too (their domain is the mirror's), the depth rows as soft rows
    const nF = ts.nFeatures;
    const sp = ts.partial;
    const px = new Float32Array(((sp?.n ?? 0) + train.n) * nF);
    if (sp) px.set(sp.x);
    px.set(train.x, (sp?.n ?? 0) * nF);
    const pt = new Float32Array(((sp?.n ?? 0) + train.n) * K);
    if (sp) pt.set(sp.target);
    pt.set(softOf(trainIdx), (sp?.n ?? 0) * K);
    const pp = new Int32Array(3 * ((sp?.n ?? 0) + train.n));
    if (sp) pp.set(sp.positions);
    pp.set(train.positions, 3 * (sp?.n ?? 0));
    return { ...base, train: ts.train, partial: { x: px, n: (sp?.n ?? 0) + train.n, positions: pp, target: pt } };
  }
  return base;
}

/**
 * A linear map from the features a voxel shows next to a mirror to those it shows in depth, fitted
 * on the depth layers (each voxel seen both ways): plain ≈ W · mirrored + b, least squares with a
 * small ridge on standardised inputs. `residuals` (plain − fit, row-major) are kept so a caller can
 * add the spread the map cannot predict.
 */
export interface MirrorMap {
  nFeatures: number;
  /** nF x (nF + 1), row f: weights of the standardised mirrored features, then the intercept */
  w: Float64Array;
  mean: Float64Array;
  std: Float64Array;
  residuals: Float32Array;
  n: number;
}

export function fitMirrorMap(d: DepthLayerRows, ridge = 1e-3): MirrorMap {
  const nF = d.nFeatures, n = d.vox.length, P = nF + 1;
  const mean = new Float64Array(nF), std = new Float64Array(nF);
  for (let i = 0; i < n; i++) for (let f = 0; f < nF; f++) mean[f] += d.mirrored[i * nF + f]!;
  for (let f = 0; f < nF; f++) mean[f] /= n;
  for (let i = 0; i < n; i++) for (let f = 0; f < nF; f++) std[f] += (d.mirrored[i * nF + f]! - mean[f]!) ** 2;
  for (let f = 0; f < nF; f++) std[f] = Math.sqrt(std[f]! / n) || 1;
  // normal equations A = X'X + ridge n I (intercept not penalised), B = X'Y
  const A = new Float64Array(P * P), B = new Float64Array(P * nF), x = new Float64Array(P);
  for (let i = 0; i < n; i++) {
    for (let f = 0; f < nF; f++) x[f] = (d.mirrored[i * nF + f]! - mean[f]!) / std[f]!;
    x[nF] = 1;
    for (let p = 0; p < P; p++) {
      const xp = x[p]!;
      for (let q = p; q < P; q++) A[p * P + q] += xp * x[q]!;
      for (let f = 0; f < nF; f++) B[p * nF + f] += xp * d.plain[i * nF + f]!;
    }
  }
  for (let p = 0; p < P; p++) {
    for (let q = 0; q < p; q++) A[p * P + q] = A[q * P + p]!;
    if (p < nF) A[p * P + p] += ridge * n;
  }
  // Gaussian elimination with partial pivoting, all right-hand sides at once
  for (let c = 0; c < P; c++) {
    let piv = c;
    for (let r = c + 1; r < P; r++) if (Math.abs(A[r * P + c]!) > Math.abs(A[piv * P + c]!)) piv = r;
    if (piv !== c) {
      for (let q = 0; q < P; q++) { const t = A[c * P + q]!; A[c * P + q] = A[piv * P + q]!; A[piv * P + q] = t; }
      for (let f = 0; f < nF; f++) { const t = B[c * nF + f]!; B[c * nF + f] = B[piv * nF + f]!; B[piv * nF + f] = t; }
    }
    const d0 = A[c * P + c]! || 1e-12;
    for (let r = 0; r < P; r++) {
      if (r === c) continue;
      const m = A[r * P + c]! / d0;
      if (!m) continue;
      for (let q = c; q < P; q++) A[r * P + q] -= m * A[c * P + q]!;
      for (let f = 0; f < nF; f++) B[r * nF + f] -= m * B[c * nF + f]!;
    }
  }
  const w = new Float64Array(nF * P);
  for (let p = 0; p < P; p++) for (let f = 0; f < nF; f++) w[f * P + p] = B[p * nF + f]! / (A[p * P + p]! || 1e-12);
  const map: MirrorMap = { nFeatures: nF, w, mean, std, residuals: new Float32Array(n * nF), n };
  const fit = applyMirrorMap(map, d.mirrored, n);
  for (let i = 0; i < n * nF; i++) map.residuals[i] = d.plain[i]! - fit[i]!;
  return map;
}

/** Rows seen next to a mirror -> the map's estimate of the same voxels seen in depth; with `noise`, plus the residual of a random depth row (seeded). */
export function applyMirrorMap(m: MirrorMap, x: Float32Array, n: number, noise?: { seed: number; scale?: number }): Float32Array {
  const nF = m.nFeatures, P = nF + 1;
  const out = new Float32Array(n * nF), z = new Float64Array(nF);
  const rand = noise ? rng(noise.seed) : null;
  const s = noise?.scale ?? 1;
  for (let i = 0; i < n; i++) {
    for (let f = 0; f < nF; f++) z[f] = (x[i * nF + f]! - m.mean[f]!) / m.std[f]!;
    const j = rand ? Math.floor(rand() * m.n) : -1;
    for (let f = 0; f < nF; f++) {
      let v = m.w[f * P + nF]!;
      for (let g = 0; g < nF; g++) v += m.w[f * P + g]! * z[g]!;
      out[i * nF + f] = j >= 0 ? v + s * m.residuals[j * nF + f]! : v;
    }
  }
  return out;
}

