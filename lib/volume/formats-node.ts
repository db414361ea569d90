/**
 * Header readers for the volume formats we import. Each `open*` validates the header against the
 * file, returns a description (shape, types, spacing in µm) and a slice reader that streams the
 * voxels in z order: memory is bounded by what the caller asks for at a time.
 */
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import * as zlib from 'node:zlib';
import { BaseDecoder, fromFile, type GeoTIFF, type GeoTIFFImage } from 'geotiff';
import { invalidInput, notFound, unsupported } from '../errors';
import { checkDecodeBudget, DEFAULT_LIMITS, safeMessage, type Limits } from '../limits';
import {
  conversionNote,
  fileByteReader,
  SOURCE_BYTES,
  storedTypeFor,
  streamByteReader,
  VoxelDecoder,
  type ByteReader,
  type SourceDType,
} from './byte-readers-node';
import type { AnyVoxelArray, DType, Shape3 } from './types';

export type VolumeFormat = 'tiff' | 'tiff-folder' | 'nrrd' | 'mha' | 'mhd' | 'nifti' | 'raw';

export const SUPPORTED_EXTENSIONS = '.tif/.tiff (multi-page), a folder of .tif slices, .nrrd/.nhdr, .mha, .mhd (+ .raw), .nii/.nii.gz, or headerless .raw with its dimensions';

export interface RawOptions {
  shape: Shape3;
  dtype: SourceDType | DType;
  littleEndian: boolean;
  headerBytes?: number;
}

export interface VolumeFileDescription {
  format: VolumeFormat;
  /** the file (or folder) described */
  path: string;
  /** (z, y, x) voxels */
  shape: Shape3;
  /** voxel type in the file */
  sourceType: SourceDType;
  /** voxel type in the imported store */
  dtype: DType;
  /** (z, y, x) in µm; [1,1,1] when the file does not say (see spacingKnown) */
  spacingUm: [number, number, number];
  originUm: [number, number, number];
  spacingKnown: boolean;
  littleEndian: boolean;
  /** how the voxel data is stored: raw, gzip, zlib, tiff strips ... */
  encoding: string;
  /** things the user should know: conversions, assumed units, ignored orientation */
  notes: string[];
}

/** What every `open*` takes besides the path: the budgets, and whether a header may name a data file. */
export interface OpenOptions {
  limits?: Limits;
  /**
   * NRRD `data file:` / MHD `ElementDataFile` naming another file (default true). A server that
   * received one uploaded file passes false: the header's folder is not the user's.
   */
  allowDetachedData?: boolean;
}

