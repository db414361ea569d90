import { describe, expect, it } from 'vitest';
import {
  EMPTY_LANDMARKS, completePairs, landmarkReducer, pairColor, pairsForServer, pairsFromServer, pairsKey, residualRows, rms,
  type LandmarkAction, type LandmarkState,
} from '@/app/_components/correlate/landmarks';

const run = (actions: LandmarkAction[], s: LandmarkState = EMPTY_LANDMARKS) => actions.reduce(landmarkReducer, s);
const click = (side: 'eds' | 'slab', u: number, v: number): LandmarkAction => ({ type: 'click', side, pt: [u, v] });

describe('landmark pairs', () => {
  it('an EDS click then a slab click make one numbered pair; the next click starts pair 2', () => {
    const s = run([click('eds', 10, 20), click('slab', 30, 40), click('eds', 50, 60)]);
    expect(s.pairs).toEqual([{ eds: [10, 20], slab: [30, 40] }, { eds: [50, 60], slab: null }]);
    expect(completePairs(s.pairs).map((p) => p.n)).toEqual([1]);
  });

  it('clicks work in either order, and a second click on the same side re-places the pending point', () => {
    const s = run([click('slab', 1, 1), click('slab', 2, 2), click('eds', 3, 3)]);
    expect(s.pairs).toEqual([{ eds: [3, 3], slab: [2, 2] }]);
  });

  it('undo takes back clicks one by one: 4 pairs → undo → 3 complete pairs and a pending EDS point', () => {
    const acts: LandmarkAction[] = [];
    for (let i = 0; i < 4; i++) acts.push(click('eds', i * 10, i * 7 + 3), click('slab', i * 12, i * 5 + 1));
    const s4 = run(acts);
    expect(completePairs(s4.pairs)).toHaveLength(4);
    const s3 = landmarkReducer(s4, { type: 'undo' });
    expect(completePairs(s3.pairs)).toHaveLength(3);
    expect(s3.pairs[3]).toEqual({ eds: [30, 24], slab: null });
    const s0 = run(Array(8).fill({ type: 'undo' }), s3);
    expect(s0.pairs).toEqual([]);
    expect(landmarkReducer(s0, { type: 'undo' })).toBe(s0); // nothing left to undo
  });

  it('a drag is one undo step however many moves it makes', () => {
    const s = run([click('eds', 1, 1), click('slab', 2, 2)]);
    const moved = run([{ type: 'dragStart' }, { type: 'move', side: 'slab', index: 0, pt: [5, 5] }, { type: 'move', side: 'slab', index: 0, pt: [9, 9] }], s);
    expect(moved.pairs[0]!.slab).toEqual([9, 9]);
    expect(landmarkReducer(moved, { type: 'undo' }).pairs[0]!.slab).toEqual([2, 2]);
  });

  it('moving a point that does not exist changes nothing', () => {
    const s = run([click('eds', 1, 1)]);
    expect(landmarkReducer(s, { type: 'move', side: 'slab', index: 0, pt: [3, 3] })).toBe(s);
    expect(landmarkReducer(s, { type: 'move', side: 'eds', index: 4, pt: [3, 3] })).toBe(s);
  });

  it('clear empties the list and can be undone; load replaces without history', () => {
    const s = run([click('eds', 1, 1), click('slab', 2, 2), { type: 'clear' }]);
    expect(s.pairs).toEqual([]);
    expect(landmarkReducer(s, { type: 'undo' }).pairs).toHaveLength(1);
    const l = landmarkReducer(s, { type: 'load', pairs: [{ eds: [0, 0], slab: [1, 1] }] });
    expect(l.history).toEqual([]);
  });

  it('the key changes only when complete pairs change', () => {
    const a = run([click('eds', 1, 1), click('slab', 2, 2)]);
    const b = landmarkReducer(a, click('eds', 7, 7));
    expect(pairsKey(b.pairs)).toBe(pairsKey(a.pairs));
    expect(pairsKey(landmarkReducer(b, click('slab', 8, 8)).pairs)).not.toBe(pairsKey(a.pairs));
  });

  it('residual rows: px and µm per complete pair, numbered as the markers, > 2 px flagged', () => {
    const s = run([click('eds', 0, 0), click('slab', 0, 0), click('eds', 1, 0), click('slab', 1, 0), click('eds', 0, 1), click('slab', 0, 1), click('eds', 5, 5)]);
    const rows = residualRows(s.pairs, [0.5, 2.5, 1], 2.5);
    expect(rows).toEqual([
      { n: 1, px: 0.5, um: 1.25, high: false },
      { n: 2, px: 2.5, um: 6.25, high: true },
      { n: 3, px: 1, um: 2.5, high: false },
    ]);
    expect(rms([3, 4])).toBeCloseTo(Math.sqrt(12.5));
    expect(rms([])).toBeNaN();
  });

  it('converts to and from the server landmark form (complete pairs only)', () => {
    const s = run([click('eds', 1, 2), click('slab', 3, 4), click('eds', 5, 6)]);
    expect(pairsForServer(s.pairs)).toEqual([{ eds: [1, 2], slab: [3, 4] }]);
    expect(pairsFromServer([{ eds: [1, 2], slab: [3, 4] }])).toEqual([{ eds: [1, 2], slab: [3, 4] }]);
  });

  it('neighbouring pairs get distinct colours', () => {
    const c = Array.from({ length: 10 }, (_, i) => pairColor(i));
    expect(new Set(c).size).toBe(10);
  });
});
