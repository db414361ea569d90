/**
 * Auto-context (ilastik's second stage): a second MLP classifies each voxel from its features AND
 * the first model's class probabilities around it, smoothed in 3D at a few scales (Gaussian,
 * sigma in voxels). The second model learns where the first is wrong in context (a pore rim read
 * as clay, a pyrite cube's blurred edge), which one voxel's features cannot show.
 *
 * Training (trainAutoContext): the training rows' stage-1 probabilities must not come from a model
 * that saw them (it is over-confident on its own rows), so two fold models are trained on the rows
 * of a 32-voxel (y, x) checkerboard each, and each row reads the smoothed probabilities of the
 * fold model that did not see its tile (held-out rows: either, by the same checkerboard).
 *
 * Prediction (predictBrickAutoContext): stage-1 probabilities are computed on the brick grown by
 * the smoothing's halo (clipped to the volume, as the whole-volume pass clips), smoothed, and the
 * brick's voxels go through stage 2. Every value of a brick therefore equals the whole volume's.
 * Both stages run in the fused wasm MLP when it supports them, else in TF.js rows.
 */
import { featuresForBox, featuresForBoxPlanar } from '../features';
import type { WasmKernels } from '../features/kernels-wasm';
import { invalidInput, throwIfAborted, type StageOptions } from '../errors';
import type { VolumeStore } from '../volume/store';
import type { Box3, Shape3 } from '../volume/types';
import { brickOutputs, clearAboveSurface, type BrickOutputs } from './brick-predict';
import { fusedMlpOf, runFusedMlp, runFusedMlpInto, type FusedMlp } from './fused-mlp';
import { isAboveSurface, type SurfacePlane } from './mirror';
import { disposeModel, pickRows, predictRows, trainClassifier, type TrainedModel, type TrainOptions } from './model';
import { smoothChannels, smoothingHalo } from './prob-smooth';
import type { FeatureRows, PartialRows, TrainingSet } from './training-set';

/** The second stage of a model: input = the stage-1 features, then per sigma the K smoothed probabilities. */
export interface AutoContextModel {
  sigmas: number[];
  model: TrainedModel;
}

/** Default scales (voxels). bench auto-context: see docs/auto-context.md. */
export const AUTO_CONTEXT_SIGMAS: readonly number[] = Object.freeze([1, 2.5]);
/** Edge of the checkerboard tiles of the two fold models, voxels. */
const FOLD_TILE = 32;

export const contextHalo = (sigmas: readonly number[]): number => Math.max(0, ...sigmas.map((s) => smoothingHalo({ kind: 'gaussian', sigma: s })));

/** `box` grown by h voxels each side, clipped to `shape`; `inner` = where box lies in it. */
export function growBox(box: Box3, h: number, shape: Shape3): { grown: Box3; offset: Shape3 } {
  const start = box.start.map((s) => Math.max(0, s - h)) as Shape3;
  const end = box.start.map((s, a) => Math.min(shape[a]!, s + box.shape[a]! + h));
  return { grown: { start, shape: end.map((e, a) => e - start[a]!) as Shape3 }, offset: box.start.map((s, a) => s - start[a]!) as Shape3 };
}

/** Rows of n x K -> K planes, 0 above the surface (as the stored prediction leaves air). */
function toPlanes(rows: Float32Array, n: number, nK: number, box: Box3, mirror: SurfacePlane | null | undefined): Float32Array[] {
  const ch = Array.from({ length: nK }, () => new Float32Array(n));
  for (let i = 0; i < n; i++) for (let k = 0; k < nK; k++) ch[k]![i] = rows[i * nK + k]!;
  if (mirror) {
    const [bz, by, bx] = box.shape;
    for (let y = 0; y < by; y++) for (let x = 0; x < bx; x++) {
      for (let z = 0; z < bz && isAboveSurface(mirror, box.start[0] + z, box.start[1] + y, box.start[2] + x); z++) {
        for (const c of ch) c[(z * by + y) * bx + x] = 0;
      }
    }
  }
  return ch;
}

