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

/**
 * Undoes the horizontal predictor (2) on a big-endian block of 16- or 32-bit samples in place: the
 * differences are sums of whole samples, so each is read big-endian, accumulated along its row
 * (`stride` samples per pixel) and written back big-endian. geotiff accumulates the bytes as if
 * they were this machine's (little-endian) samples, which turned 0 200 400 600 into 0 200 144 88.
 */
export function undoBigEndianPredictor(block: ArrayBufferLike, width: number, height: number, bytesPerSample: number, stride: number): void {
  const dv = new DataView(block);
  const rowBytes = width * stride * bytesPerSample;
  const get = bytesPerSample === 2 ? (o: number) => dv.getUint16(o, false) : (o: number) => dv.getUint32(o, false);
  const set = bytesPerSample === 2 ? (o: number, v: number) => dv.setUint16(o, v & 0xffff, false) : (o: number, v: number) => dv.setUint32(o, v >>> 0, false);
  for (let y = 0; y < height && (y + 1) * rowBytes <= block.byteLength; y++) {
    const row = y * rowBytes;
    for (let i = stride; i < width * stride; i++) {
      const o = row + i * bytesPerSample;
      set(o, get(o) + get(o - stride * bytesPerSample));
    }
  }
}

export class BoundedTiffDecoder extends BaseDecoder {
  constructor(
    params: ConstructorParameters<typeof BaseDecoder>[0],
    readonly compression: number,
    readonly maxBytes: number,
    /** the file's byte order (the horizontal predictor of a big-endian file is undone here, not by geotiff) */
    readonly littleEndian = true,
  ) {
    super(params);
  }

  async decode(buffer: ArrayBufferLike): Promise<ArrayBufferLike> {
    const { tileWidth, tileHeight, predictor, bitsPerSample, planarConfiguration, samplesPerPixel } = this.parameters as ConstructorParameters<typeof BaseDecoder>[0] & { samplesPerPixel?: number };
    const bits = Number(ArrayBuffer.isView(bitsPerSample) || Array.isArray(bitsPerSample) ? (bitsPerSample as ArrayLike<number>)[0] : bitsPerSample);
    if (this.littleEndian || predictor !== 2 || (bits !== 16 && bits !== 32)) return super.decode(buffer);
    const block = await this.decodeBlock(buffer);
    const spp = samplesPerPixel ?? (ArrayBuffer.isView(bitsPerSample) || Array.isArray(bitsPerSample) ? (bitsPerSample as ArrayLike<number>).length : 1);
    undoBigEndianPredictor(block, tileWidth, tileHeight, bits / 8, planarConfiguration === 2 ? 1 : spp);
    return block;
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
export function boundedTiffPool(blockW: number, blockH: number, bytesPerPixel: number, littleEndian = true) {
  return {
    bindParameters(compression: number, params: ConstructorParameters<typeof BaseDecoder>[0]) {
      return new BoundedTiffDecoder({ ...params, tileWidth: blockW, tileHeight: blockH }, compression, blockW * blockH * bytesPerPixel, littleEndian);
    },
  };
}
