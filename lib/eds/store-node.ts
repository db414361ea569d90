/**
 * Stores a MineralMap in a folder for the server:
 *   map.json            { format, version, width, height, pixelSizeUm, source, legend (with areaFraction),
 *                         unclassifiedFraction, labels file, companions [{ name, file }] }
 *   labels.u16          phase id per pixel, row-major, raw little-endian uint16
 *   measured.u8         1 where the instrument measured the pixel, 0 where no field covers it
 *                       (only for maps with a measured-area mask, e.g. TIMA mosaics of a round mount)
 *   companion-<k>-<name>.f32   each companion image, raw little-endian float32
 *   (map.json `fields`: the instrument's field layout [{ name, u0, v0, width, height }], TIMA maps
 *    only; maps stored before it, and other maps, have none)
 *   (map.json `crop`: { x, y, width, height, fromWidth, fromHeight }, a map cut by import-eds --crop:
 *    pixel u, v of this map is u + x, v + y of the map as exported)
 * Saving is atomic: everything is written into `<dir>.partial-<…>` and renamed onto `dir`, so a
 * failure leaves what was stored before intact. The folder carries petromap's marker (`.petromap`);
 * an existing folder is only replaced if petromap wrote it (never a user's non-empty folder).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { endianness } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { invalidInput, notFound, PetromapError } from '../errors';
import { safeMessage } from '../limits';
import { checkReplaceableFolder, writeFolderMarker } from '../output-folder-node';
import { phaseAreas } from './minor-phases';
import type { FieldRect } from '../registration/types';
import { notMeasuredFraction, unclassifiedFraction, type MapCrop, type MineralMap, type MineralPhase } from './types';

export { mineralAreaFractions, renderCompanionPng, renderMineralMapPng } from './render';

export const MINERAL_MAP_FORMAT = 'petromap-mineral-map';
const LE = endianness() === 'LE';

interface StoredMapJson {
  format: typeof MINERAL_MAP_FORMAT;
  version: 1;
  width: number;
  height: number;
  pixelSizeUm: number;
  source?: string;
  sampleName?: string;
  legend: (MineralPhase & { areaFraction: number; pixels: number })[];
  /** measured pixels with no mineral, fraction of all pixels */
  unclassifiedFraction: number;
  /** pixels no field covers, fraction of all pixels */
  notMeasuredFraction: number;
  labels: string;
  measured?: string;
  companions: { name: string; file: string }[];
  /** the instrument's field layout (TIMA), map pixels; absent for other maps and maps stored before */
  fields?: FieldRect[];
  /** import-eds --crop: this map's box in the map as exported (pixel u, v here is u + x, v + y there) */
  crop?: MapCrop;
}

function leBytes(a: Uint16Array | Float32Array): Uint8Array {
  const b = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  if (LE) return b;
  const out = new Uint8Array(b.length);
  const w = a.BYTES_PER_ELEMENT;
  for (let i = 0; i < b.length; i += w) for (let k = 0; k < w; k++) out[i + k] = b[i + w - 1 - k];
  return out;
}

function fromLe(buf: Uint8Array, w: 2 | 4): Uint8Array {
  const copy = new Uint8Array(buf.length);
  if (LE) copy.set(buf);
  else for (let i = 0; i < buf.length; i += w) for (let k = 0; k < w; k++) copy[i + k] = buf[i + w - 1 - k];
  return copy;
}

function checkMap(map: MineralMap, where: string): void {
  const n = map.width * map.height;
  if (!(Number.isInteger(map.width) && Number.isInteger(map.height) && map.width > 0 && map.height > 0)) throw invalidInput(`${where}: map size ${map.width} x ${map.height} is not valid.`);
  if (map.labels.length !== n) throw invalidInput(`${where}: the map has ${map.labels.length} labels for ${map.width} x ${map.height} pixels.`);
  if (!(map.pixelSizeUm > 0)) throw invalidInput(`${where}: pixel size ${map.pixelSizeUm} µm is not positive.`);
  for (const c of map.companions) if (c.data.length !== n) throw invalidInput(`${where}: companion ${c.name} has ${c.data.length} values for ${n} pixels.`);
  if (map.measured && map.measured.length !== n) throw invalidInput(`${where}: the measured-area mask has ${map.measured.length} values for ${n} pixels.`);
  if (map.fields) checkFields(map.fields, map.width, map.height, `${where}: its field layout`);
  if (map.crop) checkCrop(map.crop, map.width, map.height, where);
}