/** Per sigma, the K smoothed planes over `shape`. */
function smoothAll(ch: Float32Array[], shape: Shape3, sigmas: readonly number[]): Float32Array[][] {
  const tmp = new Float32Array(ch[0]?.length ?? 0);
  return sigmas.map((s) => {
    const c2 = ch.map((c) => c.slice());
    smoothChannels(c2, shape, { kind: 'gaussian', sigma: s }, tmp);
    return c2;
  });
}

/** Stage-1 probabilities of every voxel of `box` (K planes, 0 above the surface), fused or TF.js. */
export async function stageOneProbabilities(model: TrainedModel, src: VolumeStore, box: Box3, mirror: SurfacePlane | null | undefined, opts: StageOptions & { engine?: 'auto' | 'tfjs' } = {}): Promise<Float32Array[]> {
  const n = box.shape[0] * box.shape[1] * box.shape[2];
  const nK = model.classes.length;
  const net = opts.engine === 'tfjs' ? null : fusedMlpOf(model);
  if (!net) {
    const f = await featuresForBox(src, box, model.featureSet!, { signal: opts.signal });
    return toPlanes(await predictRows(model, f.data, n), n, nK, box, mirror);
  }
  let rows: Float32Array | null = null;
  await featuresForBoxPlanar(src, box, model.featureSet!, (K, planar, nVox) => {
    rows = fusedRows(K, net, planar, nVox);
  }, { signal: opts.signal });
  return toPlanes(rows!, n, nK, box, mirror);
}

function fusedRows(K: WasmKernels, net: FusedMlp, planar: number, n: number): Float32Array {
  const mark = K.mark();
  try {
    const probs = K.alloc(n * net.nClasses);
    runFusedMlp(K, net, planar, n, { labels: 0, probsU8: 0, stride: 0, unc: 0, probsF32: probs });
    return K.f32(probs, n * net.nClasses).slice();
  } finally {
    K.release(mark);
  }
}

/** Index of voxel (z, y, x) of `inner` (offset `off` in `grown`) in grown's planes. */
const at = (grown: Shape3, off: Shape3, z: number, y: number, x: number) => ((z + off[0]) * grown[1] + y + off[1]) * grown[2] + x + off[2];

/**
 * One brick through both stages (see the file's comment). `volumeShape` clips the grown box as
 * the whole volume does. Voxels above the surface are left unlabelled, as predictBrick leaves them.
 */
export async function predictBrickAutoContext(model: TrainedModel, ctx: AutoContextModel, src: VolumeStore, box: Box3, mirror: SurfacePlane | null | undefined, opts: StageOptions & { into?: BrickOutputs; engine?: 'auto' | 'tfjs' } = {}): Promise<BrickOutputs> {
  const { grown, offset } = growBox(box, contextHalo(ctx.sigmas), src.meta.shape);
  const n = box.shape[0] * box.shape[1] * box.shape[2];
  const nE = grown.shape[0] * grown.shape[1] * grown.shape[2];
  const nK = model.classes.length;
  const nF = model.mean.length;
  const nF2 = nF + nK * ctx.sigmas.length;
  if (ctx.model.mean.length !== nF2) throw invalidInput(`The classifier's second stage expects ${ctx.model.mean.length} inputs, not ${nF2} (${nF} features and ${nK} classes at ${ctx.sigmas.length} scales): save the model again.`);
  const net1 = opts.engine === 'tfjs' ? null : fusedMlpOf(model);
  const net2 = opts.engine === 'tfjs' ? null : fusedMlpOf(ctx.model);
  const [bz, by, bx] = box.shape;
  if (!net1 || !net2) {
    const f = await featuresForBox(src, grown, model.featureSet!, { signal: opts.signal });
    const sm = smoothAll(toPlanes(await predictRows(model, f.data, nE), nE, nK, grown, mirror), grown.shape, ctx.sigmas);
    const x2 = new Float32Array(n * nF2);
    let i = 0;
    for (let z = 0; z < bz; z++) for (let y = 0; y < by; y++) for (let x = 0; x < bx; x++, i++) {
      const e = at(grown.shape, offset, z, y, x);
      x2.set(f.data.subarray(e * nF, (e + 1) * nF), i * nF2);
      let o = i * nF2 + nF;
      for (const s of sm) for (const c of s) x2[o++] = c[e]!;
    }
    return brickOutputs(await predictRows(ctx.model, x2, n), model.classes, box, mirror ?? undefined);
  }
  const out = opts.into && opts.into.labels.length === n && opts.into.probabilities.length === nK ? opts.into : allocBrickOutputs(n, nK);
  await featuresForBoxPlanar(src, grown, model.featureSet!, (K, planar, nVox, nFv) => {
    if (nFv !== nF) throw invalidInput(`Feature rows have ${nFv} features per voxel but the model expects ${nF} (${model.featureNames.join(', ')}).`);
    const sm = smoothAll(toPlanes(fusedRows(K, net1, planar, nVox), nVox, nK, grown, mirror), grown.shape, ctx.sigmas);
    const mark = K.mark();
    try {
      const p2 = K.alloc(n * nF2);
      const dst = K.f32(p2, n * nF2), srcF = K.f32(planar, nVox * nF);
      for (let f = 0; f < nF; f++) for (let z = 0; z < bz; z++) for (let y = 0; y < by; y++) {
        const e = f * nVox + at(grown.shape, offset, z, y, 0);
        dst.set(srcF.subarray(e, e + bx), f * n + (z * by + y) * bx);
      }
      let f = nF;
      for (const s of sm) for (const c of s) {
        for (let z = 0; z < bz; z++) for (let y = 0; y < by; y++) {
          const e = at(grown.shape, offset, z, y, 0);
          dst.set(c.subarray(e, e + bx), f * n + (z * by + y) * bx);
        }
        f++;
      }
      runFusedMlpInto(K, net2, p2, n, out);
    } finally {
      K.release(mark);
    }
  }, { signal: opts.signal });
  if (mirror) clearAboveSurface(out, box, mirror);
  return out;
}

