/**
 * CSV tables (RFC 4180: comma, CRLF, quotes where needed); files and downloads start with a UTF-8
 * byte-order mark (`csvFileText`).
 * Text cells that a spreadsheet would read as a formula (starting with = + - @, or a tab / CR)
 * get a leading apostrophe: mineral names come from untrusted legends (issue 12, CSV injection).
 */
import type { Validation } from '../classify/model';
import type { DepthProfile } from './depth';
import type { ModalMineralogy, ReportClass } from './modal';
import type { GreyHistograms } from './results-stats';

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

/**
 * A CSV table as a file or download: the UTF-8 byte-order mark first, so that spreadsheets
 * (Excel on Windows above all) read it as UTF-8 and keep "µm" and accented mineral names
 * ("Albite–anorthite", "Hématite") intact instead of showing "Âµm". Python's 'utf-8-sig', pandas
 * and LibreOffice drop the mark. `toCsv` and the table functions return the text without it.
 */
export const UTF8_BOM = '\uFEFF';
export function csvFileText(csv: string): string {
  return csv.startsWith(UTF8_BOM) ? csv : UTF8_BOM + csv;
}

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

/** Grey-value histograms per class: one row per bin (grey_from, grey_to, voxels of each class). */
export function histogramsCsv(h: GreyHistograms, classes: ReportClass[]): string {
  const w = (h.hi - h.lo) / h.bins;
  const header = ['grey_from', 'grey_to', ...classes.map((c) => `${c.name}_voxels`)];
  return toCsv(header, Array.from({ length: h.bins }, (_, b) => [h.lo + b * w, h.lo + (b + 1) * w, ...classes.map((c) => h.counts[c.code]?.[b] ?? 0)]));
}

/** Held-out validation metrics per class; `classes` names the codes (others are "class N"). */
export function metricsCsv(v: Pick<Validation, 'perClass'>, classes: ReportClass[]): string {
  const name = (code: number) => classes.find((c) => c.code === code)?.name ?? `class ${code}`;
  return toCsv(['class', 'name', 'precision', 'recall', 'f1', 'iou', 'support'], v.perClass.map((m) => [m.class, name(m.class), m.precision, m.recall, m.f1, m.iou, m.support]));
}