export interface VolumeReader {
  desc: VolumeFileDescription;
  /** Read the next `out.length / (ny*nx)` slices (in z order) into `out` (stored dtype). */
  readSlices(out: AnyVoxelArray): Promise<void>;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// helpers

const UNITS_UM: Record<string, number> = { m: 1e6, cm: 1e4, mm: 1e3, um: 1, 'µm': 1, 'μm': 1, micron: 1, microns: 1, micrometer: 1, micrometers: 1, micrometre: 1, micrometres: 1, nm: 1e-3 };

export function unitToUm(unit: string | undefined): number | undefined {
  if (!unit) return undefined;
  return UNITS_UM[unit.trim().replace(/^"|"$/g, '').toLowerCase()];
}

/** Unit-less spacings: XRM voxels are 0.05-100 µm, so values below 0.1 are taken as mm. */
function unitlessToUm(values: number[], what: string, notes: string[]): number {
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

function xyzToZyx<T>(v: T[]): [T, T, T] {
  return [v[2]!, v[1]!, v[0]!];
}

async function fileSize(path: string, name: string): Promise<number> {
  const st = await fs.promises.stat(path).catch(() => null);
  if (!st) throw notFound(`${name} does not exist.`);
  if (!st.isFile()) throw invalidInput(`${name} is not a file.`);
  if (st.size === 0) throw invalidInput(`${name} is empty (0 bytes). Copy the file again.`);
  return st.size;
}

async function readHead(path: string, n: number): Promise<Buffer> {
  const fh = await fs.promises.open(path, 'r');
  try {
    const buf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
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
function checkShape(shape: number[], name: string, src?: SourceDType, limits: Limits = DEFAULT_LIMITS): Shape3 {
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
function checkOffset(v: number, field: string, name: string, allowMinusOne: boolean): number {
  if (!Number.isFinite(v) || !Number.isInteger(v) || v < (allowMinusOne ? -1 : 0) || v > Number.MAX_SAFE_INTEGER) {
    throw invalidInput(`${name}: its ${field} must be a whole number ≥ 0${allowMinusOne ? ' (or -1)' : ''}; the header is damaged.`);
  }
  return v;
}

/**
 * The data file a detached header names: only a plain file name in the header's own folder
 * (no folder part, no "..", not absolute), and a link there must not lead out of that folder.
 * The messages never tell whether anything outside the folder exists.
 */
async function resolveDataFile(headerPath: string, ref: string, name: string, opts: OpenOptions): Promise<string> {
  const what = `${name}: its data file "${shown(ref)}"`;
  if (opts.allowDetachedData === false) {
    throw unsupported(`${name} is a header whose voxels are in another file ("${shown(ref)}"); upload a single-file volume (.nrrd, .mha, .nii, .tif) or a .zip holding the header and its data file.`);
  }
  if (!ref || ref === '.' || ref === '..' || /[\\/\x00]/.test(ref) || nodePath.isAbsolute(ref) || /^[A-Za-z]:/.test(ref)) {
    throw invalidInput(`${what} is not allowed: it must be a plain file name in the same folder as the header (no folder, "..", or absolute path).`);
  }
  const dir = nodePath.dirname(nodePath.resolve(headerPath));
  const dataPath = nodePath.join(dir, ref);
  const lst = await fs.promises.lstat(dataPath).catch(() => null);
  if (!lst) throw notFound(`${what} was not found next to it. Put the header and its data file in the same folder.`);
  if (lst.isSymbolicLink()) {
    const escape = invalidInput(`${what} is a link leading out of the header's folder (or nowhere); copy the data file itself next to the header.`);
    // the link's first target is checked without touching it, then the whole chain
    const target = await fs.promises.readlink(dataPath).catch(() => null);
    const first = target === null ? null : nodePath.resolve(dir, target);
    if (first === null || !(isInside(dir, first) || isInside(await realDir(dir), first))) throw escape;
    const real = await fs.promises.realpath(dataPath).catch(() => null);
    if (!real || nodePath.dirname(real) !== (await realDir(dir))) throw escape;
    return real;
  }
  return dataPath;
}

async function realDir(dir: string): Promise<string> {
  return fs.promises.realpath(dir).catch(() => dir);
}

function isInside(dir: string, p: string): boolean {
  return nodePath.dirname(p) === dir;
}

function voxels(shape: Shape3): number {
  return shape[0] * shape[1] * shape[2];
}

function describe(
  format: VolumeFormat,
  path: string,
  shape: Shape3,
  src: SourceDType,
  spacing: { um?: [number, number, number]; notes: string[] },
  originUm: [number, number, number],
  littleEndian: boolean,
  encoding: string,
  scaled = false,
): VolumeFileDescription {
  const notes = [...spacing.notes];
  const conv = conversionNote(src, scaled);
  if (conv) notes.push(conv);
  const known = !!spacing.um && spacing.um.every((v) => Number.isFinite(v) && v > 0);
  if (!known) notes.push('the file does not give the voxel size: 1 µm was assumed (give the real one with --spacing z,y,x)');
  return {
    format,
    path,
    shape,
    sourceType: src,
    dtype: storedTypeFor(src, scaled),
    spacingUm: known ? spacing.um! : [1, 1, 1],
    originUm: originUm.map((v) => (Number.isFinite(v) ? v : 0)) as [number, number, number],
    spacingKnown: known,
    littleEndian,
    encoding,
    notes,
  };
}

/** A reader over a byte stream of z-major voxels. */
function streamReader(desc: VolumeFileDescription, bytes: ByteReader, decoder: VoxelDecoder): VolumeReader {
  return {
    desc,
    readSlices: (out) => decoder.readInto(bytes, out),
    close: () => bytes.close(),
  };
}

// ---------------------------------------------------------------------------------------------
// NRRD

const NRRD_TYPES: Record<string, SourceDType> = {
  'signed char': 'int8', int8: 'int8', int8_t: 'int8',
  uchar: 'uint8', 'unsigned char': 'uint8', uint8: 'uint8', uint8_t: 'uint8',
  short: 'int16', 'short int': 'int16', 'signed short': 'int16', 'signed short int': 'int16', int16: 'int16', int16_t: 'int16',
  ushort: 'uint16', 'unsigned short': 'uint16', 'unsigned short int': 'uint16', uint16: 'uint16', uint16_t: 'uint16',
  int: 'int32', 'signed int': 'int32', int32: 'int32', int32_t: 'int32',
  uint: 'uint32', 'unsigned int': 'uint32', uint32: 'uint32', uint32_t: 'uint32',
  float: 'float32', double: 'float64',
};

function parseVector(s: string): number[] | null {
  const m = s.trim().match(/^\(([^)]*)\)$/);
  if (!m) return null;
  return m[1]!.split(',').map((x) => Number(x.trim()));
}

export async function openNrrd(path: string, name: string, opts: OpenOptions = {}): Promise<VolumeReader> {
  const limits = opts.limits ?? DEFAULT_LIMITS;
  const size = await fileSize(path, name);
  const head = await readHead(path, Math.min(size, 1 << 20));
  if (!head.subarray(0, 4).toString('latin1').startsWith('NRRD')) throw invalidInput(`${name} is not an NRRD file (it does not start with "NRRD").`);
  const text = head.toString('latin1');
  let end = text.indexOf('\n\n');
  let sepLen = 2;
  const crlf = text.indexOf('\r\n\r\n');
  if (crlf >= 0 && (end < 0 || crlf < end)) (end = crlf), (sepLen = 4);
  const detachedOk = path.toLowerCase().endsWith('.nhdr');
  if (end < 0) {
    if (!detachedOk) throw invalidInput(`${name}: the NRRD header has no end (no blank line) in its first MB; the file is damaged or not NRRD.`);
    end = text.length;
  }
  const fields = new Map<string, string>();
  for (const raw of text.slice(0, end).split(/\r?\n/).slice(1)) {
    if (raw.startsWith('#') || raw.trim() === '' || raw.includes(':=')) continue;
    const i = raw.indexOf(': ');
    if (i < 0) continue;
    fields.set(raw.slice(0, i).trim().toLowerCase(), raw.slice(i + 2).trim());
  }
  const field = (k: string) => fields.get(k);
  const typeName = (field('type') ?? '').toLowerCase();
  const src = NRRD_TYPES[typeName];
  if (!src) throw unsupported(`${name}: NRRD voxel type "${shown(field('type'))}" is not supported (8/16/32-bit integers, float, double).`);
  const dim = Number(field('dimension'));
  const sizes = (field('sizes') ?? '').split(/\s+/).map(Number);
  if (!(dim === 3 || dim === 2) || sizes.length !== dim || sizes.some((n) => !Number.isInteger(n) || n < 1)) {
    throw invalidInput(`${name}: the NRRD header must describe a 3D volume (dimension: 3 and three sizes), got dimension "${shown(field('dimension'))}" and sizes "${shown(field('sizes'))}".`);
  }
  const xyz = dim === 3 ? sizes : [...sizes, 1];
  const shape = checkShape(xyzToZyx(xyz), name, src, limits);
  const notes: string[] = [];
  // spacing
  let spacingXyz: number[] | undefined;
  const dirs = field('space directions');
  if (dirs) {
    const vecs = dirs.match(/\([^)]*\)|none/g) ?? [];
    const norms = vecs.filter((v) => v !== 'none').map((v) => Math.hypot(...(parseVector(v) ?? [NaN])));
    if (norms.length >= 2) spacingXyz = dim === 3 ? norms : [...norms, norms[0]!];
    const v = vecs.filter((x) => x !== 'none').map((x) => parseVector(x) ?? []);
    const offDiag = v.some((row, i) => row.some((c, j) => j !== i && Math.abs(c) > 1e-9 * (norms[i] ?? 1)));
    if (offDiag) notes.push('the NRRD space directions are rotated; only the voxel sizes were kept (the volume is stored in its array order)');
  } else if (field('spacings')) {
    const s = field('spacings')!.split(/\s+/).map(Number);
    spacingXyz = dim === 3 ? s : [...s, s[0]!];
  }
  let origin = [0, 0, 0];
  const so = field('space origin');
  if (so) origin = parseVector(so) ?? origin;
  let toUm = 1;
  const units = (field('space units') ?? field('units'))?.match(/"([^"]*)"/g)?.map((u) => u.replace(/"/g, ''));
  if (units && units.length > 0) {
    const f = unitToUm(units[0]);
    if (f === undefined) notes.push(`unknown length unit "${shown(units[0])}" in the NRRD header; values taken as µm`);
    else toUm = f;
  } else if (spacingXyz) {
    toUm = unitlessToUm(spacingXyz, 'the NRRD header', notes);
  }
  const spacingUm = spacingXyz && spacingXyz.every((v) => Number.isFinite(v) && v > 0) ? (xyzToZyx(spacingXyz.map((v) => v * toUm))) : undefined;
  const originUm = xyzToZyx(origin.map((v) => v * toUm));
  const encoding = (field('encoding') ?? 'raw').toLowerCase();
  const endian = (field('endian') ?? 'little').toLowerCase();
  const littleEndian = endian !== 'big';
  const expected = voxels(shape) * SOURCE_BYTES[src];
  const desc = describe('nrrd', path, shape, src, { um: spacingUm, notes }, originUm, littleEndian, encoding);
  // data location
  let dataPath = path;
  let dataStart = end + sepLen;
  let dataSize = size;
  const dataFile = field('data file') ?? field('datafile');
  const byteSkip = checkOffset(Number(field('byte skip') ?? 0), '"byte skip"', name, true);
  const lineSkip = Number(field('line skip') ?? 0);
  if (lineSkip) throw unsupported(`${name}: NRRD "line skip" is not supported.`);
  if (dataFile) {
    if (/^LIST|%/.test(dataFile) || dataFile.split(/\s+/).length > 1) throw unsupported(`${name}: NRRD headers that list several data files are not supported; give a single data file.`);
    dataPath = await resolveDataFile(path, dataFile, name, opts);
    dataStart = 0;
    dataSize = await fileSize(dataPath, `${name}'s data file ${shown(dataFile)}`);
  } else if (end === text.length) {
    throw invalidInput(`${name}: the NRRD header has no "data file" and no blank line before the data.`);
  }
  const decoder = new VoxelDecoder(src, littleEndian);
  if (encoding === 'raw') {
    const start = byteSkip === -1 ? dataSize - expected : dataStart + byteSkip;
    const available = dataSize - Math.max(0, start);
    if (start < 0 || available < expected) {
      throw invalidInput(
        `${name} is truncated or its header is wrong: the sizes ${sizes.join(' x ')} of ${shown(typeName)} need ${expected.toLocaleString('en')} bytes of voxel data ` +
          `but the file holds only ${Math.max(0, available).toLocaleString('en')}.`,
      );
    }
    return streamReader(desc, await fileByteReader(dataPath, start, name, expected), decoder);
  }
  if (encoding === 'gzip' || encoding === 'gz') {
    const stream = fs.createReadStream(dataPath, { start: dataStart, highWaterMark: 1 << 20 }).pipe(zlib.createGunzip({ chunkSize: 1 << 20 }));
    const reader = streamByteReader(stream, name, expected);
    if (byteSkip > 0) await reader.skip(byteSkip);
    else if (byteSkip === -1) throw unsupported(`${name}: "byte skip: -1" with gzip encoding is not supported.`);
    return streamReader(desc, reader, decoder);
  }
  throw unsupported(`${name}: NRRD encoding "${shown(encoding)}" is not supported (raw or gzip). Re-save it as raw or gzip NRRD.`);
}