/** A recorded crop: whole pixels, its size the map's, inside the map it was cut from. */
function checkCrop(c: unknown, width: number, height: number, where: string): asserts c is MapCrop {
  const k = c as Partial<MapCrop> | null;
  const int = (x: unknown, min: number): x is number => Number.isInteger(x) && (x as number) >= min;
  const ok = !!k && typeof k === 'object' && int(k.x, 0) && int(k.y, 0) && k.width === width && k.height === height &&
    int(k.fromWidth, 1) && int(k.fromHeight, 1) && k.x + width <= k.fromWidth && k.y + height <= k.fromHeight;
  if (!ok) throw invalidInput(`${where}: its crop record is not a box of whole pixels the map's size inside the map it was cut from.`);
}

const MAX_FIELDS = 100_000;

/** A field layout lies inside the map: whole pixels, non-negative, within width x height. */
function checkFields(fields: unknown, width: number, height: number, where: string): asserts fields is FieldRect[] {
  if (!Array.isArray(fields) || fields.length > MAX_FIELDS) throw invalidInput(`${where} is not a list of at most ${MAX_FIELDS} fields.`);
  fields.forEach((f: Partial<FieldRect> | null, i) => {
    const int = (x: unknown): x is number => Number.isInteger(x) && (x as number) >= 0;
    const ok = !!f && typeof f === 'object' && int(f.u0) && int(f.v0) && int(f.width) && int(f.height) && f.u0 + f.width <= width && f.v0 + f.height <= height &&
      (f.name === undefined || (typeof f.name === 'string' && f.name.length <= 200));
    if (!ok) throw invalidInput(`${where}: field ${i + 1} is not a rectangle of whole pixels inside the ${width} x ${height} map.`);
  });
}

const safeName = (s: string) => s.replace(/[^A-Za-z0-9_.-]+/g, '_').slice(0, 40);

/** Files saveMineralMap writes (a folder holding only these was written by petromap before the marker). */
const ownMapFile = (name: string) => name === 'map.json' || name === 'labels.u16' || name === 'measured.u8' || /^companion-\d+-[A-Za-z0-9_.-]*\.f32$/.test(name);

/** Refuses (Conflict) when `dir` exists and is not a mineral map folder petromap wrote. */
export async function checkMineralMapFolder(dir: string): Promise<void> {
  await checkReplaceableFolder(dir, 'Storing the mineral map', ownMapFile);
}

