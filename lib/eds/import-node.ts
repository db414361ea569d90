/**
 * Node-only import of an EDS mineral map into a MineralMap. Recognised inputs:
 * (a) an RGB(A) PNG/TIFF colour map + legend: each pixel's colour is looked up in the legend.
 *     Fully transparent pixels are unclassified; so are black (0,0,0) pixels unless black is a
 *     legend colour; colours of legend entries named "Unclassified"/"Background"/... too.
 *     Any other colour missing from the legend is an error listing it.
 * (b) a single-channel integer PNG/TIFF of phase ids + a legend with ids: 0 = unclassified.
 * (c) a TESCAN TIMA export folder (or its measurement.xml): fields stitched by stage position,
 *     legend from phases.xml (see ./tima.ts for axis directions and overlaps).
 * Companion images (BSE, element maps) are greyscale PNG/TIFF of the map's size → Float32Array.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { invalidInput, notFound, throwIfAborted, type StageOptions } from '../errors';
import { isUnclassifiedName, parseLegend, rgbToHex, type ParsedLegend } from './legend';
import { decodeRaster, type ColourRaster, type Raster, type ScalarRaster } from './raster';
import { parseTimaFields, parseTimaMeasurement, parseTimaPhases, stitchTimaFields, timaLegend, type TimaFieldImages } from './tima';
import type { CompanionImage, MineralMap, MineralPhase } from './types';

export interface MineralMapInput {
  /** colour or label image (.png/.tif/.tiff), or a TESCAN TIMA export folder */
  map: string;
  /** legend file (.csv or .json); required for images, not used for TIMA exports */
  legend?: string;
  companions?: { name: string; path: string }[];
  /** EDS pixel size in µm; required for images without a resolution tag (PNG pHYs / TIFF XResolution,
   *  ignored when it is a display default like 72 or 96 dpi). Overrides the image's tag; ignored for
   *  TIMA exports, whose measurement.xml gives the pixel size. */
  pixelSizeUm?: number;
}

const IMAGE_EXT = new Set(['.png', '.tif', '.tiff']);

async function readBytes(path: string, what: string): Promise<Uint8Array> {
  const st = await stat(path).catch(() => null);
  if (!st) throw notFound(`${what} ${path} does not exist.`);
  if (st.isDirectory()) throw invalidInput(`${what} ${path} is a folder, not a file.`);
  if (st.size === 0) throw invalidInput(`${what} ${basename(path)} is empty (0 bytes); export it again.`);
  return new Uint8Array(await readFile(path));
}

function checkImageExt(path: string, what: string): void {
  const ext = extname(path).toLowerCase();
  if (!IMAGE_EXT.has(ext)) {
    throw invalidInput(`${what} ${basename(path)}: petromap reads ${what.toLowerCase()}s as PNG or TIFF (.png, .tif, .tiff), not "${ext || 'no extension'}". ` +
      (what === 'EDS map' ? 'Export the map as PNG/TIFF, or give the TESCAN TIMA export folder.' : 'Export it as PNG or TIFF.'));
  }
}

async function readRaster(path: string, what: string): Promise<Raster> {
  checkImageExt(path, what);
  return decodeRaster(await readBytes(path, what), `${what} ${basename(path)}`);
}