const allocBrickOutputs = (n: number, K: number): BrickOutputs => ({ labels: new Uint8Array(n), probabilities: Array.from({ length: K }, () => new Uint8Array(n)), uncertainty: new Uint8Array(n) });

const foldOf = (p: Int32Array, i: number) => (Math.floor(p[3 * i + 1]! / FOLD_TILE) + Math.floor(p[3 * i + 2]! / FOLD_TILE)) & 1;

function pickPartial(r: PartialRows, keep: (i: number) => boolean, nF: number, K: number): PartialRows {
  const idx: number[] = [];
  for (let i = 0; i < r.n; i++) if (keep(i)) idx.push(i);
  const x = new Float32Array(idx.length * nF), t = new Float32Array(idx.length * K), pos = new Int32Array(idx.length * 3);
  idx.forEach((i, j) => {
    x.set(r.x.subarray(i * nF, (i + 1) * nF), j * nF);
    t.set(r.target.subarray(i * K, (i + 1) * K), j * K);
    pos.set(r.positions.subarray(3 * i, 3 * i + 3), 3 * j);
  });
  return { x, n: idx.length, positions: pos, target: t };
}

/** Boxes of `region` ([z range] x tiles of `tile` in y, x) that hold at least one of `positions`' rows. */
function boxesWithRows(region: Box3, tile: number, rows: Int32Array[]): Box3[] {
  const [, ny, nx] = region.shape;
  const used = new Set<number>();
  const tx = Math.ceil(nx / tile);
  for (const p of rows) for (let i = 0; i < p.length / 3; i++) used.add(Math.floor(p[3 * i + 1]! / tile) * tx + Math.floor(p[3 * i + 2]! / tile));
  const out: Box3[] = [];
  for (const t of [...used].sort((a, b) => a - b)) {
    const y0 = Math.floor(t / tx) * tile, x0 = (t % tx) * tile;
    out.push({ start: [region.start[0], y0, x0], shape: [region.shape[0], Math.min(tile, ny - y0), Math.min(tile, nx - x0)] });
  }
  return out;
}

export interface TrainAutoContextOptions extends StageOptions {
  /** options of the stage-1 fit (the fold models and stage 2 are trained alike) */
  train?: Omit<TrainOptions, 'signal' | 'onProgress' | 'onEpoch'>;
  sigmas?: readonly number[];
  seed?: number;
  /** y, x edge of the boxes the fold models predict (default 128) */
  tile?: number;
}

