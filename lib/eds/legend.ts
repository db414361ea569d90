/**
 * Mineral legends of EDS maps: which colour (and, for label images, which integer) is which mineral.
 *
 * Accepted text formats (framework-free; the caller reads the file):
 * - CSV (comma, semicolon or tab separated, optional header, optional quotes):
 *   `name,r,g,b` · `id,name,r,g,b` · `name,#rrggbb` · `id,name,#rrggbb`. With a header, columns are
 *   found by name (id, name/phase/mineral, r/red, g/green, b/blue, color/colour/hex/rgb) and other
 *   columns are ignored. For a label image `code,name` (or `id,name`) without colours is enough:
 *   each mineral then gets a colour of its own for the previews (`coloursGiven` false), and a colour
 *   map with such a legend is refused by the import (its pixels cannot be told apart without them).
 * - JSON: `[{ name, color: [r, g, b] | "#rrggbb", id? }]` or `{ phases: [...] }` (`colour` also read).
 *
 * Entries named like "Unclassified", "Unknown", "Not analysed" (any case, brackets allowed) are not
 * phases: their colour / id mean label 0 (unclassified). "Background" is a phase: EDS programs
 * (Mineralogic, QEMSCAN, …) name so the pixels whose BSE signal is below the mineral threshold, i.e.
 * the resin in the pores and around the grains, which the XRM shows as dark as pore space. Read as
 * unclassified (until stop 33) it took the pores out of training and the darkest contrast out of
 * the registration: a test map with 19 % "Background" registered 130° off (doubtful) and the same map
 * with that colour named "Resin" at 0.35 voxel. Its default class is pore (lib/classes.ts).
 */
import { invalidInput } from '../errors';
import { DEFAULT_LIMITS, formatBytes, LIMIT_ENV, type Limits } from '../limits';
import type { MineralPhase } from './types';

/** Text from an input file as it may appear in a message: one line, at most `max` characters. */
export function clip(s: string, max = 40): string {
  const one = s.replace(/[\r\n\t]+/g, ' ');
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}

export type Rgb = [number, number, number];

export interface UnclassifiedEntry {
  name: string;
  color?: Rgb;
  id?: number;
}

export interface ParsedLegend {
  /** the phases, ids 1.. in file order unless the file gives ids */
  phases: MineralPhase[];
  /** legend entries that stand for "no mineral": their colour / id become label 0 */
  unclassified: UnclassifiedEntry[];
  /** true if the file gave the ids (needed to read an indexed label image) */
  explicitIds: boolean;
  /** false for a `code,name` legend: the colours were assigned here (fine for a label image, not for a colour map) */
  coloursGiven: boolean;
  /** file name, for messages */
  source: string;
}

const UNCLASSIFIED_NAMES = new Set([
  'unclassified', 'unknown', 'not analysed', 'not analyzed', 'none', 'unassigned', 'no data', 'nodata',
]);

/** True for names that mean "no mineral" (e.g. "Unclassified", "[Unknown]", "Not analysed"; not "Background": the resin, a phase). */
export function isUnclassifiedName(name: string): boolean {
  const n = name.trim().toLowerCase().replace(/^[[(<]\s*|\s*[\])>]$/g, '').replace(/[_-]+/g, ' ').replace(/\s+/g, ' ');
  return UNCLASSIFIED_NAMES.has(n);
}

export function rgbToHex(c: readonly number[]): string {
  return '#' + c.slice(0, 3).map((v) => v.toString(16).padStart(2, '0')).join('');
}