export async function importMineralMap(input: MineralMapInput, opts: StageOptions = {}): Promise<MineralMap> {
  const { signal, onProgress } = opts;
  throwIfAborted(signal);
  const st = await stat(input.map).catch(() => null);
  if (!st) throw notFound(`EDS map ${input.map} does not exist.`);
  if (st.isDirectory() || basename(input.map).toLowerCase() === 'measurement.xml') {
    const dir = st.isDirectory() ? input.map : dirname(input.map);
    if (await stat(join(dir, 'measurement.xml')).catch(() => null)) {
      if (input.legend) throw invalidInput(`${basename(dir)} is a TESCAN TIMA export, which carries its own legend (phases.xml); leave out the legend file ${basename(input.legend)}.`);
      const map = await importTimaExport(dir, opts);
      map.companions.push(...(await readCompanions(input.companions ?? [], map, signal)));
      return map;
    }
    throw invalidInput(`EDS folder ${input.map} is not a TESCAN TIMA export (no measurement.xml in it). Give the mineral map image and its legend instead.`);
  }
  onProgress?.(0, 'reading the mineral map');
  const raster = await readRaster(input.map, 'EDS map');
  throwIfAborted(signal);
  const mapName = basename(input.map);
  if (!input.legend) throw invalidInput(`EDS map ${mapName} needs its legend (a CSV with name,r,g,b per mineral, or id,name,r,g,b for a label image).`);
  const legendText = new TextDecoder().decode(await readBytes(input.legend, 'Legend'));
  const legend = parseLegend(legendText, basename(input.legend));
  let pixelSizeUm = input.pixelSizeUm;
  if (pixelSizeUm !== undefined && !(pixelSizeUm > 0 && Number.isFinite(pixelSizeUm))) {
    throw invalidInput(`EDS map ${mapName}: the pixel size must be a positive number of µm, not ${pixelSizeUm}.`);
  }
  pixelSizeUm ??= raster.resolutionUm;
  if (pixelSizeUm === undefined) {
    throw invalidInput(`EDS map ${mapName}: its pixel size is unknown (the image stores none). Give it in µm (e.g. --pixel-um 2.5), as the EDS software reports it.`);
  }
  onProgress?.(0.3, 'assigning minerals');
  const labels =
    raster.kind === 'colour' ? coloursToLabels(raster, legend, mapName)
    : greyCodedLegend(raster, legend) ? coloursToLabels(greyToColour(raster), legend, mapName)
    : idsToLabels(raster, legend, mapName);
  throwIfAborted(signal);
  const map: MineralMap = {
    width: raster.width,
    height: raster.height,
    pixelSizeUm,
    labels,
    legend: legend.phases.map((p) => ({ ...p, color: [...p.color] as [number, number, number] })),
    companions: [],
    source: mapName,
  };
  onProgress?.(0.7, 'reading companion images');
  map.companions = await readCompanions(input.companions ?? [], map, signal);
  onProgress?.(1, 'mineral map imported');
  return map;
}

/** Colour map → labels (see the file comment for the unclassified rules). */
export function coloursToLabels(r: ColourRaster, legend: ParsedLegend, mapName: string): Uint16Array {
  const key = (a: number, b: number, c: number) => (a << 16) | (b << 8) | c;
  const lut = new Map<number, number>();
  for (const p of legend.phases) lut.set(key(...p.color), p.id);
  for (const u of legend.unclassified) if (u.color) lut.set(key(...u.color), 0);
  if (!lut.has(0)) lut.set(0, 0); // black is unclassified unless the legend says otherwise
  const n = r.width * r.height;
  const labels = new Uint16Array(n);
  const bad = new Map<number, { count: number; first: number }>();
  const d = r.rgba;
  let lastKey = -1, lastId = 0;
  for (let i = 0; i < n; i++) {
    if (d[i * 4 + 3] === 0) continue;
    const k = key(d[i * 4], d[i * 4 + 1], d[i * 4 + 2]);
    if (k === lastKey) {
      labels[i] = lastId;
      continue;
    }
    const id = lut.get(k);
    if (id === undefined) {
      const b = bad.get(k);
      if (b) b.count++;
      else bad.set(k, { count: 1, first: i });
      lastKey = -1;
      continue;
    }
    labels[i] = id;
    lastKey = k;
    lastId = id;
  }
  if (bad.size) {
    const list = [...bad.entries()].sort((a, b) => b[1].count - a[1].count);
    const total = list.reduce((s, [, b]) => s + b.count, 0);
    const shown = list.slice(0, 5).map(([k, b]) => {
      const hex = rgbToHex([(k >> 16) & 255, (k >> 8) & 255, k & 255]);
      return `${hex} (${b.count} px, first at column ${b.first % r.width}, row ${Math.floor(b.first / r.width)})`;
    });
    throw invalidInput(
      `EDS map ${mapName}: ${total} pixels (${((100 * total) / n).toFixed(2)} %) have ${list.length} colour${list.length > 1 ? 's' : ''} not in the legend ${legend.source}: ` +
        `${shown.join(', ')}${list.length > 5 ? `, and ${list.length - 5} more` : ''}. ` +
        'Add these colours to the legend (as a mineral, or named "Unclassified"), or re-export the map without anti-aliasing/compression.',
      { details: { colours: list.map(([k, b]) => ({ color: rgbToHex([(k >> 16) & 255, (k >> 8) & 255, k & 255]), pixels: b.count })) } },
    );
  }
  return labels;
}

/**
 * A greyscale 8-bit image with a legend of grey colours and no ids is a colour map saved as grey
 * (its grey levels are the legend colours), not a label image.
 */