// ---------------------------------------------------------------------------------------------
// MetaImage (.mha / .mhd)

const MET_TYPES: Record<string, SourceDType> = {
  MET_CHAR: 'int8', MET_UCHAR: 'uint8', MET_SHORT: 'int16', MET_USHORT: 'uint16', MET_INT: 'int32', MET_UINT: 'uint32',
  MET_LONG: 'int32', MET_ULONG: 'uint32', MET_FLOAT: 'float32', MET_DOUBLE: 'float64',
};

export async function openMeta(path: string, name: string, opts: OpenOptions = {}): Promise<VolumeReader> {
  const limits = opts.limits ?? DEFAULT_LIMITS;
  const size = await fileSize(path, name);
  const head = await readHead(path, Math.min(size, 1 << 16));
  const text = head.toString('latin1');
  const fields = new Map<string, string>();
  let headerEnd = -1;
  let pos = 0;
  while (pos < text.length) {
    let nl = text.indexOf('\n', pos);
    if (nl < 0) nl = text.length;
    const line = text.slice(pos, nl).replace(/\r$/, '');
    const eq = line.indexOf('=');
    if (eq > 0) {
      const key = line.slice(0, eq).trim();
      fields.set(key.toLowerCase(), line.slice(eq + 1).trim());
      if (key.toLowerCase() === 'elementdatafile') {
        headerEnd = Math.min(nl + 1, text.length);
        break;
      }
    } else if (line.trim() !== '') {
      break;
    }
    pos = nl + 1;
  }
  if (headerEnd < 0) throw invalidInput(`${name} is not a MetaImage file: no "ElementDataFile = ..." line in its header.`);
  const f = (k: string) => fields.get(k.toLowerCase());
  const ndims = Number(f('NDims'));
  const dimSize = (f('DimSize') ?? '').split(/\s+/).map(Number);
  if (!(ndims === 3 || ndims === 2) || dimSize.length !== ndims || dimSize.some((n) => !Number.isInteger(n) || n < 1)) {
    throw invalidInput(`${name}: the MetaImage header must describe a 3D volume (NDims = 3, three DimSize values), got NDims = ${shown(f('NDims'))} and DimSize = ${shown(f('DimSize'))}.`);
  }
  const channels = Number(f('ElementNumberOfChannels') ?? 1);
  if (channels !== 1) throw unsupported(`${name} has ${shown(String(channels))} values per voxel (colour or vector image); import one greyscale channel.`);
  const src = MET_TYPES[(f('ElementType') ?? '').toUpperCase()];
  if (!src) throw unsupported(`${name}: MetaImage element type "${shown(f('ElementType'))}" is not supported.`);
  const xyz = ndims === 3 ? dimSize : [...dimSize, 1];
  const shape = checkShape(xyzToZyx(xyz), name, src, limits);
  const notes: string[] = [];
  const sp = (f('ElementSpacing') ?? f('ElementSize'))?.split(/\s+/).map(Number);
  const spXyz = sp && sp.length >= 2 ? (ndims === 3 ? sp : [...sp, sp[0]!]) : undefined;
  const toUm = spXyz ? unitlessToUm(spXyz, 'the MetaImage header', notes) : 1;
  const off = (f('Offset') ?? f('Position') ?? f('Origin'))?.split(/\s+/).map(Number) ?? [0, 0, 0];
  const tm = f('TransformMatrix');
  if (tm && tm.split(/\s+/).map(Number).join(' ') !== (ndims === 3 ? '1 0 0 0 1 0 0 0 1' : '1 0 0 1')) notes.push('the MetaImage TransformMatrix is rotated; only the voxel sizes were kept');
  const msb = (f('BinaryDataByteOrderMSB') ?? f('ByteOrderMSB') ?? 'False').toLowerCase() === 'true';
  const compressed = (f('CompressedData') ?? 'False').toLowerCase() === 'true';
  const dataFile = f('ElementDataFile')!;
  const isLocal = dataFile.toUpperCase() === 'LOCAL';
  if (!isLocal && (dataFile.toUpperCase().startsWith('LIST') || dataFile.includes('%') || dataFile.split(/\s+/).length > 1)) {
    throw unsupported(`${name}: MetaImage headers that list several data files are not supported.`);
  }
  const headerSize = checkOffset(Number(f('HeaderSize') ?? 0), 'HeaderSize', name, true);
  if (compressed && headerSize === -1 && !isLocal) throw unsupported(`${name}: "HeaderSize = -1" with compressed data is not supported.`);
  const dataPath = isLocal ? path : await resolveDataFile(path, dataFile, name, opts);
  const dataName = isLocal ? name : `${name}'s data file ${shown(dataFile)}`;
  const dataSize = isLocal ? size : await fileSize(dataPath, dataName);
  const expected = voxels(shape) * SOURCE_BYTES[src];
  const start = isLocal ? headerEnd : headerSize === -1 ? dataSize - expected : headerSize;
  const format: VolumeFormat = path.toLowerCase().endsWith('.mhd') ? 'mhd' : 'mha';
  const desc = describe(format, path, shape, src, { um: spXyz ? xyzToZyx(spXyz.map((v) => v * toUm)) : undefined, notes }, xyzToZyx(off.map((v) => v * toUm)), !msb, compressed ? 'zlib' : 'raw');
  const decoder = new VoxelDecoder(src, !msb);
  if (compressed) {
    if (start >= dataSize) throw invalidInput(`${dataName} holds no compressed voxel data after its header; the file is truncated or the header is wrong.`);
    const stream = fs.createReadStream(dataPath, { start, highWaterMark: 1 << 20 }).pipe(zlib.createInflate({ chunkSize: 1 << 20 }));
    return streamReader(desc, streamByteReader(stream, dataName, expected), decoder);
  }
  const available = dataSize - Math.max(0, start);
  if (start < 0 || available < expected) {
    throw invalidInput(
      `${dataName} is truncated or the header is wrong: DimSize ${dimSize.join(' x ')} of ${shown(f('ElementType'))} needs ${expected.toLocaleString('en')} bytes ` +
        `of voxel data but the file holds only ${Math.max(0, available).toLocaleString('en')}.`,
    );
  }
  return streamReader(desc, await fileByteReader(dataPath, start, dataName, expected), decoder);
}

