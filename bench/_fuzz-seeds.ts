/**
 * The fuzzer's valid inputs (bench/fuzz.ts): its reproducible randomness, the small VALID inputs it
 * mutates (TIFF stacks, NRRD, MHA, NIfTI, EDS maps + legend, TIMA, a petromap store, a zip of slices)
 * and how an input is written to disk. Deterministic: the same bytes on every run.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { deflateSync, gzipSync } from 'node:zlib';
import { encode } from 'fast-png';
import { zipSync, type Zippable } from 'fflate';
import { writeArrayBuffer } from 'geotiff';
import { scratch, type CaseKind } from '../tests/security/harness';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

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

// ---------------------------------------------------------------------------------------------
// valid seed inputs

export type Fmt = 'tiff' | 'nifti' | 'png' | 'zip' | 'header' | 'csv' | 'xml' | 'json' | 'raw';

export interface Mutation {
  bytes: Buffer;
  desc: string;
}

export interface SeedFile {
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
  const { readdir, readFile, writeFile } = await import('node:fs/promises');
  const box = await scratch('petromap-fuzz-seed-');
  try {
    const dir = join(box.root, 'vol.ome.zarr');
    const data = Uint16Array.from({ length: 6 * 20 * 24 }, (_, i) => (i * 37) % 4000);
    await writeDenseVolume(dir, { meta: { shape: [6, 20, 24], dtype: 'uint16', spacingUm: [2, 2, 2], originUm: [0, 0, 0], channels: ['xray'] }, channels: [data] }, { chunk: [4, 16, 16], levels: 2 });
    // every store gets a random storeId: a fixed one keeps the seed's bytes, and so its mutants, reproducible
    const root = join(dir, 'zarr.json');
    await writeFile(root, (await readFile(root, 'utf8')).replace(/"storeId": "[^"]*"/, '"storeId": "00000000-0000-4000-8000-000000000000"'));
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

/** Writes an input's files under dir; returns the path to import. */
export async function writeInput(dir: string, input: { entry: string; files: { path: string; bytes: Buffer }[] }): Promise<string> {
  for (const f of input.files) {
    await mkdir(dirname(join(dir, f.path)), { recursive: true });
    await writeFile(join(dir, f.path), f.bytes);
  }
  await mkdir(dir, { recursive: true });
  return input.entry ? join(dir, input.entry) : dir;
}
