/** NIfTI-1 (.nii, .nii.gz), streamed. */
import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import { invalidInput, unsupported } from '../../errors';
import { DEFAULT_LIMITS } from '../../limits';
import { fileByteReader, SOURCE_BYTES, streamByteReader, VoxelDecoder, type ByteReader, type SourceDType } from '../byte-readers-node';
import type { Shape3 } from '../types';
import { describe, streamReader } from './describe-volume-node';
import { checkOffset, checkShape, unitlessToUm, voxels, xyzToZyx } from './header-checks-node';
import { fileSize } from './resolve-data-file-node';
import type { OpenOptions, VolumeReader } from './volume-reader';

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
