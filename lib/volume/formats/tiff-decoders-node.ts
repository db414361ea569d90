/**
 * Bounded strip / tile decoders (Deflate, PackBits, LZW): a strip never unpacks to more than its
 * declared size; one that would throws TiffBombError.
 */
import * as zlib from 'node:zlib';
import { BaseDecoder } from 'geotiff';

export class TiffBombError extends Error {}

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

export class BoundedTiffDecoder extends BaseDecoder {
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

/** TIFF compressions the bounded decoders handle (none, LZW, Deflate/Adobe Deflate, PackBits). */
export const BOUNDED_TIFF_COMPRESSIONS: ReadonlySet<number> = new Set([1, 5, 8, 32946, 32773]);

/**
 * A stand-in for geotiff's decoder pool (readRasters `pool` option): every strip or tile of
 * blockW x blockH pixels of bytesPerPixel goes through a BoundedTiffDecoder, so a strip that
 * unpacks to more than its declared size throws TiffBombError instead of filling memory.
 */
export function boundedTiffPool(blockW: number, blockH: number, bytesPerPixel: number) {
  return {
    bindParameters(compression: number, params: ConstructorParameters<typeof BaseDecoder>[0]) {
      return new BoundedTiffDecoder({ ...params, tileWidth: blockW, tileHeight: blockH }, compression, blockW * blockH * bytesPerPixel);
    },
  };
}
