/**
 * Pure helpers of the paint layer: brush discs and strokes on a slice of class codes, class
 * colours to RGBA, boxes (scan proposals) projected onto a slice, and the undo/redo history.
 * Slices are row-major (v, u) as the slice routes render them.
 */
import type { SliceAxis } from '../viewer/slice-geometry';

export type Rgb = [number, number, number];

/** Paint a disc of radius `r` voxels (r = 0: one voxel) centred on (u, v); returns voxels changed. */
export function paintDisc(labels: Uint8Array, w: number, h: number, u: number, v: number, r: number, code: number): number {
  let changed = 0;
  const rr = r * r + r * 0.8; // rounder small discs (r = 1 gives a plus-and-corners 3×3)
  const u0 = Math.max(0, Math.floor(u - r)), u1 = Math.min(w - 1, Math.ceil(u + r));
  const v0 = Math.max(0, Math.floor(v - r)), v1 = Math.min(h - 1, Math.ceil(v + r));
  for (let y = v0; y <= v1; y++) for (let x = u0; x <= u1; x++) {
    if ((x - u) ** 2 + (y - v) ** 2 > rr) continue;
    const i = y * w + x;
    if (labels[i] !== code) (labels[i] = code), changed++;
  }
  return changed;
}

/** Paint discs along the segment (u0, v0) → (u1, v1), spaced so the stroke has no gaps. */
export function paintLine(labels: Uint8Array, w: number, h: number, u0: number, v0: number, u1: number, v1: number, r: number, code: number): number {
  const len = Math.hypot(u1 - u0, v1 - v0);
  const steps = Math.max(1, Math.ceil(len / Math.max(0.5, r * 0.5)));
  let changed = 0;
  for (let s = 0; s <= steps; s++) {
    const t = s / steps;
    changed += paintDisc(labels, w, h, Math.round(u0 + (u1 - u0) * t), Math.round(v0 + (v1 - v0) * t), r, code);
  }
  return changed;
}

/** Class codes → RGBA (transparent where 0 or unknown). */
export function labelsToRgba(labels: Uint8Array, colors: Map<number, Rgb>, alpha = 255): Uint8ClampedArray<ArrayBuffer> {
  const out = new Uint8ClampedArray(labels.length * 4);
  const lut = new Int32Array(256).fill(-1);
  const rgb: Rgb[] = [];
  for (const [code, c] of colors) (lut[code] = rgb.length), rgb.push(c);
  for (let i = 0; i < labels.length; i++) {
    const k = lut[labels[i]!]!;
    if (k < 0 || labels[i] === 0) continue;
    const c = rgb[k]!;
    out[4 * i] = c[0];
    out[4 * i + 1] = c[1];
    out[4 * i + 2] = c[2];
    out[4 * i + 3] = alpha;
  }
  return out;
}

export interface BoxZYX {
  start: [number, number, number];
  shape: [number, number, number];
}

/**
 * The rectangle a (z, y, x) box covers on a slice, in slice voxels [u0, u1) × [v0, v1), or null
 * when the slice does not cut the box. XY: u = x, v = y; XZ: u = x, v = z; YZ: u = y, v = z.
 */
export function boxOnSlice(box: BoxZYX, axis: SliceAxis, index: number): { u0: number; v0: number; u1: number; v1: number } | null {
  const d = axis === 'z' ? 0 : axis === 'y' ? 1 : 2;
  if (index < box.start[d] || index >= box.start[d] + box.shape[d]) return null;
  const hd = axis === 'x' ? 1 : 2, vd = axis === 'z' ? 1 : 0;
  return { u0: box.start[hd], u1: box.start[hd] + box.shape[hd], v0: box.start[vd], v1: box.start[vd] + box.shape[vd] };
}

/** One slice edit: the slice before and after, for undo/redo. */
export interface SliceEdit {
  axis: SliceAxis;
  index: number;
  before: Uint8Array;
  after: Uint8Array;
}

/** Undo/redo stacks of slice edits (bounded). */
export class EditHistory {
  private done: SliceEdit[] = [];
  private undone: SliceEdit[] = [];
  constructor(private readonly max = 50) {}
  push(e: SliceEdit) {
    this.done.push(e);
    if (this.done.length > this.max) this.done.shift();
    this.undone = [];
  }
  /** The edit to revert (write its `before`), or null. */
  undo(): SliceEdit | null {
    const e = this.done.pop() ?? null;
    if (e) this.undone.push(e);
    return e;
  }
  /** The edit to re-apply (write its `after`), or null. */
  redo(): SliceEdit | null {
    const e = this.undone.pop() ?? null;
    if (e) this.done.push(e);
    return e;
  }
  get canUndo() {
    return this.done.length > 0;
  }
  get canRedo() {
    return this.undone.length > 0;
  }
  clear() {
    this.done = [];
    this.undone = [];
  }
}

export const rgbHex = (c: Rgb) => '#' + c.map((v) => v.toString(16).padStart(2, '0')).join('');
export function hexRgb(s: string): Rgb {
  const m = /^#?([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(s.trim());
  return m ? [parseInt(m[1]!, 16), parseInt(m[2]!, 16), parseInt(m[3]!, 16)] : [128, 128, 128];
}

/** A colour for a new class that differs from the used ones (Okabe–Ito, then a hue walk). */
export function nextColor(used: Rgb[]): Rgb {
  const palette: Rgb[] = [[0, 114, 178], [230, 159, 0], [0, 158, 115], [204, 121, 167], [213, 94, 0], [86, 180, 233], [240, 228, 66], [120, 80, 40]];
  const same = (a: Rgb, b: Rgb) => a[0] === b[0] && a[1] === b[1] && a[2] === b[2];
  const free = palette.find((p) => !used.some((u) => same(u, p)));
  if (free) return free;
  for (let k = 0; ; k++) {
    const hue = (k * 137.508) % 360;
    const f = (n: number) => {
      const a = 0.6 * Math.min(0.5, 1 - 0.5);
      const kk = (n + hue / 30) % 12;
      return Math.round(255 * (0.5 - a * Math.max(-1, Math.min(kk - 3, 9 - kk, 1))));
    };
    const c: Rgb = [f(0), f(8), f(4)];
    if (!used.some((u) => same(u, c))) return c;
  }
}