/** `#rrggbb` / `rrggbb` / `#rgb` → [r, g, b], or undefined if not a hex colour. */
export function parseHexColor(s: string): Rgb | undefined {
  const t = s.trim().replace(/^#/, '');
  if (/^[0-9a-f]{6}$/i.test(t)) return [0, 2, 4].map((i) => parseInt(t.slice(i, i + 2), 16)) as Rgb;
  if (/^[0-9a-f]{3}$/i.test(t)) return [0, 1, 2].map((i) => parseInt(t[i] + t[i], 16)) as Rgb;
  return undefined;
}

/** A colour cell: `#rrggbb`, `#rgb`, `rgb(r, g, b)` or `r g b` / `r,g,b` / `r;g;b` (0–255 each). */
export function parseColourCell(s: string): Rgb | undefined {
  const t = s.trim();
  if (t.startsWith('#')) return parseHexColor(t);
  const m = /^(?:rgb\s*\(\s*)?(\d{1,3})\s*[,; ]\s*(\d{1,3})\s*[,; ]\s*(\d{1,3})\s*\)?$/i.exec(t);
  if (m) {
    const c = [Number(m[1]), Number(m[2]), Number(m[3])] as Rgb;
    return c.every((v) => v <= 255) ? c : undefined;
  }
  return parseHexColor(t);
}

interface RawEntry {
  id?: number;
  name: string;
  /** undefined in a `code,name` legend (colours are assigned in buildLegend) */
  color?: Rgb;
  /** where it came from, for messages: "line 3" or "entry 2" */
  where: string;
}

/** Refuses a legend file larger than `limits.maxLegendBytes` (call with the file size before reading it). */
export function checkLegendBytes(bytes: number, source: string, limits: Limits = DEFAULT_LIMITS): void {
  if (bytes > limits.maxLegendBytes) {
    throw invalidInput(
      `Legend ${source} is ${formatBytes(bytes)}, more than the ${formatBytes(limits.maxLegendBytes)} a legend may have (${LIMIT_ENV.maxLegendBytes.name}); a legend lists one mineral per line.`,
    );
  }
}

function tooManyRows(rows: number, source: string, limits: Limits): never {
  throw invalidInput(
    `Legend ${source} has ${rows >= 1e6 ? `${Math.floor(rows / 1e3)}k` : rows} or more entries, more than the ${limits.maxLegendRows} minerals a legend may list (${LIMIT_ENV.maxLegendRows.name}).`,
  );
}

/**
 * A legend file's bytes as text, in the encodings spreadsheet programs save CSV in: UTF-8 (with or
 * without a byte-order mark), UTF-16 (Excel's "Unicode text", with its mark, or without one when
 * every other byte is zero) and, for bytes that are not UTF-8, Windows-1252 (Excel's "CSV" on a
 * Western-European Windows: "Quarz µ", "Feldspat (Na‑Ca)").
 */
export function decodeLegendBytes(bytes: Uint8Array): string {
  const b0 = bytes[0];
  const b1 = bytes[1];
  if (b0 === 0xff && b1 === 0xfe) return new TextDecoder('utf-16le').decode(bytes.subarray(2));
  if (b0 === 0xfe && b1 === 0xff) return new TextDecoder('utf-16be').decode(bytes.subarray(2));
  if (bytes.length >= 4 && bytes.length % 2 === 0) {
    let oddZero = 0;
    let evenZero = 0;
    const n = Math.min(bytes.length, 512);
    for (let i = 0; i < n; i += 2) (bytes[i] === 0 ? evenZero++ : 0), (bytes[i + 1] === 0 ? oddZero++ : 0);
    // ASCII text in UTF-16: (nearly) every high byte is zero, (nearly) no low byte is
    const half = Math.ceil(n / 2);
    if (oddZero >= 0.9 * half && evenZero <= 0.02 * half) return new TextDecoder('utf-16le').decode(bytes);
    if (evenZero >= 0.9 * half && oddZero <= 0.02 * half) return new TextDecoder('utf-16be').decode(bytes);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return new TextDecoder('windows-1252').decode(bytes);
  }
}

/**
 * Parses a legend; `source` is the file name used in messages. Format is guessed from the text.
 * Bytes, rows and name lengths are checked against `limits` before lines become objects.
 */
export function parseLegend(text: string, source: string, limits: Limits = DEFAULT_LIMITS): ParsedLegend {
  // UTF-8 bytes >= UTF-16 units, so a text longer than the limit is refused without encoding it
  checkLegendBytes(text.length > limits.maxLegendBytes || text.length <= limits.maxLegendBytes / 3 ? text.length : new TextEncoder().encode(text).length, source, limits);
  const t = text.replace(/^\uFEFF/, '').trim();
  if (!t) throw invalidInput(`Legend ${source} is empty: it should list the minerals as name,r,g,b (one per line).`);
  const raw = t.startsWith('[') || t.startsWith('{') ? parseJsonEntries(t, source, limits) : parseCsvEntries(t, source, limits);
  return buildLegend(raw, source, limits);
}

function buildLegend(raw: RawEntry[], source: string, limits: Limits = DEFAULT_LIMITS): ParsedLegend {
  if (raw.length === 0) throw invalidInput(`Legend ${source} lists no minerals.`);
  if (raw.length > limits.maxLegendRows) tooManyRows(raw.length, source, limits);
  for (const e of raw) {
    if (e.name.trim().length > limits.maxNameChars) {
      throw invalidInput(
        `Legend ${source}, ${e.where}: the mineral name "${clip(e.name.trim())}" is ${e.name.trim().length} characters long, more than the ${limits.maxNameChars} allowed (${LIMIT_ENV.maxNameChars.name}).`,
      );
    }
  }
  const withId = raw.filter((e) => e.id !== undefined).length;
  if (withId !== 0 && withId !== raw.length) {
    const missing = raw.find((e) => e.id === undefined)!;
    throw invalidInput(`Legend ${source}: some entries give a phase id and others do not (${missing.where}, "${clip(missing.name)}" has none). Give an id for every mineral or for none.`);
  }
  const explicitIds = withId > 0;
  const coloursGiven = raw.every((e) => e.color !== undefined);
  if (!coloursGiven) {
    if (!explicitIds) throw invalidInput(`Legend ${source} gives no colours and no codes: give name,r,g,b for a colour map, or code,name for a label image.`);
    raw.forEach((e, i) => (e.color = assignedColour(i)));
  }
  const unclassified: UnclassifiedEntry[] = [];
  const phases: MineralPhase[] = [];
  const byName = new Map<string, RawEntry>();
  const byColor = new Map<number, RawEntry>();
  const byId = new Map<number, RawEntry>();
  let nextId = 1;
  for (const e of raw) {
    const nameKey = e.name.trim().toLowerCase();
    if (!nameKey) throw invalidInput(`Legend ${source}, ${e.where}: the mineral name is empty.`);
    const prevName = byName.get(nameKey);
    if (prevName) throw invalidInput(`Legend ${source}: the mineral "${clip(e.name)}" is listed twice (${prevName.where} and ${e.where}). Each mineral must appear once.`);
    byName.set(nameKey, e);
    const color = e.color!;
    const ck = (color[0] << 16) | (color[1] << 8) | color[2];
    const prevColor = byColor.get(ck);
    if (prevColor && !(isUnclassifiedName(prevColor.name) && isUnclassifiedName(e.name))) {
      throw invalidInput(`Legend ${source}: "${clip(prevColor.name)}" (${prevColor.where}) and "${clip(e.name)}" (${e.where}) have the same colour ${rgbToHex(color)}, so the map cannot tell them apart. Give each mineral its own colour.`);
    }
    byColor.set(ck, e);
    if (e.id !== undefined) {
      const prevId = byId.get(e.id);
      if (prevId) throw invalidInput(`Legend ${source}: "${clip(prevId.name)}" (${prevId.where}) and "${clip(e.name)}" (${e.where}) have the same phase id ${e.id}.`);
      byId.set(e.id, e);
    }
    if (isUnclassifiedName(e.name)) {
      unclassified.push({ name: e.name.trim(), color: coloursGiven ? color : undefined, id: e.id });
      continue;
    }
    if (e.id === 0) throw invalidInput(`Legend ${source}, ${e.where}: "${clip(e.name)}" has id 0, which is reserved for unclassified pixels.`);
    phases.push({ id: explicitIds ? e.id! : nextId++, name: e.name.trim(), color });
  }
  if (phases.length === 0) throw invalidInput(`Legend ${source} lists only unclassified/background entries and no mineral.`);
  return { phases, unclassified, explicitIds, coloursGiven, source };
}

const ASSIGNED = ['#e6194b', '#3cb44b', '#ffe119', '#4363d8', '#f58231', '#911eb4', '#46f0f0', '#f032e6', '#bcf60c', '#fabebe', '#008080', '#e6beff', '#9a6324', '#fffac8', '#800000', '#aaffc3', '#808000', '#ffd8b1', '#000075', '#808080'];

/** The i-th colour given to a mineral of a `code,name` legend: 20 distinct ones, then golden-angle hues (never repeating). */
function assignedColour(i: number): Rgb {
  if (i < ASSIGNED.length) return parseHexColor(ASSIGNED[i])!;
  const k = i - ASSIGNED.length;
  const h = (k * 137.508) % 360, l = 0.35 + 0.3 * ((k * 7) % 11) / 10, sat = 0.55 + 0.4 * ((k * 3) % 7) / 6;
  const f = (n: number) => {
    const m = (n + h / 30) % 12;
    return Math.round(255 * (l - sat * Math.min(l, 1 - l) * Math.max(-1, Math.min(m - 3, 9 - m, 1))));
  };
  return [f(0), f(8), f(4)];
}

function checkByte(v: number, what: string, where: string, source: string): number {
  if (!Number.isInteger(v) || v < 0 || v > 255) throw invalidInput(`Legend ${source}, ${where}: ${what} must be a whole number 0–255.`);
  return v;
}

function parseId(s: string | number, where: string, source: string): number {
  const v = typeof s === 'number' ? s : s.trim() === '' ? NaN : Number(s);
  if (!Number.isInteger(v) || v < 0 || v > 65535) throw invalidInput(`Legend ${source}, ${where}: phase id "${clip(String(s), 20)}" must be a whole number 0–65535.`);
  return v;
}

function parseJsonEntries(t: string, source: string, limits: Limits): RawEntry[] {
  let json: unknown;
  try {
    json = JSON.parse(t);
  } catch (err) {
    throw invalidInput(`Legend ${source} is not valid JSON (${clip((err as Error).message, 80)}).`, { cause: err });
  }
  const list = Array.isArray(json) ? json : (json as { phases?: unknown })?.phases;
  if (!Array.isArray(list)) throw invalidInput(`Legend ${source}: expected a JSON array of {name, color} or an object {phases: [...]}.`);
  if (list.length > limits.maxLegendRows) tooManyRows(list.length, source, limits);
  return list.map((item, i) => {
    const where = `entry ${i + 1}`;
    if (typeof item !== 'object' || item === null) throw invalidInput(`Legend ${source}, ${where}: expected an object {name, color}.`);
    const o = item as Record<string, unknown>;
    const name = o.name ?? o.mineral ?? o.phase;
    if (typeof name !== 'string') throw invalidInput(`Legend ${source}, ${where}: the mineral name is missing.`);
    if (name.trim().length > limits.maxNameChars) throw invalidInput(`Legend ${source}, ${where}: the mineral name "${clip(name.trim())}" is ${name.trim().length} characters long, more than the ${limits.maxNameChars} allowed (${LIMIT_ENV.maxNameChars.name}).`);
    const c = o.color ?? o.colour ?? o.rgb;
    let color: Rgb | undefined;
    if (typeof c === 'string') color = parseColourCell(c);
    else if (Array.isArray(c) && c.length >= 3) color = [0, 1, 2].map((k) => checkByte(Number(c[k]), 'each colour component', `${where} ("${clip(name)}")`, source)) as Rgb;
    if (!color) throw invalidInput(`Legend ${source}, ${where} ("${clip(name)}"): colour must be [r, g, b] or "#rrggbb", got ${clip(JSON.stringify(c) ?? String(c))}.`);
    const id = o.id === undefined || o.id === null ? undefined : parseId(o.id as number, `${where} ("${clip(name)}")`, source);
    return { id, name, color, where };
  });
}

function splitCsvLine(line: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '', inQ = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (inQ) {
      if (ch === '"' && line[i + 1] === '"') (cur += '"'), i++;
      else if (ch === '"') inQ = false;
      else cur += ch;
    } else if (ch === '"' && cur.trim() === '') (inQ = true), (cur = '');
    else if (ch === sep) out.push(cur.trim()), (cur = '');
    else cur += ch;
  }
  out.push(cur.trim());
  return out;
}

