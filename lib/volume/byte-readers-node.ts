/**
 * Sequential byte readers for the importers (positional file reads, or a decompressing stream),
 * and conversion of raw voxel bytes of any common type into a stored dtype.
 */
import * as fs from 'node:fs';
import type { Readable } from 'node:stream';
import { invalidInput } from '../errors';
import type { AnyVoxelArray, DType } from './types';

export type SourceDType = 'uint8' | 'int8' | 'uint16' | 'int16' | 'uint32' | 'int32' | 'float32' | 'float64';

export const SOURCE_BYTES: Record<SourceDType, number> = { uint8: 1, int8: 1, uint16: 2, int16: 2, uint32: 4, int32: 4, float32: 4, float64: 8 };

/** The stored dtype for a source type: uint8/uint16/float32 unchanged, everything else float32 (exact for 8/16-bit ints). */
export function storedTypeFor(src: SourceDType, scaled = false): DType {
  if (scaled) return 'float32';
  return src === 'uint8' || src === 'uint16' || src === 'float32' ? src : 'float32';
}

export function conversionNote(src: SourceDType, scaled = false): string | undefined {
  if (scaled) return `values are rescaled by the file's slope/intercept and stored as float32`;
  if (src === 'int8' || src === 'int16') return `signed ${src} values are stored as float32 (exact; no offset is added)`;
  if (src === 'uint32' || src === 'int32') return `${src} values are stored as float32 (exact up to 16,777,216)`;
  if (src === 'float64') return 'float64 values are stored as float32';
  return undefined;
}

export interface ByteReader {
  /** Fill `dst` completely with the next bytes, or throw InvalidInput naming the file if the data ends early. */
  read(dst: Uint8Array): Promise<void>;
  /** Skip n bytes. */
  skip(n: number): Promise<void>;
  close(): Promise<void>;
}

export async function fileByteReader(path: string, start: number, name: string, expectedTotal: number): Promise<ByteReader> {
  const fh = await fs.promises.open(path, 'r');
  let pos = start;
  let delivered = 0;
  return {
    async read(dst) {
      let off = 0;
      while (off < dst.length) {
        const { bytesRead } = await fh.read(dst, off, dst.length - off, pos);
        if (bytesRead === 0) throw truncated(name, delivered + off, expectedTotal);
        off += bytesRead;
        pos += bytesRead;
      }
      delivered += dst.length;
    },
    async skip(n) {
      pos += n;
    },
    async close() {
      await fh.close();
    },
  };
}

export function truncated(name: string, got: number, expected: number): Error {
  return invalidInput(
    `${name} is truncated: its voxel data ends after ${got.toLocaleString('en')} bytes but the header's sizes need ` +
      `${expected.toLocaleString('en')} bytes. The file was probably cut short while copying; copy it again.`,
  );
}

/** Reads from a (decompressing) stream; errors of the stream become InvalidInput naming the file. */
export function streamByteReader(stream: Readable, name: string, expectedTotal: number): ByteReader {
  // errors reach us through the iterator; this listener only keeps a late one (after close) from
  // becoming an uncaught exception
  stream.on('error', () => {});
  const it = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let pending: Buffer | null = null;
  let delivered = 0;
  async function next(): Promise<Buffer | null> {
    if (pending && pending.length > 0) {
      const p = pending;
      pending = null;
      return p;
    }
    let r: IteratorResult<Buffer>;
    try {
      r = await it.next();
    } catch (err) {
      const msg = (err as Error)?.message ?? String(err);
      if (/unexpected end/i.test(msg)) throw truncated(name, delivered, expectedTotal);
      throw invalidInput(`${name}: its compressed voxel data is damaged (${msg}).`, { cause: err });
    }
    return r.done ? null : r.value;
  }
  async function take(n: number, dst: Uint8Array | null): Promise<void> {
    let off = 0;
    while (off < n) {
      const b = await next();
      if (!b) throw truncated(name, delivered + off, expectedTotal);
      const k = Math.min(n - off, b.length);
      if (dst) dst.set(b.subarray(0, k), off);
      if (k < b.length) pending = b.subarray(k);
      off += k;
    }
    delivered += n;
  }
  return {
    read: (dst) => take(dst.length, dst),
    skip: (n) => take(n, null),
    async close() {
      stream.destroy();
    },
  };
}

const CTORS = {
  uint8: Uint8Array,
  int8: Int8Array,
  uint16: Uint16Array,
  int16: Int16Array,
  uint32: Uint32Array,
  int32: Int32Array,
  float32: Float32Array,
  float64: Float64Array,
} as const;

function swapInPlace(bytes: Uint8Array, size: number): void {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (size === 2) b.swap16();
  else if (size === 4) b.swap32();
  else if (size === 8) b.swap64();
}

/**
 * Reads `out.length` voxels of `src` type from `reader` into `out` (the stored dtype), swapping bytes
 * if the data is big endian and applying value = slope * raw + inter when `scale` is given.
 */
export class VoxelDecoder {
  #scratch: ArrayBuffer | null = null;
  constructor(
    readonly src: SourceDType,
    readonly littleEndian: boolean,
    readonly scale?: { slope: number; inter: number },
  ) {}

  async readInto(reader: ByteReader, out: AnyVoxelArray): Promise<void> {
    const size = SOURCE_BYTES[this.src];
    const nbytes = out.length * size;
    const direct = !this.scale && storedTypeFor(this.src) === this.src; // same layout as the output
    if (direct) {
      const bytes = new Uint8Array(out.buffer, out.byteOffset, nbytes);
      await reader.read(bytes);
      if (!this.littleEndian && size > 1) swapInPlace(bytes, size);
      return;
    }
    if (!this.#scratch || this.#scratch.byteLength < nbytes) this.#scratch = new ArrayBuffer(nbytes);
    const bytes = new Uint8Array(this.#scratch, 0, nbytes);
    await reader.read(bytes);
    this.decode(bytes, out);
  }

  /** Convert `bytes` (exactly out.length voxels, an aligned copy that may be modified) into out. */
  decode(bytes: Uint8Array, out: AnyVoxelArray): void {
    const size = SOURCE_BYTES[this.src];
    if (!this.littleEndian && size > 1) swapInPlace(bytes, size);
    let aligned = bytes;
    if (bytes.byteOffset % size !== 0) aligned = bytes.slice();
    const view = new CTORS[this.src](aligned.buffer as ArrayBuffer, aligned.byteOffset, out.length);
    if (this.scale) {
      const { slope, inter } = this.scale;
      for (let i = 0; i < out.length; i++) out[i] = slope * view[i]! + inter;
    } else {
      out.set(view as never);
    }
  }
}
