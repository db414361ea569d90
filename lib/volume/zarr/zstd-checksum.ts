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
 * XXH64's main loop (32-byte stripes, four 64-bit lanes) runs in a WebAssembly function of a few hundred bytes,
 * assembled below (wasm has the 64-bit multiply JavaScript lacks); the rest, and the whole hash
 * when WebAssembly is not available, runs here in 32-bit halves (about 0.3 GB/s on one core).
 * Paid once per chunk written, never on a read (the decoder verifies).
 */

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

/** Signed LEB128 of a 64-bit constant (wasm's i64.const immediate). */
function sleb(v: bigint): number[] {
  const out: number[] = [];
  for (;;) {
    const b = Number(v & 0x7fn);
    v >>= 7n;
    const done = (v === 0n && !(b & 0x40)) || (v === -1n && (b & 0x40) !== 0);
    out.push(done ? b : b | 0x80);
    if (done) return out;
  }
}

/** Unsigned LEB128 of a section or body size. */
function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    const b = n & 0x7f;
    n >>>= 7;
    out.push(n ? b | 0x80 : b);
  } while (n);
  return out;
}

/**
 * A wasm module exporting memory `m` and `s(p, end)`: the four XXH64 lanes, read from bytes 0-31 of
 * `m` as little-endian u64, updated with the 32-byte stripes at [p, end), written back. In text:
 *   (func (param $p i32) (param $end i32) (local $v1 i64) (local $v2 i64) (local $v3 i64) (local $v4 i64)
 *     $vk = i64.load offset=8(k-1) (i32.const 0)          ;; k = 1..4
 *     (block (loop
 *       (br_if 1 (i32.ge_u $p $end))
 *       $vk = (i64.mul (i64.rotl (i64.add $vk (i64.mul (i64.load offset=8(k-1) $p) P2)) 31) P1)
 *       $p = $p + 32  (br 0)))
 *     i64.store offset=8(k-1) (i32.const 0) $vk)
 */
function stripeModule(): Uint8Array<ArrayBuffer> {
  const P1 = BigInt.asIntN(64, 0x9e3779b185ebca87n);
  const P2 = BigInt.asIntN(64, 0xc2b2ae3d27d4eb4fn);
  const LOCAL_GET = 0x20, LOCAL_SET = 0x21, I32_CONST = 0x41, I64_CONST = 0x42, I64_LOAD = 0x29, I64_STORE = 0x37;
  const I64_ADD = 0x7c, I64_MUL = 0x7e, I64_ROTL = 0x89, I32_ADD = 0x6a, I32_GE_U = 0x4f, BR = 0x0c, BR_IF = 0x0d, END = 0x0b;
  const lanes = [0, 1, 2, 3];
  const body = [
    0x01, 0x04, 0x7e, // four i64 locals (2..5)
    ...lanes.flatMap((k) => [I32_CONST, 0, I64_LOAD, 3, 8 * k, LOCAL_SET, 2 + k]),
    0x02, 0x40, 0x03, 0x40, // block, loop
    LOCAL_GET, 0, LOCAL_GET, 1, I32_GE_U, BR_IF, 1,
    ...lanes.flatMap((k) => [
      LOCAL_GET, 2 + k, LOCAL_GET, 0, I64_LOAD, 3, 8 * k, I64_CONST, ...sleb(P2), I64_MUL, I64_ADD,
      I64_CONST, 31, I64_ROTL, I64_CONST, ...sleb(P1), I64_MUL, LOCAL_SET, 2 + k,
    ]),
    LOCAL_GET, 0, I32_CONST, 32, I32_ADD, LOCAL_SET, 0, BR, 0,
    END, END, // loop, block
    ...lanes.flatMap((k) => [I32_CONST, 0, LOCAL_GET, 2 + k, I64_STORE, 3, 8 * k]),
    END,
  ];
  const section = (id: number, bytes: number[]) => [id, ...uleb(bytes.length), ...bytes];
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, 2, 0x7f, 0x7f, 0]), // type: (i32, i32) -> ()
    ...section(3, [1, 0]), // one function of that type
    ...section(5, [1, 0, 1]), // one memory, 1 page to start
    ...section(7, [2, 1, 0x6d, 2, 0, 1, 0x73, 0, 0]), // exports "m" (memory 0), "s" (function 0)
    ...section(10, [1, ...uleb(body.length), ...body]),
  ]);
}

let stripes: { memory: WebAssembly.Memory; s: (p: number, end: number) => void } | null | undefined;

/** The wasm stripe loop, or null where WebAssembly is not available (the JavaScript loop then). */
function wasmStripes(): typeof stripes {
  if (stripes === undefined) {
    try {
      const inst = new WebAssembly.Instance(new WebAssembly.Module(stripeModule()), {});
      stripes = { memory: inst.exports.m as WebAssembly.Memory, s: inst.exports.s as (p: number, end: number) => void };
    } catch {
      stripes = null;
    }
  }
  return stripes;
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
      // lanes at bytes 0-31 of its memory, the stripes from byte 64
      const need = 64 + words * 4;
      if (wasm.memory.buffer.byteLength < need) wasm.memory.grow(Math.ceil((need - wasm.memory.buffer.byteLength) / 65536));
      const m32 = new Uint32Array(wasm.memory.buffer, 0, 8);
      m32.set([v1L, v1H, v2L, v2H, v3L, v3H, v4L, v4H]);
      new Uint8Array(wasm.memory.buffer, 64, words * 4).set(b.subarray(0, words * 4));
      wasm.s(64, need);
      const v = new Uint32Array(wasm.memory.buffer, 0, 8);
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
