/**
 * The description every reader returns, the reader over a plain stream of z-major voxels, and the
 * reader over a stack of slices read one at a time (TIFF pages, slice files).
 */
import { conversionNote, storedTypeFor, type ByteReader, type SourceDType, type VoxelDecoder } from '../byte-readers-node';
import type { AnyVoxelArray, Shape3 } from '../types';
import type { VolumeFileDescription, VolumeFormat, VolumeReader } from './volume-reader';

export function describe(
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
  else if (Math.max(...spacing.um!) > 1000 || Math.min(...spacing.um!) < 0.01) notes.push(implausibleSpacingNote(spacing.um!));
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

/**
 * A voxel size read from the file outside 0.01 µm – 1 mm is almost always a unit mix-up (a size in
 * µm written where the header says mm reads 1000× too large): said, not changed.
 */
function implausibleSpacingNote(um: readonly number[]): string {
  const big = Math.max(...um) > 1000;
  return `the voxel size read from the file, ${um.map((v) => +v.toPrecision(4)).join(' x ')} µm (z, y, x), is ${big ? 'larger than 1 mm' : 'smaller than 0.01 µm'}, unusual for XRM or micro-CT: ` +
    `check the file's length unit (a size in ${big ? 'µm written as mm reads 1000× too large' : 'mm written as µm reads 1000× too small'}) and give the real one with --spacing z,y,x if it is wrong`;
}

/** A reader over a byte stream of z-major voxels. */
export function streamReader(desc: VolumeFileDescription, bytes: ByteReader, decoder: VoxelDecoder): VolumeReader {
  return {
    desc,
    readSlices: (out) => decoder.readInto(bytes, out),
    close: () => bytes.close(),
  };
}

/**
 * A volume read slice by slice (the pages of a TIFF stack, the files of a slice folder): its
 * description (origin 0, voxels in this machine's byte order, as each slice is decoded) and a
 * reader that fills each z-slab by calling `readSlice(z, out, at)` for its slices in order, `at`
 * being where slice z starts in `out`. `readSlice` checks its slice against the first.
 */
export function sliceStackReader(
  format: VolumeFormat,
  path: string,
  shape: Shape3,
  src: SourceDType,
  spacing: { um?: [number, number, number]; notes: string[] },
  encoding: string,
  readSlice: (z: number, out: AnyVoxelArray, at: number) => Promise<void>,
  close: () => Promise<void> = async () => {},
): VolumeReader {
  const desc = describe(format, path, shape, src, spacing, [0, 0, 0], true, encoding);
  const sliceVoxels = shape[1] * shape[2];
  let z = 0;
  return {
    desc,
    async readSlices(out) {
      const n = out.length / sliceVoxels;
      for (let k = 0; k < n; k++, z++) await readSlice(z, out, k * sliceVoxels);
    },
    close,
  };
}