// ---------------------------------------------------------------------------------------------
// NIfTI-1 (.nii, .nii.gz), streamed

const NIFTI_TYPES: Record<number, SourceDType> = { 2: 'uint8', 4: 'int16', 8: 'int32', 16: 'float32', 64: 'float64', 256: 'int8', 512: 'uint16', 768: 'uint32' };

export async function openNifti(path: string, name: string, opts: OpenOptions = {}): Promise<VolumeReader> {
  const limits = opts.limits ?? DEFAULT_LIMITS;
  const size = await fileSize(path, name);
  const gz = path.toLowerCase().endsWith('.gz');
  const open = (): ByteReader =>
    gz
      ? streamByteReader(fs.createReadStream(path, { highWaterMark: 1 << 20 }).pipe(zlib.createGunzip({ chunkSize: 1 << 20 })), name, 0)
      : streamByteReader(fs.createReadStream(path, { highWaterMark: 1 << 20 }), name, 0);
  let reader = open();
  const h = Buffer.alloc(348);
  try {
    await reader.read(h);
  } catch (err) {
    await reader.close();
    throw invalidInput(`${name} is too short or damaged to be a NIfTI file (its 348-byte header could not be read).`, { cause: err });
  }
  let le = true;
  if (h.readInt32LE(0) !== 348) {
    if (h.readInt32BE(0) === 348) le = false;
    else {
      await reader.close();
      if (h.readInt32LE(0) === 540 || h.readInt32BE(0) === 540) throw unsupported(`${name} is NIfTI-2; save it as NIfTI-1 (.nii) or NRRD.`);
      throw invalidInput(`${name} is not a NIfTI-1 file (its header size field is not 348).`);
    }
  }
  const i16 = (o: number) => (le ? h.readInt16LE(o) : h.readInt16BE(o));
  const f32 = (o: number) => (le ? h.readFloatLE(o) : h.readFloatBE(o));
  const dim = Array.from({ length: 8 }, (_, i) => i16(40 + 2 * i));
  const nd = dim[0]!;
  const extra = dim.slice(4, Math.max(4, nd + 1)).filter((d) => d > 1);
  if (nd < 2 || nd > 7 || extra.length > 0) {
    await reader.close();
    throw unsupported(`${name} has ${nd} dimensions (${dim.slice(1, nd + 1).join(' x ')}); only a single 3D volume can be imported.`);
  }
  const xyz = [dim[1]!, dim[2]!, nd >= 3 ? dim[3]! : 1];
  const code = i16(70);
  const src = NIFTI_TYPES[code];
  if (!src) {
    await reader.close();
    throw unsupported(`${name}: NIfTI data type ${code} is not supported (greyscale 8/16/32-bit integers, float32, float64).`);
  }
  const rawOffset = f32(108);
  let shape: Shape3;
  try {
    shape = checkShape(xyzToZyx(xyz), name, src, limits);
    checkOffset(Math.round(rawOffset), 'vox_offset (where the voxels start)', name, false);
  } catch (err) {
    await reader.close();
    throw err;
  }
  const pix = Array.from({ length: 8 }, (_, i) => f32(76 + 4 * i));
  const voxOffset = Math.max(352, Math.round(rawOffset));
  const slope = f32(112);
  const inter = f32(116);
  const units = h.readUInt8(123) & 7;
  const notes: string[] = [];
  const toUm = units === 1 ? 1e6 : units === 2 ? 1e3 : units === 3 ? 1 : unitlessToUm(pix.slice(1, 4), 'the NIfTI header', notes);
  const qform = i16(252);
  const origin = qform > 0 ? [f32(268), f32(272), f32(276)] : [0, 0, 0];
  if (qform > 0 || i16(254) > 0) notes.push('NIfTI orientation (qform/sform) is not applied: the volume is stored in its array order (x fastest)');
  const scaled = slope !== 0 && Number.isFinite(slope) && !(slope === 1 && inter === 0);
  const expected = voxels(shape) * SOURCE_BYTES[src];
  if (!gz && size - voxOffset < expected) {
    await reader.close();
    throw invalidInput(
      `${name} is truncated: its dimensions ${xyz.join(' x ')} need ${expected.toLocaleString('en')} bytes of voxel data but the file holds only ${Math.max(0, size - voxOffset).toLocaleString('en')}.`,
    );
  }
  // restart with the real expected size in messages, then skip to the data
  await reader.close();
  reader = gz
    ? streamByteReader(fs.createReadStream(path, { highWaterMark: 1 << 20 }).pipe(zlib.createGunzip({ chunkSize: 1 << 20 })), name, expected)
    : await fileByteReader(path, voxOffset, name, expected);
  if (gz) await reader.skip(voxOffset);
  const desc = describe('nifti', path, shape, src, { um: xyzToZyx(pix.slice(1, 4).map((v) => v * toUm)), notes }, xyzToZyx(origin.map((v) => v * toUm)), le, gz ? 'gzip' : 'raw', scaled);
  return streamReader(desc, reader, new VoxelDecoder(src, le, scaled ? { slope, inter } : undefined));
}