interface Columns {
  id?: number;
  name: number;
  r?: number;
  g?: number;
  b?: number;
  hex?: number;
}

function headerColumns(cells: string[]): Columns | undefined {
  const lc = cells.map((c) => c.toLowerCase().replace(/[^a-z]/g, ''));
  const find = (...names: string[]) => {
    const i = lc.findIndex((c) => names.includes(c));
    return i < 0 ? undefined : i;
  };
  const name = find('name', 'phase', 'mineral', 'phasename', 'mineralname', 'label');
  if (name === undefined) return undefined;
  const cols: Columns = { name, id: find('id', 'phaseid', 'value', 'index', 'labelid', 'code') };
  const r = find('r', 'red'), g = find('g', 'green'), b = find('b', 'blue');
  if (r !== undefined && g !== undefined && b !== undefined) Object.assign(cols, { r, g, b });
  else cols.hex = find('color', 'colour', 'hex', 'rgb', 'hexcolor', 'hexcolour');
  // code,name (a label image's legend): no colour column
  if (cols.r === undefined && cols.hex === undefined && (cols.id === undefined || cols.id === name)) return undefined;
  return cols;
}

const isNum = (s: string) => /^\s*\d+\s*$/.test(s);

function guessColumns(cells: string[]): Columns | undefined {
  const n = cells.length;
  if (n === 4 && !isNum(cells[0]) && cells.slice(1).every(isNum)) return { name: 0, r: 1, g: 2, b: 3 };
  if (n === 5 && isNum(cells[0]) && cells.slice(2).every(isNum)) return { id: 0, name: 1, r: 2, g: 3, b: 4 };
  const colourCell = (c: string) => !isNum(c) && parseColourCell(c) !== undefined && !/^[a-z]+$/i.test(c.trim());
  if (n === 2 && !isNum(cells[0]) && colourCell(cells[1])) return { name: 0, hex: 1 };
  if (n === 3 && isNum(cells[0]) && colourCell(cells[2])) return { id: 0, name: 1, hex: 2 };
  if (n === 2 && isNum(cells[0]) && !isNum(cells[1])) return { id: 0, name: 1 };
  return undefined;
}

