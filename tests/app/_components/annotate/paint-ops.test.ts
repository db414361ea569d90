import { describe, expect, it } from 'vitest';
import { boxOnSlice, EditHistory, hexRgb, labelsToRgba, nextColor, paintDisc, paintLine, rgbHex } from '@/app/_components/annotate/paint-ops';

describe('paint ops', () => {
  it('paints discs clipped to the slice and counts changes', () => {
    const l = new Uint8Array(10 * 8);
    expect(paintDisc(l, 10, 8, 5, 4, 0, 2)).toBe(1);
    expect(l[4 * 10 + 5]).toBe(2);
    expect(paintDisc(l, 10, 8, 5, 4, 0, 2)).toBe(0);
    const n = paintDisc(l, 10, 8, 0, 0, 2, 1); // corner: a quarter disc
    expect(n).toBeGreaterThanOrEqual(6);
    expect(n).toBeLessThanOrEqual(9);
    expect(l[0]).toBe(1);
    expect(l[2 * 10 + 2]).toBe(0); // outside the disc
  });

  it('paints gap-free lines and erases with code 0', () => {
    const l = new Uint8Array(40 * 10);
    paintLine(l, 40, 10, 2, 5, 37, 5, 0, 3);
    for (let x = 2; x <= 37; x++) expect(l[5 * 40 + x]).toBe(3);
    expect(l.reduce((s, v) => s + (v ? 1 : 0), 0)).toBe(36);
    paintLine(l, 40, 10, 10, 0, 10, 9, 1, 0);
    expect(l[5 * 40 + 10]).toBe(0);
    expect(l[5 * 40 + 12]).toBe(3);
  });

  it('colours labels and projects boxes onto slices', () => {
    const rgba = labelsToRgba(new Uint8Array([0, 1, 2, 9]), new Map([[1, [10, 20, 30]], [2, [1, 2, 3]]]), 200);
    expect(Array.from(rgba)).toEqual([0, 0, 0, 0, 10, 20, 30, 200, 1, 2, 3, 200, 0, 0, 0, 0]);
    const box = { start: [2, 10, 20] as [number, number, number], shape: [4, 6, 8] as [number, number, number] };
    expect(boxOnSlice(box, 'z', 1)).toBeNull();
    expect(boxOnSlice(box, 'z', 5)).toEqual({ u0: 20, u1: 28, v0: 10, v1: 16 });
    expect(boxOnSlice(box, 'y', 12)).toEqual({ u0: 20, u1: 28, v0: 2, v1: 6 });
    expect(boxOnSlice(box, 'x', 27)).toEqual({ u0: 10, u1: 16, v0: 2, v1: 6 });
    expect(boxOnSlice(box, 'x', 28)).toBeNull();
  });

  it('undoes and redoes slice edits in order', () => {
    const h = new EditHistory(2);
    const e = (k: number) => ({ axis: 'z' as const, index: k, before: new Uint8Array([k]), after: new Uint8Array([k + 1]) });
    h.push(e(1)); h.push(e(2)); h.push(e(3));
    expect(h.undo()?.index).toBe(3);
    expect(h.undo()?.index).toBe(2);
    expect(h.undo()).toBeNull(); // bounded to 2
    expect(h.redo()?.index).toBe(2);
    h.push(e(7));
    expect(h.canRedo).toBe(false);
  });

  it('converts colours and picks unused ones', () => {
    expect(rgbHex([230, 159, 0])).toBe('#e69f00');
    expect(hexRgb('#E69F00')).toEqual([230, 159, 0]);
    const used: [number, number, number][] = [];
    for (let i = 0; i < 12; i++) used.push(nextColor(used));
    expect(new Set(used.map(rgbHex)).size).toBe(12);
  });
});
