/**
 * zarrita's compressors (gzip, zlib, zstd, blosc, lz4; v3 names and the numcodecs.* names of v2
 * arrays) replaced in its codec registry by capped ones: a chunk never decodes to more than the
 * bytes its metadata declares (the chunk shape times the voxel size the codec sees, plus a little
 * for a checksum or a stacked compressor), and the decoder is stopped at that cap before anything
 * larger is allocated. zarrita builds every chunk's codec chain from this registry: the arrays of
 * petromap's own stores (ZarrVolumeStore, read as if trusted: a store copied in or damaged on
 * disk is not), OME-Zarr from other tools, the inner chunks of sharded v3 arrays and v2 arrays
 * with filters all go through it.
 *
 * - gzip / zlib: node's zlib with `maxOutputLength` (native; one decode, no check pass first).
 * - zstd: zstddec's wasm decoder writing into `cap` bytes of its memory (zstd-into-node.ts): a frame
 *   stating a larger size, or inflating further, is refused by the decoder. numcodecs' zstd (when
 *   that wasm cannot be loaded) only for frames that state a size within the cap.
 * - blosc / lz4: their header's decoded size against the cap, then numcodecs decodes.
 *
 * Encoding is numcodecs' (gzip is numcodecs' GZip, which also encodes), except that a zstd codec
 * configured `checksum: true` (petromap stores written since the checksum came in) adds zstd's
 * content checksum to every frame (zstd-checksum.ts): a chunk changed on disk then fails to decode
 * instead of reading back as other voxels. A refusal, and a zstd chunk that does not decode or
 * does not match its checksum, is a PetromapError (InvalidInput) that zarrita wraps in its
 * CodecPipelineError; `chunkTooLarge` finds it again for the caller's message.
 */
import * as zlib from 'node:zlib';
import GZip from 'numcodecs/gzip';
import * as zarr from 'zarrita';
import { invalidInput, isPetromapError, type PetromapError } from '../../errors';
import { addContentChecksum } from './zstd-checksum';
import { ZstdDamaged, zstdInto, ZstdTooLarge } from './zstd-into-node';

interface BytesCodec {
  kind?: string;
  encode(b: Uint8Array): Promise<Uint8Array> | Uint8Array;
  decode(b: Uint8Array): Promise<Uint8Array> | Uint8Array;
  computeEncodedSize?(n: number): number;
}
interface CodecClass {
  fromConfig(config: unknown, meta: unknown): BytesCodec;
}
type Loader = () => Promise<CodecClass> | CodecClass;

const ITEM_BYTES: Record<string, number> = {
  bool: 1, int8: 1, uint8: 1, int16: 2, uint16: 2, float16: 2, int32: 4, uint32: 4, float32: 4, int64: 8, uint64: 8, float64: 8,
};

/**
 * A chunk's declared bytes (shape times item size, as the codec sees them) and the most a
 * compressor in its chain may give back: the declared bytes plus 1/64 and 4 KiB (a checksum codec's
 * 4 bytes, a compressor stacked under another, whose output can be a little larger than its input).
 * Undefined for data types without a fixed size (petromap refuses those before it reads a chunk).
 */
export function chunkCap(meta: unknown): { declared: number; cap: number } | undefined {
  const m = meta as { shape?: unknown; dataType?: unknown } | undefined;
  const item = ITEM_BYTES[String(m?.dataType ?? '')];
  if (!item || !Array.isArray(m?.shape) || !m.shape.every((n) => Number.isInteger(n) && n >= 0)) return undefined;
  const declared = (m.shape as number[]).reduce((a, b) => a * b, 1) * item;
  return Number.isSafeInteger(declared) ? { declared, cap: declared + Math.ceil(declared / 64) + 4096 } : undefined;
}

interface Cap {
  declared: number;
  cap: number;
}

/** The refusal of a chunk that decodes beyond its declared size. */
function tooLarge(c: Cap): PetromapError {
  return invalidInput(`a chunk decodes to more than its declared ${c.declared.toLocaleString('en')} bytes; the file is damaged.`);
}

/** The capped-decoder refusal (or damaged-chunk error) inside an error zarrita threw (its CodecPipelineError keeps it as `cause`), if any. */
export function chunkTooLarge(err: unknown): PetromapError | undefined {
  for (let e = err, k = 0; e && k < 4; e = (e as { cause?: unknown }).cause, k++) if (isPetromapError(e)) return e;
  return undefined;
}

/** The decoded size a zstd frame header states (Frame_Content_Size), or undefined when it states none. */
export function zstdContentSize(b: Uint8Array): number | undefined {
  if (b.length < 6 || b[0] !== 0x28 || b[1] !== 0xb5 || b[2] !== 0x2f || b[3] !== 0xfd) return undefined;
  const fhd = b[4]!;
  const single = (fhd >> 5) & 1;
  const fcsFlag = fhd >> 6;
  const dictBytes = [0, 1, 2, 4][fhd & 3]!;
  const fcsBytes = fcsFlag === 0 ? single : [0, 2, 4, 8][fcsFlag]!;
  if (fcsBytes === 0) return undefined;
  const at = 5 + (single ? 0 : 1) + dictBytes;
  if (b.length < at + fcsBytes) return undefined;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (fcsBytes === 1) return b[at]!;
  if (fcsBytes === 2) return dv.getUint16(at, true) + 256;
  if (fcsBytes === 4) return dv.getUint32(at, true);
  return Number(dv.getBigUint64(at, true));
}