// ---------------------------------------------------------------------------------------------
// headerless raw

const RAW_TYPES = new Set<string>(Object.keys(SOURCE_BYTES));

export async function openRaw(path: string, name: string, raw: RawOptions | undefined, opts: OpenOptions = {}): Promise<VolumeReader> {
  const size = await fileSize(path, name);
  if (!raw) {
    throw invalidInput(`${name} is a headerless raw file: give its size and voxel type (--raw-shape z,y,x --raw-dtype uint16 [--big-endian]).`);
  }
  if (!RAW_TYPES.has(raw.dtype)) throw invalidInput(`${name}: raw voxel type "${shown(String(raw.dtype))}" is not one of ${[...RAW_TYPES].join(', ')}.`);
  const src = raw.dtype as SourceDType;
  const shape = checkShape([...raw.shape], name, src, opts.limits ?? DEFAULT_LIMITS);
  const header = checkOffset(raw.headerBytes ?? 0, 'header size (bytes before the voxels)', name, false);
  const expected = voxels(shape) * SOURCE_BYTES[src];
  if (size !== header + expected) {
    throw invalidInput(
      `${name}: a raw volume of ${shape.join(' x ')} (z, y, x) ${src} voxels${header ? ` after a ${header}-byte header` : ''} needs ` +
        `${(header + expected).toLocaleString('en')} bytes, but the file has ${size.toLocaleString('en')} bytes. Check the dimensions and voxel type.`,
    );
  }
  const desc = describe('raw', path, shape, src, { notes: [] }, [0, 0, 0], raw.littleEndian, 'raw');
  return streamReader(desc, await fileByteReader(path, header, name, expected), new VoxelDecoder(src, raw.littleEndian));
}

// ---------------------------------------------------------------------------------------------
// TIFF: multi-page file, or one file per slice

function tiffSourceType(image: GeoTIFFImage, name: string): SourceDType {
  const bits = image.getBitsPerSample();
  const fmt = (image.getSampleFormat() ?? 1) as number;
  if (image.getSamplesPerPixel() !== 1) throw unsupported(`${name} is a colour TIFF (${shown(String(image.getSamplesPerPixel()))} samples per pixel); save the slices as greyscale.`);
  const key = `${bits}/${fmt}`;
  const t: Record<string, SourceDType> = { '8/1': 'uint8', '8/2': 'int8', '16/1': 'uint16', '16/2': 'int16', '32/1': 'uint32', '32/2': 'int32', '32/3': 'float32', '64/3': 'float64' };
  const src = t[key];
  if (!src) throw unsupported(`${name}: TIFF with ${shown(String(bits))}-bit samples (format ${shown(String(fmt))}) is not supported (8/16-bit integers or 32-bit float).`);
  return src;
}

type Directory = { getValue(t: string): unknown; loadValue(t: string): Promise<unknown>; hasTag(t: string): boolean };
const dirOf = (image: GeoTIFFImage) => image.fileDirectory as unknown as Directory;

function tagArray(image: GeoTIFFImage, tag: string): number[] | undefined {
  let v: ArrayLike<number> | number | undefined;
  try {
    v = dirOf(image).getValue(tag) as ArrayLike<number> | number | undefined;
  } catch {
    return undefined; // deferred (large) value: not needed for the header description
  }
  if (v === undefined || v === null) return undefined;
  return typeof v === 'number' ? [v] : Array.from(v);
}

async function loadTagArray(image: GeoTIFFImage, tag: string, name: string): Promise<number[] | undefined> {
  const d = dirOf(image);
  if (!d.hasTag(tag)) return undefined;
  let v: unknown;
  try {
    v = await d.loadValue(tag);
  } catch (err) {
    throw invalidInput(`${name} is damaged or truncated: its ${tag} cannot be read (${safeMessage((err as Error)?.message ?? String(err), 80)}).`, { cause: err });
  }
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number' || typeof v === 'bigint') return [Number(v)];
  return Array.from(v as ArrayLike<number | bigint>, Number);
}

/** Compressions read with a bounded decoder (the others are refused). */
const TIFF_COMPRESSIONS: Record<number, string> = { 1: 'none', 5: 'LZW', 8: 'Deflate', 32946: 'Deflate', 32773: 'PackBits' };

interface TiffPageLayout {
  /** width and height of one strip or tile */
  blockW: number;
  blockH: number;
  compression: number;
  bytesPerPixel: number;
}

/**
 * Checks one page before any pixel is decoded: the compression is one we bound, one strip/tile
 * fits the decode budget, the page lists as many strips/tiles as its size needs and they all lie
 * inside the file.
 */