function greyCodedLegend(r: ScalarRaster, legend: ParsedLegend): boolean {
  return !legend.explicitIds && r.integer && r.bitsPerSample <= 8 && [...legend.phases, ...legend.unclassified].every((p) => !p.color || (p.color[0] === p.color[1] && p.color[1] === p.color[2]));
}

function greyToColour(r: ScalarRaster): ColourRaster {
  const n = r.width * r.height;
  const rgba = new Uint8Array(n * 4);
  for (let i = 0; i < n; i++) rgba.fill(r.data[i], i * 4, i * 4 + 3), (rgba[i * 4 + 3] = 255);
  return { kind: 'colour', width: r.width, height: r.height, rgba, resolutionUm: r.resolutionUm };
}

/** Label image → labels: values must be legend ids (0 and unclassified-named ids become 0). */
export function idsToLabels(r: ScalarRaster, legend: ParsedLegend, mapName: string): Uint16Array {
  if (!r.integer) {
    throw invalidInput(`EDS map ${mapName} holds floating-point values; a label image must hold whole-number phase ids (8, 16 or 32-bit integers).`);
  }
  if (!legend.explicitIds) {
    throw invalidInput(`EDS map ${mapName} is a single-channel label image, so its legend ${legend.source} must give each mineral's pixel value: use id,name,r,g,b (e.g. "1,Quartz,236,220,180").`);
  }
  const valid = new Map<number, number>();
  for (const p of legend.phases) valid.set(p.id, p.id);
  for (const u of legend.unclassified) if (u.id !== undefined) valid.set(u.id, 0);
  valid.set(0, 0);
  const n = r.width * r.height;
  const labels = new Uint16Array(n);
  const bad = new Map<number, { count: number; first: number }>();
  for (let i = 0; i < n; i++) {
    const v = r.data[i];
    const id = valid.get(v);
    if (id === undefined) {
      const b = bad.get(v);
      if (b) b.count++;
      else bad.set(v, { count: 1, first: i });
      continue;
    }
    labels[i] = id;
  }
  if (bad.size) {
    const list = [...bad.entries()].sort((a, b) => a[0] - b[0]);
    const shown = list.slice(0, 10).map(([v, b]) => `${v} (${b.count} px, first at column ${b.first % r.width}, row ${Math.floor(b.first / r.width)})`);
    throw invalidInput(
      `EDS map ${mapName}: pixel values ${shown.join(', ')}${list.length > 10 ? ` and ${list.length - 10} more` : ''} are not phase ids in the legend ${legend.source}. ` +
        'Add them to the legend (id,name,r,g,b), or name them "Unclassified".',
      { details: { values: list.map(([v, b]) => ({ value: v, pixels: b.count })) } },
    );
  }
  return labels;
}

/** A greyscale companion image as Float32 (colour images: luminance). */
export function rasterToGrey(r: Raster): Float32Array {
  const n = r.width * r.height;
  const out = new Float32Array(n);
  if (r.kind === 'scalar') {
    for (let i = 0; i < n; i++) out[i] = r.data[i];
  } else {
    const d = r.rgba;
    for (let i = 0; i < n; i++) out[i] = 0.299 * d[i * 4] + 0.587 * d[i * 4 + 1] + 0.114 * d[i * 4 + 2];
  }
  return out;
}

async function readCompanions(list: { name: string; path: string }[], map: MineralMap, signal?: AbortSignal): Promise<CompanionImage[]> {
  const out: CompanionImage[] = [];
  const names = new Set(map.companions.map((c) => c.name.toLowerCase()));
  for (const c of list) {
    throwIfAborted(signal);
    const name = c.name.trim();
    if (!name) throw invalidInput(`Companion image ${basename(c.path)} needs a name (e.g. BSE, Fe).`);
    if (names.has(name.toLowerCase())) throw invalidInput(`Companion image ${basename(c.path)}: there is already a companion named ${name}.`);
    names.add(name.toLowerCase());
    const r = await readRaster(c.path, 'Companion image');
    if (r.width !== map.width || r.height !== map.height) {
      throw invalidInput(`Companion image ${basename(c.path)} (${name}) is ${r.width} x ${r.height} pixels but the mineral map ${map.source ?? ''} is ${map.width} x ${map.height}; they must cover the same pixels.`);
    }
    out.push({ name, data: rasterToGrey(r) });
  }
  return out;
}

