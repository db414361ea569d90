/**
 * Zeiss Xradia / Versa reconstructions (.txm): an OLE compound file whose ImageInfo streams give
 * the slice size, voxel type, pixel size (µm) and slice count, and whose slices are the streams
 * ImageData<k>/Image<i> (i = 1..n, 100 per ImageData folder), each height x width voxels, little
 * endian. Layout and DataType codes (Xradia's XrmDataTypes: 2 int8, 3 uint8, 4 int16, 5 uint16,
 * 6 int32, 7 uint32, 10 float32, 11 float64) as the public readers use them (dxchange's
 * read_txrm, txrm2tiff). Slices stream one after the other through compound-file-node.ts.
 * Projections (.txrm, .xrm) are refused: they need a reconstruction first.
 */
import * as nodePath from 'node:path';
import { invalidInput, isPetromapError, unsupported } from '../../errors';
import { DEFAULT_LIMITS } from '../../limits';
import { SOURCE_BYTES, truncated, VoxelDecoder, type ByteReader, type SourceDType } from '../byte-readers-node';
import { CompoundFile, type CfbEntry } from './compound-file-node';
import { describe, streamReader } from './describe-volume-node';
import { checkShape } from './header-checks-node';
import { fileSize } from './resolve-data-file-node';
import type { OpenOptions, VolumeReader } from './volume-reader';

const XRM_TYPES: Record<number, SourceDType> = { 2: 'int8', 3: 'uint8', 4: 'int16', 5: 'uint16', 6: 'int32', 7: 'uint32', 10: 'float32', 11: 'float64' };

/** Stream path of slice `i` (0-based): ImageData<ceil((i+1)/100)>/Image<i+1>. */
export function txmSlicePath(i: number): string {
  return `ImageData${Math.floor(i / 100) + 1}/Image${i + 1}`;
}

/** A refusal for Zeiss projection files, or null. */
export function zeissProjectionsRefusal(path: string, name: string): Error | null {
  const ext = /\.(txrm|xrm)$/i.exec(name)?.[1] ?? /\.(txrm|xrm)$/i.exec(path)?.[1];
  if (!ext) return null;
  return unsupported(
    `${name} holds Zeiss projections (.${ext.toLowerCase()}), not a reconstructed volume: reconstruct it first (Zeiss Reconstructor / XMReconstructor) and import the .txm it writes.`,
  );
}

