/**
 * zstd's frame content checksum for the chunks petromap writes.
 *
 * numcodecs' zstd encoder (the one zarrita's registry gives) writes frames without zstd's optional
 * content checksum and ignores a `checksum` setting. A frame may carry one: bit 2 of its Frame
 * Header Descriptor set and, after its last block, the low 32 bits of XXH64 (seed 0) of the decoded
 * content, little-endian (RFC 8878, 3.1.1). `addContentChecksum` turns an encoded single frame into
 * that form; every zstd decoder verifies the checksum (zstddec's wasm, which zstd-into-node.ts runs,
 * refuses a mismatch with ZSTD_error_checksum_wrong), and readers without checksum support skip it.
 * No format change for other readers: the array metadata says `checksum: true`, as zarr-python's
 * zstd codec writes it.
 *
 * XXH64's main loop (32-byte stripes, four 64-bit lanes) runs in WebAssembly (wasm has the 64-bit
 * multiply JavaScript lacks): wasm/assembly/checksum.ts, compiled by wasm/build.mjs at install; the
 * rest, and the whole hash when that is not built or WebAssembly is not available, runs here in
 * 32-bit halves (about 0.3 GB/s on one core).
 * Paid once per chunk written, never on a read (the decoder verifies).
 */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// XXH64's primes, high and low 32 bits
const P1H = 0x9e3779b1, P1L = 0x85ebca87;
const P2H = 0xc2b2ae3d, P2L = 0x27d4eb4f;
const P3H = 0x165667b1, P3L = 0x9e3779f9;
const P4H = 0x85ebca77, P4L = 0xc2b2ae63;
const P5H = 0x27d4eb2f, P5L = 0x165667c5;

/** The result of the 64-bit helpers: [low, high] (unsigned 32-bit halves). */
const R = new Uint32Array(2);

/** a * b mod 2^64 into R (halves given as unsigned 32-bit numbers). */
function mul(aH: number, aL: number, bH: number, bL: number): void {
  const a0 = aL & 0xffff, a1 = aL >>> 16, b0 = bL & 0xffff, b1 = bL >>> 16;
  const t = a0 * b0;
  const m1 = a1 * b0 + (t >>> 16);
  const m2 = a0 * b1 + (m1 & 0xffff);
  R[0] = Math.imul(aL, bL);
  R[1] = a1 * b1 + (m1 >>> 16) + (m2 >>> 16) + Math.imul(aH, bL) + Math.imul(aL, bH);
}

/** a + b mod 2^64 into R. */
function add(aH: number, aL: number, bH: number, bL: number): void {
  const l = aL + bL;
  R[0] = l;
  R[1] = aH + bH + (l > 0xffffffff ? 1 : 0);
}

/** rotate left by n (0 < n < 32) into R. */
function rotl(h: number, l: number, n: number): void {
  R[1] = (h << n) | (l >>> (32 - n));
  R[0] = (l << n) | (h >>> (32 - n));
}

const P1L0 = P1L & 0xffff, P1L1 = P1L >>> 16;
const P2L0 = P2L & 0xffff, P2L1 = P2L >>> 16;

/** XXH64's round: rotl(acc + x * P2, 31) * P1, into R (the hot loop: written out, one store to R). */
function round(accH: number, accL: number, xH: number, xL: number): void {
  // x * P2
  let a0 = xL & 0xffff, a1 = xL >>> 16;
  let t = a0 * P2L0;
  let m1 = a1 * P2L0 + (t >>> 16);
  let m2 = a0 * P2L1 + (m1 & 0xffff);
  let lo = Math.imul(xL, P2L) >>> 0;
  let hi = (a1 * P2L1 + (m1 >>> 16) + (m2 >>> 16) + Math.imul(xH, P2L) + Math.imul(xL, P2H)) >>> 0;
  // + acc
  const l = accL + lo;
  lo = l >>> 0;
  hi = (hi + accH + (l > 0xffffffff ? 1 : 0)) >>> 0;
  // rotl 31
  const rh = ((hi << 31) | (lo >>> 1)) >>> 0;
  const rl = ((lo << 31) | (hi >>> 1)) >>> 0;
  // * P1
  a0 = rl & 0xffff;
  a1 = rl >>> 16;
  t = a0 * P1L0;
  m1 = a1 * P1L0 + (t >>> 16);
  m2 = a0 * P1L1 + (m1 & 0xffff);
  R[0] = Math.imul(rl, P1L);
  R[1] = a1 * P1L1 + (m1 >>> 16) + (m2 >>> 16) + Math.imul(rh, P1L) + Math.imul(rl, P1H);
}

