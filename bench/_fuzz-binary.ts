/**
 * The fuzzer's binary mutation operators (bench/fuzz.ts): generic ones (bit flips, extreme integers,
 * truncation, duplication) and structure-aware field rewrites of TIFF, NIfTI-1, PNG and zip files.
 * Each takes the bytes and the mutant's Rng and returns new bytes with a one-line description.
 */
import { crc32 } from 'node:zlib';
import type { Mutation, Rng } from './_fuzz-seeds';

const EXTREMES = [0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];
export const hex = (v: number) => `0x${(v >>> 0).toString(16)}`;

export function writeUInt(b: Buffer, off: number, width: 1 | 2 | 4, v: number, be = false): void {
  if (off < 0 || off + width > b.length) return;
  const x = width === 4 ? v >>> 0 : v & (width === 2 ? 0xffff : 0xff);
  if (width === 1) b.writeUInt8(x, off);
  else if (width === 2) (be ? b.writeUInt16BE(x, off) : b.writeUInt16LE(x, off));
  else be ? b.writeUInt32BE(x, off) : b.writeUInt32LE(x, off);
}

export function bitFlips(src: Buffer, rng: Rng): Mutation {
  const b = Buffer.from(src);
  const n = 1 + rng.int(8);
  const at: number[] = [];
  for (let i = 0; i < n && b.length; i++) {
    const off = rng.chance(0.6) ? rng.int(Math.min(b.length, 1024)) : rng.int(b.length);
    b[off] ^= 1 << rng.int(8);
    at.push(off);
  }
  return { bytes: b, desc: `${n} bit flip(s) at ${at.join(',')}` };
}

export function extremeAt(src: Buffer, rng: Rng, offsets?: number[]): Mutation {
  const b = Buffer.from(src);
  const off = offsets?.length && rng.chance(0.7) ? rng.pick(offsets) : rng.int(Math.min(b.length, 512));
  const width = rng.pick([1, 2, 4] as const);
  const raw = rng.chance(0.15) ? b.length + rng.int(3) - 1 : rng.pick(EXTREMES);
  const v = width === 4 ? raw >>> 0 : raw & (width === 2 ? 0xffff : 0xff);
  const be = rng.chance(0.2);
  writeUInt(b, off, width, v, be);
  return { bytes: b, desc: `u${width * 8}${be ? 'be' : 'le'} ${hex(v)} at ${off}` };
}

export function truncation(src: Buffer, rng: Rng): Mutation {
  const n = rng.chance(0.5) ? rng.int(Math.min(src.length, 600)) : rng.int(src.length);
  return { bytes: Buffer.from(src.subarray(0, n)), desc: `truncated to ${n} of ${src.length} bytes` };
}

export function duplication(src: Buffer, rng: Rng): Mutation {
  if (rng.chance(0.2)) {
    const k = rng.pick([2, 3, 16]);
    return { bytes: Buffer.concat(Array.from({ length: k }, () => src)), desc: `whole file repeated ${k} times` };
  }
  const a = rng.int(src.length);
  const len = 1 + rng.int(Math.min(src.length - a, 65536));
  const at = rng.int(src.length + 1);
  const copies = rng.pick([1, 1, 4, 64]);
  const chunk = src.subarray(a, a + len);
  return { bytes: Buffer.concat([src.subarray(0, at), ...Array.from({ length: copies }, () => chunk), src.subarray(at)]), desc: `bytes ${a}..${a + len} inserted ${copies}x at ${at}` };
}

// --- TIFF: IFD entries, counts, offsets, next-page pointers