type Decode = (b: Uint8Array, c: Cap, inner: BytesCodec) => Promise<Uint8Array> | Uint8Array;

function inflate(fn: typeof zlib.gunzipSync): Decode {
  return (b, c) => {
    try {
      const out = fn(b, { maxOutputLength: c.cap });
      return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    } catch (err) {
      if ((err as NodeJS.ErrnoException)?.code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) throw tooLarge(c);
      throw err;
    }
  };
}

const zstdDecode: Decode = async (b, c, inner) => {
  const stated = zstdContentSize(b);
  if (stated !== undefined && stated > c.cap) throw tooLarge(c);
  const z = await zstdInto();
  if (z) {
    try {
      return z.decodeAtMost(b, c.cap);
    } catch (err) {
      if (err instanceof ZstdTooLarge) throw tooLarge(c);
      if (err instanceof ZstdDamaged) throw damaged(err.checksum, err);
      throw err;
    }
  }
  if (stated === undefined) throw invalidInput('a zstd chunk does not state its decoded size, and the bounded zstd decoder is not available to check it; the file cannot be read safely.');
  try {
    return await inner.decode(b);
  } catch (err) {
    // numcodecs' decoder (the reference zstd) verifies the checksum too; its message names the cause
    throw damaged(/checksum/i.test(String((err as Error)?.message ?? err)), err);
  }
};

/**
 * A zstd chunk that does not decode (`checksum`: decodes, but not to the bytes its checksum was
 * made of): changed on disk after it was written. Worded for ZarrVolumeStore's message, which names
 * the store and the chunk (`isDamagedChunk` finds it).
 */
function damaged(checksum: boolean, cause: unknown): PetromapError {
  return invalidInput(checksum ? 'its voxels do not match the checksum written with them' : 'its compressed data does not decode', { cause, details: { damagedChunk: true } });
}

/** Whether `e` (a chunkTooLarge result) says a zstd chunk was damaged on disk. */
export function isDamagedChunk(e: PetromapError | undefined): boolean {
  return e?.details?.damagedChunk === true;
}

/** zstd's encoder, with the content checksum added to each frame when the array's zstd codec is configured `checksum: true`. */
function zstdEncode(config: unknown, inner: BytesCodec): BytesCodec['encode'] {
  if ((config as { checksum?: unknown } | undefined)?.checksum !== true) return (b) => inner.encode(b);
  return async (b) => addContentChecksum(await inner.encode(b), b);
}

/** blosc and lz4 state the decoded size in their header (blosc: bytes 4-7; numcodecs' lz4: bytes 0-3). */
function headerSized(at: number, min: number): Decode {
  return (b, c, inner) => {
    if (b.length >= min && new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(at, true) > c.cap) throw tooLarge(c);
    return inner.decode(b);
  };
}

const CAPPED: Record<string, Decode> = {
  gzip: inflate(zlib.gunzipSync),
  zlib: inflate(zlib.inflateSync),
  zstd: zstdDecode,
  blosc: headerSized(4, 16),
  lz4: headerSized(0, 4),
};

/** `Base` whose instances decode with `decode`, capped by their chunk's declared size (zstd: and encode with its checksum when configured). */
function capped(Base: CodecClass, decode: Decode, name: string): CodecClass {
  return {
    fromConfig(config: unknown, meta: unknown): BytesCodec {
      const inner = Base.fromConfig(config, meta);
      const c = chunkCap(meta);
      const codec: BytesCodec = {
        kind: 'bytes_to_bytes',
        encode: name === 'zstd' ? zstdEncode(config, inner) : (b) => inner.encode(b),
        // without a known size (no fixed-size type) the chunk is refused rather than decoded blind
        decode: (b) => (c === undefined ? Promise.reject(invalidInput('a compressed chunk of a type without a fixed size cannot be checked; petromap reads numeric arrays only.')) : decode(b, c, inner)),
      };
      if (inner.computeEncodedSize) codec.computeEncodedSize = (n) => inner.computeEncodedSize!(n);
      return codec;
    },
  };
}

let installed = false;

/** Puts the capped compressors into zarrita's registry (once per thread; every module that reads zarr chunks calls it). */
export function installCappedCodecs(): void {
  if (installed) return;
  installed = true;
  const registry = zarr.registry as unknown as Map<string, Loader>;
  // numcodecs' GZip also encodes (zarrita's own gzip only decodes): petromap stores may be written with gzip
  registry.set('gzip', () => GZip as unknown as CodecClass);
  registry.set('numcodecs.gzip', () => GZip as unknown as CodecClass);
  for (const [name, decode] of Object.entries(CAPPED)) {
    for (const key of [name, `numcodecs.${name}`]) {
      const load = registry.get(key);
      if (!load) continue;
      let once: Promise<CodecClass> | undefined;
      registry.set(key, () => (once ??= Promise.resolve(load()).then((Base) => capped(Base, decode, name))));
    }
  }
}