/**
 * The compiled stripe loop (wasm/assembly/checksum.ts, built by wasm/build.mjs at install; the plain
 * build: it has no SIMD to relax). Repo files next to this module; when a bundler has rewritten
 * import.meta.url (not a file: URL), the working directory (the repo root for `next start`, the CLI
 * and the tests), as lib/features/kernels-wasm.ts finds features.wasm.
 */
function checksumWasmPath(): string {
  const u = new URL('../../../wasm/build/checksum.wasm', import.meta.url);
  return u.protocol === 'file:' ? fileURLToPath(u) : join(/*turbopackIgnore: true*/ process.cwd(), 'wasm/build/checksum.wasm');
}

interface Stripes {
  memory: WebAssembly.Memory;
  /** first free byte of its memory: the four lanes there, the stripes 64 bytes on */
  base: number;
  stripes: (lanes: number, p: number, end: number) => void;
}

let stripes: Stripes | null | undefined;

/** The wasm stripe loop, or null where it is not built or WebAssembly is not available (the JavaScript loop then, the same hash). */
function wasmStripes(): Stripes | null {
  if (stripes === undefined) {
    try {
      const inst = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(/*turbopackIgnore: true*/ checksumWasmPath())), { env: { abort: () => {} } });
      const ex = inst.exports as { memory: WebAssembly.Memory; heapBase: () => number; stripes: Stripes['stripes'] };
      stripes = { memory: ex.memory, base: (ex.heapBase() + 63) & ~63, stripes: ex.stripes };
    } catch {
      stripes = null;
    }
  }
  return stripes;
}

/** Which stripe loop xxh64Low32 runs: 'wasm' (wasm/build/checksum.wasm) or 'js' (not built, or no WebAssembly). */
export function checksumKernel(): 'wasm' | 'js' {
  return wasmStripes() ? 'wasm' : 'js';
}

/** The low 32 bits of XXH64 (seed 0) of `b`, as zstd stores it after a frame. `js`: without the wasm stripe loop (tests). */
export function xxh64Low32(b: Uint8Array, opts: { js?: boolean } = {}): number {
  const n = b.length;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let p = 0;
  let hH: number, hL: number;
  if (n >= 32) {
    add(P1H, P1L, P2H, P2L);
    let v1H = R[1]!, v1L = R[0]!;
    let v2H = P2H, v2L = P2L;
    let v3H = 0, v3L = 0;
    add(0, 0, ~P1H >>> 0, ((~P1L >>> 0) + 1) >>> 0); // -P1: two's complement (P1's low half is not 0)
    let v4H = R[1]!, v4L = R[0]!;
    // four lanes of 8 bytes per 32-byte stripe
    const words = (n >>> 5) << 3;
    const wasm = opts.js ? null : wasmStripes();
    if (wasm) {
      // the lanes at its first free byte, the stripes 64 bytes on
      const at = wasm.base;
      const need = at + 64 + words * 4;
      if (wasm.memory.buffer.byteLength < need) wasm.memory.grow(Math.ceil((need - wasm.memory.buffer.byteLength) / 65536));
      const m32 = new Uint32Array(wasm.memory.buffer, at, 8);
      m32.set([v1L, v1H, v2L, v2H, v3L, v3H, v4L, v4H]);
      new Uint8Array(wasm.memory.buffer, at + 64, words * 4).set(b.subarray(0, words * 4));
      wasm.stripes(at, at + 64, need);
      const v = new Uint32Array(wasm.memory.buffer, at, 8);
      [v1L, v1H, v2L, v2H, v3L, v3H, v4L, v4H] = [v[0]!, v[1]!, v[2]!, v[3]!, v[4]!, v[5]!, v[6]!, v[7]!];
    }
    // an aligned Uint32Array reads faster than a DataView
    const w = wasm ? new Uint32Array(0) : b.byteOffset % 4 === 0 ? new Uint32Array(b.buffer, b.byteOffset, n >>> 2) : new Uint32Array(b.slice(0, n & ~3).buffer);
    for (let i = 0; !wasm && i < words; i += 8) {
      round(v1H, v1L, w[i + 1]!, w[i]!);
      (v1L = R[0]!), (v1H = R[1]!);
      round(v2H, v2L, w[i + 3]!, w[i + 2]!);
      (v2L = R[0]!), (v2H = R[1]!);
      round(v3H, v3L, w[i + 5]!, w[i + 4]!);
      (v3L = R[0]!), (v3H = R[1]!);
      round(v4H, v4L, w[i + 7]!, w[i + 6]!);
      (v4L = R[0]!), (v4H = R[1]!);
    }
    p = words * 4;
    rotl(v1H, v1L, 1);
    (hH = R[1]!), (hL = R[0]!);
    rotl(v2H, v2L, 7);
    add(hH, hL, R[1]!, R[0]!);
    (hH = R[1]!), (hL = R[0]!);
    rotl(v3H, v3L, 12);
    add(hH, hL, R[1]!, R[0]!);
    (hH = R[1]!), (hL = R[0]!);
    rotl(v4H, v4L, 18);
    add(hH, hL, R[1]!, R[0]!);
    (hH = R[1]!), (hL = R[0]!);
    for (const [vH, vL] of [[v1H, v1L], [v2H, v2L], [v3H, v3L], [v4H, v4L]] as const) {
      round(0, 0, vH, vL);
      hH = (hH ^ R[1]!) >>> 0;
      hL = (hL ^ R[0]!) >>> 0;
      mul(hH, hL, P1H, P1L);
      add(R[1]!, R[0]!, P4H, P4L);
      (hH = R[1]!), (hL = R[0]!);
    }
  } else {
    (hH = P5H), (hL = P5L);
  }
  add(hH, hL, Math.floor(n / 2 ** 32) >>> 0, n >>> 0);
  (hH = R[1]!), (hL = R[0]!);
  for (; p + 8 <= n; p += 8) {
    round(0, 0, dv.getUint32(p + 4, true), dv.getUint32(p, true));
    hH = (hH ^ R[1]!) >>> 0;
    hL = (hL ^ R[0]!) >>> 0;
    rotl(hH, hL, 27);
    mul(R[1]!, R[0]!, P1H, P1L);
    add(R[1]!, R[0]!, P4H, P4L);
    (hH = R[1]!), (hL = R[0]!);
  }
  if (p + 4 <= n) {
    mul(0, dv.getUint32(p, true), P1H, P1L);
    hH = (hH ^ R[1]!) >>> 0;
    hL = (hL ^ R[0]!) >>> 0;
    rotl(hH, hL, 23);
    mul(R[1]!, R[0]!, P2H, P2L);
    add(R[1]!, R[0]!, P3H, P3L);
    (hH = R[1]!), (hL = R[0]!);
    p += 4;
  }
  for (; p < n; p++) {
    mul(0, b[p]!, P5H, P5L);
    hH = (hH ^ R[1]!) >>> 0;
    hL = (hL ^ R[0]!) >>> 0;
    rotl(hH, hL, 11);
    mul(R[1]!, R[0]!, P1H, P1L);
    (hH = R[1]!), (hL = R[0]!);
  }
  // avalanche: h ^= h >> 33; h *= P2; h ^= h >> 29; h *= P3; h ^= h >> 32 (only the low half is kept)
  hL = (hL ^ (hH >>> 1)) >>> 0;
  mul(hH, hL, P2H, P2L);
  (hH = R[1]!), (hL = R[0]!);
  hL = (hL ^ ((hL >>> 29) | (hH << 3))) >>> 0;
  hH = (hH ^ (hH >>> 29)) >>> 0;
  mul(hH, hL, P3H, P3L);
  return (R[0]! ^ R[1]!) >>> 0;
}