export async function saveMineralMap(dir: string, map: MineralMap): Promise<void> {
  checkMap(map, `Mineral map ${map.source ?? basename(dir)}`);
  await checkMineralMapFolder(dir);
  await mkdir(dirname(dir), { recursive: true });
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const partial = `${dir}.partial-${tag}`;
  try {
    await mkdir(partial);
    await writeFolderMarker(partial, 'mineral-map');
    const areas = new Map(phaseAreas(map).map((p) => [p.id, p]));
    const companions = map.companions.map((c, k) => ({ name: c.name, file: `companion-${k}-${safeName(c.name)}.f32` }));
    const json: StoredMapJson = {
      format: MINERAL_MAP_FORMAT,
      version: 1,
      width: map.width,
      height: map.height,
      pixelSizeUm: map.pixelSizeUm,
      source: map.source,
      ...(map.sampleName ? { sampleName: map.sampleName } : {}),
      legend: map.legend.map((p) => ({ id: p.id, name: p.name, color: [...p.color] as [number, number, number], areaFraction: areas.get(p.id)?.areaFraction ?? 0, pixels: areas.get(p.id)?.pixels ?? 0 })),
      unclassifiedFraction: unclassifiedFraction(map),
      notMeasuredFraction: notMeasuredFraction(map),
      labels: 'labels.u16',
      ...(map.measured ? { measured: 'measured.u8' } : {}),
      companions,
      ...(map.fields ? { fields: map.fields.map((f) => ({ ...(f.name !== undefined ? { name: f.name } : {}), u0: f.u0, v0: f.v0, width: f.width, height: f.height })) } : {}),
      ...(map.crop ? { crop: { x: map.crop.x, y: map.crop.y, width: map.crop.width, height: map.crop.height, fromWidth: map.crop.fromWidth, fromHeight: map.crop.fromHeight } } : {}),
    };
    await writeFile(join(partial, 'labels.u16'), leBytes(map.labels));
    if (map.measured) await writeFile(join(partial, 'measured.u8'), map.measured);
    for (let k = 0; k < companions.length; k++) await writeFile(join(partial, companions[k].file), leBytes(map.companions[k].data));
    await writeFile(join(partial, 'map.json'), JSON.stringify(json, null, 2) + '\n');
    const old = `${dir}.old-${tag}`;
    await checkMineralMapFolder(dir); // again: the folder may have appeared while the files were written
    const existed = !!(await stat(dir).catch(() => null));
    if (existed) await rename(dir, old);
    try {
      await rename(partial, dir);
    } catch (err) {
      if (existed) await rename(old, dir).catch(() => undefined);
      throw err;
    }
    if (existed) await rm(old, { recursive: true, force: true });
  } catch (err) {
    await rm(partial, { recursive: true, force: true }).catch(() => undefined);
    if (err instanceof PetromapError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOSPC') throw new PetromapError('DiskFull', `The disk is full: could not store the mineral map ${map.source ?? ''} in ${basename(dir)}.`, { cause: err });
    throw new PetromapError('Unprocessable', `Could not store the mineral map in ${basename(dir)}: ${safeMessage((err as Error).message ?? String(err), 200)}`, { cause: err });
  }
}

export async function loadMineralMap(dir: string): Promise<MineralMap> {
  const jsonPath = join(dir, 'map.json');
  const text = await readFile(jsonPath, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') throw notFound(`No mineral map is stored in ${dir} (map.json is missing).`);
    throw err;
  });
  let j: StoredMapJson;
  try {
    j = JSON.parse(text) as StoredMapJson;
  } catch (err) {
    throw invalidInput(`Stored mineral map ${jsonPath} is damaged (not valid JSON).`, { cause: err });
  }
  if (j.format !== MINERAL_MAP_FORMAT || !Array.isArray(j.legend)) throw invalidInput(`${jsonPath} is not a stored petromap mineral map.`);
  const n = j.width * j.height;
  const readRaw = async (file: string, w: 1 | 2 | 4, what: string) => {
    const buf = await readFile(join(dir, file)).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') throw invalidInput(`Stored mineral map ${dir} is incomplete: ${file} (${what}) is missing.`);
      throw err;
    });
    if (buf.length !== n * w) throw invalidInput(`Stored mineral map ${dir} is damaged: ${file} (${what}) has ${buf.length} bytes, expected ${n * w} for ${j.width} x ${j.height} pixels.`);
    return w === 1 ? new Uint8Array(buf).buffer : fromLe(buf, w).buffer;
  };
  const labels = new Uint16Array(await readRaw(j.labels ?? 'labels.u16', 2, 'phase labels'));
  const companions = [];
  for (const c of j.companions ?? []) companions.push({ name: c.name, data: new Float32Array(await readRaw(c.file, 4, `companion ${c.name}`)) });
  const map: MineralMap = {
    width: j.width,
    height: j.height,
    pixelSizeUm: j.pixelSizeUm,
    labels,
    legend: j.legend.map((p) => ({ id: p.id, name: p.name, color: [p.color[0], p.color[1], p.color[2]] })),
    companions,
  };
  if (j.source !== undefined) map.source = j.source;
  if (j.sampleName) map.sampleName = j.sampleName;
  if (j.measured) map.measured = new Uint8Array(await readRaw(j.measured, 1, 'measured-area mask'));
  if (j.fields !== undefined) {
    checkFields(j.fields, j.width, j.height, `Stored mineral map ${dir} is damaged`);
    map.fields = j.fields.map((f) => ({ ...(f.name !== undefined ? { name: f.name } : {}), u0: f.u0, v0: f.v0, width: f.width, height: f.height }));
  }
  if (j.crop !== undefined) {
    checkCrop(j.crop, j.width, j.height, `Stored mineral map ${dir} is damaged`);
    map.crop = { x: j.crop.x, y: j.crop.y, width: j.crop.width, height: j.crop.height, fromWidth: j.crop.fromWidth, fromHeight: j.crop.fromHeight };
  }
  return map;
}

/**
 * The stored map's field layout without reading its pixels (map.json only): the number of fields,
 * 0 for a map without one (not TIMA, or stored before the layout was kept), undefined when no map is stored.
 */
export async function storedFieldCount(dir: string): Promise<number | undefined> {
  const text = await readFile(join(dir, 'map.json'), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    const j = JSON.parse(text) as Partial<StoredMapJson>;
    return Array.isArray(j.fields) ? j.fields.length : 0;
  } catch {
    return undefined;
  }
}
