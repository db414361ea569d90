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
import { XMLParser } from 'fast-xml-parser';
import { invalidInput } from '../errors';
import { checkDecodeBudget, DEFAULT_LIMITS, LIMIT_ENV, type Limits } from '../limits';
import { clip, parseHexColor } from './legend';
import type { MineralPhase } from './types';

export interface TimaMeasurement {
  /** field width in µm */
  viewFieldUm: number;
  imageWidth: number;
  imageHeight: number;
  /** SEM images of each field: file name and caption (e.g. bse.png, BSE) */
  semImages: { fileName: string; caption: string }[];
  /** the measurement's GUID (`<Id>`, braces removed, lower case), when given */
  id?: string;
  /** `<StartDate>` as written (ISO 8601), when given */
  startDate?: string;
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

export type XmlNode = Record<string, unknown>;

/** Elements nested deeper than this are refused (TIMA files nest 4 levels). */
const MAX_XML_DEPTH = 32;

/**
 * Parses TIMA XML with fast-xml-parser (linear time; the regex parsing it replaces was quadratic on
 * unclosed tags). Namespace prefixes are dropped, attributes kept as strings, DOCTYPE refused (no
 * entity definitions: TIMA writes none), nesting bounded.
 */
export function parseXml(xml: string, file: string): XmlNode {
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) throw invalidInput(`TIMA ${file} declares a DOCTYPE or entities, which TIMA exports never do; petromap does not read it.`);
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '@',
    removeNSPrefix: true,
    parseTagValue: false,
    parseAttributeValue: false,
    trimValues: true,
    processEntities: true,
    htmlEntities: false,
    ignoreDeclaration: true,
    ignorePiTags: true,
    maxNestedTags: MAX_XML_DEPTH,
    isArray: () => true,
  });
  try {
    return parser.parse(xml, true) as XmlNode;
  } catch (err) {
    const m = String((err as Error).message ?? err);
    const why = err instanceof RangeError || /nested/i.test(m) ? 'its elements nest too deeply' : /^Invalid '\[|unclosed/i.test(m) ? 'some elements are not closed' : clip(m, 80);
    throw invalidInput(`TIMA ${file} is not valid XML (${why}); export the measurement again.`, { cause: err });
  }
}

/** Every element named `tag` anywhere in a tagTree'd tree (document order), iteratively. */
export function findAll(root: XmlNode, tag: string): XmlNode[] {
  const out: XmlNode[] = [];
  const stack: XmlNode[] = [root];
  while (stack.length) {
    const node = stack.pop()!;
    const keys = Object.keys(node);
    for (let k = keys.length - 1; k >= 0; k--) {
      const key = keys[k];
      if (key.startsWith('@') || key === '#text') continue;
      const v = node[key];
      const list = Array.isArray(v) ? v : [v];
      for (let i = list.length - 1; i >= 0; i--) {
        const child = list[i];
        if (child && typeof child === 'object') stack.push(child as XmlNode);
      }
    }
    // children were pushed in reverse, so `node` itself is visited before them (document order)
    if ((node as { [TAG]?: string })[TAG] === tag) out.push(node);
  }
  return out;
}

const TAG = Symbol('tag');

/** Marks each element with its tag name (fast-xml-parser gives tag names only as keys of the parent). */
export function tagTree(root: XmlNode): XmlNode {
  const stack: XmlNode[] = [root];
  while (stack.length) {
    const node = stack.pop()!;
    for (const key of Object.keys(node)) {
      if (key.startsWith('@') || key === '#text') continue;
      const v = node[key];
      const list = Array.isArray(v) ? v : [v];
      for (let i = 0; i < list.length; i++) {
        let child = list[i];
        if (!child || typeof child !== 'object') {
          child = { '#text': child === undefined || child === null ? '' : String(child) };
          list[i] = child;
          if (!Array.isArray(v)) node[key] = child;
        }
        (child as { [TAG]?: string })[TAG] = key;
        stack.push(child as XmlNode);
      }
    }
  }
  return root;
}

function text(node: XmlNode | undefined): string | undefined {
  if (!node) return undefined;
  const t = node['#text'];
  if (t === undefined) return Object.keys(node).some((k) => !k.startsWith('@')) ? undefined : '';
  return (Array.isArray(t) ? t.join('') : String(t)).trim();
}

export function attrs(node: XmlNode): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(node)) if (k.startsWith('@')) out[k.slice(1)] = String(node[k]);
  return out;
}

/** Text of the first element `<tag>` under root (document order), or undefined. */
export function firstText(root: XmlNode, tag: string): string | undefined {
  return text(findAll(root, tag)[0]);
}

function num(s: string | undefined, what: string, file: string): number {
  const v = s === undefined ? NaN : Number(s.trim());
  if (!Number.isFinite(v)) throw invalidInput(`TIMA ${file}: ${what} is ${s === undefined ? 'missing' : `"${clip(s, 20)}", not a number`}.`);
  return v;
}

