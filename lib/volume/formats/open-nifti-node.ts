/** NIfTI-1 and NIfTI-2 (.nii, .nii.gz), streamed. */
import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import { invalidInput, unsupported } from '../../errors';
import { DEFAULT_LIMITS } from '../../limits';
import { fileByteReader, SOURCE_BYTES, streamByteReader, VoxelDecoder, type ByteReader, type SourceDType } from '../byte-readers-node';
import type { Shape3 } from '../types';
import { ASSUMED_SPACING_NOTE, markedAssumed } from './assumed-spacing-mark-node';
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
  let h = Buffer.alloc(348);
  try {
    await reader.read(h);
  } catch (err) {
    await reader.close();
    throw invalidInput(`${name} is too short or damaged to be a NIfTI file (its 348-byte header could not be read).`, { cause: err });
  }
  let le = true;
  let v2 = false;
  if (h.readInt32LE(0) !== 348) {
    if (h.readInt32BE(0) === 348) le = false;
    else if (h.readInt32LE(0) === 540 || h.readInt32BE(0) === 540) {
      // NIfTI-2 (nibabel's Nifti2Image, large images): 540-byte header, 64-bit sizes and offsets, double spacings
      le = h.readInt32LE(0) === 540;
      v2 = true;
      await reader.close();
      reader = open();
      const h2 = Buffer.alloc(540);
      try {
        await reader.read(h2);
      } catch (err) {
        await reader.close();
        throw invalidInput(`${name} is too short or damaged to be a NIfTI-2 file (its 540-byte header could not be read).`, { cause: err });
      }
      h = h2;
    } else {
      await reader.close();
      throw invalidInput(`${name} is not a NIfTI file (its header size field is neither 348 nor 540).`);
    }
  }
  // field offsets of NIfTI-1 / NIfTI-2
  const at = v2
    ? { dim: 16, datatype: 12, pixdim: 104, voxOffset: 168, slope: 176, inter: 184, qform: 344, sform: 348, qoffset: 376, units: 500 }
    : { dim: 40, datatype: 70, pixdim: 76, voxOffset: 108, slope: 112, inter: 116, qform: 252, sform: 254, qoffset: 268, units: 123 };
  const i16 = (o: number) => (le ? h.readInt16LE(o) : h.readInt16BE(o));
  const i32 = (o: number) => (le ? h.readInt32LE(o) : h.readInt32BE(o));
  const i64 = (o: number) => Number(le ? h.readBigInt64LE(o) : h.readBigInt64BE(o));
  const f32 = (o: number) => (le ? h.readFloatLE(o) : h.readFloatBE(o));
  const f64 = (o: number) => (le ? h.readDoubleLE(o) : h.readDoubleBE(o));
  const real = v2 ? f64 : f32;
  const dim = Array.from({ length: 8 }, (_, i) => (v2 ? i64(at.dim + 8 * i) : i16(at.dim + 2 * i)));
  const nd = dim[0]!;
  const extra = dim.slice(4, Math.max(4, nd + 1)).filter((d) => d > 1);
  if (nd < 2 || nd > 7 || extra.length > 0) {
    await reader.close();
    throw unsupported(`${name} has ${nd} dimensions (${dim.slice(1, nd + 1).join(' x ')}); only a single 3D volume can be imported.`);
  }
  const xyz = [dim[1]!, dim[2]!, nd >= 3 ? dim[3]! : 1];
  const code = i16(at.datatype);
  const src = NIFTI_TYPES[code];
  if (!src) {
    await reader.close();
    throw unsupported(`${name}: NIfTI data type ${code} is not supported (greyscale 8/16/32-bit integers, float32, float64).`);
  }
  const rawOffset = v2 ? i64(at.voxOffset) : f32(at.voxOffset);
  let shape: Shape3;
  try {
    shape = checkShape(xyzToZyx(xyz), name, src, limits);
    checkOffset(Math.round(rawOffset), 'vox_offset (where the voxels start)', name, false);
  } catch (err) {
    await reader.close();
    throw err;
  }
  const pix = Array.from({ length: 8 }, (_, i) => real(at.pixdim + (v2 ? 8 : 4) * i));
  const voxOffset = Math.max(v2 ? 544 : 352, Math.round(rawOffset));
  const slope = real(at.slope);
  const inter = real(at.inter);
  const units = (v2 ? i32(at.units) : h.readUInt8(at.units)) & 7;
  const notes: string[] = [];
  const toUm = units === 1 ? 1e6 : units === 2 ? 1e3 : units === 3 ? 1 : unitlessToUm(pix.slice(1, 4), 'the NIfTI header', notes);
  const qform = v2 ? i32(at.qform) : i16(at.qform);
  const step = v2 ? 8 : 4;
  const origin = qform > 0 ? [real(at.qoffset), real(at.qoffset + step), real(at.qoffset + 2 * step)] : [0, 0, 0];
  if (qform > 0 || (v2 ? i32(at.sform) : i16(at.sform)) > 0) notes.push('NIfTI orientation (qform/sform) is not applied: the volume is stored in its array order (x fastest)');
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
  const read = describe('nifti', path, shape, src, { um: xyzToZyx(pix.slice(1, 4).map((v) => v * toUm)), notes }, xyzToZyx(origin.map((v) => v * toUm)), le, gz ? 'gzip' : 'raw', scaled);
  // petromap's export of a scan whose voxel size was assumed: units unknown, descrip starting with the note
  const descrip = h.subarray(v2 ? 240 : 148, (v2 ? 240 : 148) + 80).toString('latin1');
  const desc = units === 0 && descrip.startsWith(ASSUMED_SPACING_NOTE) && read.spacingKnown ? markedAssumed(read, 'NIfTI file') : read;
  return streamReader(desc, reader, new VoxelDecoder(src, le, scaled ? { slope, inter } : undefined));
}
