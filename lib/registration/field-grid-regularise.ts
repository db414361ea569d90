/**
 * Per-field shifts regularised over the field grid (issue 19, refine-fields.ts): a field whose
 * content could not place it (uniform, ambiguous, within its noise, off the volume) takes the shift
 * its neighbours predict, as far as neighbouring fields' shifts are alike on this map, and the
 * global transform otherwise. Stage drift moves neighbouring fields alike; independent stitching
 * errors do not, and then the prediction is 0 (the global transform). How alike neighbours are is
 * measured on the fields that moved: rho = sum over neighbour pairs of d_i . d_j over the mean of
 * |d_i|^2 and |d_j|^2 (1 for equal shifts, ~0 for independent ones), used only when at least
 * MIN_PAIRS pairs measured it and it exceeds its own uncertainty 1/sqrt(pairs). A field's
 * prediction is rho times the mean of its neighbours' shifts (moved or predicted), solved by
 * sweeps over the grid, so a chain of unplaced fields decays towards the global transform. With
 * rho >= OUTLIER_RHO, a moved field further than max(OUTLIER_PX, 3 standard errors) from the
 * median of its moved neighbours' shifts (at least 2) locked onto a wrong match and takes the
 * prediction too (the furthest first, one at a time).
 *
 * Measured (tests/lib/registration/refine-fields.test.ts and the issue-19 notes): on mosaics whose
 * offsets are drawn field by field rho stays 0 and nothing changes; on 6 x 6 mosaics with stage
 * drift (2.5 px swing, 0.3 px jitter) the mean error fell 0.43-0.52 -> 0.40-0.51 voxel. Also
 * smoothing the moved fields' own shifts towards their neighbours (weighted by their standard
 * errors) did not pay (0.42-0.52), nor did rho without its 1/sqrt(pairs) margin (independent
 * offsets read as alike on the 3 x 3 mosaic at 1 µm: 0.37 -> 0.43 voxel).
 */
import type { FieldRect } from './types';

/** neighbour pairs of moved fields needed to measure how alike neighbours are */
export const MIN_PAIRS = 4;
/** neighbours alike enough to call a moved field far from them an outlier */
export const OUTLIER_RHO = 0.5;
/**
 * how far (EDS px) a moved field must be from its neighbours' median to be an outlier: a wrong
 * match is another local minimum >= 2 px away, and drift differs by ~1 px between neighbours
 */
export const OUTLIER_PX = 1.5;

/** Fields whose rectangles share an edge (or face each other across a gap of <= 2 px). */
export function fieldNeighbours(fields: FieldRect[]): number[][] {
  const touch = (a0: number, a1: number, b0: number, b1: number) => Math.min(a1, b1) - Math.max(a0, b0) > 0;
  const gap = (a0: number, a1: number, b0: number, b1: number) => Math.max(b0 - a1, a0 - b1);
  return fields.map((a, i) => fields.flatMap((b, j) => {
    if (i === j || !a.width || !a.height || !b.width || !b.height) return [];
    const gu = gap(a.u0, a.u0 + a.width, b.u0, b.u0 + b.width), gv = gap(a.v0, a.v0 + a.height, b.v0, b.v0 + b.height);
    const side = (gu >= 0 && gu <= 2 && touch(a.v0, a.v0 + a.height, b.v0, b.v0 + b.height)) || (gv >= 0 && gv <= 2 && touch(a.u0, a.u0 + a.width, b.u0, b.u0 + b.width));
    return side ? [j] : [];
  }));
}

/** How alike neighbouring moved fields' shifts are (see the module comment), with the pairs it rests on. */
export function neighbourLikeness(shifts: [number, number][], moved: boolean[], nb: number[][]): { rho: number; pairs: number } {
  let num = 0, den = 0, pairs = 0;
  nb.forEach((js, i) => {
    if (!moved[i]) return;
    for (const j of js) {
      if (j <= i || !moved[j]) continue;
      const [a, b] = [shifts[i], shifts[j]];
      num += a[0] * b[0] + a[1] * b[1];
      den += (a[0] * a[0] + a[1] * a[1] + b[0] * b[0] + b[1] * b[1]) / 2;
      pairs++;
    }
  });
  return { rho: den > 0 ? num / den : 0, pairs };
}