async function checkTiffPage(image: GeoTIFFImage, fileBytes: number, name: string, page: number, pages: number, limits: Limits): Promise<TiffPageLayout> {
  const where = `page ${page + 1}${pages > 1 ? ` of ${pages}` : ''}`;
  const w = image.getWidth();
  const h = image.getHeight();
  if (!(Number.isInteger(w) && w >= 1 && Number.isInteger(h) && h >= 1)) throw invalidInput(`${name}: ${where} declares an impossible size; the file is damaged.`);
  const compression = Number(tagArray(image, 'Compression')?.[0] ?? 1);
  if (!TIFF_COMPRESSIONS[compression]) {
    throw unsupported(`${name}: TIFF compression ${shown(String(compression), 12)} is not supported (none, LZW, Deflate, PackBits); re-save the stack uncompressed.`);
  }
  const bytesPerPixel = Math.ceil(image.getBitsPerSample() / 8);
  const blockW = image.getTileWidth();
  const blockH = image.getTileHeight();
  if (!(Number.isInteger(blockW) && blockW >= 1 && Number.isInteger(blockH) && blockH >= 1)) {
    throw invalidInput(`${name}: ${where} declares an impossible strip or tile size; the file is damaged.`);
  }
  checkDecodeBudget(`${name}: one ${image.isTiled ? 'tile' : 'strip'} of ${where} (${blockW} x ${blockH} pixels)`, blockW * blockH * bytesPerPixel, limits);
  const blocks = Math.ceil(w / blockW) * Math.ceil(h / blockH);
  const offs = (await loadTagArray(image, image.isTiled ? 'TileOffsets' : 'StripOffsets', name)) ?? [];
  const counts = (await loadTagArray(image, image.isTiled ? 'TileByteCounts' : 'StripByteCounts', name)) ?? [];
  if (offs.length < blocks || counts.length < blocks) {
    throw invalidInput(`${name} is damaged: ${where} lists ${Math.min(offs.length, counts.length)} ${image.isTiled ? 'tiles' : 'strips'} but its size needs ${blocks}.`);
  }
  for (let i = 0; i < blocks; i++) {
    const o = offs[i]!;
    const c = counts[i]!;
    if (!(Number.isFinite(o) && o >= 0 && Number.isFinite(c) && c >= 0)) throw invalidInput(`${name} is damaged: ${where} has an impossible strip position.`);
    if (o + c > fileBytes) {
      throw invalidInput(
        `${name} is truncated: the data of ${where} lies beyond the end of the file (${fileBytes.toLocaleString('en')} bytes). ` +
          `The file was probably cut short while copying; copy it again.`,
      );
    }
  }
  return { blockW, blockH, compression, bytesPerPixel };
}

/** Pages beyond this are refused before geotiff parses them (it keeps the directory of every page read). */
export const MAX_TIFF_PAGES = 100_000;

/**
 * Counts the pages by walking the chain of page directories (offsets only, a few bytes each):
 * a chain that loops, leaves the file or is longer than MAX_TIFF_PAGES is refused here.
 */
async function countTiffPages(path: string, size: number, name: string): Promise<number> {
  const fh = await fs.promises.open(path, 'r');
  try {
    const head = Buffer.alloc(16);
    await fh.read(head, 0, 16, 0);
    const le = head.toString('latin1', 0, 2) === 'II';
    const big = (le ? head.readUInt16LE(2) : head.readUInt16BE(2)) === 43;
    const u16 = (b: Buffer, o: number) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
    const u32 = (b: Buffer, o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
    const u64 = (b: Buffer, o: number) => Number(le ? b.readBigUInt64LE(o) : b.readBigUInt64BE(o));
    let off = big ? u64(head, 8) : u32(head, 4);
    const seen = new Set<number>();
    const buf = Buffer.alloc(8);
    let n = 0;
    const cut = () =>
      invalidInput(
        n === 0
          ? `${name} is damaged or truncated: its first page lies beyond the end of the file. Copy the file again.`
          : `${name} is damaged or truncated after page ${n}: the next page lies beyond the end of the file. Copy the file again.`,
      );
    while (off !== 0) {
      if (seen.has(off)) throw invalidInput(`${name} is damaged: its list of pages loops back on itself after page ${n}.`);
      if (off < 8 || off + (big ? 8 : 2) > size) throw cut();
      seen.add(off);
      if (++n > MAX_TIFF_PAGES) throw invalidInput(`${name} has more than ${MAX_TIFF_PAGES.toLocaleString('en')} pages; split the stack into smaller files or a folder of slices.`);
      await fh.read(buf, 0, big ? 8 : 2, off);
      const entries = big ? u64(buf, 0) : u16(buf, 0);
      const nextAt = off + (big ? 8 + entries * 20 : 2 + entries * 12);
      if (nextAt + (big ? 8 : 4) > size) throw cut();
      await fh.read(buf, 0, big ? 8 : 4, nextAt);
      off = big ? u64(buf, 0) : u32(buf, 0);
    }
    if (n === 0) throw invalidInput(`${name} is a TIFF file without any page.`);
    return n;
  } finally {
    await fh.close();
  }
}

function imageJInfo(image: GeoTIFFImage): Record<string, string> {
  let d: unknown;
  try {
    d = dirOf(image).getValue('ImageDescription');
  } catch {
    return {};
  }
  const out: Record<string, string> = {};
  if (typeof d !== 'string' || !d.startsWith('ImageJ=')) return out;
  for (const line of d.replace(/\0+$/, '').split('\n').slice(0, 100)) {
    const i = line.indexOf('=');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1, i + 101);
  }
  return out;
}

function tiffSpacing(image: GeoTIFFImage, notes: string[]): [number, number, number] | undefined {
  const ij = imageJInfo(image);
  const xr = tagArray(image, 'XResolution');
  const yr = tagArray(image, 'YResolution');
  const ratio = (r?: number[]) => (r && r.length >= 2 && r[0]! > 0 ? r[1]! / r[0]! : r && r.length === 1 && r[0]! > 0 ? 1 / r[0]! : undefined);
  const sx = ratio(xr);
  const sy = ratio(yr) ?? sx;
  const unit = ij.unit?.replace(/\\u00B5/gi, 'µ');
  let toUm = unitToUm(unit);
  if (toUm === undefined) {
    const ru = tagArray(image, 'ResolutionUnit')?.[0];
    if (ru === 3) toUm = 1e4; // centimetre
    else if (ru === 2 && sx !== undefined && sx < 0.01) toUm = 25400; // inch: only plausible for microscopy when tiny
  }
  if (toUm === undefined || sx === undefined || !(sx > 0)) return undefined;
  const sz = ij.spacing !== undefined ? Number(ij.spacing) : undefined;
  if (sz === undefined) notes.push('the TIFF gives no slice spacing; the pixel width was used for z');
  return [(sz ?? sx) * toUm, sy! * toUm, sx * toUm];
}