/**
 * Trains stage 2 on `ts` (the stage-1 training set, built on `src` = the feature source, mirrored
 * as ts.mirrorSurface says). Costs two fold fits, their probabilities on the labelled layer's boxes
 * and one fit on the wider rows. `heldOut`: ts.heldOut's rows with their stage-2 inputs (validation).
 */
export async function trainAutoContext(ts: TrainingSet, src: VolumeStore, opts: TrainAutoContextOptions = {}): Promise<AutoContextModel & { heldOut: FeatureRows }> {
  const sigmas = [...(opts.sigmas ?? AUTO_CONTEXT_SIGMAS)];
  const nF = ts.nFeatures, nK = ts.classes.length;
  const halo = contextHalo(sigmas);
  const sets = [ts.train, ts.heldOut, ts.partial].filter((r): r is FeatureRows | PartialRows => !!r && r.n > 0);
  let zMin = Infinity, zMax = -Infinity;
  for (const r of sets) for (let i = 0; i < r.n; i++) { zMin = Math.min(zMin, r.positions[3 * i]!); zMax = Math.max(zMax, r.positions[3 * i]!); }
  const shape = src.meta.shape;
  const z0 = Math.max(0, zMin - halo), z1 = Math.min(shape[0], zMax + halo + 1);
  const boxes = boxesWithRows({ start: [z0, 0, 0], shape: [z1 - z0, shape[1], shape[2]] }, opts.tile ?? 128, sets.map((r) => r.positions));
  // per fold model, per box: the smoothed planes over the box grown by the halo
  const smoothed: { box: Box3; grown: Box3; offset: Shape3; sm: Float32Array[][] }[][] = [];
  for (const f of [0, 1]) {
    throwIfAborted(opts.signal);
    const tf: TrainingSet = {
      ...ts,
      train: pickRows(ts.train, (i) => foldOf(ts.train.positions, i) === f, nF),
      partial: ts.partial && pickPartial(ts.partial, (i) => foldOf(ts.partial!.positions, i) === f, nF, nK),
    };
    const m = await trainClassifier(tf, { ...opts.train, seed: (opts.seed ?? 0) + 101 + f, signal: opts.signal });
    try {
      const per = [];
      for (const box of boxes) {
        const { grown, offset } = growBox(box, halo, shape);
        per.push({ box, grown, offset, sm: smoothAll(await stageOneProbabilities(m, src, grown, ts.mirrorSurface, { signal: opts.signal }), grown.shape, sigmas) });
      }
      smoothed.push(per);
    } finally {
      disposeModel(m);
    }
  }
  const tile = opts.tile ?? 128;
  const augment = <R extends FeatureRows | PartialRows>(r: R): R => {
    const x = new Float32Array(r.n * (nF + nK * sigmas.length));
    const w = nF + nK * sigmas.length;
    for (let i = 0; i < r.n; i++) {
      x.set(r.x.subarray(i * nF, (i + 1) * nF), i * w);
      const [z, y, xx] = [r.positions[3 * i]!, r.positions[3 * i + 1]!, r.positions[3 * i + 2]!];
      // the fold model that did not see this row's tile
      const per = smoothed[1 - foldOf(r.positions, i)]!;
      const b = per.find((p) => p.box.start[1] === Math.floor(y / tile) * tile && p.box.start[2] === Math.floor(xx / tile) * tile)!;
      const e = at(b.grown.shape, b.offset, z - b.box.start[0], y - b.box.start[1], xx - b.box.start[2]);
      let o = i * w + nF;
      for (const s of b.sm) for (const c of s) x[o++] = c[e]!;
    }
    return { ...r, x };
  };
  const t2: TrainingSet = {
    ...ts,
    nFeatures: nF + nK * sigmas.length,
    featureNames: [...ts.featureNames, ...sigmas.flatMap((s) => ts.classes.map((c) => `p(class ${c}) smoothed ${s} vox`))],
    train: augment(ts.train),
    heldOut: augment(ts.heldOut),
    partial: ts.partial && augment(ts.partial),
    featureSet: undefined,
  };
  const model = await trainClassifier(t2, { ...opts.train, seed: (opts.seed ?? 0) + 103, signal: opts.signal });
  return { sigmas, model, heldOut: t2.heldOut };
}
