/**
 * Checks and conversions of values read from a header, shared by every format reader: sizes and
 * byte offsets are validated before anything is allocated from them, units become µm, and header
 * text is shortened before it is quoted in a message.
 */
import { invalidInput } from '../../errors';
import { checkDecodeBudget, DEFAULT_LIMITS, type Limits } from '../../limits';
import { SOURCE_BYTES, storedTypeFor, type SourceDType } from '../byte-readers-node';
import type { Shape3 } from '../types';

const UNITS_UM: Record<string, number> = { m: 1e6, cm: 1e4, mm: 1e3, um: 1, 'µm': 1, 'μm': 1, micron: 1, microns: 1, micrometer: 1, micrometers: 1, micrometre: 1, micrometres: 1, nm: 1e-3,
  meter: 1e6, metre: 1e6, centimeter: 1e4, centimetre: 1e4, millimeter: 1e3, millimetre: 1e3, millimeters: 1e3, millimetres: 1e3, nanometer: 1e-3, nanometre: 1e-3, angstrom: 1e-4 };

export function unitToUm(unit: string | undefined): number | undefined {
  if (!unit) return undefined;
  return UNITS_UM[unit.trim().replace(/^"|"$/g, '').toLowerCase()];
}

/** Unit-less spacings: XRM voxels are 0.05-100 µm, so values below 0.1 are taken as mm. */
export function unitlessToUm(values: number[], what: string, notes: string[]): number {
  if (values.every((v) => v < 0.1)) {
    notes.push(`${what} gives no length unit; its values (${listed(values)}) look like millimetres and were converted to µm`);
    return 1000;
  }
  notes.push(`${what} gives no length unit; its values (${listed(values)}) were taken as µm`);
  return 1;
}

function listed(values: number[]): string {
  return values.slice(0, 3).map((v) => shown(String(v), 16)).join(', ') + (values.length > 3 ? ', …' : '');
}

export function xyzToZyx<T>(v: T[]): [T, T, T] {
  return [v[2]!, v[1]!, v[0]!];
}

/** Header text quoted in a message: one line, at most `max` characters. */
export function shown(s: string | undefined, max = 40): string {
  const t = String(s ?? '').replace(/[\x00-\x1f\x7f]+/g, ' ');
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

/** Largest size of one axis a header may declare (no XRM scan comes near it). */
const MAX_AXIS = 1 << 24;

/**
 * Checks a header-declared size (z, y, x) before anything is allocated from it: whole numbers ≥ 1,
 * no axis beyond MAX_AXIS, a byte count that is exact in a double, and one slice (what a reader
 * holds at a time, as the source type and as the stored type) within the decode budget.
 */
export function checkShape(shape: number[], name: string, src?: SourceDType, limits: Limits = DEFAULT_LIMITS): Shape3 {
  if (shape.length !== 3 || !shape.every((n) => Number.isInteger(n) && n >= 1)) {
    throw invalidInput(`${name}: the volume size (z, y, x) = (${shape.map((n) => shown(String(n), 20)).join(', ')}) is not three whole numbers ≥ 1.`);
  }
  const impossible = () => invalidInput(`${name}: the header declares an impossible volume size (${shape.join(' x ')} voxels, z x y x x); the file is damaged.`);
  if (shape.some((n) => n > MAX_AXIS)) throw impossible();
  if (src) {
    const perVoxel = SOURCE_BYTES[src] + (storedTypeFor(src) === src ? 0 : 4);
    checkDecodeBudget(`${name}: one slice of ${shape[2]} x ${shape[1]} voxels`, shape[1]! * shape[2]! * perVoxel, limits);
  }
  if (!Number.isSafeInteger(shape[0]! * shape[1]! * shape[2]! * 8)) throw impossible();
  return shape as Shape3;
}

/** A byte offset read from a header: a whole number ≥ 0 (or -1 where the format allows "data at the end"). */
export function checkOffset(v: number, field: string, name: string, allowMinusOne: boolean): number {
  if (!Number.isFinite(v) || !Number.isInteger(v) || v < (allowMinusOne ? -1 : 0) || v > Number.MAX_SAFE_INTEGER) {
    throw invalidInput(`${name}: its ${field} must be a whole number ≥ 0${allowMinusOne ? ' (or -1)' : ''}; the header is damaged.`);
  }
  return v;
}

export function voxels(shape: Shape3): number {
  return shape[0] * shape[1] * shape[2];
}