/** Elements named `tag` in the text, counted without parsing (to refuse huge files before building objects). */
export function countElements(xml: string, tag: string, stop: number): number {
  const re = new RegExp(`<(?:[\\w.-]+:)?${tag}[\\s/>]`, 'g');
  let n = 0;
  while (re.exec(xml) && n <= stop) n++;
  return n;
}

export function parseTimaMeasurement(xml: string, file = 'measurement.xml'): TimaMeasurement {
  if (!/<\??xml|<ExportedMeasurement/i.test(xml.slice(0, 4096))) throw invalidInput(`TIMA ${file} is not an XML file.`);
  const root = tagTree(parseXml(xml, file));
  const viewFieldUm = num(firstText(root, 'ViewField'), 'the field width <ViewField> (µm)', file);
  const imageWidth = num(firstText(root, 'ImageWidth'), 'the field image width <ImageWidth>', file);
  const imageHeight = num(firstText(root, 'ImageHeight'), 'the field image height <ImageHeight>', file);
  if (!(viewFieldUm > 0) || !(imageWidth >= 1) || !(imageHeight >= 1) || !Number.isInteger(imageWidth) || !Number.isInteger(imageHeight)) {
    throw invalidInput(`TIMA ${file}: field width ${viewFieldUm} µm and image size ${imageWidth} x ${imageHeight} px must be positive.`);
  }
  const semImages = findAll(root, 'SemImage')
    .slice(0, 64)
    .map((s) => ({ fileName: firstText(s, 'FileName') ?? '', caption: firstText(s, 'Caption') ?? '' }))
    .filter((s) => s.fileName);
  const id = firstText(root, 'Id');
  const startDate = firstText(root, 'StartDate');
  return { viewFieldUm, imageWidth, imageHeight, semImages, id: id ? normaliseGuid(id) : undefined, startDate: startDate ? clip(startDate, 40) : undefined };
}

/** A TIMA GUID as petromap compares it: without braces, lower case, clipped. */
export function normaliseGuid(s: string): string {
  return clip(s.trim().replace(/^\{|\}$/g, '').toLowerCase(), 64);
}

export function parseTimaFields(xml: string, file = 'fields.xml', limits: Limits = DEFAULT_LIMITS): { fieldDir: string; fields: TimaField[] } {
  const count = countElements(xml, 'Field', limits.maxTimaFields);
  if (count > limits.maxTimaFields) {
    throw invalidInput(`TIMA ${file} lists more than ${limits.maxTimaFields} fields, more than petromap imports from one export (${LIMIT_ENV.maxTimaFields.name}).`);
  }
  const root = tagTree(parseXml(xml, file));
  const fieldDir = firstText(root, 'FieldDir') || 'fields';
  const fields = findAll(root, 'Field').map((node, i) => {
    const a = attrs(node);
    const name = a.name ?? a.Name;
    if (!name) throw invalidInput(`TIMA ${file}: field ${i + 1} has no name.`);
    if (/[\\/\0]|^\.\.?$/.test(name) || name.length > 255) throw invalidInput(`TIMA ${file}: field name "${clip(name)}" is not a plain folder name.`);
    return { name, x: num(a.x ?? a.X, `the stage x of field ${clip(name)}`, file), y: num(a.y ?? a.Y, `the stage y of field ${clip(name)}`, file) };
  });
  if (fields.length === 0) throw invalidInput(`TIMA ${file} lists no fields.`);
  if (fields.length > limits.maxTimaFields) throw invalidInput(`TIMA ${file} lists ${fields.length} fields, more than petromap imports from one export (${LIMIT_ENV.maxTimaFields.name}).`);
  const seen = new Set<string>();
  for (const f of fields) {
    if (seen.has(f.name)) throw invalidInput(`TIMA ${file}: field ${clip(f.name)} is listed twice.`);
    seen.add(f.name);
  }
  return { fieldDir, fields };
}

