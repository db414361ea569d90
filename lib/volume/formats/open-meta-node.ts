/** MetaImage (.mha, .mhd + data file): raw or zlib voxels. */
import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import { invalidInput, unsupported } from '../../errors';
import { DEFAULT_LIMITS } from '../../limits';
import { fileByteReader, SOURCE_BYTES, streamByteReader, VoxelDecoder, type SourceDType } from '../byte-readers-node';
import { describe, streamReader } from './describe-volume-node';
import { checkOffset, checkShape, shown, unitlessToUm, voxels, xyzToZyx } from './header-checks-node';
import { fileSize, readHead, resolveDataFile } from './resolve-data-file-node';
import type { OpenOptions, VolumeFormat, VolumeReader } from './volume-reader';

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