export interface GridField {
  shiftPx: [number, number];
  moved: boolean;
  /** standard error of a moved field's shift, EDS pixels */
  standardErrorPx?: number;
}

export interface Regularised {
  /** per field: the shift, and whether it came from its neighbours ('neighbours') */
  shifts: [number, number][];
  from: ('measured' | 'neighbours' | 'global')[];
  /** the likeness used (0 when too few pairs or not alike) */
  rho: number;
  pairs: number;
  /** moved fields replaced as outliers */
  outliers: number[];
}

/** Predictions rho * mean of neighbours' shifts for the fields that did not move, by sweeps over the grid. */
function predict(shifts: [number, number][], moved: boolean[], nb: number[][], rho: number): [number, number][] {
  const d = shifts.map((s, i) => (moved[i] ? ([s[0], s[1]] as [number, number]) : ([0, 0] as [number, number])));
  for (let sweep = 0; sweep < 100; sweep++) {
    let change = 0;
    d.forEach((cur, i) => {
      if (moved[i] || !nb[i].length) return;
      let su = 0, sv = 0;
      for (const j of nb[i]) { su += d[j][0]; sv += d[j][1]; }
      const nu = (rho * su) / nb[i].length, nv = (rho * sv) / nb[i].length;
      change = Math.max(change, Math.abs(nu - cur[0]), Math.abs(nv - cur[1]));
      d[i] = [nu, nv];
    });
    if (change < 1e-3) break;
  }
  return d;
}

export function regulariseFieldGrid(fields: FieldRect[], measured: GridField[]): Regularised {
  const nb = fieldNeighbours(fields);
  const shifts = measured.map((f) => f.shiftPx);
  const moved = measured.map((f) => f.moved);
  const like = neighbourLikeness(shifts, moved, nb);
  // used only when it stands clear of its own uncertainty (1/sqrt(pairs)); then as measured
  const rho = like.pairs >= MIN_PAIRS && like.rho - 1 / Math.sqrt(like.pairs) > 0 ? Math.min(1, like.rho) : 0;
  const outliers: number[] = [];
  if (rho >= OUTLIER_RHO) {
    // the moved field furthest from the median of its moved neighbours (times rho), one at a time
    const median = (xs: number[]) => { const a = [...xs].sort((p, q) => p - q), h = a.length >> 1; return a.length % 2 ? a[h] : (a[h - 1] + a[h]) / 2; };
    for (;;) {
      let worst = -1, far = 0;
      measured.forEach((f, i) => {
        const js = nb[i].filter((j) => moved[j]);
        if (!moved[i] || js.length < 2) return;
        const pu = median(js.map((j) => shifts[j][0])), pv = median(js.map((j) => shifts[j][1]));
        const off = Math.hypot(f.shiftPx[0] - pu, f.shiftPx[1] - pv) / Math.max(OUTLIER_PX, 3 * (f.standardErrorPx ?? 0));
        if (off > 1 && off > far) { far = off; worst = i; }
      });
      if (worst < 0) break;
      outliers.push(worst);
      moved[worst] = false;
    }
  }
  const d = rho > 0 ? predict(shifts, moved, nb, rho) : shifts.map((s, i) => (moved[i] ? s : ([0, 0] as [number, number])));
  const from = d.map((s, i) => (moved[i] ? 'measured' : Math.hypot(s[0], s[1]) > 0 ? 'neighbours' : 'global') as Regularised['from'][number]);
  return { shifts: d, from, rho, pairs: like.pairs, outliers };
}