export function parseTimaPhases(xml: string, file = 'phases.xml', limits: Limits = DEFAULT_LIMITS): TimaPhase[] {
  // ids are 16-bit, so more than 65536 phases cannot be valid
  if (countElements(xml, 'PrimaryPhase', 65536) > 65536) throw invalidInput(`TIMA ${file} lists more than 65536 phases; the file is damaged.`);
  const list = findAll(tagTree(parseXml(xml, file)), 'PrimaryPhase').map(attrs);
  if (list.length === 0) throw invalidInput(`TIMA ${file} lists no phases (<PrimaryPhase id name color>).`);
  const seen = new Map<number, string>();
  return list.map((a) => {
    const id = num(a.id, `a phase id`, file);
    const name = a.name ?? `Phase ${id}`;
    if (!Number.isInteger(id) || id < 0 || id > 65535) throw invalidInput(`TIMA ${file}: phase "${clip(name)}" has id ${id}; ids must be whole numbers 0–65535.`);
    if (seen.has(id)) throw invalidInput(`TIMA ${file}: phases "${clip(seen.get(id)!)}" and "${clip(name)}" have the same id ${id}.`);
    if (name.length > limits.maxNameChars) throw invalidInput(`TIMA ${file}: phase ${id} has a name of ${name.length} characters, more than the ${limits.maxNameChars} allowed (${LIMIT_ENV.maxNameChars.name}).`);
    seen.set(id, name);
    const color = parseHexColor(a.color ?? '');
    if (!color) throw invalidInput(`TIMA ${file}: phase "${clip(name)}" (id ${id}) has colour "${clip(a.color ?? '', 20)}", not #rrggbb.`);
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
  let xMax = -Infinity, yMin = Infinity;
  for (const f of fields) (xMax = Math.max(xMax, f.x * scale)), (yMin = Math.min(yMin, f.y * scale));
  // mosaic extent = union of the field rectangles (each field imageWidth x imageHeight pixels)
  let uMax = 0, vMax = 0;
  const placement = fields.map((f) => {
    const p = { name: f.name, u0: Math.round((xMax - f.x * scale) / px), v0: Math.round((f.y * scale - yMin) / px) };
    (uMax = Math.max(uMax, p.u0)), (vMax = Math.max(vMax, p.v0));
    return p;
  });
  return { width: uMax + m.imageWidth, height: vMax + m.imageHeight, pixelSizeUm: px, placement };
}

/** Bytes per mosaic pixel while stitching: labels (2), covered (1), nearest-centre distance (4), BSE (4). */
export const TIMA_STITCH_BYTES_PER_PIXEL = 11;

/**
 * Refuses a TIMA export whose fields would make an unreasonable mosaic, before any field image is
 * read: one field or the mosaic above `maxMapPixels`, stitching above the decode budget, or a mosaic
 * mostly empty (its extent is set by the fields' stage positions: two 1-pixel fields 8 mm apart
 * would otherwise make an 8001 x 8001 map).
 */
export function checkTimaMosaic(m: TimaMeasurement, fields: TimaField[], file: string, limits: Limits = DEFAULT_LIMITS): ReturnType<typeof placeTimaFields> {
  const mpx = (v: number) => `${(v / 1e6).toFixed(v < 1e7 ? 1 : 0)} megapixels`;
  const fieldPx = m.imageWidth * m.imageHeight;
  if (fieldPx > limits.maxMapPixels) {
    throw invalidInput(`TIMA ${file}: each field is ${m.imageWidth} x ${m.imageHeight} pixels, more than the ${mpx(limits.maxMapPixels)} a map may have (${LIMIT_ENV.maxMapPixels.name}).`);
  }
  if (fields.length > limits.maxTimaFields) throw invalidInput(`TIMA ${file}: ${fields.length} fields, more than petromap imports from one export (${LIMIT_ENV.maxTimaFields.name}).`);
  const placed = placeTimaFields(m, fields);
  const { width, height } = placed;
  const n = width * height;
  if (!(Number.isSafeInteger(width) && Number.isSafeInteger(height) && width > 0 && height > 0)) {
    throw invalidInput(`TIMA ${file}: the field positions do not give a valid mosaic; the stage coordinates in fields.xml are damaged.`);
  }
  if (n > limits.maxMapPixels) {
    throw invalidInput(`TIMA ${file}: the fields span a mosaic of ${width} x ${height} pixels (${mpx(n)}), more than the ${mpx(limits.maxMapPixels)} a map may have (${LIMIT_ENV.maxMapPixels.name}).`);
  }
  const covered = Math.min(n, fields.length * fieldPx);
  if (n > 4e6 && n > 16 * covered) {
    throw invalidInput(
      `TIMA ${file}: ${fields.length} field${fields.length > 1 ? 's' : ''} of ${m.imageWidth} x ${m.imageHeight} pixels are spread over a mosaic of ${width} x ${height} pixels, which they would cover less than 1/16 of; the stage positions in fields.xml do not fit the field size in measurement.xml.`,
    );
  }
  checkDecodeBudget(`TIMA ${file}: stitching ${width} x ${height} pixels`, n * TIMA_STITCH_BYTES_PER_PIXEL, limits);
  return placed;
}

/** Stitches decoded fields (in fields.xml order) into one map; values are TIMA phase ids. */
export function stitchTimaFields(m: TimaMeasurement, fields: TimaFieldImages[], limits: Limits = DEFAULT_LIMITS): StitchedTima {
  const { width, height, pixelSizeUm, placement } = checkTimaMosaic(m, fields.map((f) => f.field), 'export', limits);
  const n = width * height;
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
