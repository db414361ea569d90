/** Headerless raw voxels: the user gives the size, voxel type and byte order. */
import { invalidInput } from '../../errors';
import { DEFAULT_LIMITS } from '../../limits';
import { fileByteReader, SOURCE_BYTES, VoxelDecoder, type SourceDType } from '../byte-readers-node';
import { describe, streamReader } from './describe-volume-node';
import { checkOffset, checkShape, shown, voxels } from './header-checks-node';
import { fileSize } from './resolve-data-file-node';
import type { OpenOptions, RawOptions, VolumeReader } from './volume-reader';

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