export async function openTxm(path: string, name: string, opts: OpenOptions = {}): Promise<VolumeReader> {
  const refusal = zeissProjectionsRefusal(path, name);
  if (refusal) throw refusal;
  const limits = opts.limits ?? DEFAULT_LIMITS;
  const size = await fileSize(path, name);
  const cf = await CompoundFile.open(path, name, limits);
  try {
    const value = async (key: string, kind: 'u32' | 'f32', required: boolean): Promise<number | undefined> => {
      const e = cf.entry(`ImageInfo/${key}`);
      if (!e || e.type !== 'stream') {
        if (required) throw invalidInput(`${name} is not a Zeiss reconstruction we can read: it has no ImageInfo/${key} stream. Export the volume as a TIFF stack from the Zeiss software instead.`);
        return undefined;
      }
      if (e.size < 4) throw invalidInput(`${name} is damaged: its ImageInfo/${key} stream holds ${e.size} bytes, not a number.`);
      const b = Buffer.alloc(4);
      await cf.read(e, 0, b);
      return kind === 'u32' ? b.readUInt32LE(0) : b.readFloatLE(0);
    };
    const nx = (await value('ImageWidth', 'u32', true))!;
    const ny = (await value('ImageHeight', 'u32', true))!;
    const code = (await value('DataType', 'u32', true))!;
    const declared = await value('NoOfImages', 'u32', false);
    const taken = await value('ImagesTaken', 'u32', false);
    const notes: string[] = [];
    let nz = declared ?? taken;
    if (nz === undefined) throw invalidInput(`${name} does not say how many slices it holds (no ImageInfo/NoOfImages or ImagesTaken stream); the file is damaged.`);
    if (declared !== undefined && taken !== undefined && taken > 0 && taken < declared) {
      notes.push(`the file declares ${declared} slices but only ${taken} were taken: ${taken} were imported`);
      nz = taken;
    }
    const src = XRM_TYPES[code];
    if (!src) throw unsupported(`${name}: Zeiss voxel type code ${code} (ImageInfo/DataType) is not one we read (3 uint8, 5 uint16, 10 float32 and the other integer/float codes). Export the volume as a TIFF stack instead.`);
    const shape = checkShape([nz, ny, nx], name, src, limits);
    const sliceBytes = ny * nx * SOURCE_BYTES[src];
    if (nz * sliceBytes > size) {
      throw invalidInput(`${name} is truncated: ${nz} slices of ${nx} x ${ny} ${src} voxels need ${(nz * sliceBytes).toLocaleString('en')} bytes but the file has ${size.toLocaleString('en')}. Copy it again.`);
    }
    // every slice stream is checked before a voxel is read: a missing or odd-sized one fails the import at once
    const slices: CfbEntry[] = [];
    for (let i = 0; i < nz; i++) {
      const p = txmSlicePath(i);
      const e = cf.entry(p);
      if (!e || e.type !== 'stream') throw invalidInput(`${name} is incomplete: slice ${i + 1} of ${nz} (stream ${p}) is missing. Copy the file again, or export it as a TIFF stack from the Zeiss software.`);
      if (e.size !== sliceBytes) {
        throw invalidInput(`${name} is damaged: slice ${i + 1} (stream ${p}) holds ${e.size.toLocaleString('en')} bytes but ImageInfo says ${nx} x ${ny} ${src} voxels (${sliceBytes.toLocaleString('en')} bytes).`);
      }
      slices.push(e);
    }
    const pixel = await value('PixelSize', 'f32', false);
    const um = pixel !== undefined && Number.isFinite(pixel) && pixel > 0 ? ([pixel, pixel, pixel] as [number, number, number]) : undefined;
    if (um) notes.push(`voxel size ${pixel!.toPrecision(6).replace(/\.?0+$/, '')} µm from ImageInfo/PixelSize (isotropic)`);
    const desc = describe('txm', path, shape, src, { um, notes }, [0, 0, 0], true, 'Zeiss TXM (OLE streams)');
    return streamReader(desc, sliceReader(cf, slices, sliceBytes, nodePath.basename(name)), new VoxelDecoder(src, true));
  } catch (err) {
    await cf.close();
    throw err;
  }
}

/** The slice streams, one after the other, as one byte stream. */
function sliceReader(cf: CompoundFile, slices: CfbEntry[], sliceBytes: number, name: string): ByteReader {
  let k = 0;
  let off = 0;
  const total = slices.length * sliceBytes;
  const advance = async (n: number, dst: Uint8Array | null) => {
    let done = 0;
    while (done < n) {
      if (k >= slices.length) throw truncated(name, k * sliceBytes, total);
      const m = Math.min(sliceBytes - off, n - done);
      if (dst) {
        await cf.read(slices[k]!, off, dst.subarray(done, done + m)).catch((err: unknown) => {
          // the compound file names the stream; the user thinks in slices
          if (isPetromapError(err) && / is truncated: /.test(err.message)) {
            throw invalidInput(`${name} is truncated: slice ${k + 1} of ${slices.length} lies beyond the end of the file. The file was probably cut short while copying; copy it again.`, { cause: err });
          }
          throw err;
        });
      }
      done += m;
      off += m;
      if (off === sliceBytes) (k++, (off = 0));
    }
  };
  return {
    read: (dst) => advance(dst.length, dst),
    skip: (n) => advance(n, null),
    close: () => cf.close(),
  };
}
