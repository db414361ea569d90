/**
 * Mineral-map figures and figures of merit, framework-free (run in the browser, a worker or Node):
 * area fractions per phase, an RGB PNG of the phases, an 8-bit PNG of a companion image.
 */
import { encode } from 'fast-png';
import { invalidInput } from '../errors';
import type { MineralMap } from './types';

/** Fraction of all map pixels per legend phase id (0 for phases absent from the map). */
export function mineralAreaFractions(map: MineralMap): Map<number, number> {
  const counts = new Map<number, number>();
  const l = map.labels;
  for (let i = 0; i < l.length; i++) counts.set(l[i], (counts.get(l[i]) ?? 0) + 1);
  const n = l.length || 1;
  return new Map(map.legend.map((p) => [p.id, (counts.get(p.id) ?? 0) / n]));
}

/**
 * PNG of the map with the legend colours; unclassified (and unknown ids) black. Maps with a
 * measured-area mask come as RGBA with the pixels no field covers fully transparent ("not
 * measured" shows the page, or the slab under an overlay, instead of posing as unclassified).
 */
export function renderMineralMapPng(map: MineralMap): Uint8Array {
  const lut = new Uint8Array(65536 * 3);
  for (const p of map.legend) lut.set(p.color, p.id * 3);
  const n = map.width * map.height;
  const m = map.measured;
  const ch = m ? 4 : 3;
  const px = new Uint8Array(n * ch);
  for (let i = 0; i < n; i++) {
    const k = map.labels[i] * 3, o = i * ch;
    px[o] = lut[k];
    px[o + 1] = lut[k + 1];
    px[o + 2] = lut[k + 2];
    if (m) px[o + 3] = m[i] ? 255 : 0;
  }
  return encode({ width: map.width, height: map.height, data: px, channels: ch, depth: 8 });
}

/** Value at fractions `qs` (0..1) of the finite values, from at most ~1e6 samples. */
export function percentiles(data: ArrayLike<number>, qs: number[]): number[] {
  const stride = Math.max(1, Math.floor(data.length / 1_000_000));
  const s: number[] = [];
  for (let i = 0; i < data.length; i += stride) if (Number.isFinite(data[i])) s.push(data[i]);
  if (!s.length) return qs.map(() => 0);
  const a = Float64Array.from(s).sort();
  return qs.map((q) => a[Math.min(a.length - 1, Math.max(0, Math.round(q * (a.length - 1))))]);
}

/** 8-bit greyscale PNG of a companion image, stretched from its 0.5 to its 99.5 percentile. */
export function renderCompanionPng(map: MineralMap, name: string): Uint8Array {
  const c = map.companions.find((x) => x.name === name) ?? map.companions.find((x) => x.name.toLowerCase() === name.toLowerCase());
  if (!c) {
    const have = map.companions.map((x) => x.name).join(', ') || 'none';
    throw invalidInput(`Mineral map ${map.source ?? ''} has no companion image "${name}" (it has: ${have}).`);
  }
  const [lo, hi] = percentiles(c.data, [0.005, 0.995]);
  const scale = hi > lo ? 255 / (hi - lo) : 0;
  const n = map.width * map.height;
  const g = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const v = (c.data[i] - lo) * scale;
    g[i] = v > 255 ? 255 : v > 0 ? Math.round(v) : 0;
  }
  return encode({ width: map.width, height: map.height, data: g, channels: 1, depth: 8 });
}
