/**
 * `npm run bench -- fuzz [--seed N] [--iterations N] [--parallel N] [--timeout S] [--only I]
 *                         [--cases-only | --mutants-only]`
 *
 * Issue 12 acceptance: hostile input hurts nothing. Two parts, each input imported in a child
 * process through tests/security/harness.ts runCaseInChild (the product's import, peak RSS of the
 * child measured):
 *  1. every hostile case of tests/security/cases-*.ts (volume, eds, zip; a file that does not exist
 *     yet is skipped with a note) — each must be refused on purpose;
 *  2. a seeded, reproducible mutation fuzzer: small VALID inputs (multi-page TIFF, deflate TIFF,
 *     NRRD header + raw, gzip NRRD, MHA, NIfTI, EDS colour map + legend (PNG and TIFF), a TESCAN
 *     TIMA export, a zip of a TIFF stack) mutated by bit flips, extreme integers at header offsets,
 *     truncation, duplication and structure-aware field rewrites (TIFF tags, NIfTI fields, PNG IHDR
 *     with a fixed CRC, zip directory fields and entry names, header lines like huge sizes, negative
 *     offsets, `../../etc/passwd`). Mutant i depends only on (seed, i): `--seed S --only i` reruns it.
 *     A mutant may import fine (accepted).
 * Targets: 0 crashes (untagged error, dead or hung child), 0 bytes left behind by a refused input,
 * peak RSS < 512 MiB for every input, and every hostile case refused. Exit code 1 when one is missed.
 * Crashing mutants are saved under bench/out/fuzz/ with the command that reproduces them.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { crc32, deflateSync, gzipSync } from 'node:zlib';
import { encode } from 'fast-png';
import { zipSync, type Zippable } from 'fflate';
import { writeArrayBuffer } from 'geotiff';
import { bytesUnder, isCleanMessage, RSS_LIMIT_MIB, runCaseInChild, scratch, type CaseKind, type CaseRun, type HostileCase } from '../tests/security/harness';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const OUT_DIR = join(here, 'out', 'fuzz');

// ---------------------------------------------------------------------------------------------
// reproducible randomness

export class Rng {
  private a: number;
  constructor(seed: number) {
    this.a = seed >>> 0;
  }
  /** mulberry32 */
  next(): number {
    this.a = (this.a + 0x6d2b79f5) | 0;
    let t = Math.imul(this.a ^ (this.a >>> 15), 1 | this.a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return n <= 0 ? 0 : Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

/** The seed of mutant `iteration` under run seed `seed` (a 32-bit mix of the two). */
function mutantSeed(seed: number, iteration: number): number {
  let h = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(iteration + 1, 0x85ebca6b)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}

// ---------------------------------------------------------------------------------------------
// valid seed inputs

type Fmt = 'tiff' | 'nifti' | 'png' | 'zip' | 'header' | 'csv' | 'xml' | 'json' | 'raw';

interface Mutation {
  bytes: Buffer;
  desc: string;
}

interface SeedFile {
  path: string;
  bytes: Buffer;
  fmt: Fmt;
  /** how often this file is the one mutated (0: never, e.g. the harness's own pixel.json) */
  weight: number;
  /** structure-aware rebuilds (zip: entries renamed, duplicated, turned into links) */
  rebuild?: (rng: Rng) => Mutation;
}

export interface SeedInput {
  name: string;
  kind: CaseKind;
  /** path (relative to the input folder) that is imported; '' = the folder itself */
  entry: string;
  files: SeedFile[];
}

export interface Mutant {
  iteration: number;
  seedName: string;
  kind: CaseKind;
  entry: string;
  files: { path: string; bytes: Buffer }[];
  /** the mutated file and what was done to it */
  target: string;
  desc: string;
}

/** One TIFF page per slice, little-endian, one strip each; deflate (8) optional. */
function tiffStack(nz: number, ny: number, nx: number, bits: 8 | 16, compression: 1 | 8): Buffer {
  const pages: { ifd: Buffer; data: Buffer }[] = [];
  const bpp = bits / 8;
  for (let z = 0; z < nz; z++) {
    const raw = Buffer.alloc(ny * nx * bpp);
    for (let i = 0; i < ny * nx; i++) {
      const v = ((i * 37 + z * 101) % 251) * (bits === 16 ? 200 : 1);
      if (bits === 16) raw.writeUInt16LE(v, 2 * i);
      else raw[i] = v;
    }
    const data = compression === 8 ? deflateSync(raw) : raw;
    pages.push({ ifd: Buffer.alloc(0), data });
  }
  const tagsOf = (dataAt: number, dataLen: number): [number, number, number, number][] => [
    [256, 4, 1, nx],
    [257, 4, 1, ny],
    [258, 3, 1, bits],
    [259, 3, 1, compression],
    [262, 3, 1, 1],
    [273, 4, 1, dataAt],
    [277, 3, 1, 1],
    [278, 4, 1, ny],
    [279, 4, 1, dataLen],
    [339, 3, 1, 1],
  ];
  const ifdLen = 2 + 10 * 12 + 4;
  let pos = 8;
  const layout = pages.map((p) => {
    const ifdAt = pos;
    const dataAt = ifdAt + ifdLen;
    pos = dataAt + p.data.length + (p.data.length & 1);
    return { ifdAt, dataAt };
  });
  const out = Buffer.alloc(pos);
  out.write('II', 0, 'latin1');
  out.writeUInt16LE(42, 2);
  out.writeUInt32LE(8, 4);
  pages.forEach((p, k) => {
    const { ifdAt, dataAt } = layout[k]!;
    const tags = tagsOf(dataAt, p.data.length);
    out.writeUInt16LE(tags.length, ifdAt);
    tags.forEach(([tag, type, count, value], i) => {
      const o = ifdAt + 2 + 12 * i;
      out.writeUInt16LE(tag, o);
      out.writeUInt16LE(type, o + 2);
      out.writeUInt32LE(count, o + 4);
      if (type === 3) out.writeUInt16LE(value, o + 8);
      else out.writeUInt32LE(value, o + 8);
    });
    out.writeUInt32LE(k + 1 < pages.length ? layout[k + 1]!.ifdAt : 0, ifdAt + 2 + tags.length * 12);
    p.data.copy(out, dataAt);
  });
  return out;
}

function ramp(n: number, bytesPer: 1 | 2): Buffer {
  const b = Buffer.alloc(n * bytesPer);
  for (let i = 0; i < n; i++) {
    if (bytesPer === 2) b.writeUInt16LE((i * 977) & 0xffff, 2 * i);
    else b[i] = (i * 7) & 0xff;
  }
  return b;
}

/** NIfTI-1 single file: int16 voxels, dims (x, y, z). */
function niftiFile(nx: number, ny: number, nz: number): Buffer {
  const h = Buffer.alloc(352);
  h.writeInt32LE(348, 0);
  [3, nx, ny, nz, 1, 1, 1, 1].forEach((d, i) => h.writeInt16LE(d, 40 + 2 * i));
  h.writeInt16LE(4, 70); // DT_INT16
  h.writeInt16LE(16, 72);
  [1, 0.002, 0.002, 0.002, 1, 1, 1, 1].forEach((v, i) => h.writeFloatLE(v, 76 + 4 * i));
  h.writeFloatLE(352, 108);
  h.writeFloatLE(1, 112);
  h.writeUInt8(2, 123); // xyzt_units: mm
  h.write('n+1\0', 344, 'latin1');
  return Buffer.concat([h, ramp(nx * ny * nz, 2)]);
}

const LEGEND = 'name,r,g,b\nQuartz,236,220,180\nPyrite,255,230,0\nClay,120,160,90\n';
const COLOURS = [
  [236, 220, 180],
  [255, 230, 0],
  [120, 160, 90],
];

function edsRgb(w: number, h: number): Uint8Array {
  const data = new Uint8Array(w * h * 3);
  for (let i = 0; i < w * h; i++) data.set(COLOURS[(((i % w) >> 2) + (Math.floor(i / w) >> 3)) % 3]!, i * 3);
  return data;
}

const ZIP_TIME = new Date(Date.UTC(2024, 0, 1));
const HOSTILE_NAMES = ['../../etc/passwd', '/etc/passwd', 'slices/../../../x.tif', 'C:\\Windows\\x.tif', '..\\..\\x.tif', 'slices/a\u0000b.tif', '..', 'slices/' + 'x'.repeat(3000) + '.tif', ''];

function zipRebuilder(entries: Record<string, Uint8Array>): (rng: Rng) => Mutation {
  return (rng) => {
    const names = Object.keys(entries);
    const victim = rng.pick(names);
    const what = rng.int(3);
    const files: Zippable = {};
    let desc = '';
    if (what === 0) {
      const bad = rng.pick(HOSTILE_NAMES);
      for (const n of names) files[n === victim ? bad : n] = [entries[n]!, { mtime: ZIP_TIME }];
      desc = `zip: entry ${victim} renamed ${JSON.stringify(bad.length > 40 ? bad.slice(0, 20) + `…(${bad.length})` : bad)}`;
    } else if (what === 1) {
      for (const n of names) files[n] = [entries[n]!, { mtime: ZIP_TIME, ...(n === victim ? { os: 3, attrs: (0o120777 << 16) >>> 0 } : {}) }];
      desc = `zip: entry ${victim} marked as a symbolic link`;
    } else {
      // the same entry under many names (a stack of 4 slices becomes one of 4 + k)
      const k = rng.pick([1, 50, 500]);
      for (const n of names) files[n] = [entries[n]!, { mtime: ZIP_TIME }];
      for (let i = 0; i < k; i++) files[`slices/t${String(i).padStart(4, '0')}.tif`] = [entries[victim]!, { mtime: ZIP_TIME }];
      desc = `zip: entry ${victim} added ${k} more times`;
    }
    return { bytes: Buffer.from(zipSync(files, { mtime: ZIP_TIME })), desc };
  };
}

/** A 6 x 20 x 24 uint16 zstd store, chunks 4 x 16 x 16, two levels, as files (the store's own layout). */
async function petromapStoreSeed(): Promise<SeedInput> {
  const { writeDenseVolume } = await import('../lib/volume/zarr-store-node');
  const { readdir, readFile } = await import('node:fs/promises');
  const box = await scratch('petromap-fuzz-seed-');
  try {
    const dir = join(box.root, 'vol.ome.zarr');
    const data = Uint16Array.from({ length: 6 * 20 * 24 }, (_, i) => (i * 37) % 4000);
    await writeDenseVolume(dir, { meta: { shape: [6, 20, 24], dtype: 'uint16', spacingUm: [2, 2, 2], originUm: [0, 0, 0], channels: ['xray'] }, channels: [data] }, { chunk: [4, 16, 16], levels: 2 });
    const files: SeedFile[] = [];
    const walk = async (rel: string): Promise<void> => {
      for (const e of await readdir(join(dir, rel), { withFileTypes: true })) {
        const p = rel ? `${rel}/${e.name}` : e.name;
        if (e.isDirectory()) await walk(p);
        else files.push({ path: p, bytes: await readFile(join(dir, p)), ...(/zarr\.json$/.test(p) ? { fmt: 'json' as const, weight: 3 } : { fmt: 'raw' as const, weight: 1 }) });
      }
    };
    await walk('');
    files.sort((a, b) => a.path.localeCompare(b.path));
    return { name: 'petromap-store', kind: 'store', entry: '', files };
  } finally {
    await box.dispose();
  }
}

/** The small valid inputs the fuzzer mutates (deterministic). Seeds of a kind whose helper is missing are left out. */
export async function seedInputs(): Promise<SeedInput[]> {
  const seeds: SeedInput[] = [];
  seeds.push({ name: 'tiff-stack-u16', kind: 'volume', entry: 'stack.tif', files: [{ path: 'stack.tif', bytes: tiffStack(4, 12, 16, 16, 1), fmt: 'tiff', weight: 1 }] });
  seeds.push({ name: 'tiff-deflate-u8', kind: 'volume', entry: 'stack.tif', files: [{ path: 'stack.tif', bytes: tiffStack(3, 16, 16, 8, 8), fmt: 'tiff', weight: 1 }] });
  const nrrdHead = 'NRRD0004\ntype: uint16\ndimension: 3\nsizes: 8 6 4\nspacings: 2 2 2\nendian: little\nencoding: raw\ndata file: scan.raw\n\n';
  seeds.push({
    name: 'nrrd-detached',
    kind: 'volume',
    entry: 'scan.nhdr',
    files: [
      { path: 'scan.nhdr', bytes: Buffer.from(nrrdHead, 'latin1'), fmt: 'header', weight: 3 },
      { path: 'scan.raw', bytes: ramp(8 * 6 * 4, 2), fmt: 'raw', weight: 1 },
    ],
  });
  const nrrdGz = 'NRRD0004\ntype: uint8\ndimension: 3\nsizes: 10 8 5\nspacings: 1.5 1.5 3\nencoding: gzip\n\n';
  seeds.push({ name: 'nrrd-gzip', kind: 'volume', entry: 'scan.nrrd', files: [{ path: 'scan.nrrd', bytes: Buffer.concat([Buffer.from(nrrdGz, 'latin1'), gzipSync(ramp(400, 1))]), fmt: 'header', weight: 1 }] });
  const mha = 'ObjectType = Image\nNDims = 3\nBinaryData = True\nBinaryDataByteOrderMSB = False\nElementSpacing = 2 2 2\nDimSize = 8 6 4\nElementType = MET_UCHAR\nElementDataFile = LOCAL\n';
  seeds.push({ name: 'mha', kind: 'volume', entry: 'scan.mha', files: [{ path: 'scan.mha', bytes: Buffer.concat([Buffer.from(mha, 'latin1'), ramp(192, 1)]), fmt: 'header', weight: 1 }] });
  seeds.push({ name: 'nifti', kind: 'volume', entry: 'scan.nii', files: [{ path: 'scan.nii', bytes: niftiFile(8, 6, 4), fmt: 'nifti', weight: 1 }] });
  const pixel = Buffer.from(JSON.stringify({ pixelSizeUm: 2 }));
  seeds.push({
    name: 'eds-png',
    kind: 'eds',
    entry: '',
    files: [
      { path: 'map.png', bytes: Buffer.from(encode({ width: 24, height: 16, data: edsRgb(24, 16), channels: 3, depth: 8 })), fmt: 'png', weight: 3 },
      { path: 'legend.csv', bytes: Buffer.from(LEGEND), fmt: 'csv', weight: 2 },
      // the harness reads pixel.json itself (JSON.parse): mutating it would only test the harness
      { path: 'pixel.json', bytes: pixel, fmt: 'raw', weight: 0 },
    ],
  });
  seeds.push({
    name: 'eds-tif',
    kind: 'eds',
    entry: '',
    files: [
      {
        path: 'map.tif',
        bytes: Buffer.from(writeArrayBuffer(edsRgb(16, 12), { width: 16, height: 12, SamplesPerPixel: 3, BitsPerSample: [8, 8, 8], PhotometricInterpretation: 2 } as never)),
        fmt: 'tiff',
        weight: 3,
      },
      { path: 'legend.csv', bytes: Buffer.from(LEGEND), fmt: 'csv', weight: 1 },
      { path: 'pixel.json', bytes: pixel, fmt: 'raw', weight: 0 },
    ],
  });
  const edsCasesFile = join(root, 'tests/security/cases-eds.ts');
  if (existsSync(edsCasesFile)) {
    try {
      const { timaFolder } = (await import(pathToFileURL(edsCasesFile).href)) as { timaFolder?: (dir: string) => Promise<string> };
      if (timaFolder) {
        const box = await scratch('petromap-fuzz-seed-');
        try {
          const dir = await timaFolder(box.root);
          const files: SeedFile[] = [];
          const { readdir, readFile } = await import('node:fs/promises');
          const walk = async (rel: string): Promise<void> => {
            for (const e of await readdir(join(dir, rel), { withFileTypes: true })) {
              const p = rel ? `${rel}/${e.name}` : e.name;
              if (e.isDirectory()) await walk(p);
              else {
                const fmt: Fmt = /\.xml$/.test(p) ? 'xml' : /\.tif$/.test(p) ? 'tiff' : /\.png$/.test(p) ? 'png' : 'raw';
                files.push({ path: p, bytes: await readFile(join(dir, p)), fmt, weight: fmt === 'xml' ? 2 : 1 });
              }
            }
          };
          await walk('');
          files.sort((a, b) => a.path.localeCompare(b.path));
          seeds.push({ name: 'tima', kind: 'tima', entry: '', files });
        } finally {
          await box.dispose();
        }
      }
    } catch {
      /* the TIMA seed needs cases-eds.ts's timaFolder; without it the other seeds still run */
    }
  }
  // a petromap store (kind 'store': opened and read whole): its metadata and chunk files, as a store copied in
  seeds.push(await petromapStoreSeed());
  if (existsSync(join(root, 'tests/security/zip-input.ts'))) {
    const entries: Record<string, Uint8Array> = {};
    for (let z = 0; z < 4; z++) entries[`slices/s${String(z).padStart(3, '0')}.tif`] = tiffStack(1, 12, 16, 8, 1);
    const files: Zippable = {};
    for (const [n, b] of Object.entries(entries)) files[n] = [b, { mtime: ZIP_TIME }];
    seeds.push({ name: 'zip-tiff-slices', kind: 'zip', entry: 'stack.zip', files: [{ path: 'stack.zip', bytes: Buffer.from(zipSync(files, { mtime: ZIP_TIME })), fmt: 'zip', weight: 1, rebuild: zipRebuilder(entries) }] });
  }
  return seeds;
}

// ---------------------------------------------------------------------------------------------
// mutation operators

const EXTREMES = [0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];
const hex = (v: number) => `0x${(v >>> 0).toString(16)}`;

function writeUInt(b: Buffer, off: number, width: 1 | 2 | 4, v: number, be = false): void {
  if (off < 0 || off + width > b.length) return;
  const x = width === 4 ? v >>> 0 : v & (width === 2 ? 0xffff : 0xff);
  if (width === 1) b.writeUInt8(x, off);
  else if (width === 2) (be ? b.writeUInt16BE(x, off) : b.writeUInt16LE(x, off));
  else be ? b.writeUInt32BE(x, off) : b.writeUInt32LE(x, off);
}

function bitFlips(src: Buffer, rng: Rng): Mutation {
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

function extremeAt(src: Buffer, rng: Rng, offsets?: number[]): Mutation {
  const b = Buffer.from(src);
  const off = offsets?.length && rng.chance(0.7) ? rng.pick(offsets) : rng.int(Math.min(b.length, 512));
  const width = rng.pick([1, 2, 4] as const);
  const raw = rng.chance(0.15) ? b.length + rng.int(3) - 1 : rng.pick(EXTREMES);
  const v = width === 4 ? raw >>> 0 : raw & (width === 2 ? 0xffff : 0xff);
  const be = rng.chance(0.2);
  writeUInt(b, off, width, v, be);
  return { bytes: b, desc: `u${width * 8}${be ? 'be' : 'le'} ${hex(v)} at ${off}` };
}

function truncation(src: Buffer, rng: Rng): Mutation {
  const n = rng.chance(0.5) ? rng.int(Math.min(src.length, 600)) : rng.int(src.length);
  return { bytes: Buffer.from(src.subarray(0, n)), desc: `truncated to ${n} of ${src.length} bytes` };
}

function duplication(src: Buffer, rng: Rng): Mutation {
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

function tiffField(src: Buffer, rng: Rng): Mutation {
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

const NIFTI_FIELDS: { off: number; kind: 'i16' | 'i32' | 'f32' | 'magic'; name: string }[] = [
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

function niftiField(src: Buffer, rng: Rng): Mutation {
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

function pngField(src: Buffer, rng: Rng): Mutation {
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

function zipField(src: Buffer, rng: Rng): Mutation {
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

// --- text: header lines (NRRD, MHA), legend rows, XML values

const HOSTILE_VALUES = [
  '0', '-1', '-4096', '1e308', 'NaN', 'Infinity', '-0', '0.0000001', '4294967296', '2147483648', '18446744073709551616',
  '1000000 1000000 1000000', '65535 65535 65535', '40000 40000 40000', '0 0 0', '1 1', '1 1 1 1 1 1 1', '8 6 4 1000',
  '../../etc/passwd', '/etc/passwd', '..', '.', 'C:\\Windows\\win.ini', 'LIST', 'scan.raw\u0000.png', '%s%n',
  'x'.repeat(5000), '', ' ', '"', '#000000', '#zzzzzz', '256', '-255', '1.5', 'gzip', 'bzip2', 'bz2', 'zstd',
  'MET_DOUBLE', 'MET_STRING', 'float64', 'block', 'big', 'True', '<a>', '&xxe;', ']]>', 'ÿÿ', '\u202e',
];
const HOSTILE_LINES = [
  'data file: ../../etc/passwd', 'data file: /etc/passwd', 'data file: LIST', 'data file: scan%03d.raw 0 1000000 1',
  'byte skip: -1', 'byte skip: 99999999999', 'line skip: 1000000000', 'encoding: gzip', 'encoding: bzip2',
  'sizes: 1000000 1000000 1000000', 'dimension: 4', 'type: double', 'endian: big', 'space directions: (1e308,0,0) (0,0,0) (0,0,NaN)',
  'ElementDataFile = ../../etc/passwd', 'HeaderSize = -1', 'HeaderSize = 99999999999', 'CompressedData = True', 'CompressedDataSize = 99999999999',
  'ElementNumberOfChannels = 1000000', 'DimSize = 1000000 1000000 1000000', 'NDims = 100', 'ElementType = MET_DOUBLE', 'BinaryDataByteOrderMSB = True',
  'x'.repeat(100_000),
];

/** End of the text header in a header + binary file (NRRD: the blank line; MHA: the ElementDataFile line). */
function headerEnd(b: Buffer): number {
  const s = b.toString('latin1', 0, Math.min(b.length, 65536));
  const blank = s.indexOf('\n\n');
  if (blank >= 0) return blank + 1;
  const m = /ElementDataFile\s*=[^\n]*\n/.exec(s);
  if (m) return m.index + m[0].length;
  return b.length;
}

function headerLines(src: Buffer, rng: Rng): Mutation {
  const end = headerEnd(src);
  const lines = src.toString('latin1', 0, end).replace(/\n$/, '').split('\n');
  const tail = src.subarray(end);
  const op = rng.int(5);
  let desc: string;
  if (op <= 1) {
    const candidates = lines.map((l, i) => [l, i] as const).filter(([l]) => /[:=]/.test(l));
    if (!candidates.length) return bitFlips(src, rng);
    const [line, i] = rng.pick(candidates);
    const sep = line.includes(':=') ? ':=' : line.includes(':') ? ':' : '=';
    const key = line.slice(0, line.indexOf(sep));
    const v = rng.pick(HOSTILE_VALUES);
    lines[i] = `${key}${sep} ${v}`;
    desc = `header "${key.trim()}" := ${JSON.stringify(v.length > 40 ? v.slice(0, 12) + `…(${v.length})` : v)}`;
  } else if (op === 2) {
    const l = rng.pick(HOSTILE_LINES);
    const i = 1 + rng.int(Math.max(1, lines.length - 1));
    lines.splice(i, 0, l);
    desc = `header line inserted at ${i}: ${JSON.stringify(l.length > 60 ? l.slice(0, 12) + `…(${l.length})` : l)}`;
  } else if (op === 3) {
    const i = rng.int(lines.length);
    desc = `header line ${i} (${JSON.stringify(lines[i]!.slice(0, 30))}) removed`;
    lines.splice(i, 1);
  } else {
    const i = rng.int(lines.length);
    const k = rng.pick([2, 1000]);
    desc = `header line ${i} (${JSON.stringify(lines[i]!.slice(0, 30))}) repeated ${k}x`;
    lines.splice(i, 0, ...Array.from({ length: k - 1 }, () => lines[i]!));
  }
  return { bytes: Buffer.concat([Buffer.from(lines.join('\n') + '\n', 'latin1'), tail]), desc };
}

function csvRows(src: Buffer, rng: Rng): Mutation {
  const rows = src.toString('utf8').replace(/\n$/, '').split('\n');
  const op = rng.int(4);
  let desc: string;
  if (op <= 1) {
    const i = rng.int(rows.length);
    const cells = rows[i]!.split(',');
    const j = rng.int(cells.length + 1);
    const v = rng.pick(HOSTILE_VALUES);
    cells[j] = v;
    rows[i] = cells.join(',');
    desc = `legend row ${i} cell ${j} := ${JSON.stringify(v.length > 40 ? v.slice(0, 12) + `…(${v.length})` : v)}`;
  } else if (op === 2) {
    const i = rng.int(rows.length);
    const k = rng.pick([2, 999, 1001, 5000]);
    rows.splice(i, 0, ...Array.from({ length: k - 1 }, () => rows[i]!));
    desc = `legend row ${i} repeated ${k}x`;
  } else {
    const i = rng.int(rows.length);
    const sep = rng.pick([';', '\t', '\r\n', ',,', '']);
    rows[i] = rows[i]!.split(',').join(sep);
    desc = `legend row ${i} separators -> ${JSON.stringify(sep)}`;
  }
  return { bytes: Buffer.from(rows.join('\n') + '\n'), desc };
}

function xmlValues(src: Buffer, rng: Rng): Mutation {
  const s = src.toString('utf8');
  const spots: [number, number][] = [];
  for (const m of s.matchAll(/="([^"]*)"/g)) spots.push([m.index! + 2, m.index! + 2 + m[1]!.length]);
  for (const m of s.matchAll(/>([^<]+)</g)) spots.push([m.index! + 1, m.index! + 1 + m[1]!.length]);
  const op = rng.int(4);
  if (op <= 2 && spots.length) {
    const [a, z] = rng.pick(spots);
    const v = rng.pick(HOSTILE_VALUES);
    return { bytes: Buffer.from(s.slice(0, a) + v + s.slice(z)), desc: `xml value ${JSON.stringify(s.slice(a, z).slice(0, 30))} at ${a} := ${JSON.stringify(v.length > 40 ? v.slice(0, 12) + `…(${v.length})` : v)}` };
  }
  const els = [...s.matchAll(/<([A-Za-z]+)[^<>]*\/>|<([A-Za-z]+)[^<>]*>[^<]*<\/\2>/g)];
  if (!els.length) return bitFlips(src, rng);
  const m = rng.pick(els);
  const k = rng.pick([2, 100, 20_000]);
  const at = m.index! + m[0].length;
  return { bytes: Buffer.from(s.slice(0, at) + m[0].repeat(k - 1) + s.slice(at)), desc: `xml element ${JSON.stringify(m[0].slice(0, 30))} repeated ${k}x` };
}

/** JSON metadata (zarr.json): a number or string value replaced by an extreme or wrong-typed one. */
const JSON_VALUES = ['0', '-1', '1', '4096', '2147483648', '9007199254740993', '1e308', '"x"', 'null', '[]', '{}', '"big"', '"sharding_indexed"', '"../../etc"'];
function jsonValues(src: Buffer, rng: Rng): Mutation {
  let doc: unknown;
  try {
    doc = JSON.parse(src.toString('utf8'));
  } catch {
    return bitFlips(src, rng);
  }
  // every leaf (number, string, boolean, null) with its parent and key, in document order
  const leaves: { parent: Record<string, unknown> | unknown[]; key: string | number; path: string }[] = [];
  const walk = (v: unknown, path: string) => {
    if (v === null || typeof v !== 'object') return;
    for (const [k, x] of Object.entries(v)) {
      const key = Array.isArray(v) ? Number(k) : k;
      if (x !== null && typeof x === 'object') walk(x, `${path}/${k}`);
      else leaves.push({ parent: v as Record<string, unknown>, key, path: `${path}/${k}` });
    }
  };
  walk(doc, '');
  if (!leaves.length) return bitFlips(src, rng);
  const leaf = rng.pick(leaves);
  const v = rng.pick(JSON_VALUES);
  (leaf.parent as Record<string | number, unknown>)[leaf.key] = JSON.parse(v);
  return { bytes: Buffer.from(JSON.stringify(doc, null, 2)), desc: `json ${leaf.path.slice(0, 60)} := ${v}` };
}

type Op = (src: Buffer, rng: Rng) => Mutation;
/** `fromSeed`: rebuilds the seed file from scratch, so it can only be the first step of a mutant */
type WeightedOp = { op: Op; w: number; fromSeed?: boolean };
function operatorsFor(f: SeedFile): WeightedOp[] {
  const generic: WeightedOp[] = [
    { op: bitFlips, w: 2 },
    { op: (b, r) => extremeAt(b, r), w: 2 },
    { op: truncation, w: 1.5 },
    { op: duplication, w: 1 },
  ];
  const special: Record<Fmt, WeightedOp[]> = {
    tiff: [{ op: tiffField, w: 5 }],
    nifti: [{ op: niftiField, w: 5 }, { op: (b, r) => extremeAt(b, r, NIFTI_FIELDS.map((x) => x.off)), w: 2 }],
    png: [{ op: pngField, w: 5 }],
    zip: [{ op: zipField, w: 5 }, ...(f.rebuild ? [{ op: (_b: Buffer, r: Rng) => f.rebuild!(r), w: 3, fromSeed: true }] : [])],
    header: [{ op: headerLines, w: 6 }],
    csv: [{ op: csvRows, w: 5 }],
    xml: [{ op: xmlValues, w: 5 }],
    json: [{ op: jsonValues, w: 6 }],
    raw: [],
  };
  return [...generic, ...special[f.fmt]];
}

function weighted<T extends { w: number }>(rng: Rng, xs: T[]): T {
  let r = rng.next() * xs.reduce((s, x) => s + x.w, 0);
  for (const x of xs) if ((r -= x.w) < 0) return x;
  return xs[xs.length - 1]!;
}

/** Mutant `iteration` of run seed `seed` (deterministic). */
export function makeMutant(seeds: SeedInput[], seed: number, iteration: number): Mutant {
  const rng = new Rng(mutantSeed(seed, iteration));
  const s = seeds[rng.int(seeds.length)]!;
  const candidates = s.files.filter((f) => f.weight > 0).map((f) => ({ f, w: f.weight }));
  const { f } = weighted(rng, candidates);
  let bytes = f.bytes;
  const descs: string[] = [];
  const n = rng.chance(0.75) ? 1 : 2 + rng.int(2);
  for (let k = 0; k < n; k++) {
    const ops = operatorsFor(f);
    const m = weighted(rng, k === 0 ? ops : ops.filter((o) => !o.fromSeed)).op(bytes, rng);
    bytes = m.bytes;
    descs.push(m.desc);
  }
  return {
    iteration,
    seedName: s.name,
    kind: s.kind,
    entry: s.entry,
    files: s.files.map((x) => ({ path: x.path, bytes: x === f ? bytes : x.bytes })),
    target: f.path,
    desc: descs.join(' + '),
  };
}

/** Writes an input's files under dir; returns the path to import. */
export async function writeInput(dir: string, input: { entry: string; files: { path: string; bytes: Buffer }[] }): Promise<string> {
  for (const f of input.files) {
    await mkdir(dirname(join(dir, f.path)), { recursive: true });
    await writeFile(join(dir, f.path), f.bytes);
  }
  await mkdir(dir, { recursive: true });
  return input.entry ? join(dir, input.entry) : dir;
}

// ---------------------------------------------------------------------------------------------
// running

interface Outcome {
  source: 'case' | 'seed' | 'mutant';
  kind: CaseKind;
  label: string;
  run: CaseRun;
  leftover: number;
  /** hostile case: the message did not match its `expect` */
  unexpectedMessage?: boolean;
  /** what the target misses are (empty = fine) */
  misses: string[];
  mutant?: Mutant;
}

function judge(o: Omit<Outcome, 'misses'>, mustRefuse: boolean): Outcome {
  const misses: string[] = [];
  if (o.run.crashed) misses.push('crashed');
  if (!(o.run.peakRssMiB < RSS_LIMIT_MIB) && !o.run.crashed) misses.push(`peak RSS ${o.run.peakRssMiB} MiB`);
  if (!o.run.ok && o.leftover > 0) misses.push(`${o.leftover} bytes left behind`);
  if (mustRefuse && o.run.ok) misses.push('accepted, should be refused');
  if (o.source === 'seed' && !o.run.ok) misses.push('valid seed input refused (the fuzzer mutates a broken input)');
  return { ...o, misses };
}

async function runOne(kind: CaseKind, make: (dir: string) => Promise<string>, timeoutMs: number, env?: Record<string, string>): Promise<{ run: CaseRun; leftover: number }> {
  const box = await scratch('petromap-fuzz-');
  try {
    const input = await make(box.input);
    // the child inherits process.env at spawn, which happens synchronously inside runCaseInChild
    const saved: Record<string, string | undefined> = {};
    for (const [k, v] of Object.entries(env ?? {})) (saved[k] = process.env[k]), (process.env[k] = v);
    let pending: Promise<CaseRun>;
    try {
      pending = runCaseInChild(kind, input, box.out, timeoutMs);
    } finally {
      for (const [k, v] of Object.entries(saved)) v === undefined ? delete process.env[k] : (process.env[k] = v);
    }
    const run = await pending;
    return { run, leftover: run.ok ? 0 : await bytesUnder(box.out) };
  } finally {
    await box.dispose();
  }
}

async function pool<T>(tasks: (() => Promise<T>)[], parallel: number, onDone: (r: T, i: number) => void): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      onDone(await tasks[i]!(), i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, tasks.length) }, worker));
}

async function loadCases(): Promise<{ cases: (HostileCase & { env?: Record<string, string> })[]; notes: string[] }> {
  const files: [string, string][] = [
    ['tests/security/cases-volume.ts', 'volumeCases'],
    ['tests/security/cases-eds.ts', 'edsCases'],
    ['tests/security/cases-zip.ts', 'zipCases'],
    ['tests/security/cases-readers.ts', 'readerCases'],
    ['tests/security/cases-eds-readers.ts', 'edsReaderCases'],
    ['tests/security/cases-links.ts', 'linkCases'],
    ['tests/security/cases-store.ts', 'storeCases'],
  ];
  const cases: (HostileCase & { env?: Record<string, string> })[] = [];
  const notes: string[] = [];
  for (const [file, name] of files) {
    const p = join(root, file);
    if (!existsSync(p)) {
      notes.push(`${file} does not exist yet: skipped`);
      continue;
    }
    try {
      const mod = (await import(pathToFileURL(p).href)) as Record<string, unknown>;
      const list = mod[name];
      if (!Array.isArray(list)) {
        notes.push(`${file} has no export ${name} yet: skipped`);
        continue;
      }
      cases.push(...(list as HostileCase[]));
      notes.push(`${file}: ${list.length} cases`);
    } catch (err) {
      notes.push(`${file} could not be loaded (${err instanceof Error ? err.message.split('\n')[0] : String(err)}): skipped`);
    }
  }
  return { cases, notes };
}

function arg(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

function median(xs: number[]): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const pad = (s: string | number, n: number) => String(s).padStart(n);
const short = (s: string, n = 140) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

function table(title: string, outs: Outcome[]): void {
  if (!outs.length) return;
  console.log(`\n${title}`);
  console.log(`  ${'kind'.padEnd(8)}${pad('tried', 7)}${pad('accepted', 10)}${pad('refused', 9)}${pad('crashed', 9)}${pad('leftover B', 12)}${pad('max RSS MiB', 13)}${pad('median s', 10)}`);
  const kinds = [...new Set(outs.map((o) => o.kind))];
  for (const k of [...kinds, 'all']) {
    const xs = k === 'all' ? outs : outs.filter((o) => o.kind === k);
    const rss = xs.map((o) => o.run.peakRssMiB).filter((v) => Number.isFinite(v));
    console.log(
      `  ${k.padEnd(8)}${pad(xs.length, 7)}${pad(xs.filter((o) => o.run.ok).length, 10)}${pad(xs.filter((o) => !o.run.ok && !o.run.crashed).length, 9)}` +
        `${pad(xs.filter((o) => o.run.crashed).length, 9)}${pad(xs.reduce((s, o) => s + o.leftover, 0), 12)}${pad(rss.length ? Math.max(...rss) : '-', 13)}${pad(median(xs.map((o) => o.run.seconds)).toFixed(2), 10)}`,
    );
  }
}

async function saveMutant(o: Outcome, seed: number): Promise<string> {
  const m = o.mutant!;
  const dir = join(OUT_DIR, `seed${seed}-it${m.iteration}-${m.seedName}`);
  await writeInput(join(dir, 'input'), m);
  const info = {
    reproduce: `npm run bench -- fuzz --seed ${seed} --only ${m.iteration}`,
    kind: m.kind,
    seedInput: m.seedName,
    entry: m.entry ? `input/${m.entry}` : 'input/',
    mutatedFile: m.target,
    mutation: m.desc,
    misses: o.misses,
    result: o.run,
  };
  await writeFile(join(dir, 'info.json'), JSON.stringify(info, null, 2) + '\n');
  return dir;
}

export async function run(args: string[]): Promise<void> {
  const seed = Number(arg(args, 'seed') ?? 1);
  const iterations = Number(arg(args, 'iterations') ?? 200);
  const parallel = Math.max(1, Number(arg(args, 'parallel') ?? 2));
  const timeoutMs = 1000 * Number(arg(args, 'timeout') ?? 60);
  const only = arg(args, 'only');
  const doCases = !args.includes('--mutants-only') && only === undefined;
  const doMutants = !args.includes('--cases-only');
  const t0 = Date.now();

  const tasks: (() => Promise<Outcome>)[] = [];
  if (doCases) {
    const { cases, notes } = await loadCases();
    console.log(`hostile cases: ${notes.join('; ')}`);
    for (const c of cases) {
      tasks.push(async () => {
        const label = `item ${c.item}: ${c.name}`;
        try {
          const { run, leftover } = await runOne(c.kind, c.make, 120_000, c.env);
          const unexpectedMessage = !run.ok && !run.crashed && !c.expect.test(run.error);
          return judge({ source: 'case', kind: c.kind, label, run, leftover, unexpectedMessage }, true);
        } catch (err) {
          const run: CaseRun = { ok: false, crashed: true, error: `could not write the case's input: ${err instanceof Error ? err.message : String(err)}`, peakRssMiB: NaN, seconds: 0 };
          return judge({ source: 'case', kind: c.kind, label, run, leftover: 0 }, true);
        }
      });
    }
  }
  const seeds = doMutants ? await seedInputs() : [];
  if (doMutants) {
    const iters = only !== undefined ? [Number(only)] : Array.from({ length: iterations }, (_, i) => i);
    console.log(`mutation fuzzer: seed ${seed}, ${iters.length} mutant(s) of ${seeds.length} valid inputs (${seeds.map((s) => s.name).join(', ')}), ${parallel} at a time, ${timeoutMs / 1000} s timeout`);
    if (only === undefined) {
      for (const s of seeds) {
        tasks.push(async () => {
          const { run, leftover } = await runOne(s.kind, (dir) => writeInput(dir, s), timeoutMs);
          return judge({ source: 'seed', kind: s.kind, label: `valid input ${s.name}`, run, leftover }, false);
        });
      }
    }
    for (const i of iters) {
      tasks.push(async () => {
        const m = makeMutant(seeds, seed, i);
        const { run, leftover } = await runOne(m.kind, (dir) => writeInput(dir, m), timeoutMs);
        return judge({ source: 'mutant', kind: m.kind, label: `#${i} ${m.seedName} ${m.target}: ${m.desc}`, run, leftover, mutant: m }, false);
      });
    }
  }

  const outcomes: Outcome[] = [];
  let done = 0;
  await pool(tasks, parallel, (o) => {
    outcomes.push(o);
    done++;
    if (o.misses.length) console.log(`  MISS ${o.source} ${short(o.label)}: ${o.misses.join(', ')}; ${short(o.run.error || 'ok', 300)}`);
    if (only !== undefined) console.log(`  ${o.label}\n  -> ${o.run.ok ? 'accepted' : o.run.crashed ? 'CRASHED' : `refused [${o.run.tag}]`} ${o.run.error} (peak RSS ${o.run.peakRssMiB} MiB, ${o.run.seconds.toFixed(2)} s)`);
    else if (done % 25 === 0 || done === tasks.length) console.log(`  … ${done}/${tasks.length} done (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  });

  const cases = outcomes.filter((o) => o.source === 'case');
  const seedRuns = outcomes.filter((o) => o.source === 'seed');
  const mutants = outcomes.filter((o) => o.source === 'mutant');
  table('hostile cases (each must be refused)', cases);
  if (seedRuns.length) console.log(`\nvalid seed inputs: ${seedRuns.filter((o) => o.run.ok).length} of ${seedRuns.length} import fine${seedRuns.some((o) => !o.run.ok) ? ` (refused: ${seedRuns.filter((o) => !o.run.ok).map((o) => `${o.label}: ${o.run.error}`).join('; ')})` : ''}`);
  table(`mutants (seed ${seed})`, mutants);
  if (mutants.length > 1) {
    const names = [...new Set(mutants.map((o) => o.mutant!.seedName))];
    console.log(`  by valid input (mutants, accepted): ${names.map((n) => `${n} ${mutants.filter((o) => o.mutant!.seedName === n).length}/${mutants.filter((o) => o.mutant!.seedName === n && o.run.ok).length}`).join(', ')}`);
  }

  // worst cases and misses
  const all = outcomes;
  const byRss = [...all].filter((o) => Number.isFinite(o.run.peakRssMiB)).sort((a, b) => b.run.peakRssMiB - a.run.peakRssMiB).slice(0, 5);
  const bySeconds = [...all].sort((a, b) => b.run.seconds - a.run.seconds).slice(0, 5);
  console.log('\nworst peak RSS:');
  for (const o of byRss) console.log(`  ${pad(o.run.peakRssMiB, 5)} MiB  ${o.kind.padEnd(6)} ${short(o.label, 120)} -> ${o.run.ok ? 'accepted' : 'refused'}`);
  console.log('slowest:');
  for (const o of bySeconds) console.log(`  ${o.run.seconds.toFixed(2).padStart(6)} s  ${o.kind.padEnd(6)} ${short(o.label, 120)} -> ${o.run.ok ? 'accepted' : o.run.crashed ? 'crashed' : 'refused'}`);
  const unexpected = cases.filter((o) => o.unexpectedMessage);
  if (unexpected.length) {
    console.log(`hostile cases refused with another message than their test expects (${unexpected.length}):`);
    for (const o of unexpected) console.log(`  ${short(o.label, 100)}: ${short(o.run.error, 200)}`);
  }
  const unclean = all.filter((o) => !o.run.ok && !o.run.crashed && !isCleanMessage(o.run.error));
  if (unclean.length) {
    console.log(`refusals whose message is not one clean line (${unclean.length}):`);
    for (const o of unclean.slice(0, 10)) console.log(`  ${short(o.label, 100)}: ${short(o.run.error, 200)}`);
  }
  const misses = all.filter((o) => o.misses.length);
  if (misses.length) {
    console.log(`\nMISSED TARGETS (${misses.length}):`);
    for (const o of misses) {
      let where = '';
      if (o.mutant) where = ` | saved in ${(await saveMutant(o, seed)).slice(root.length + 1)}; rerun: npm run bench -- fuzz --seed ${seed} --only ${o.mutant.iteration}`;
      console.log(`  [${o.kind}] ${o.source} ${short(o.label, 200)}: ${o.misses.join(', ')}; error: ${short(o.run.error, 300)}${where}`);
    }
  }

  const rss = all.map((o) => o.run.peakRssMiB).filter((v) => Number.isFinite(v));
  const crashed = all.filter((o) => o.run.crashed).length;
  const leftover = all.reduce((s, o) => s + o.leftover, 0);
  const peak = rss.length ? Math.max(...rss) : NaN;
  console.log(
    `\nTOTAL: ${all.length} tried (${cases.length} hostile cases, ${seedRuns.length} valid inputs, ${mutants.length} mutants), ` +
      `${all.filter((o) => o.run.ok).length} accepted, ${all.filter((o) => !o.run.ok && !o.run.crashed).length} refused, ${crashed} crashed, ` +
      `${leftover} leftover bytes, peak RSS ${peak} MiB (limit ${RSS_LIMIT_MIB}), ${((Date.now() - t0) / 1000).toFixed(0)} s`,
  );
  const ok = misses.length === 0;
  console.log(ok ? 'targets met: 0 crashes, 0 leftover bytes, peak RSS under 512 MiB, every hostile case refused' : `targets MISSED by ${misses.length} input(s) (listed above)`);
  if (!ok) process.exitCode = 1;
}
