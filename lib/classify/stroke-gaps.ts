/**
 * The unpainted voxels between strokes of two classes (issue 15 §3). A painter marks class interiors;
 * the edge between two painted classes is never painted, so the training rows hold no edge at all,
 * and a class painted as a thin line (a fracture: a dark plane with strong gradients, curvature and
 * structure tensor at every scale) is the only class whose rows look like an edge. Every edge of the
 * volume then reads as that class: on the e2e 06 layered plug (bands of porous and tight rock, a
 * 2-voxel fracture plane painted with a 1-voxel stroke) the map gave the fracture 19 % of the volume
 * against 3 % true, 83 % of the false fracture within 2 voxels of the bands' boundaries (the forest on
 * the same rows: 14.5 %).
 *
 * What the strokes do say about those edges: along a straight line from a stroke of class a to the
 * next painted voxel, of class b, the voxels in between belong to a or b (the painter did not skip a
 * third class between two strokes a few voxels apart). Those gap voxels (at most `maxGapVox` long,
 * on lines along x, y and z) that a first model on the strokes puts in a third class are labelled
 * with the class of {a, b} it prefers, and the model is trained again with them
 * (lib/pipeline/train-from-labels; the candidates travel as soft-target rows of the training set,
 * lib/classify/training-set `partial`). No such voxel: the first model is kept as it is. Where the
 * first model read them as a class painted thinner than both (an edge read as the fracture line), they
 * are split half and half between a and b in its order (STROKE_GAPS.balance): its own preference on
 * an edge leans to the textured class.
 */
import { disposeModel, predictRows } from './mlp';
import type { LabelledVoxel, PartialVoxel } from './labelled-voxels';
import type { TrainedModel } from './model-types';
import type { TrainingSet } from './training-set';

export const STROKE_GAPS = Object.freeze({
  /** longest run of unpainted voxels between two painted voxels of different classes that is labelled */
  maxGapVox: 12,
  /**
   * only the gap voxels the first model puts in a third class (neither of the two strokes' classes)
   * train, as the more likely of the two: a correction of the model by the strokes. Where the model
   * already names one of the two, the row would only repeat the model to itself: on bench lithology
   * every gap row (hard, `onlyCorrections: false`) moved mean IoU by -0.025 to +0.025 against no gaps
   * (median -0.005 over 12 runs; docs/painted-labels.md), corrections only by -0.013 to +0.025 (median +0.004 over 18).
   */
  onlyCorrections: true,
  /**
   * the corrections between two classes a and b that the first model put in a class painted with
   * fewer voxels than each of them (a class painted as a thin line: the one whose rows look like an
   * edge) are split half and half in the first model's order (log p_a - log p_b), not each given the
   * likelier: on an edge the first model prefers the textured class (on the e2e 06 plug every band
   * boundary went to the porous rock: 106 of 106 corrections, model seed 1, high porosity 57 % of the
   * plug against 48 % true), while a blurred boundary between two classes holds about as many voxels
   * of each. Corrections the model put in another class keep the likelier (balancing those too gave
   * the plug's porous rock between a tight stroke and the fracture line to the fracture: 5.4 %).
   * `false`: each row the likelier of the two.
   */
  balance: true,
});

/**
 * The unpainted voxels on lines along z, y and x between two consecutive painted voxels of different
 * classes at most `maxGapVox` apart; each with the classes of the painted voxels it lies between (on
 * every line through it). `labelled`: the painted voxels (any order), `shape` the volume's (z, y, x).
 */
export function strokeGapVoxels(labelled: readonly LabelledVoxel[], shape: readonly [number, number, number], o: { maxGapVox?: number } = {}): PartialVoxel[] {
  const G = o.maxGapVox ?? STROKE_GAPS.maxGapVox;
  const [, ny, nx] = shape;
  const sets = new Map<number, Set<number>>();
  const flat = (z: number, y: number, x: number) => (z * ny + y) * nx + x;
  // axis d: the voxel's coordinate along the line, and a key of the line (the other two coordinates)
  const axes: [(v: LabelledVoxel) => number, (v: LabelledVoxel) => number, (v: LabelledVoxel, t: number) => number][] = [
    [(v) => v.z, (v) => v.y * nx + v.x, (v, t) => flat(t, v.y, v.x)],
    [(v) => v.y, (v) => v.z * nx + v.x, (v, t) => flat(v.z, t, v.x)],
    [(v) => v.x, (v) => v.z * ny + v.y, (v, t) => flat(v.z, v.y, t)],
  ];
  for (const [along, line, at] of axes) {
    const order = labelled.map((_, i) => i).sort((i, j) => (line(labelled[i]!) - line(labelled[j]!)) || (along(labelled[i]!) - along(labelled[j]!)));
    for (let k = 1; k < order.length; k++) {
      const a = labelled[order[k - 1]!]!, b = labelled[order[k]!]!;
      if (line(a) !== line(b) || a.cls === b.cls) continue;
      const t0 = along(a), t1 = along(b);
      if (t1 - t0 < 2 || t1 - t0 - 1 > G) continue;
      for (let t = t0 + 1; t < t1; t++) {
        const i = at(a, t);
        let s = sets.get(i);
        if (!s) sets.set(i, (s = new Set()));
        s.add(a.cls).add(b.cls);
      }
    }
  }
  const out: PartialVoxel[] = [];
  for (const [i, s] of sets) {
    const classes = [...s].sort((p, q) => p - q);
    out.push({ z: Math.floor(i / (nx * ny)), y: Math.floor(i / nx) % ny, x: i % nx, classes, p: classes.map(() => 1 / classes.length) });
  }
  return out.sort((p, q) => (p.z - q.z) || (p.y - q.y) || (p.x - q.x));
}

