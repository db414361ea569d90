/** NRRD (.nrrd, .nhdr + data file): raw or gzip voxels, attached or detached. */
import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import { invalidInput, unsupported } from '../../errors';
import { DEFAULT_LIMITS } from '../../limits';
import { fileByteReader, SOURCE_BYTES, streamByteReader, VoxelDecoder, type SourceDType } from '../byte-readers-node';
import { markedAssumed } from './assumed-spacing-mark-node';
import { describe, streamReader } from './describe-volume-node';
import { checkOffset, checkShape, shown, unitlessToUm, unitToUm, voxels, xyzToZyx } from './header-checks-node';
import { fileSize, readHead, resolveDataFile } from './resolve-data-file-node';
import type { OpenOptions, VolumeReader } from './volume-reader';

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
  // key/value pairs (key:=value): only petromap's mark of an assumed voxel size is read
  let spacingAssumedMark = false;
  for (const raw of text.slice(0, end).split(/\r?\n/).slice(1)) {
    if (/^petromap_spacing_assumed:=true\s*$/.test(raw)) spacingAssumedMark = true;
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
  const read = describe('nrrd', path, shape, src, { um: spacingUm, notes }, originUm, littleEndian, encoding);
  const desc = spacingAssumedMark && read.spacingKnown ? markedAssumed(read, 'NRRD file') : read;
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
    if (byteSkip > 0) {
      await reader.skip(byteSkip).catch((err: unknown) => {
        // the data ended inside the skip: say so, not "ends after N bytes but needs N"
        if (err instanceof Error && / is truncated: /.test(err.message)) {
          throw invalidInput(`${name}: its header says to skip ${byteSkip.toLocaleString('en')} bytes ("byte skip") before the voxels, more than its decompressed data holds; the header is damaged or was written for another file.`, { cause: err });
        }
        throw err;
      });
    }
    else if (byteSkip === -1) throw unsupported(`${name}: "byte skip: -1" with gzip encoding is not supported.`);
    return streamReader(desc, reader, decoder);
  }
  throw unsupported(`${name}: NRRD encoding "${shown(encoding)}" is not supported (raw or gzip). Re-save it as raw or gzip NRRD.`);
}