async function openGeoTiff(path: string, name: string): Promise<{ tiff: GeoTIFF; size: number; pages: number }> {
  const size = await fileSize(path, name);
  const head = await readHead(path, 4);
  const magic = head.toString('latin1');
  if (magic !== 'II*\0' && magic !== 'MM\0*' && magic !== 'II+\0' && magic !== 'MM\0+') throw invalidInput(`${name} is not a TIFF file.`);
  const pages = await countTiffPages(path, size, name);
  try {
    return { tiff: await fromFile(path), size, pages };
  } catch (err) {
    throw invalidInput(`${name} is not a readable TIFF file (${safeMessage((err as Error)?.message ?? String(err), 80)}).`, { cause: err });
  }
}

// ---- bounded strip / tile decoders: a strip never unpacks to more than its declared size

class TiffBombError extends Error {}

function inflateBounded(input: Uint8Array, maxBytes: number): ArrayBuffer {
  let out: Buffer;
  try {
    out = zlib.inflateSync(input, { maxOutputLength: Math.max(1, maxBytes), finishFlush: zlib.constants.Z_SYNC_FLUSH });
  } catch (err) {
    if ((err as NodeJS.ErrnoException)?.code === 'ERR_BUFFER_TOO_LARGE') throw new TiffBombError();
    throw err;
  }
  return out.buffer.slice(out.byteOffset, out.byteOffset + out.length) as ArrayBuffer;
}

function packbitsBounded(input: Uint8Array, maxBytes: number): ArrayBuffer {
  const out = new Uint8Array(maxBytes);
  let o = 0;
  for (let i = 0; i < input.length; ) {
    const hdr = (input[i++]! << 24) >> 24;
    if (hdr >= 0) {
      const n = hdr + 1;
      if (o + n > maxBytes) throw new TiffBombError();
      out.set(input.subarray(i, i + n), o);
      (o += n), (i += n);
    } else if (hdr !== -128) {
      const n = 1 - hdr;
      if (o + n > maxBytes) throw new TiffBombError();
      out.fill(input[i++] ?? 0, o, o + n);
      o += n;
    }
  }
  return out.buffer.slice(0, o);
}

/** TIFF LZW (MSB-first codes of 9-12 bits, early change), decoded into at most maxBytes. */
function lzwBounded(input: Uint8Array, maxBytes: number): ArrayBuffer {
  const CLEAR = 256;
  const EOI = 257;
  const SIZE = 4093;
  const prefix = new Uint16Array(SIZE);
  const suffix = new Uint8Array(SIZE);
  const len = new Uint16Array(SIZE);
  for (let i = 0; i < 256; i++) (prefix[i] = 4096), (suffix[i] = i), (len[i] = 1);
  const out = new Uint8Array(maxBytes);
  let o = 0;
  let next = 258;
  let width = 9;
  let bit = 0;
  const totalBits = input.length * 8;
  const read = (): number => {
    if (bit + width > totalBits) return EOI;
    const b = bit >>> 3;
    const w = (input[b]! << 16) | ((input[b + 1] ?? 0) << 8) | (input[b + 2] ?? 0);
    const code = (w >>> (24 - (bit & 7) - width)) & ((1 << width) - 1);
    bit += width;
    return code;
  };
  const emit = (code: number): number => {
    const n = len[code]!;
    if (n === 0) throw new Error('corrupted LZW code');
    if (o + n > maxBytes) throw new TiffBombError();
    for (let k = n - 1, c = code; k >= 0; k--, c = prefix[c]!) out[o + k] = suffix[c]!;
    o += n;
    return out[o - n]!;
  };
  const add = (p: number, c: number) => {
    if (next >= SIZE) return;
    prefix[next] = p;
    suffix[next] = c;
    len[next] = len[p]! + 1;
    next++;
  };
  let old = -1;
  let code = read();
  while (code !== EOI) {
    if (code === CLEAR) {
      next = 258;
      width = 9;
      code = read();
      while (code === CLEAR) code = read();
      if (code === EOI) break;
      if (code > CLEAR) throw new Error('corrupted LZW code');
      emit(code);
      old = code;
    } else if (code < next) {
      const first = emit(code);
      if (old >= 0) add(old, first);
      old = code;
    } else {
      if (old < 0 || code > next) throw new Error('corrupted LZW code');
      const first = emit(old);
      if (o + 1 > maxBytes) throw new TiffBombError();
      out[o++] = first;
      add(old, first);
      old = code;
    }
    if (next + 1 >= 1 << width) {
      if (width === 12) old = -1;
      else width++;
    }
    code = read();
  }
  return out.buffer.slice(0, o);
}

class BoundedTiffDecoder extends BaseDecoder {
  constructor(
    params: ConstructorParameters<typeof BaseDecoder>[0],
    readonly compression: number,
    readonly maxBytes: number,
  ) {
    super(params);
  }
  decodeBlock(buffer: ArrayBufferLike): ArrayBufferLike {
    const input = new Uint8Array(buffer);
    switch (this.compression) {
      case 5:
        return lzwBounded(input, this.maxBytes);
      case 8:
      case 32946:
        return inflateBounded(input, this.maxBytes);
      case 32773:
        return packbitsBounded(input, this.maxBytes);
      default:
        return buffer;
    }
  }
}

/** Stands in for geotiff's decoder pool: every strip/tile goes through a bounded decoder. */
function boundedPool(layout: TiffPageLayout) {
  return {
    bindParameters(compression: number, params: ConstructorParameters<typeof BaseDecoder>[0]) {
      const p = { ...params, tileWidth: layout.blockW, tileHeight: layout.blockH };
      return new BoundedTiffDecoder(p, compression, layout.blockW * layout.blockH * layout.bytesPerPixel);
    },
  };
}

/** Rows read per call: whole strips/tiles, about 16 MiB at a time. */
const TIFF_BAND_BYTES = 16 << 20;

/**
 * Reads page `image` into out[offset ...] band by band (whole strips or tile rows), each strip or
 * tile decoded with a bounded decoder: memory is one band, whatever the page declares.
 */
async function readTiffPage(image: GeoTIFFImage, layout: TiffPageLayout, out: AnyVoxelArray, offset: number, name: string, where: string): Promise<void> {
  const w = image.getWidth();
  const h = image.getHeight();
  const rowBytes = w * layout.bytesPerPixel;
  const bandRows = layout.blockH * Math.max(1, Math.floor(TIFF_BAND_BYTES / (rowBytes * layout.blockH)));
  const pool = boundedPool(layout);
  for (let y0 = 0; y0 < h; y0 += bandRows) {
    const y1 = Math.min(h, y0 + bandRows);
    let r: ArrayLike<number> & { length: number };
    try {
      r = (await image.readRasters({ window: [0, y0, w, y1], interleave: true, samples: [0], pool: pool as never })) as unknown as ArrayLike<number> & { length: number };
    } catch (err) {
      if (err instanceof TiffBombError) {
        throw invalidInput(`${name}: a compressed strip of ${where} unpacks to more data than the page's size allows; the file is damaged or was made to exhaust memory.`);
      }
      throw invalidInput(`${name} is damaged at ${where} (${safeMessage((err as Error)?.message ?? String(err), 80)}).`, { cause: err });
    }
    out.set(r as never, offset + y0 * w);
  }
}