/** Reads a TESCAN TIMA export folder and stitches its fields (labels = TIMA phase ids). */
export async function importTimaExport(dir: string, opts: StageOptions = {}): Promise<MineralMap> {
  const { signal, onProgress } = opts;
  const folder = basename(dir);
  const readText = async (name: string) => {
    const p = join(dir, name);
    if (!(await stat(p).catch(() => null))) throw invalidInput(`TIMA export ${folder}: ${name} is missing; export the measurement again with its XML files.`);
    const t = await readFile(p, 'utf8');
    if (!t.trim()) throw invalidInput(`TIMA export ${folder}: ${name} is empty.`);
    return t;
  };
  const measurement = parseTimaMeasurement(await readText('measurement.xml'), `${folder}/measurement.xml`);
  const { fieldDir, fields } = parseTimaFields(await readText('fields.xml'), `${folder}/fields.xml`);
  const phases = parseTimaPhases(await readText('phases.xml'), `${folder}/phases.xml`);
  const sem = measurement.semImages.find((s) => /bse/i.test(s.caption) || /bse/i.test(s.fileName)) ?? measurement.semImages[0];
  // TIMA phase id → label (unclassified-named phases → 0)
  const known = new Map<number, number>(phases.map((p) => [p.id, isUnclassifiedName(p.name) ? 0 : p.id]));
  known.set(0, 0);
  const W = measurement.imageWidth, H = measurement.imageHeight;
  const images: TimaFieldImages[] = [];
  for (let k = 0; k < fields.length; k++) {
    throwIfAborted(signal);
    const f = fields[k];
    const fdir = join(dir, fieldDir, f.name);
    const rel = `${fieldDir}/${f.name}`;
    if (!(await stat(fdir).catch(() => null))) {
      throw invalidInput(`TIMA export ${folder}: field ${f.name} is listed in fields.xml but its folder ${rel} is missing. Copy the complete export folder.`);
    }
    const pPath = join(fdir, 'phases.tif');
    if (!(await stat(pPath).catch(() => null))) throw invalidInput(`TIMA export ${folder}: ${rel}/phases.tif is missing.`);
    const pr = await decodeRaster(await readBytes(pPath, 'TIMA phase image'), `TIMA export ${folder}: ${rel}/phases.tif`);
    if (pr.kind !== 'scalar' || !pr.integer) throw invalidInput(`TIMA export ${folder}: ${rel}/phases.tif should hold one integer phase id per pixel.`);
    if (pr.width !== W || pr.height !== H) throw invalidInput(`TIMA export ${folder}: ${rel}/phases.tif is ${pr.width} x ${pr.height} pixels but measurement.xml says ${W} x ${H}.`);
    const ids = new Uint16Array(W * H);
    const unknown = new Set<number>();
    for (let i = 0; i < ids.length; i++) {
      const id = known.get(pr.data[i]);
      if (id === undefined) unknown.add(pr.data[i]);
      else ids[i] = id;
    }
    if (unknown.size) {
      throw invalidInput(`TIMA export ${folder}: ${rel}/phases.tif uses phase ids ${[...unknown].sort((a, b) => a - b).slice(0, 10).join(', ')} that phases.xml does not list.`);
    }
    let bse: Float32Array | undefined;
    if (sem) {
      const bPath = join(fdir, sem.fileName);
      if (!(await stat(bPath).catch(() => null))) throw invalidInput(`TIMA export ${folder}: ${rel}/${sem.fileName} (${sem.caption || 'SEM image'}) is missing.`);
      const br = await decodeRaster(await readBytes(bPath, 'TIMA SEM image'), `TIMA export ${folder}: ${rel}/${sem.fileName}`);
      if (br.width !== W || br.height !== H) throw invalidInput(`TIMA export ${folder}: ${rel}/${sem.fileName} is ${br.width} x ${br.height} pixels but measurement.xml says ${W} x ${H}.`);
      bse = rasterToGrey(br);
    }
    images.push({ field: f, phases: ids, bse });
    if (k % 16 === 0) onProgress?.((0.9 * k) / fields.length, `reading TIMA field ${k + 1} of ${fields.length}`);
  }
  onProgress?.(0.9, 'stitching fields');
  const s = stitchTimaFields(measurement, images);
  const present = new Set<number>();
  for (let i = 0; i < s.labels.length; i++) present.add(s.labels[i]);
  const legend: MineralPhase[] = timaLegend(phases, present);
  const companions: CompanionImage[] = s.bse ? [{ name: sem?.caption || 'BSE', data: s.bse }] : [];
  onProgress?.(1, 'TIMA export stitched');
  return { width: s.width, height: s.height, pixelSizeUm: s.pixelSizeUm, labels: s.labels, legend, companions, source: folder };
}
