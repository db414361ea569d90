/**
 * Display formatting shared by the pages. Units are always written out (µm, voxels, px)
 * because the same number means different things in EDS pixels and voxels.
 */
export function formatUm(v: number | null | undefined): string {
  if (v == null || !Number.isFinite(v)) return '–';
  if (v === 0) return '0 µm';
  const a = Math.abs(v);
  if (a >= 1000) return `${(v / 1000).toPrecision(4).replace(/\.?0+$/, '')} mm`;
  return `${+v.toPrecision(4)} µm`;
}

/** (z, y, x) spacing → "x 2 × y 2 × z 2.5 µm", shortened when isotropic. */
export function formatSpacing(s: readonly number[] | null | undefined): string {
  if (!s || s.length < 3) return '–';
  const [z, y, x] = s as [number, number, number];
  if (z === y && y === x) return `${+x.toPrecision(4)} µm (isotropic)`;
  return `${+x.toPrecision(4)} × ${+y.toPrecision(4)} × ${+z.toPrecision(4)} µm (x × y × z)`;
}

/** (z, y, x) shape → "x × y × z voxels", the order people read image sizes in. */
export function formatShape(s: readonly number[] | null | undefined): string {
  if (!s || s.length < 3) return '–';
  const [z, y, x] = s as [number, number, number];
  return `${x} × ${y} × ${z}`;
}

export function formatBytes(n: number | null | undefined): string {
  if (n == null || !Number.isFinite(n)) return '–';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

/** A share as "12.3 %"; a positive share too small for `digits` reads "<0.1 %", not "0.0 %" (a trace is not nothing). */
export function formatPct(fraction: number | null | undefined, digits = 1): string {
  if (fraction == null || !Number.isFinite(fraction)) return '–';
  const step = 10 ** -digits;
  if (fraction > 0 && fraction * 100 < step / 2) return `<${step.toFixed(digits)} %`;
  return `${(fraction * 100).toFixed(digits)} %`;
}

export function formatDate(d: Date | string | number | null | undefined): string {
  if (d == null) return '–';
  const date = d instanceof Date ? d : new Date(d);
  if (Number.isNaN(date.getTime())) return '–';
  // ISO-like and locale-free so screenshots and tests read the same everywhere.
  const p = (x: number) => String(x).padStart(2, '0');
  return `${date.getFullYear()}-${p(date.getMonth() + 1)}-${p(date.getDate())} ${p(date.getHours())}:${p(date.getMinutes())}`;
}

/** Compact number for axis ticks and grey values. */
export function formatValue(v: number): string {
  if (!Number.isFinite(v)) return '–';
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) >= 100 ? v.toFixed(0) : +v.toPrecision(3) + '';
}
