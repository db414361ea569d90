/**
 * Landmark pairs of the Correlate step, as pure functions: a click on the EDS map and a click on
 * the surface slab make one numbered pair. Every change keeps the previous pairs on a history
 * stack so Undo (button or Ctrl+Z) takes back the last click, drag or pair.
 *
 * Points are (u, v) = (column, row) in the image's own pixels, pixel centres at integers (as in
 * lib/coords: EdsPx for the map, SlabPx for the slab).
 */
export type Pt = [number, number];
export type Side = 'eds' | 'slab';

export interface Pair {
  eds: Pt | null;
  slab: Pt | null;
}

export interface LandmarkState {
  pairs: Pair[];
  /** earlier `pairs`, newest last */
  history: Pair[][];
}

export type LandmarkAction =
  | { type: 'click'; side: Side; pt: Pt }
  /** start of a marker drag: remembers the pairs once, so one Undo takes back the whole drag */
  | { type: 'dragStart' }
  | { type: 'move'; side: Side; index: number; pt: Pt }
  | { type: 'undo' }
  | { type: 'clear' }
  /** replace without history (pairs restored from the server) */
  | { type: 'load'; pairs: Pair[] };

export const EMPTY_LANDMARKS: LandmarkState = { pairs: [], history: [] };
const MAX_HISTORY = 200;

function push(s: LandmarkState, pairs: Pair[]): LandmarkState {
  return { pairs, history: [...s.history, s.pairs].slice(-MAX_HISTORY) };
}

/**
 * A click on one image. It completes the newest pair if that pair lacks this side, re-places
 * the pending point if the newest pair has only this side, and otherwise starts a new pair.
 */
export function landmarkReducer(s: LandmarkState, a: LandmarkAction): LandmarkState {
  switch (a.type) {
    case 'click': {
      const other: Side = a.side === 'eds' ? 'slab' : 'eds';
      const last = s.pairs[s.pairs.length - 1];
      if (last && (last[a.side] === null || last[other] === null)) {
        const pairs = s.pairs.slice(0, -1);
        pairs.push({ ...last, [a.side]: a.pt });
        return push(s, pairs);
      }
      const fresh: Pair = { eds: null, slab: null };
      fresh[a.side] = a.pt;
      return push(s, [...s.pairs, fresh]);
    }
    case 'dragStart':
      return push(s, s.pairs);
    case 'move': {
      const p = s.pairs[a.index];
      if (!p || p[a.side] === null) return s;
      const pairs = s.pairs.slice();
      pairs[a.index] = { ...p, [a.side]: a.pt };
      return { ...s, pairs };
    }
    case 'undo': {
      if (s.history.length === 0) return s;
      return { pairs: s.history[s.history.length - 1]!, history: s.history.slice(0, -1) };
    }
    case 'clear':
      return s.pairs.length ? push(s, []) : s;
    case 'load':
      return { pairs: a.pairs, history: [] };
  }
}

/** Pairs with both points, with their 1-based number as shown on the markers. */
export function completePairs(pairs: Pair[]): { n: number; eds: Pt; slab: Pt }[] {
  const out: { n: number; eds: Pt; slab: Pt }[] = [];
  pairs.forEach((p, i) => {
    if (p.eds && p.slab) out.push({ n: i + 1, eds: p.eds, slab: p.slab });
  });
  return out;
}

/** Stable text key of the complete pairs (to refit only when they changed). */
export function pairsKey(pairs: Pair[]): string {
  return completePairs(pairs)
    .map((p) => `${p.eds[0].toFixed(2)},${p.eds[1].toFixed(2)}>${p.slab[0].toFixed(2)},${p.slab[1].toFixed(2)}`)
    .join(';');
}

/** Distinct marker colours, readable on grey and on mineral colours (dark outline drawn too). */
const PALETTE = ['#ff3b30', '#34c759', '#0a84ff', '#ffcc00', '#ff2d95', '#30d5c8', '#ff9500', '#bf5af2', '#a2d729', '#ffffff'];
export function pairColor(index: number): string {
  return PALETTE[index % PALETTE.length]!;
}

export interface ResidualRow {
  n: number;
  px: number;
  um: number;
  /** worse than `limitPx` slab pixels: probably a mis-click */
  high: boolean;
}

/**
 * Residual table rows: `residuals[i]` belongs to the i-th complete pair, in slab pixels
 * (= voxels); `slabPixelUm` converts to µm.
 */
export function residualRows(pairs: Pair[], residuals: readonly number[], slabPixelUm: number, limitPx = 2): ResidualRow[] {
  return completePairs(pairs)
    .slice(0, residuals.length)
    .map((p, i) => {
      const px = residuals[i]!;
      return { n: p.n, px, um: px * slabPixelUm, high: px > limitPx };
    });
}

export function rms(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  return Math.sqrt(values.reduce((s, v) => s + v * v, 0) / values.length);
}

/** Landmarks as the server stores them → pairs. */
export function pairsFromServer(landmarks: readonly { eds: readonly number[]; slab: readonly number[] }[]): Pair[] {
  return landmarks.map((l) => ({ eds: [l.eds[0]!, l.eds[1]!], slab: [l.slab[0]!, l.slab[1]!] }));
}

/** Complete pairs → the server's landmark input. */
export function pairsForServer(pairs: Pair[]): { eds: Pt; slab: Pt }[] {
  return completePairs(pairs).map(({ eds, slab }) => ({ eds, slab }));
}
