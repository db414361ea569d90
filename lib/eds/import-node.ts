/**
 * Node-only import of an EDS mineral map into a MineralMap. Recognised inputs:
 * (a) an RGB(A) PNG/TIFF colour map + legend: each pixel's colour is looked up in the legend.
 *     Fully transparent pixels are unclassified; so are black (0,0,0) pixels unless black is a
 *     legend colour; colours of legend entries named "Unclassified"/"Unknown"/... too.
 *     Any other colour missing from the legend is an error listing it.
 * (b) a single-channel integer PNG/TIFF of phase ids + a legend with ids: 0 = unclassified.
 * (c) a TESCAN TIMA export folder (or its measurement.xml): fields stitched by stage position,
 *     legend from phases.xml (see ./tima.ts for axis directions and overlaps); the area no field
 *     covers is kept as "not measured" (`measured`). A TIMA project folder holding several
 *     datasets (./tima-datasets-node.ts) imports the one `dataset` names; the project files'
 *     sample name becomes `sampleName`; the field layout (./tima-fields.ts) becomes `fields`.
 * Companion images (BSE, element maps) are greyscale PNG/TIFF of the map's size → Float32Array.
 *
 * Hostile input (issue 12): every size is checked against `opts.limits` (default DEFAULT_LIMITS)
 * before it is allocated (see ./raster.ts, ./legend.ts, ./tima.ts); file names from TIMA XML must be
 * plain relative names that resolve (after links) inside the export folder; error messages name files
 * by their base name and quote input text only clipped.
 */
import { readFile, realpath, stat } from 'node:fs/promises';
import { basename, dirname, extname, isAbsolute, join, sep } from 'node:path';
import { invalidInput, isPetromapError, notFound, PetromapError, throwIfAborted, type StageOptions } from '../errors';
import { DEFAULT_LIMITS, formatBytes, LIMIT_ENV, safeMessage, type Limits } from '../limits';
import { checkLegendBytes, clip, decodeLegendBytes, isUnclassifiedName, parseLegend } from './legend';
import { decodeRaster, readRasterSize, type Raster } from './raster';
import { checkTimaMosaic, parseTimaFields, parseTimaMeasurement, parseTimaPhases, stitchTimaFields, timaLegend, type TimaFieldImages } from './tima';
import { timaFieldRects } from './tima-fields';
import { describeTimaDatasets, listTimaDatasets, pickTimaDataset, type TimaDatasetInfo } from './tima-datasets-node';
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
  /** TIMA project folders holding several datasets: which one (id/GUID, sample name or folder; see pickTimaDataset) */
  dataset?: string;
}

export interface ImportOptions extends StageOptions {
  /** budgets for hostile input (default DEFAULT_LIMITS; the server and CLI pass limitsFromEnv()) */
  limits?: Limits;
}

const IMAGE_EXT = new Set(['.png', '.tif', '.tiff']);

/** A file name as messages show it: base name, clipped. */
const shown = (path: string) => clip(basename(path), 80);

async function readBytes(path: string, what: string, limits: Limits = DEFAULT_LIMITS): Promise<Uint8Array> {
  const st = await stat(path).catch(() => null);
  if (!st) throw notFound(`${what} ${shown(path)} does not exist.`);
  if (st.isDirectory()) throw invalidInput(`${what} ${shown(path)} is a folder, not a file.`);
  if (st.size === 0) throw invalidInput(`${what} ${shown(path)} is empty (0 bytes); export it again.`);
  if (st.size > limits.maxDecodeBytes) {
    throw invalidInput(`${what} ${shown(path)} is ${formatBytes(st.size)}, more than the ${formatBytes(limits.maxDecodeBytes)} petromap decodes at once (${LIMIT_ENV.maxDecodeBytes.name}).`);
  }
  return new Uint8Array(await readFile(path));
}

/**
 * Error as it may leave the import: a PetromapError with a one-line message without absolute
 * paths; system errors (EACCES, ELOOP, ...) become InvalidInput. Other errors (bugs) pass unchanged.
 */