export async function openTiff(path: string, name: string, opts: OpenOptions = {}): Promise<VolumeReader> {
  const limits = opts.limits ?? DEFAULT_LIMITS;
  const { tiff, size, pages: count } = await openGeoTiff(path, name);
  try {
    let first: GeoTIFFImage;
    try {
      first = await tiff.getImage(0);
    } catch (err) {
      throw invalidInput(`${name} is damaged or truncated: its first page cannot be read (${safeMessage((err as Error)?.message ?? String(err), 80)}).`, { cause: err });
    }
    const ny = first.getHeight();
    const nx = first.getWidth();
    const src = tiffSourceType(first, name);
    const shape = checkShape([count, ny, nx], name, src, limits);
    const ij = imageJInfo(first);
    const declared = Number(ij.images ?? ij.slices ?? NaN);
    if (Number.isInteger(declared) && declared > count) {
      throw invalidInput(`${name} is truncated: it should hold ${declared} slices (ImageJ header) but only ${count} page(s) can be found. Copy the file again.`);
    }
    if (Number.isInteger(declared) && declared < count && ij.hyperstack === 'true') {
      throw unsupported(`${name} is an ImageJ hyperstack (channels or time points); save a single 3D stack.`);
    }
    const notes: string[] = [];
    const spacing = tiffSpacing(first, notes);
    await checkTiffPage(first, size, name, 0, count, limits);
    const desc = describe('tiff', path, shape, src, { um: spacing, notes }, [0, 0, 0], true, 'tiff pages');
    let z = 0;
    return {
      desc,
      async readSlices(out) {
        const n = out.length / (ny * nx);
        for (let k = 0; k < n; k++, z++) {
          const where = `page ${z + 1} of ${count}`;
          let image: GeoTIFFImage;
          try {
            image = await tiff.getImage(z);
          } catch (err) {
            throw invalidInput(`${name} is damaged or truncated at ${where} (${safeMessage((err as Error)?.message ?? String(err), 80)}).`, { cause: err });
          }
          if (image.getHeight() !== ny || image.getWidth() !== nx) {
            throw invalidInput(`${name}: page ${z + 1} is ${image.getWidth()} x ${image.getHeight()} pixels but page 1 is ${nx} x ${ny}; all slices of a volume must have the same size.`);
          }
          if (tiffSourceType(image, name) !== src) throw invalidInput(`${name}: page ${z + 1} has a different pixel type from page 1.`);
          const layout = await checkTiffPage(image, size, name, z, count, limits);
          await readTiffPage(image, layout, out, k * ny * nx, name, where);
        }
      },
      close: async () => {
        await tiff.close();
      },
    };
  } catch (err) {
    await tiff.close();
    throw err;
  }
}

const TIFF_RE = /\.tiff?$/i;

export async function listTiffSlices(source: string | string[], name: string): Promise<string[]> {
  if (Array.isArray(source)) return source;
  const entries = await fs.promises.readdir(source).catch(() => {
    throw notFound(`The folder ${name} does not exist or cannot be read.`);
  });
  const files = entries.filter((f) => TIFF_RE.test(f) && !f.startsWith('.')).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  if (files.length === 0) {
    const seen = entries.slice(0, 5).map((e) => shown(e, 40)).join(', ');
    throw invalidInput(`The folder ${name} holds no .tif/.tiff slices${entries.length ? ` (found: ${seen}${entries.length > 5 ? ', ...' : ''})` : ' (it is empty)'}.`);
  }
  return files.map((f) => nodePath.join(source, f));
}

export async function openTiffFolder(source: string | string[], name: string, opts: OpenOptions = {}): Promise<VolumeReader> {
  const limits = opts.limits ?? DEFAULT_LIMITS;
  const files = await listTiffSlices(source, name);
  const fileName = (f: string) => `${name}/${shown(nodePath.basename(f), 60)}`;
  const { tiff, size } = await openGeoTiff(files[0]!, fileName(files[0]!));
  let ny: number, nx: number, src: SourceDType, spacing: [number, number, number] | undefined;
  const notes: string[] = [];
  try {
    const first = await tiff.getImage(0).catch((err: unknown) => {
      throw invalidInput(`${fileName(files[0]!)} is damaged or truncated (${safeMessage((err as Error)?.message ?? String(err), 80)}).`, { cause: err });
    });
    ny = first.getHeight();
    nx = first.getWidth();
    src = tiffSourceType(first, fileName(files[0]!));
    checkShape([files.length, ny, nx], name, src, limits);
    await checkTiffPage(first, size, fileName(files[0]!), 0, 1, limits);
    spacing = tiffSpacing(first, notes);
  } finally {
    await tiff.close();
  }
  const desc = describe('tiff-folder', Array.isArray(source) ? nodePath.dirname(files[0]!) : source, [files.length, ny, nx], src, { um: spacing, notes }, [0, 0, 0], true, 'tiff slices');
  let z = 0;
  return {
    desc,
    async readSlices(out) {
      const n = out.length / (ny * nx);
      for (let k = 0; k < n; k++, z++) {
        const f = files[z]!;
        const fname = fileName(f);
        const { tiff: t, size: s } = await openGeoTiff(f, fname);
        try {
          const image = await t.getImage(0).catch((err: unknown) => {
            throw invalidInput(`${fname} is damaged or truncated (${safeMessage((err as Error)?.message ?? String(err), 80)}).`, { cause: err });
          });
          if (image.getHeight() !== ny || image.getWidth() !== nx) {
            throw invalidInput(`${fname} is ${image.getWidth()} x ${image.getHeight()} pixels but the first slice is ${nx} x ${ny}; all slices must have the same size.`);
          }
          if (tiffSourceType(image, fname) !== src) throw invalidInput(`${fname} has a different pixel type from the first slice.`);
          const layout = await checkTiffPage(image, s, fname, 0, 1, limits);
          await readTiffPage(image, layout, out, k * ny * nx, fname, 'its page');
        } finally {
          await t.close();
        }
      }
    },
    close: async () => {},
  };
}
