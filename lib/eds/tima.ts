/**
 * TESCAN TIMA export folders: the three XML files and the stitching of the per-field images into one
 * mineral map and one BSE mosaic. Framework-free: the XML text and decoded field images come in.
 *
 * Layout of an export (TIMA 1.6): `measurement.xml` (ViewField = field width in µm, ImageWidth/Height
 * in pixels, SemImages), `fields.xml` (FieldDir and one `<Field name x y>` per field, the stage
 * position of the field centre in µm), `phases.xml` (`<PrimaryPhase id name color>`),
 * `<FieldDir>/<name>/phases.tif` (phase id per pixel, 0 = unclassified) and `<name>/bse.png`.
 *
 * Axis directions: image column u grows as stage x DEcreases, image row v grows as stage y INcreases.
 * Verified on the real export in ../shared/data/tima-sta by the agreement of classified pixels across
 * the seams between neighbouring fields: 91 % with this choice, against 92.5 % between neighbouring
 * columns inside a field, and 60–77 % for the three other sign choices (tests/lib/eds/tima.test.ts).
 * The same holds for the field names (row letters A.. with y, column numbers with -x).
 *
 * Overlaps: where fields overlap, a pixel takes the value of the field whose centre is nearest
 * (ties: the later field). This keeps each field's best-focused, least-distorted middle.
 */
import { invalidInput } from '../errors';
import { parseHexColor } from './legend';
import type { MineralPhase } from './types';

export interface TimaMeasurement {
  /** field width in µm */
  viewFieldUm: number;
  imageWidth: number;
  imageHeight: number;
  /** SEM images of each field: file name and caption (e.g. bse.png, BSE) */
  semImages: { fileName: string; caption: string }[];
}

export interface TimaField {
  name: string;
  /** stage position of the field centre, µm */
  x: number;
  y: number;
}

export interface TimaPhase {
  id: number;
  name: string;
  color: [number, number, number];
  /** mass % in the whole measurement as TIMA reports it */
  mass?: number;
}