function cleanError(err: unknown, what: string): unknown {
  if (isPetromapError(err)) {
    // relative names like fields/A01/phases.tif stay; absolute paths are reduced to their last part
    const m = /(^|[\s"'(=])\/[^\s/]/.test(err.message) ? safeMessage(err.message, 400) : clip(err.message.split('\n')[0], 400);
    if (m !== err.message) err.message = m;
    return err;
  }
  if (err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string') {
    return new PetromapError('InvalidInput', safeMessage(`${what}: ${err.message}`, 400), { cause: err });
  }
  return err;
}

function checkImageExt(path: string, what: string): void {
  const ext = extname(path).toLowerCase();
  if (what === 'EDS map' && (ext === '.jpg' || ext === '.jpeg')) {
    throw invalidInput(
      `EDS map ${basename(path)} is a JPEG: JPEG compression changes a phase map's colours (most at grain edges), so a pixel's mineral can no longer be told ` +
        'from its colour, and petromap does not guess it from a near colour. Export the phase map again from the EDS software as PNG or TIFF, or give the TESCAN TIMA export folder.',
    );
  }
  if (!IMAGE_EXT.has(ext)) {
    throw invalidInput(`${what} ${basename(path)}: petromap reads ${what.toLowerCase()}s as PNG or TIFF (.png, .tif, .tiff), not "${ext || 'no extension'}". ` +
      (what === 'EDS map' ? 'Export the map as PNG/TIFF, or give the TESCAN TIMA export folder.' : 'Export it as PNG or TIFF.'));
  }
}

async function readRaster(path: string, what: string, limits: Limits = DEFAULT_LIMITS): Promise<Raster> {
  checkImageExt(path, what);
  return decodeRaster(await readBytes(path, what, limits), `${what} ${shown(path)}`, limits);
}

export async function importMineralMap(input: MineralMapInput, opts: ImportOptions = {}): Promise<MineralMap> {
  try {
    return await importMineralMapUnchecked(input, opts);
  } catch (err) {
    throw cleanError(err, `EDS map ${shown(input.map)}`);
  }
}

async function importMineralMapUnchecked(input: MineralMapInput, opts: ImportOptions): Promise<MineralMap> {
  const { signal, onProgress } = opts;
  const limits = opts.limits ?? DEFAULT_LIMITS;
  throwIfAborted(signal);
  const st = await stat(input.map).catch(() => null);
  if (!st) throw notFound(`EDS map ${shown(input.map)} does not exist.`);
  if (st.isDirectory() || basename(input.map).toLowerCase() === 'measurement.xml') {
    const dir = st.isDirectory() ? input.map : dirname(input.map);
    const list = await listTimaDatasets(dir, { limits, signal });
    if (list.length) {
      if (input.legend) throw invalidInput(`${shown(dir)} is a TESCAN TIMA export, which carries its own legend (phases.xml); leave out the legend file ${shown(input.legend)}.`);
      const chosen = chooseTimaDataset(list, input.dataset, shown(dir));
      const map = await importTimaExport(chosen.path === '.' ? dir : join(/*turbopackIgnore: true*/ dir, ...chosen.path.split('/')), opts);
      if (chosen.sampleName) map.sampleName = chosen.sampleName;
      map.companions.push(...(await readCompanions(input.companions ?? [], map, signal, limits)));
      return map;
    }
    throw invalidInput(`EDS folder ${shown(input.map)} is not a TESCAN TIMA export (no measurement.xml in it or its subfolders). Give the mineral map image and its legend instead.`);
  }
  onProgress?.(0, 'reading the mineral map');
  const mapName = shown(input.map);
  if (!input.legend) throw invalidInput(`EDS map ${mapName} needs its legend (a CSV with name,r,g,b per mineral, or id,name,r,g,b for a label image).`);
  // the legend first: it is small, and a bad one is found before the map is decoded
  const legendStat = await stat(input.legend).catch(() => null);
  if (legendStat?.isFile()) checkLegendBytes(legendStat.size, shown(input.legend), limits);
  const legendText = decodeLegendBytes(await readBytes(input.legend, 'Legend', limits));
  const legend = parseLegend(legendText, shown(input.legend), limits);
  const raster = await readRaster(input.map, 'EDS map', limits);
  throwIfAborted(signal);
  let pixelSizeUm = input.pixelSizeUm;
  if (pixelSizeUm !== undefined && !(pixelSizeUm > 0 && Number.isFinite(pixelSizeUm))) {
    throw invalidInput(`EDS map ${mapName}: the pixel size must be a positive number of µm, not ${pixelSizeUm}.`);
  }
  pixelSizeUm ??= raster.resolutionUm;
  if (pixelSizeUm === undefined) {
    throw invalidInput(`EDS map ${mapName}: its pixel size is unknown (the image stores none). Give it in µm (e.g. --pixel-um 2.5), as the EDS software reports it.`);
  }
  onProgress?.(0.3, 'assigning minerals');
  if (!legend.coloursGiven && raster.kind === 'colour') {
    throw invalidInput(
      `EDS map ${mapName} is a colour image, but its legend ${legend.source} gives only codes and names, no colours. ` +
        'A colour map needs each mineral\'s colour (name,r,g,b); a code,name legend goes with a label image (one whole-number phase code per pixel).',
    );
  }
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
  map.companions = await readCompanions(input.companions ?? [], map, signal, limits);
  onProgress?.(1, 'mineral map imported');
  return map;
}

/** The dataset to import from a TIMA folder: the one named, the only one, or an error listing them. */
function chooseTimaDataset(list: TimaDatasetInfo[], key: string | undefined, folder: string): TimaDatasetInfo {
  if (key !== undefined && key.trim()) return pickTimaDataset(list, key, `TIMA project ${folder}`);
  if (list.length === 1) return list[0];
  throw invalidInput(`TIMA project ${folder} holds ${list.length} datasets: ${describeTimaDatasets(list)}. Choose one by its sample name or id.`, { details: { timaDatasets: list } });
}

export { coloursToLabels, idsToLabels, rasterToGrey } from './labels-from-raster';
import { coloursToLabels, greyCodedLegend, greyToColour, idsToLabels, rasterToGrey } from './labels-from-raster';

async function readCompanions(list: { name: string; path: string }[], map: MineralMap, signal: AbortSignal | undefined, limits: Limits): Promise<CompanionImage[]> {
  const out: CompanionImage[] = [];
  const names = new Set(map.companions.map((c) => c.name.toLowerCase()));
  for (const c of list) {
    throwIfAborted(signal);
    const name = c.name.trim();
    if (!name) throw invalidInput(`Companion image ${shown(c.path)} needs a name (e.g. BSE, Fe).`);
    if (name.length > limits.maxNameChars) throw invalidInput(`Companion image ${shown(c.path)}: its name is ${name.length} characters long, more than the ${limits.maxNameChars} allowed.`);
    if (names.has(name.toLowerCase())) throw invalidInput(`Companion image ${shown(c.path)}: there is already a companion named ${name}.`);
    names.add(name.toLowerCase());
    const r = await readRaster(c.path, 'Companion image', limits);
    if (r.width !== map.width || r.height !== map.height) {
      throw invalidInput(`Companion image ${shown(c.path)} (${name}) is ${r.width} x ${r.height} pixels but the mineral map ${map.source ?? ''} is ${map.width} x ${map.height}; they must cover the same pixels.`);
    }
    out.push({ name, data: rasterToGrey(r) });
  }
  return out;
}

/**
 * A file or folder named in TIMA XML, resolved inside the export: the name must be a plain relative
 * name (no absolute path, drive, backslash or '..'), and after following links the path must still
 * lie inside the export folder. Returns undefined when it does not exist.
 */
function isPlainRelative(rel: string): boolean {
  const segs = rel.split('/');
  return (
    rel.length > 0 && rel.length <= 255 && !rel.includes('\0') && !rel.includes('\\') && !isAbsolute(rel) && !/^[A-Za-z]:/.test(rel) &&
    segs.every((p, i) => (p !== '' || i === segs.length - 1) && p !== '.' && p !== '..')
  );
}

async function insideExport(rootReal: string, base: string, rel: string, what: string, folder: string): Promise<string | undefined> {
  if (!isPlainRelative(rel)) {
    const why = isAbsolute(rel) || /^[A-Za-z]:|^\\/.test(rel) ? 'an absolute path' : rel.split(/[\\/]/).includes('..') ? "a path that climbs out with '..'" : 'not a plain relative name';
    throw invalidInput(`TIMA export ${folder}: ${what} is ${why}; petromap only reads files inside the export folder.`);
  }
  const p = join(base, rel);
  let real: string;
  try {
    real = await realpath(p);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw invalidInput(`TIMA export ${folder}: ${what} cannot be opened (${(err as NodeJS.ErrnoException).code ?? 'error'}).`, { cause: err });
  }
  if (real !== rootReal && !real.startsWith(rootReal + sep)) {
    throw invalidInput(`TIMA export ${folder}: ${what} is a link that points outside the export folder; petromap only reads files inside the export.`);
  }
  return real;
}

/** Reads a TESCAN TIMA export folder and stitches its fields (labels = TIMA phase ids). */
export async function importTimaExport(dir: string, opts: ImportOptions = {}): Promise<MineralMap> {
  try {
    return await importTimaExportUnchecked(dir, opts);
  } catch (err) {
    throw cleanError(err, `TIMA export ${shown(dir)}`);
  }
}

async function importTimaExportUnchecked(dir: string, opts: ImportOptions): Promise<MineralMap> {
  const { signal, onProgress } = opts;
  const limits = opts.limits ?? DEFAULT_LIMITS;
  const folder = shown(dir);
  const rootReal = await realpath(dir).catch(() => {
    throw notFound(`TIMA export ${folder} does not exist.`);
  });
  const readText = async (name: string) => {
    const p = await insideExport(rootReal, rootReal, name, name, folder);
    const st = p ? await stat(/*turbopackIgnore: true*/ p).catch(() => null) : null;
    if (!p || !st) throw invalidInput(`TIMA export ${folder}: ${name} is missing; export the measurement again with its XML files.`);
    if (!st.isFile()) throw invalidInput(`TIMA export ${folder}: ${name} is not a file.`);
    if (st.size > limits.maxXmlBytes) {
      throw invalidInput(`TIMA export ${folder}: ${name} is ${formatBytes(st.size)}, more than the ${formatBytes(limits.maxXmlBytes)} petromap reads (${LIMIT_ENV.maxXmlBytes.name}).`);
    }
    const t = await readFile(/*turbopackIgnore: true*/ p, 'utf8');
    if (!t.trim()) throw invalidInput(`TIMA export ${folder}: ${name} is empty.`);
    return t;
  };
  const measurement = parseTimaMeasurement(await readText('measurement.xml'), `${folder}/measurement.xml`);
  const { fieldDir, fields } = parseTimaFields(await readText('fields.xml'), `${folder}/fields.xml`, limits);
  const phases = parseTimaPhases(await readText('phases.xml'), `${folder}/phases.xml`, limits);
  // the mosaic is bounded before any field image is read
  checkTimaMosaic(measurement, fields, `${folder}/fields.xml`, limits);
  const sem = measurement.semImages.find((s) => /bse/i.test(s.caption) || /bse/i.test(s.fileName)) ?? measurement.semImages[0];
  const fieldsReal = await insideExport(rootReal, rootReal, fieldDir, 'the field folder <FieldDir> in fields.xml', folder);
  if (!fieldsReal) throw invalidInput(`TIMA export ${folder}: the field folder ${clip(fieldDir)} named in fields.xml is missing. Copy the complete export folder.`);
  // TIMA phase id → label (unclassified-named phases → 0)
  const known = new Map<number, number>(phases.map((p) => [p.id, isUnclassifiedName(p.name) ? 0 : p.id]));
  known.set(0, 0);
  const W = measurement.imageWidth, H = measurement.imageHeight;
  const fieldImage = async (fdir: string, file: string, rel: string, what: string): Promise<Raster> => {
    // a name from the XML is only quoted once it is known to be a plain relative name
    const label = isPlainRelative(file) ? `${rel}/${clip(file)}` : `the SEM image <FileName> in measurement.xml (for ${rel})`;
    const p = await insideExport(rootReal, fdir, file, label, folder);
    if (!p) throw invalidInput(`TIMA export ${folder}: ${rel}/${clip(file)}${what === 'TIMA phase image' ? '' : ` (${clip(sem?.caption || 'SEM image')})`} is missing.`);
    const bytes = await readBytes(p, what, limits);
    const name = `TIMA export ${folder}: ${rel}/${clip(file)}`;
    const size = await readRasterSize(bytes, name);
    if (size.width !== W || size.height !== H) throw invalidInput(`${name} is ${size.width} x ${size.height} pixels but measurement.xml says ${W} x ${H}.`);
    return decodeRaster(bytes, name, limits);
  };
  const images: TimaFieldImages[] = [];
  for (let k = 0; k < fields.length; k++) {
    throwIfAborted(signal);
    const f = fields[k];
    const rel = `${clip(fieldDir, 40)}/${clip(f.name)}`;
    const fdir = await insideExport(rootReal, fieldsReal, f.name, `the folder of field ${clip(f.name)}`, folder);
    if (!fdir) {
      throw invalidInput(`TIMA export ${folder}: field ${clip(f.name)} is listed in fields.xml but its folder ${rel} is missing. Copy the complete export folder.`);
    }
    const pr = await fieldImage(fdir, 'phases.tif', rel, 'TIMA phase image');
    if (pr.kind !== 'scalar' || !pr.integer) throw invalidInput(`TIMA export ${folder}: ${rel}/phases.tif should hold one integer phase id per pixel.`);
    const ids = new Uint16Array(W * H);
    const unknown = new Set<number>();
    for (let i = 0; i < ids.length; i++) {
      const id = known.get(pr.data[i]);
      if (id === undefined) {
        if (unknown.size < 100) unknown.add(pr.data[i]);
      } else ids[i] = id;
    }
    if (unknown.size) {
      throw invalidInput(`TIMA export ${folder}: ${rel}/phases.tif uses phase ids ${[...unknown].sort((a, b) => a - b).slice(0, 10).join(', ')}${unknown.size > 10 ? ', …' : ''} that phases.xml does not list.`);
    }
    let bse: Float32Array | undefined;
    if (sem) bse = rasterToGrey(await fieldImage(fdir, sem.fileName, rel, 'TIMA SEM image'));
    images.push({ field: f, phases: ids, bse });
    if (k % 16 === 0) onProgress?.((0.9 * k) / fields.length, `reading TIMA field ${k + 1} of ${fields.length}`);
  }
  onProgress?.(0.9, 'stitching fields');
  const s = stitchTimaFields(measurement, images, limits);
  const present = new Set<number>();
  for (let i = 0; i < s.labels.length; i++) present.add(s.labels[i]);
  const legend: MineralPhase[] = timaLegend(phases, present);
  const companions: CompanionImage[] = s.bse ? [{ name: sem?.caption?.slice(0, limits.maxNameChars) || 'BSE', data: s.bse }] : [];
  onProgress?.(1, 'TIMA export stitched');
  const map: MineralMap = { width: s.width, height: s.height, pixelSizeUm: s.pixelSizeUm, labels: s.labels, legend, companions, source: folder };
  // the mosaic rectangle is larger than the fields where they do not tile it (a round mount): keep what was measured
  if (s.covered.includes(0)) map.measured = s.covered;
  // the fields as rectangles of the mosaic, for per-field registration (empty ones, wholly cut by neighbours, left out)
  map.fields = timaFieldRects(measurement, fields).filter((f) => f.width > 0 && f.height > 0);
  return map;
}
