/**
 * CSV tables (RFC 4180: comma, CRLF, quotes where needed) and an atomic writer.
 * Text cells that a spreadsheet would read as a formula (starting with = + - @, or a tab / CR)
 * get a leading apostrophe: mineral names come from untrusted legends (issue 12, CSV injection).
 */
import type { DepthProfile } from './depth';
import type { ModalMineralogy } from './modal';

/** A text cell a spreadsheet would not run: formula-like starts are prefixed with an apostrophe. */
export function neutraliseFormula(s: string): string {
  return /^(?:[\t\r]|\s*[=+\-@])/.test(s) ? `'${s}` : s;
}

export const csvCell = (v: unknown): string => {
  if (v === undefined || v === null) return '';
  const s =
    typeof v === 'number' ? (Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6))))
    : typeof v === 'bigint' || typeof v === 'boolean' ? String(v)
    : neutraliseFormula(String(v));
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};
const cell = csvCell;

export function toCsv(header: string[], rows: unknown[][]): string {
  return [header, ...rows].map((r) => r.map(cell).join(',')).join('\r\n') + '\r\n';
}

export function modalCsv(m: ModalMineralogy): string {
  const eds = m.totalEdsPixels !== undefined;
  const header = ['class', 'name', 'voxels', 'volume_percent', ...(eds ? ['eds_pixels', 'eds_area_percent'] : [])];
  return toCsv(header, m.rows.map((r) => [r.class, r.name, r.voxels, r.volumePercent, ...(eds ? [r.edsPixels, r.edsAreaPercent] : [])]));
}

export function depthCsv(p: DepthProfile): string {
  const header = ['depth_from_um', 'depth_to_um', 'voxels', ...p.classes.map((c) => `${c.name}_fraction`)];
  return toCsv(header, p.fractions.map((f, k) => [k * p.binUm, p.depthUm[k], p.totals[k], ...f]));
}
