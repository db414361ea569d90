/**
 * Synthetic Zeiss .txm files for tests and benchmarks, written with the `cfb` package (an
 * independent OLE writer, not our reader's code) in the stream layout the public readers use
 * (dxchange, txrm2tiff, olefile-based scripts):
 *   ImageInfo/ImageWidth, ImageHeight, DataType, NoOfImages, ImagesTaken  uint32 little endian
 *   ImageInfo/PixelSize                                                   float32, µm
 *   ImageData<k>/Image<i>   slice i (1-based) in folder k = ceil(i / 100), height x width voxels
 * DataType follows Xradia's XrmDataTypes: 3 uint8, 5 uint16, 10 float32 (others in open-txm-node).
 * The whole file is built in memory: for small synthetic volumes only.
 */
import { writeFile } from 'node:fs/promises';
import * as CFB from 'cfb';
import type { Shape3 } from '../types';
import { txmSlicePath } from './open-txm-node';

export { txmSlicePath };

export interface TxmSpec {
  shape: Shape3;
  voxels: Uint8Array | Uint16Array | Float32Array;
  pixelSizeUm?: number;
  /** ImageInfo values written instead of the true ones (hostile files); null leaves the stream out */
  info?: Partial<Record<'ImageWidth' | 'ImageHeight' | 'DataType' | 'NoOfImages' | 'ImagesTaken' | 'PixelSize', number | null>>;
  /** 1-based slice numbers whose stream is left out, or given these bytes instead */
  omitSlices?: number[];
  replaceSlices?: Record<number, Uint8Array>;
  /** ImageInfo streams padded to 4096 bytes, so they sit in regular sectors, not the mini stream at the file's end */
  padInfo?: boolean;
  /** more streams (path -> bytes), e.g. other Zeiss metadata */
  extra?: Record<string, Uint8Array>;
}

const DATA_TYPE = { uint8: 3, uint16: 5, float32: 10 } as const;

function u32(v: number): Uint8Array {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0);
  return b;
}

function f32(v: number): Uint8Array {
  const b = Buffer.alloc(4);
  b.writeFloatLE(v);
  return b;
}

export function txmBytes(spec: TxmSpec): Uint8Array {
  const [nz, ny, nx] = spec.shape;
  const dtype = spec.voxels instanceof Uint8Array ? 'uint8' : spec.voxels instanceof Uint16Array ? 'uint16' : 'float32';
  const info: Record<string, [number, (v: number) => Uint8Array]> = {
    ImageWidth: [nx, u32],
    ImageHeight: [ny, u32],
    DataType: [DATA_TYPE[dtype], u32],
    NoOfImages: [nz, u32],
    ImagesTaken: [nz, u32],
    PixelSize: [spec.pixelSizeUm ?? 1, f32],
  };
  const cfb = CFB.utils.cfb_new();
  const add = (p: string, bytes: Uint8Array) => CFB.utils.cfb_add(cfb, `/${p}`, bytes, { unsafe: true } as never);
  for (const [k, [v, enc]] of Object.entries(info)) {
    const o = spec.info?.[k as keyof NonNullable<TxmSpec['info']>];
    if (o === null) continue;
    const b = enc(o ?? v);
    add(`ImageInfo/${k}`, spec.padInfo ? Buffer.concat([b, Buffer.alloc(4096 - b.length)]) : b);
  }
  const bytes = new Uint8Array(spec.voxels.buffer, spec.voxels.byteOffset, spec.voxels.byteLength);
  const slice = bytes.length / nz;
  const omit = new Set(spec.omitSlices ?? []);
  for (let i = 0; i < nz; i++) {
    if (omit.has(i + 1)) continue;
    add(txmSlicePath(i), spec.replaceSlices?.[i + 1] ?? bytes.slice(i * slice, (i + 1) * slice));
  }
  for (const [p, b] of Object.entries(spec.extra ?? {})) add(p, b);
  CFB.utils.cfb_gc(cfb);
  return CFB.write(cfb, { type: 'buffer', fileType: 'cfb' }) as Uint8Array;
}

export async function writeTxm(path: string, spec: TxmSpec): Promise<void> {
  await writeFile(path, txmBytes(spec));
}