function decodeEntities(s: string): string {
  return s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&#(\d+);/g, (_, d: string) => String.fromCodePoint(Number(d)))
    .replace(/&#x([0-9a-f]+);/gi, (_, h: string) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&amp;/g, '&');
}

/** Text of the first element `<tag>` (any namespace prefix), or undefined. */
function elementText(xml: string, tag: string): string | undefined {
  const m = new RegExp(`<(?:[\\w.-]+:)?${tag}(?:\\s[^>]*)?>([\\s\\S]*?)</(?:[\\w.-]+:)?${tag}>`).exec(xml);
  return m ? decodeEntities(m[1].trim()) : undefined;
}

function elementsText(xml: string, tag: string): string[] {
  const re = new RegExp(`<(?:[\\w.-]+:)?${tag}(?:\\s[^>]*)?>([\\s\\S]*?)</(?:[\\w.-]+:)?${tag}>`, 'g');
  return [...xml.matchAll(re)].map((m) => m[1]);
}

/** Attribute maps of every (self-closing or not) element `<tag ...>`. */
function elementsAttrs(xml: string, tag: string): Record<string, string>[] {
  const re = new RegExp(`<(?:[\\w.-]+:)?${tag}\\s([^>]*?)/?>`, 'g');
  return [...xml.matchAll(re)].map((m) => {
    const attrs: Record<string, string> = {};
    for (const a of m[1].matchAll(/([\w:.-]+)\s*=\s*("([^"]*)"|'([^']*)')/g)) attrs[a[1]] = decodeEntities(a[3] ?? a[4] ?? '');
    return attrs;
  });
}

function num(s: string | undefined, what: string, file: string): number {
  const v = s === undefined ? NaN : Number(s.trim());
  if (!Number.isFinite(v)) throw invalidInput(`TIMA ${file}: ${what} is ${s === undefined ? 'missing' : `"${s}", not a number`}.`);
  return v;
}

export function parseTimaMeasurement(xml: string, file = 'measurement.xml'): TimaMeasurement {
  if (!/<\??xml|<ExportedMeasurement/i.test(xml)) throw invalidInput(`TIMA ${file} is not an XML file.`);
  const viewFieldUm = num(elementText(xml, 'ViewField'), 'the field width <ViewField> (µm)', file);
  const imageWidth = num(elementText(xml, 'ImageWidth'), 'the field image width <ImageWidth>', file);
  const imageHeight = num(elementText(xml, 'ImageHeight'), 'the field image height <ImageHeight>', file);
  if (!(viewFieldUm > 0) || !(imageWidth >= 1) || !(imageHeight >= 1) || !Number.isInteger(imageWidth) || !Number.isInteger(imageHeight)) {
    throw invalidInput(`TIMA ${file}: field width ${viewFieldUm} µm and image size ${imageWidth} x ${imageHeight} px must be positive.`);
  }
  const semImages = elementsText(xml, 'SemImage').map((s) => ({ fileName: elementText(s, 'FileName') ?? '', caption: elementText(s, 'Caption') ?? '' })).filter((s) => s.fileName);
  return { viewFieldUm, imageWidth, imageHeight, semImages };
}

export function parseTimaFields(xml: string, file = 'fields.xml'): { fieldDir: string; fields: TimaField[] } {
  const fieldDir = elementText(xml, 'FieldDir') || 'fields';
  const fields = elementsAttrs(xml, 'Field').map((a, i) => {
    const name = a.name ?? a.Name;
    if (!name) throw invalidInput(`TIMA ${file}: field ${i + 1} has no name.`);
    if (/[\\/]|^\.\.?$/.test(name)) throw invalidInput(`TIMA ${file}: field name "${name}" is not a plain folder name.`);
    return { name, x: num(a.x ?? a.X, `the stage x of field ${name}`, file), y: num(a.y ?? a.Y, `the stage y of field ${name}`, file) };
  });
  if (fields.length === 0) throw invalidInput(`TIMA ${file} lists no fields.`);
  const seen = new Set<string>();
  for (const f of fields) {
    if (seen.has(f.name)) throw invalidInput(`TIMA ${file}: field ${f.name} is listed twice.`);
    seen.add(f.name);
  }
  return { fieldDir, fields };
}

export function parseTimaPhases(xml: string, file = 'phases.xml'): TimaPhase[] {
  const list = elementsAttrs(xml, 'PrimaryPhase');
  if (list.length === 0) throw invalidInput(`TIMA ${file} lists no phases (<PrimaryPhase id name color>).`);
  const seen = new Map<number, string>();
  return list.map((a) => {
    const id = num(a.id, `a phase id`, file);
    const name = a.name ?? `Phase ${id}`;
    if (!Number.isInteger(id) || id < 0 || id > 65535) throw invalidInput(`TIMA ${file}: phase "${name}" has id ${id}; ids must be whole numbers 0–65535.`);
    if (seen.has(id)) throw invalidInput(`TIMA ${file}: phases "${seen.get(id)}" and "${name}" have the same id ${id}.`);
    seen.set(id, name);
    const color = parseHexColor(a.color ?? '');
    if (!color) throw invalidInput(`TIMA ${file}: phase "${name}" (id ${id}) has colour "${a.color ?? ''}", not #rrggbb.`);
    const mass = a.mass === undefined ? undefined : Number(a.mass);
    return { id, name, color, mass: Number.isFinite(mass) ? mass : undefined };
  });
}

export interface TimaFieldImages {
  field: TimaField;
  /** phase id per pixel (imageWidth x imageHeight) */
  phases: ArrayLike<number>;
  /** BSE (or first SEM image), same size, optional */
  bse?: ArrayLike<number>;
}

export interface StitchedTima {
  width: number;
  height: number;
  pixelSizeUm: number;
  /** TIMA phase ids, 0 = unclassified or outside every field */
  labels: Uint16Array;
  bse?: Float32Array;
  /** 1 where some field covers the pixel */
  covered: Uint8Array;
  /** top-left pixel of each field in the mosaic */
  placement: { name: string; u0: number; v0: number }[];
}

/**
 * µm per stage-position unit in fields.xml: 1 (µm, as TIMA 1.6 writes), or 1000 when the positions
 * are evidently in mm (the step between neighbouring fields is about a field width / 1000).
 */
export function timaStageUnitUm(m: TimaMeasurement, fields: TimaField[]): number {
  const minStep = (vals: number[]) => {
    const u = [...new Set(vals)].sort((a, b) => a - b);
    let d = Infinity;
    for (let i = 1; i < u.length; i++) d = Math.min(d, u[i] - u[i - 1]);
    return d;
  };
  const step = Math.min(minStep(fields.map((f) => f.x)), minStep(fields.map((f) => f.y)));
  if (!Number.isFinite(step)) return 1;
  const fieldHeightUm = (m.viewFieldUm * m.imageHeight) / m.imageWidth;
  const fieldUm = Math.min(m.viewFieldUm, fieldHeightUm);
  return step < 0.05 * fieldUm && step * 1000 > 0.2 * fieldUm && step * 1000 < 5 * Math.max(m.viewFieldUm, fieldHeightUm) ? 1000 : 1;
}

/** Where each field's top-left pixel falls in the mosaic (see the axis note at the top). */
export function placeTimaFields(m: TimaMeasurement, fields: TimaField[]): { width: number; height: number; pixelSizeUm: number; placement: { name: string; u0: number; v0: number }[] } {
  const px = m.viewFieldUm / m.imageWidth;
  const scale = timaStageUnitUm(m, fields);
  const xs = fields.map((f) => f.x * scale), ys = fields.map((f) => f.y * scale);
  const xMax = Math.max(...xs), yMin = Math.min(...ys);
  const placement = fields.map((f, k) => ({ name: f.name, u0: Math.round((xMax - xs[k]) / px), v0: Math.round((ys[k] - yMin) / px) }));
  const width = Math.max(...placement.map((p) => p.u0)) + m.imageWidth;
  const height = Math.max(...placement.map((p) => p.v0)) + m.imageHeight;
  return { width, height, pixelSizeUm: px, placement };
}

/** Stitches decoded fields (in fields.xml order) into one map; values are TIMA phase ids. */
export function stitchTimaFields(m: TimaMeasurement, fields: TimaFieldImages[]): StitchedTima {
  const { width, height, pixelSizeUm, placement } = placeTimaFields(m, fields.map((f) => f.field));
  const n = width * height;
  if (n > 2 ** 31 - 1) throw invalidInput(`TIMA export: the stitched map would be ${width} x ${height} pixels, too large.`);
  const labels = new Uint16Array(n);
  const hasBse = fields.some((f) => f.bse);
  const bse = hasBse ? new Float32Array(n) : undefined;
  const covered = new Uint8Array(n);
  const dist = new Float32Array(n).fill(Infinity);
  const W = m.imageWidth, H = m.imageHeight, cu = (W - 1) / 2, cv = (H - 1) / 2;
  fields.forEach((f, k) => {
    const { u0, v0 } = placement[k];
    for (let v = 0; v < H; v++) {
      const row = (v0 + v) * width + u0;
      const dv = (v - cv) ** 2;
      for (let u = 0; u < W; u++) {
        const d = dv + (u - cu) ** 2;
        const i = row + u;
        if (d > dist[i]) continue;
        dist[i] = d;
        covered[i] = 1;
        labels[i] = f.phases[v * W + u];
        if (bse && f.bse) bse[i] = f.bse[v * W + u];
      }
    }
  });
  return { width, height, pixelSizeUm, labels, bse, covered, placement };
}

/** The legend of a TIMA map: the phases.xml phases that occur in it (unclassified names excluded). */
export function timaLegend(phases: TimaPhase[], present: Set<number>): MineralPhase[] {
  return phases.filter((p) => p.id !== 0 && present.has(p.id)).sort((a, b) => a.id - b.id).map((p) => ({ id: p.id, name: p.name, color: [...p.color] as [number, number, number] }));
}
