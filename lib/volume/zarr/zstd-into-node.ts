/**
 * zstd frames decoded into a buffer the caller owns (the brick reader's recycled chunk buffers).
 *
 * numcodecs' zstd codec (what zarrita decodes with) copies every compressed chunk into its wasm
 * heap one byte at a time in JS (embind's std::string argument) and returns each decoded chunk as
 * a new 2 MB array. Here zstd's reference decoder, built to wasm as the npm package `zstddec`
 * ships it (BSD; installed with geotiff), runs on its own instance: the compressed bytes go in with
 * one native copy, the frame decodes in wasm memory, and one native copy takes it out into the
 * caller's buffer. zstddec's own wrapper would return a new array per frame (`heap.slice`), so only
 * its wasm binary is used, read from its package. One instance per thread (module state).
 *
 * `zstdInto()` resolves to null when the binary cannot be found or instantiated (zstddec is
 * geotiff's dependency, not petromap's own); callers then decode through zarrita + numcodecs, which
 * gives the same bytes.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

interface Exports {
  memory: WebAssembly.Memory;
  malloc(n: number): number;
  free(p: number): void;
  ZSTD_decompress(dst: number, dstCapacity: number, src: number, srcSize: number): number;
}

export interface ZstdInto {
  /**
   * Decodes the zstd frame(s) in `src` into `dst`, which must be exactly the decoded size (a chunk's
   * bytes). Throws when the data is not zstd or does not decode to `dst.length` bytes (a ZstdDamaged
   * error when it does not decode at all or its content checksum does not match).
   */
  decode(src: Uint8Array, dst: Uint8Array): void;
  /**
   * Decodes the zstd frame(s) in `src` into a new array of their decoded size, which may be at most
   * `cap` bytes: data decoding to more is refused by the decoder itself (it writes into `cap` bytes
   * of its memory), so nothing beyond `cap` is ever allocated. Throws a ZstdTooLarge error then, an
   * ZstdDamaged error when the data does not decode or does not match its content checksum.
   */
  decodeAtMost(src: Uint8Array, cap: number): Uint8Array;
}

/** Thrown by decodeAtMost when the data decodes to more than the cap. */
export class ZstdTooLarge extends Error {}

/** zstd's error code for "the content checksum does not match" (ZSTD_error_checksum_wrong). */
const CHECKSUM_WRONG = 22;

/** Thrown by decode and decodeAtMost when the data does not decode; `checksum`: it decodes, but not to what its checksum says. */
export class ZstdDamaged extends Error {
  constructor(readonly code: number) {
    super(code === CHECKSUM_WRONG ? 'zstd: the data does not match its checksum' : `zstd: the data does not decode (error ${code})`);
  }
  get checksum(): boolean {
    return this.code === CHECKSUM_WRONG;
  }
}

/** zstd's error code for "destination buffer is too small" (ZSTD_error_dstSize_tooSmall). */
const DST_TOO_SMALL = 70;

let instance: Promise<ZstdInto | null> | undefined;

/** The thread's decoder, or null when zstddec's wasm is not available. */
export function zstdInto(): Promise<ZstdInto | null> {
  return (instance ??= load().catch(() => null));
}

async function load(): Promise<ZstdInto | null> {
  const require = createRequire(import.meta.url);
  // runtime paths the server build must not trace (as elastix-wasm-node.ts does)
  const text = readFileSync(/* turbopackIgnore: true */ require.resolve(/* turbopackIgnore: true */ 'zstddec'), 'utf8');
  const b64 = /\bwasm\s*=\s*['"]([A-Za-z0-9+/=]+)['"]/.exec(text)?.[1];
  if (!b64) return null;
  let ex: Exports | undefined;
  let heap = new Uint8Array(0);
  const env = { emscripten_notify_memory_growth: () => (heap = new Uint8Array(ex!.memory.buffer)) };
  const { instance: inst } = await WebAssembly.instantiate(Buffer.from(b64, 'base64'), { env });
  ex = inst.exports as unknown as Exports;
  if (typeof ex.ZSTD_decompress !== 'function' || typeof ex.malloc !== 'function') return null;
  heap = new Uint8Array(ex.memory.buffer);
  // one input and one output region, kept and grown as needed
  let inPtr = 0, inCap = 0, outPtr = 0, outCap = 0;
  const reserve = (ptr: number, cap: number, n: number): [number, number] => {
    if (ptr && n <= cap) return [ptr, cap];
    if (ptr) ex!.free(ptr);
    const c = Math.max(n, Math.ceil(cap * 1.25), 64);
    const p = ex!.malloc(c);
    if (!p) throw new Error(`zstd: could not reserve ${c} bytes of decoder memory`);
    return [p, c];
  };
  return {
    decode(src: Uint8Array, dst: Uint8Array): void {
      [inPtr, inCap] = reserve(inPtr, inCap, src.length);
      [outPtr, outCap] = reserve(outPtr, outCap, dst.length);
      if (heap.buffer !== ex!.memory.buffer) heap = new Uint8Array(ex!.memory.buffer);
      heap.set(src, inPtr);
      // size_t in wasm32: error codes (-1 .. -120 as size_t) come back as negative i32
      const n = ex!.ZSTD_decompress(outPtr, outCap, inPtr, src.length);
      if (n < 0) throw new ZstdDamaged(-n);
      if (n !== dst.length) throw new Error(`zstd: the data decodes to ${n} bytes, ${dst.length} expected`);
      if (heap.buffer !== ex!.memory.buffer) heap = new Uint8Array(ex!.memory.buffer);
      dst.set(heap.subarray(outPtr, outPtr + n));
    },
    decodeAtMost(src: Uint8Array, cap: number): Uint8Array {
      [inPtr, inCap] = reserve(inPtr, inCap, src.length);
      [outPtr, outCap] = reserve(outPtr, outCap, Math.max(1, cap));
      if (heap.buffer !== ex!.memory.buffer) heap = new Uint8Array(ex!.memory.buffer);
      heap.set(src, inPtr);
      const n = ex!.ZSTD_decompress(outPtr, Math.max(1, cap), inPtr, src.length);
      if (n < 0) throw -n === DST_TOO_SMALL ? new ZstdTooLarge(`zstd: the data decodes to more than ${cap} bytes`) : new ZstdDamaged(-n);
      if (n > cap) throw new ZstdTooLarge(`zstd: the data decodes to more than ${cap} bytes`);
      if (heap.buffer !== ex!.memory.buffer) heap = new Uint8Array(ex!.memory.buffer);
      return heap.slice(outPtr, outPtr + n);
    },
  };
}