function tiffLayout(b: Buffer): { le: boolean; entries: number[]; nextPtrs: number[] } {
  const le = b.toString('latin1', 0, 2) !== 'MM';
  const u16 = (o: number) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
  const u32 = (o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const entries: number[] = [];
  const nextPtrs: number[] = [4];
  if (b.length < 8) return { le, entries, nextPtrs };
  let ifd = u32(4);
  const seen = new Set<number>();
  while (ifd && ifd + 2 <= b.length && !seen.has(ifd) && seen.size < 64) {
    seen.add(ifd);
    const n = u16(ifd);
    for (let k = 0; k < n && ifd + 2 + 12 * (k + 1) <= b.length; k++) entries.push(ifd + 2 + 12 * k);
    const next = ifd + 2 + 12 * n;
    if (next + 4 > b.length) break;
    nextPtrs.push(next);
    ifd = u32(next);
  }
  return { le, entries, nextPtrs };
}

const TIFF_TYPES = [0, 1, 2, 3, 4, 5, 7, 11, 12, 13, 16, 17, 18, 0xffff];
const TIFF_TAGS = [254, 256, 257, 258, 259, 262, 273, 277, 278, 279, 284, 317, 322, 323, 324, 325, 338, 339, 0xffff];

export function tiffField(src: Buffer, rng: Rng): Mutation {
  const b = Buffer.from(src);
  const { le, entries, nextPtrs } = tiffLayout(b);
  const be = !le;
  const u16 = (o: number) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
  if (!entries.length || rng.chance(0.12)) {
    const at = rng.pick(nextPtrs);
    const v = rng.pick([0, 4, 8, at - 2, b.length, b.length - 2, 0xffffffff, 0x7fffffff]);
    writeUInt(b, at, 4, v, be);
    return { bytes: b, desc: `tiff page pointer at ${at} := ${hex(v)}` };
  }
  const e = rng.pick(entries);
  const tag = u16(e);
  const field = rng.pick(['tag', 'type', 'count', 'count', 'value', 'value', 'value'] as const);
  if (field === 'tag') {
    const v = rng.pick(TIFF_TAGS);
    writeUInt(b, e, 2, v, be);
    return { bytes: b, desc: `tiff tag ${tag} renumbered ${v}` };
  }
  if (field === 'type') {
    const v = rng.pick(TIFF_TYPES);
    writeUInt(b, e + 2, 2, v, be);
    return { bytes: b, desc: `tiff tag ${tag} type := ${v}` };
  }
  if (field === 'count') {
    const v = rng.pick([0, 2, 3, 0xffff, 0x10000, 1 << 24, 1 << 26, 1 << 28, 0x7fffffff, 0xffffffff]);
    writeUInt(b, e + 4, 4, v, be);
    return { bytes: b, desc: `tiff tag ${tag} count := ${hex(v)}` };
  }
  const type = u16(e + 2);
  const v = rng.chance(0.2) ? b.length - rng.int(4) : rng.pick(EXTREMES);
  writeUInt(b, e + 8, type === 3 && rng.chance(0.7) ? 2 : 4, v, be);
  return { bytes: b, desc: `tiff tag ${tag} value := ${hex(v)}` };
}

// --- NIfTI-1 header fields

export const NIFTI_FIELDS: { off: number; kind: 'i16' | 'i32' | 'f32' | 'magic'; name: string }[] = [
  { off: 0, kind: 'i32', name: 'sizeof_hdr' },
  ...Array.from({ length: 8 }, (_, i) => ({ off: 40 + 2 * i, kind: 'i16' as const, name: `dim[${i}]` })),
  { off: 70, kind: 'i16', name: 'datatype' },
  { off: 72, kind: 'i16', name: 'bitpix' },
  ...Array.from({ length: 4 }, (_, i) => ({ off: 76 + 4 * i, kind: 'f32' as const, name: `pixdim[${i}]` })),
  { off: 108, kind: 'f32', name: 'vox_offset' },
  { off: 112, kind: 'f32', name: 'scl_slope' },
  { off: 116, kind: 'f32', name: 'scl_inter' },
  { off: 123, kind: 'i16', name: 'xyzt_units' },
  { off: 252, kind: 'i16', name: 'qform_code' },
  { off: 254, kind: 'i16', name: 'sform_code' },
  { off: 344, kind: 'magic', name: 'magic' },
];
const I16 = [0, 1, -1, 2, 3, 4, 7, 8, 255, 256, 512, 768, 1024, 1280, 1536, 2304, 16384, 32767, -32768];
const I32 = [0, -1, 348, 540, 0x7fffffff, -0x80000000, 0x5c010000];
const F32 = [NaN, Infinity, -Infinity, -1, 0, 1e-30, 1e30, 3.4e38, -4096, 351, 353, 4294967296, 2147483648];

export function niftiField(src: Buffer, rng: Rng): Mutation {
  const b = Buffer.from(src);
  const f = rng.pick(NIFTI_FIELDS);
  if (f.off + 4 > b.length) return extremeAt(src, rng);
  let v: number | string;
  if (f.kind === 'i16') (v = rng.pick(I16)), b.writeInt16LE(v, f.off);
  else if (f.kind === 'i32') (v = rng.pick(I32)), b.writeInt32LE(v, f.off);
  else if (f.kind === 'f32') (v = rng.pick(F32)), b.writeFloatLE(v, f.off);
  else (v = rng.pick(['n+2\0', 'ni1\0', 'xxxx', '\0\0\0\0'])), b.write(v, f.off, 'latin1');
  return { bytes: b, desc: `nifti ${f.name} := ${JSON.stringify(String(v))}` };
}

// --- PNG: IHDR fields and chunk lengths, CRCs fixed so the decoder looks past them

function pngChunks(b: Buffer): { at: number; len: number; type: string }[] {
  const out: { at: number; len: number; type: string }[] = [];
  for (let at = 8; at + 12 <= b.length && out.length < 1000; ) {
    const len = b.readUInt32BE(at);
    out.push({ at, len, type: b.toString('latin1', at + 4, at + 8) });
    if (at + 12 + len > b.length) break;
    at += 12 + len;
  }
  return out;
}

function fixCrc(b: Buffer, c: { at: number; len: number }): void {
  if (c.at + 12 + c.len <= b.length) b.writeUInt32BE(crc32(b.subarray(c.at + 4, c.at + 8 + c.len)) >>> 0, c.at + 8 + c.len);
}

export function pngField(src: Buffer, rng: Rng): Mutation {
  const b = Buffer.from(src);
  const chunks = pngChunks(b);
  const ihdr = chunks.find((c) => c.type === 'IHDR');
  const what = rng.int(4);
  if (ihdr && what <= 1) {
    const f = rng.pick([
      { off: 0, w: 4 as const, name: 'width', vals: [0, 1, 25, 65535, 16384, 100000, 0x7fffffff, 0x80000000, 0xffffffff] },
      { off: 4, w: 4 as const, name: 'height', vals: [0, 1, 17, 65535, 16384, 100000, 0x7fffffff, 0x80000000, 0xffffffff] },
      { off: 8, w: 1 as const, name: 'bit depth', vals: [0, 1, 2, 4, 8, 16, 3, 255] },
      { off: 9, w: 1 as const, name: 'colour type', vals: [0, 2, 3, 4, 6, 1, 7, 255] },
      { off: 10, w: 1 as const, name: 'compression', vals: [1, 255] },
      { off: 11, w: 1 as const, name: 'filter', vals: [1, 255] },
      { off: 12, w: 1 as const, name: 'interlace', vals: [1, 2, 255] },
    ]);
    const v = rng.pick(f.vals);
    writeUInt(b, ihdr.at + 8 + f.off, f.w, v, true);
    const fixed = rng.chance(0.85);
    if (fixed) fixCrc(b, ihdr);
    return { bytes: b, desc: `png IHDR ${f.name} := ${v}${fixed ? ' (CRC fixed)' : ''}` };
  }
  const idat = chunks.find((c) => c.type === 'IDAT');
  if (idat && what === 2) {
    const n = 1 + rng.int(6);
    for (let i = 0; i < n; i++) b[idat.at + 8 + rng.int(idat.len)] ^= 1 << rng.int(8);
    fixCrc(b, idat);
    return { bytes: b, desc: `png IDAT ${n} bit flip(s) (CRC fixed)` };
  }
  const c = rng.pick(chunks.length ? chunks : [{ at: 8, len: 0, type: '?' }]);
  const v = rng.pick([0, 1, 0x7fffffff, 0x80000000, 0xffffffff, c.len + 1, c.len * 1000]);
  writeUInt(b, c.at, 4, v, true);
  return { bytes: b, desc: `png ${c.type} chunk length := ${hex(v)}` };
}

// --- zip directory fields

const ZIP_FIELDS = {
  local: [
    { off: 6, w: 2 as const, name: 'flags' },
    { off: 8, w: 2 as const, name: 'method' },
    { off: 18, w: 4 as const, name: 'compressed size' },
    { off: 22, w: 4 as const, name: 'size' },
    { off: 26, w: 2 as const, name: 'name length' },
    { off: 28, w: 2 as const, name: 'extra length' },
  ],
  central: [
    { off: 4, w: 2 as const, name: 'made by' },
    { off: 10, w: 2 as const, name: 'method' },
    { off: 16, w: 4 as const, name: 'crc' },
    { off: 20, w: 4 as const, name: 'compressed size' },
    { off: 24, w: 4 as const, name: 'size' },
    { off: 28, w: 2 as const, name: 'name length' },
    { off: 30, w: 2 as const, name: 'extra length' },
    { off: 32, w: 2 as const, name: 'comment length' },
    { off: 38, w: 4 as const, name: 'external attributes' },
    { off: 42, w: 4 as const, name: 'local header offset' },
  ],
  eocd: [
    { off: 8, w: 2 as const, name: 'entries on disk' },
    { off: 10, w: 2 as const, name: 'entries' },
    { off: 12, w: 4 as const, name: 'directory size' },
    { off: 16, w: 4 as const, name: 'directory offset' },
    { off: 20, w: 2 as const, name: 'comment length' },
  ],
};

export function zipField(src: Buffer, rng: Rng): Mutation {
  const b = Buffer.from(src);
  const eocd = b.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0) return extremeAt(src, rng);
  const cds: number[] = [];
  const locals: number[] = [];
  let at = b.readUInt32LE(eocd + 16);
  for (let i = 0; i < b.readUInt16LE(eocd + 10) && at + 46 <= b.length && b.readUInt32LE(at) === 0x02014b50; i++) {
    cds.push(at);
    locals.push(b.readUInt32LE(at + 42));
    at += 46 + b.readUInt16LE(at + 28) + b.readUInt16LE(at + 30) + b.readUInt16LE(at + 32);
  }
  const where = rng.pick(['local', 'central', 'central', 'eocd'] as const);
  const base = where === 'eocd' ? eocd : where === 'central' ? rng.pick(cds.length ? cds : [eocd]) : rng.pick(locals.length ? locals : [0]);
  const fields = where === 'central' && !cds.length ? ZIP_FIELDS.eocd : ZIP_FIELDS[where];
  const f = rng.pick(fields);
  const v = f.w === 2 ? rng.pick([0, 1, 8, 12, 99, 0x7fff, 0xffff]) : rng.pick([0, 1, 0x7fffffff, 0x80000000, 0xffffffff, b.length, 0xa1ff0000, (0o120777 << 16) >>> 0, (0o040755 << 16) >>> 0]);
  writeUInt(b, base + f.off, f.w, v);
  return { bytes: b, desc: `zip ${where} ${f.name} := ${hex(v)}` };
}