/** Line breaks in the text (rows), counted without splitting; stops counting past `stop`. */
function countLines(t: string, stop: number): number {
  let n = 1;
  for (let i = t.indexOf('\n'); i >= 0 && n <= stop; i = t.indexOf('\n', i + 1)) n++;
  if (n === 1) for (let i = t.indexOf('\r'); i >= 0 && n <= stop; i = t.indexOf('\r', i + 1)) n++;
  return n;
}

function parseCsvEntries(t: string, source: string, limits: Limits): RawEntry[] {
  // header + rows; blank lines count too, so allow a few
  const stop = 2 * limits.maxLegendRows + 1;
  const lineCount = countLines(t, stop);
  if (lineCount > stop) tooManyRows(lineCount, source, limits);
  const lines = t.split(/\r?\n|\r/);
  const first = lines[0];
  const sep = first.includes('\t') ? '\t' : first.includes(';') && !first.includes(',') ? ';' : ',';
  const firstCells = splitCsvLine(first, sep);
  let cols = guessColumns(firstCells);
  let start = 0;
  if (!cols) {
    cols = headerColumns(firstCells);
    if (!cols) {
      throw invalidInput(`Legend ${source}, line 1: cannot tell the columns from "${clip(first, 60)}". Expected name,r,g,b or id,name,r,g,b or name,#rrggbb (with or without a header line), or code,name for a label image.`);
    }
    start = 1;
  }
  const out: RawEntry[] = [];
  for (let li = start; li < lines.length; li++) {
    const line = lines[li];
    if (!line.trim()) continue;
    const where = `line ${li + 1}`;
    const cells = splitCsvLine(line, sep);
    const need = Math.max(cols.name, cols.id ?? 0, cols.r ?? 0, cols.g ?? 0, cols.b ?? 0, cols.hex ?? 0) + 1;
    if (cells.length < need) throw invalidInput(`Legend ${source}, ${where}: expected ${need} columns but found ${cells.length} in "${clip(line, 60)}".`);
    const name = cells[cols.name];
    if (name.length > limits.maxNameChars) throw invalidInput(`Legend ${source}, ${where}: the mineral name "${clip(name)}" is ${name.length} characters long, more than the ${limits.maxNameChars} allowed (${LIMIT_ENV.maxNameChars.name}).`);
    let color: Rgb | undefined;
    if (cols.hex === undefined && cols.r === undefined) color = undefined;
    else if (cols.hex !== undefined) {
      color = parseColourCell(cells[cols.hex]);
      if (!color) throw invalidInput(`Legend ${source}, ${where} ("${clip(name)}"): colour "${clip(cells[cols.hex], 30)}" is not a #rrggbb or r,g,b colour.`);
    } else {
      color = [cols.r!, cols.g!, cols.b!].map((k, j) => {
        const s = cells[k];
        const v = isNum(s) ? Number(s) : NaN;
        return checkByte(v, `${'rgb'[j]} ("${clip(s, 20)}")`, `${where} ("${clip(name)}")`, source);
      }) as Rgb;
    }
    const id = cols.id === undefined ? undefined : parseId(cells[cols.id], `${where} ("${clip(name)}")`, source);
    out.push({ id, name, color, where });
  }
  return out;
}
