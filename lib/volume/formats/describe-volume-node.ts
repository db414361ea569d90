/** The description every reader returns, and the reader over a plain stream of z-major voxels. */
import { conversionNote, storedTypeFor, type ByteReader, type SourceDType, type VoxelDecoder } from '../byte-readers-node';
import type { Shape3 } from '../types';
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
export function streamReader(desc: VolumeFileDescription, bytes: ByteReader, decoder: VoxelDecoder): VolumeReader {
  return {
    desc,
    readSlices: (out) => decoder.readInto(bytes, out),
    close: () => bytes.close(),
  };
}