const MAGIC = 0xfd2fb528;

/**
 * `frame` (one zstd frame, as numcodecs' encoder writes it, of `content`) with zstd's content
 * checksum: the header's checksum flag set and the checksum appended. A frame that already has one
 * is returned as it is. Throws (an internal error: the encoder changed) unless `frame` is exactly
 * one frame with no checksum, so a chunk is never written with a checksum in the wrong place.
 */
export function addContentChecksum(frame: Uint8Array, content: Uint8Array): Uint8Array {
  const bad = (why: string) => new Error(`Internal error: the zstd encoder's output is not one plain frame (${why}); cannot add its checksum.`);
  const dv = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  if (frame.length < 6 || dv.getUint32(0, true) !== MAGIC) throw bad('no zstd magic number');
  const fhd = frame[4]!;
  if (fhd & 4) return frame;
  const single = (fhd >> 5) & 1;
  const fcsFlag = fhd >> 6;
  const fcsBytes = fcsFlag === 0 ? single : [0, 2, 4, 8][fcsFlag]!;
  let at = 5 + (single ? 0 : 1) + [0, 1, 2, 4][fhd & 3]! + fcsBytes;
  for (;;) {
    if (at + 3 > frame.length) throw bad('it ends inside a block header');
    const h = frame[at]! | (frame[at + 1]! << 8) | (frame[at + 2]! << 16);
    const type = (h >> 1) & 3;
    const size = h >>> 3;
    if (type === 3) throw bad('a reserved block type');
    at += 3 + (type === 1 ? 1 : size);
    if (h & 1) break;
  }
  if (at !== frame.length) throw bad(at > frame.length ? 'its last block runs past its end' : 'bytes follow its last block');
  // one copy into a buffer that is not zero-filled first (the encoder's array has no room for 4 more bytes)
  const out = Buffer.allocUnsafe(frame.length + 4);
  out.set(frame);
  out[4] = fhd | 4;
  out.writeUInt32LE(xxh64Low32(content), frame.length);
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}
