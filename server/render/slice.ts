/**
 * One orthogonal slice of a volume store: read as a (1, h, w)-like box at a pyramid level,
 * returned raw (store dtype, little-endian) or as an 8-bit greyscale PNG with a window.
 * Rows/columns: XY → y/x, XZ → z/x, YZ → z/y.
 */
import { encode } from 'fast-png';
import type { VolumeStore } from '@/lib/volume/store';
import type { AnyVoxelArray, Box3 } from '@/lib/volume/types';
import { invalidInput } from '@/lib/errors';

export type Axis = 'z' | 'y' | 'x';

export interface SliceRequest {
  axis: Axis;
  index: number;
  level: number;
  channel: number;
}

export async function readSlice(store: VolumeStore, r: SliceRequest): Promise<{ data: AnyVoxelArray; width: number; height: number }> {
  if (r.level < 0 || r.level >= store.levels) throw invalidInput(`Pyramid level ${r.level} does not exist (this volume has ${store.levels}).`);
  if (r.channel < 0 || r.channel >= store.meta.channels.length) throw invalidInput(`Channel ${r.channel} does not exist (this volume has ${store.meta.channels.length}).`);
  const [nz, ny, nx] = store.levelShape(r.level);
  const n = r.axis === 'z' ? nz : r.axis === 'y' ? ny : nx;
  if (!Number.isInteger(r.index) || r.index < 0 || r.index >= n) throw invalidInput(`Slice ${r.index} is outside the volume (0–${n - 1} along ${r.axis} at level ${r.level}).`);
  let box: Box3, width: number, height: number;
  if (r.axis === 'z') (box = { start: [r.index, 0, 0], shape: [1, ny, nx] }), (width = nx), (height = ny);
  else if (r.axis === 'y') (box = { start: [0, r.index, 0], shape: [nz, 1, nx] }), (width = nx), (height = nz);
  else (box = { start: [0, 0, r.index], shape: [nz, ny, 1] }), (width = ny), (height = nz);
  const data = await store.readBlock(box, { level: r.level, channel: r.channel });
  return { data, width, height };
}

/** 0.5 and 99.5 percentiles of a sample of the slice (robust default window). */
export function autoWindow(data: AnyVoxelArray): [number, number] {
  const step = Math.max(1, Math.floor(data.length / 20000));
  const s: number[] = [];
  for (let i = 0; i < data.length; i += step) s.push(data[i]);
  s.sort((a, b) => a - b);
  const lo = s[Math.floor(0.005 * (s.length - 1))] ?? 0;
  const hi = s[Math.ceil(0.995 * (s.length - 1))] ?? 1;
  return hi > lo ? [lo, hi] : [lo, lo + 1];
}

export function greyPng(data: AnyVoxelArray, width: number, height: number, win: [number, number]): Uint8Array {
  const out = new Uint8Array(width * height);
  const [lo, hi] = win;
  const k = 255 / (hi - lo || 1);
  for (let i = 0; i < out.length; i++) {
    const v = (data[i] - lo) * k;
    out[i] = v <= 0 ? 0 : v >= 255 ? 255 : v;
  }
  return encode({ width, height, data: out, channels: 1, depth: 8 });
}

/** A label slice coloured by class, transparent where 0. */
export function labelPng(data: AnyVoxelArray, width: number, height: number, colors: Map<number, [number, number, number]>): Uint8Array {
  const out = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    const c = colors.get(data[i]);
    if (!c) continue;
    out[i * 4] = c[0];
    out[i * 4 + 1] = c[1];
    out[i * 4 + 2] = c[2];
    out[i * 4 + 3] = 255;
  }
  return encode({ width, height, data: out, channels: 4, depth: 8 });
}