/**
 * The training set with each gap row's target set to the candidate class `tm` finds most likely
 * (one-hot; `soft`: the model's probabilities over the candidates, renormalised), keeping only the rows
 * `tm` puts in a class outside the candidates (STROKE_GAPS.onlyCorrections; `minShare`: and where the
 * chosen class holds at least this share of the candidates' probability). The candidates of a row
 * are the classes its target gives a share (strokeGapVoxels' uniform target). No row left: `partial`
 * undefined.
 */
export async function labelGapRows(tm: TrainedModel, ts: TrainingSet, o: StrokeGapOptions = {}): Promise<TrainingSet> {
  const part = ts.partial;
  if (!part || part.n === 0) return ts;
  const K = ts.classes.length, nF = ts.nFeatures;
  if (tm.classes.join() !== ts.classes.join()) throw new Error(`labelGapRows: the model's classes ${tm.classes.join(', ')} are not the training set's ${ts.classes.join(', ')}`);
  const p = await predictRows(tm, part.x, part.n);
  const keep: number[] = [];
  const target = new Float32Array(part.n * K);
  for (let i = 0; i < part.n; i++) {
    let best = -1, sum = 0, top = 0;
    for (let k = 0; k < K; k++) {
      if (p[i * K + k]! > p[i * K + top]!) top = k;
      if (!(part.target[i * K + k]! > 0)) continue;
      sum += p[i * K + k]!;
      if (best < 0 || p[i * K + k]! > p[i * K + best]!) best = k;
    }
    if (best < 0 || !(sum > 0)) continue;
    if (o.minShare !== undefined && p[i * K + best]! / sum < o.minShare) continue;
    if ((o.onlyCorrections ?? STROKE_GAPS.onlyCorrections) && part.target[i * K + top]! > 0) continue;
    const r = keep.length;
    keep.push(i);
    if (o.soft) {
      for (let k = 0; k < K; k++) if (part.target[i * K + k]! > 0) target[r * K + k] = p[i * K + k]! / sum;
    } else target[r * K + best] = 1;
  }
  if (!o.soft && (o.balance ?? STROKE_GAPS.balance)) {
    const painted = ts.classes.map((c) => { const k = ts.counts.find((q) => q.class === c); return k ? k.train + k.heldOut : 0; });
    balanceEdges(keep, p, part.target, target, K, painted);
  }
  const n = keep.length;
  const x = new Float32Array(n * nF), positions = new Int32Array(3 * n);
  keep.forEach((i, r) => { x.set(part.x.subarray(i * nF, (i + 1) * nF), r * nF); positions.set(part.positions.subarray(3 * i, 3 * i + 3), 3 * r); });
  return { ...ts, partial: n ? { ...part, x, n, positions, target: target.slice(0, n * K) } : undefined };
}

/**
 * The kept rows whose candidates are exactly two classes a and b and whose first-model class (`p`'s
 * arg max) was painted with fewer voxels (`painted`, per class index) than each of a and b, grouped by
 * (a, b): in each group the half with the larger log p_a - log p_b trains as a, the other half as b
 * (an odd middle row keeps the likelier). Other rows keep their target.
 */
function balanceEdges(keep: readonly number[], p: Float32Array, candidates: Float32Array, target: Float32Array, K: number, painted: readonly number[]): void {
  const groups = new Map<number, { r: number; d: number }[]>();
  keep.forEach((i, r) => {
    const ks: number[] = [];
    let top = 0;
    for (let k = 0; k < K; k++) {
      if (candidates[i * K + k]! > 0) ks.push(k);
      if (p[i * K + k]! > p[i * K + top]!) top = k;
    }
    if (ks.length !== 2) return;
    const [a, b] = ks as [number, number];
    if (!(painted[top]! < Math.min(painted[a]!, painted[b]!))) return;
    const g = groups.get(a * K + b) ?? [];
    g.push({ r, d: Math.log(Math.max(1e-30, p[i * K + a]!)) - Math.log(Math.max(1e-30, p[i * K + b]!)) });
    groups.set(a * K + b, g);
  });
  for (const [key, g] of groups) {
    const a = Math.floor(key / K), b = key % K;
    g.sort((u, v) => v.d - u.d || u.r - v.r);
    const half = g.length / 2;
    g.forEach(({ r, d }, j) => {
      const cls = j < Math.floor(half) ? a : j >= Math.ceil(half) ? b : d >= 0 ? a : b;
      target[r * K + a] = cls === a ? 1 : 0;
      target[r * K + b] = cls === b ? 1 : 0;
    });
  }
}

/** Options of the gap labelling (STROKE_GAPS' defaults). */
export interface StrokeGapOptions { soft?: boolean; minShare?: number; onlyCorrections?: boolean; balance?: boolean }

/**
 * The two fits of painted labels with gaps between classes: `fit` on the strokes alone names each gap
 * voxel one of its two classes (labelGapRows), then `fit` again on the strokes and those gap rows.
 * No gap row left to learn from: the first model is the model.
 */
export async function fitAcrossStrokeGaps(ts: TrainingSet, fit: (ts: TrainingSet, pass: 'strokes' | 'with gaps') => Promise<TrainedModel>, o: StrokeGapOptions = {}): Promise<TrainedModel> {
  const first = await fit({ ...ts, partial: undefined }, 'strokes');
  let withGaps: TrainingSet;
  try {
    withGaps = await labelGapRows(first, ts, o);
  } catch (err) {
    disposeModel(first);
    throw err;
  }
  if (!withGaps.partial?.n) return first;
  disposeModel(first);
  return fit(withGaps, 'with gaps');
}
