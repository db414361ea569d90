import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPetromapError } from '../../../lib/errors';
import { DEFAULT_LIMITS } from '../../../lib/limits';
import { formatNrrdHeader, writeNrrd } from '../../../lib/synthetic/nrrd-writer-node';
import { describeVolumeFile, detectVolumeFormat, importVolume } from '../../../lib/volume/import-node';
import type { DenseVolume, Shape3 } from '../../../lib/volume/types';
import { downsample2x, openVolume } from '../../../lib/volume/zarr-store-node';
import { tiffBytes, writeMeta, writeNifti, writeTiff } from './fixtures';
import { deflateSync } from 'node:zlib';
import { fromFile } from 'geotiff';
import { buildTiff, type TiffPageSpec } from '../../security/cases-volume';

/** TIFF LZW encoder (MSB-first codes, early change, as libtiff writes them), for the decoder tests. */
function lzwEncode(data: Uint8Array): Buffer {
  const out: number[] = [];
  let acc = 0;
  let nacc = 0;
  let width = 9;
  const put = (code: number) => {
    acc = (acc << width) | code;
    nacc += width;
    while (nacc >= 8) (out.push((acc >>> (nacc - 8)) & 255), (nacc -= 8));
    acc &= (1 << nacc) - 1;
  };
  let dict = new Map<number, number>();
  let next = 258;
  put(256);
  let w = data[0]!;
  const grow = () => {
    next++;
    if (next > (1 << width) - 1 && width < 12) width++;
  };
  for (let i = 1; i < data.length; i++) {
    const c = data[i]!;
    const key = (w << 8) | c;
    const hit = dict.get(key);
    if (hit !== undefined) {
      w = hit;
      continue;
    }
    put(w);
    dict.set(key, next);
    grow();
    w = c;
    if (next >= 4000) (put(256), (dict = new Map()), (next = 258), (width = 9));
  }
  put(w);
  grow();
  put(257);
  if (nacc > 0) out.push((acc << (8 - nacc)) & 255);
  return Buffer.from(out);
}

function packbitsEncode(data: Uint8Array): Buffer {
  const out: number[] = [];
  for (let i = 0; i < data.length; ) {
    let run = 1;
    while (i + run < data.length && run < 128 && data[i + run] === data[i]) run++;
    if (run >= 3) {
      out.push(257 - run, data[i]!);
      i += run;
      continue;
    }
    let n = 0;
    while (i + n < data.length && n < 128 && !(i + n + 2 < data.length && data[i + n] === data[i + n + 1] && data[i + n] === data[i + n + 2])) n++;
    out.push(n - 1, ...data.subarray(i, i + n));
    i += n;
  }
  return Buffer.from(out);
}

/** Horizontal differencing (predictor 2) of 16-bit little-endian rows. */
function predict16(rows: Uint16Array, width: number): Uint16Array {
  const d = new Uint16Array(rows.length);
  for (let i = 0; i < rows.length; i++) d[i] = i % width === 0 ? rows[i]! : (rows[i]! - rows[i - 1]!) & 0xffff;
  return d;
}

let dir: string;
const shape: Shape3 = [10, 12, 9];
const n = shape[0] * shape[1] * shape[2];
const data = new Uint16Array(n).map((_, i) => (i * 2654435761) % 60000);
const vol: DenseVolume<'uint16'> = { meta: { shape, spacingUm: [3, 2, 2], originUm: [0, 0, 0], dtype: 'uint16', channels: ['x'] }, data };
const pages = (a: Uint16Array | Int16Array | Float32Array) => Array.from({ length: shape[0] }, (_, z) => a.subarray(z * 108, (z + 1) * 108));
const opts = { chunk: [4, 4, 4] as Shape3 };

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'petromap-import-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function readAll(p: string) {
  const s = await openVolume(p);
  return { s, all: await s.readBlock({ start: [0, 0, 0], shape: s.meta.shape }) };
}

const f = (name: string) => path.join(dir, name);
const out = (name: string) => path.join(dir, 'out', `${name}.ome.zarr`);

describe('importVolume', () => {
  it('NRRD raw (our writer): values, spacing, pyramid, no partial folder left', async () => {
    await writeNrrd(f('a.nrrd'), vol);
    const progress: number[] = [];
    const meta = await importVolume(f('a.nrrd'), out('a'), { ...opts, onProgress: (p) => progress.push(p) });
    expect(meta).toEqual({ shape, spacingUm: [3, 2, 2], originUm: [0, 0, 0], dtype: 'uint16', channels: ['a'] });
    const { s, all } = await readAll(out('a'));
    expect(Array.from(all)).toEqual(Array.from(data));
    expect(s.levels).toBe(1); // largest axis ≤ 64: no overview levels
    expect(s.pyramidComplete).toBe(true);
    expect(progress.at(-1)).toBe(1);
    expect(progress.every((p, i) => i === 0 || p >= progress[i - 1]!)).toBe(true);
    expect((await readdir(path.join(dir, 'out'))).filter((e) => e.includes('partial'))).toEqual([]);
  });

  it('NRRD gzip, MHA (big endian, zlib), MHD + raw, NIfTI .nii and .nii.gz, raw big endian', async () => {
    const body = Buffer.from(data.buffer);
    await writeFile(f('g.nrrd'), Buffer.concat([Buffer.from(formatNrrdHeader(vol).replace('encoding: raw', 'encoding: gzip'), 'latin1'), gzipSync(body)]));
    await writeMeta(f('b.mha'), data, shape, [0.003, 0.002, 0.002], { compressed: true, bigEndian: true });
    await writeMeta(f('c.mhd'), data, shape, [3, 2, 2], { dataFile: 'c.raw' });
    await writeNifti(f('d.nii'), data, shape, [0.003, 0.002, 0.002]);
    await writeNifti(f('e.nii.gz'), data, shape, [0.003, 0.002, 0.002]);
    const be = Buffer.from(body);
    be.swap16();
    await writeFile(f('r.raw'), be);
    const cases: [string, string, object][] = [
      ['g.nrrd', 'g', {}],
      ['b.mha', 'b', {}],
      ['c.mhd', 'c', {}],
      ['d.nii', 'd', {}],
      ['e.nii.gz', 'e', {}],
      ['r.raw', 'r', { raw: { shape, dtype: 'uint16', littleEndian: false }, spacingUm: [3, 2, 2] }],
    ];
    for (const [file, o, extra] of cases) {
      const meta = await importVolume(f(file), out(o), { ...opts, ...extra });
      expect(meta.dtype, file).toBe('uint16');
      expect(meta.shape, file).toEqual(shape);
      meta.spacingUm.forEach((v, a) => expect(v, file).toBeCloseTo([3, 2, 2][a]!, 4));
      const { all } = await readAll(out(o));
      expect(Array.from(all), file).toEqual(Array.from(data));
    }
  });

  it('multi-page TIFF and a folder of TIFF slices (ImageJ spacing)', async () => {
    const desc = 'ImageJ=1.54f\nimages=10\nslices=10\nunit=micron\nspacing=3\n';
    await writeTiff(f('stack.tif'), pages(data), 12, 9, { description: desc, xResolution: 0.5 });
    expect(await detectVolumeFormat(f('stack.tif'))).toBe('tiff');
    const d = await describeVolumeFile(f('stack.tif'));
    expect(d).toMatchObject({ format: 'tiff', shape, sourceType: 'uint16', dtype: 'uint16', spacingUm: [3, 2, 2], spacingKnown: true });
    await importVolume(f('stack.tif'), out('stack'), opts);
    expect(Array.from((await readAll(out('stack'))).all)).toEqual(Array.from(data));

    await mkdir(f('slices'));
    for (let z = 0; z < shape[0]; z++) await writeTiff(f(`slices/slice_${z + 1}.tif`), [pages(data)[z]!], 12, 9);
    await writeFile(f('slices/notes.txt'), 'scan notes');
    expect(await detectVolumeFormat(f('slices'))).toBe('tiff-folder');
    const meta = await importVolume(f('slices'), out('slices'), { ...opts, spacingUm: [3, 2, 2] });
    expect(meta.spacingUm).toEqual([3, 2, 2]);
    // numeric order: slice_2 before slice_10
    expect(Array.from((await readAll(out('slices'))).all)).toEqual(Array.from(data));
  });

  it('converts int16 and float TIFF/NIfTI to float32 (NIfTI slope applied) and says so', async () => {
    const signed = new Int16Array(n).map((_, i) => (i % 2000) - 1000);
    await writeTiff(f('s16.tif'), pages(signed), 12, 9);
    const d = await describeVolumeFile(f('s16.tif'));
    expect(d.dtype).toBe('float32');
    expect(d.notes.join(' ')).toMatch(/int16 values are stored as float32/);
    expect(d.spacingKnown).toBe(false);
    await importVolume(f('s16.tif'), out('s16'), opts);
    expect(Array.from((await readAll(out('s16'))).all)).toEqual(Array.from(signed));
    await writeNifti(f('sc.nii'), signed, shape, [0.001, 0.001, 0.001], { slope: 0.5, inter: 10 });
    await importVolume(f('sc.nii'), out('sc'), opts);
    const got = (await readAll(out('sc'))).all;
    expect(got[7]).toBeCloseTo(signed[7]! * 0.5 + 10, 5);
    expect(got[n - 1]).toBeCloseTo(signed[n - 1]! * 0.5 + 10, 5);
  });
});

describe('compressed TIFF stacks (bounded strip decoders)', () => {
  const [nz, ny, nx] = [5, 37, 29];
  const u8 = new Uint8Array(nz * ny * nx).map((_, i) => ((i * 7919) % 251 < 120 ? 17 : (i * 31) % 256));
  const u16 = new Uint16Array(nz * ny * nx).map((_, i) => (Math.floor(i / 3) * 40503) % 65521);
  const bytes = (a: Uint8Array | Uint16Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  /** pages cut into strips of `rows` rows, each compressed with `enc` */
  function pagesOf(a: Uint8Array | Uint16Array, rows: number, compression: number, enc: (b: Buffer, s: Uint8Array | Uint16Array) => Buffer, predictor?: number): TiffPageSpec[] {
    return Array.from({ length: nz }, (_, z) => {
      const strips: Buffer[] = [];
      for (let y = 0; y < ny; y += rows) {
        const part = a.subarray((z * ny + y) * nx, (z * ny + Math.min(ny, y + rows)) * nx);
        strips.push(enc(bytes(part), part));
      }
      return { width: nx, height: ny, bits: (a.BYTES_PER_ELEMENT * 8) as 8 | 16, rowsPerStrip: rows, compression, predictor, strips };
    });
  }
  const cases: [string, TiffPageSpec[], Uint8Array | Uint16Array][] = [
    ['deflate 16-bit with predictor 2, 8-row strips', pagesOf(u16, 8, 8, (_, p) => deflateSync(bytes(predict16(p as Uint16Array, nx))), 2), u16],
    ['Adobe deflate 8-bit, one strip per page', pagesOf(u8, ny, 32946, (b) => deflateSync(b)), u8],
    ['LZW 8-bit, 5-row strips', pagesOf(u8, 5, 5, (b) => lzwEncode(b)), u8],
    ['LZW 16-bit, one strip per page', pagesOf(u16, ny, 5, (b) => lzwEncode(b)), u16],
    ['PackBits 8-bit, 3-row strips', pagesOf(u8, 3, 32773, (b) => packbitsEncode(b)), u8],
  ];
  it.each(cases)('%s: same voxels as the source and as geotiff reads them', async (label, pages, src) => {
    const file = f(`c-${label.replace(/\W+/g, '-')}.tif`);
    await writeFile(file, buildTiff(pages));
    // reference: geotiff's own decoders
    const t = await fromFile(file);
    const ref = (await (await t.getImage(2)).readRasters({ interleave: true })) as unknown as ArrayLike<number>;
    await t.close();
    expect(Array.from(ref)).toEqual(Array.from(src.subarray(2 * ny * nx, 3 * ny * nx)));
    const dest = out(`c-${label.replace(/\W+/g, '-')}`);
    await importVolume(file, dest, opts);
    expect(Array.from((await readAll(dest)).all)).toEqual(Array.from(src));
  });

  it('a long LZW strip that resets its table (beyond 4000 codes) decodes exactly', async () => {
    const big = new Uint8Array(2 * 300 * 301).map((_, i) => (i * 2654435761) >>> 24);
    const pages: TiffPageSpec[] = [0, 1].map((z) => ({ width: 301, height: 300, bits: 8, rowsPerStrip: 300, compression: 5, strips: [lzwEncode(big.subarray(z * 90300, (z + 1) * 90300))] }));
    await writeFile(f('lzw-big.tif'), buildTiff(pages));
    await importVolume(f('lzw-big.tif'), out('lzw-big'));
    expect(Array.from((await readAll(out('lzw-big'))).all)).toEqual(Array.from(big));
  });
});

describe('importVolume: pyramid and cancel', () => {
  const big: Shape3 = [20, 70, 66];
  const bigData = new Uint16Array(big[0] * big[1] * big[2]).map((_, i) => (i * 7) % 4000);
  const bigVol: DenseVolume<'uint16'> = { meta: { ...vol.meta, shape: big }, data: bigData };

  it('builds the overview levels while streaming (same values as the 2x mean of level 0)', async () => {
    await writeNrrd(f('big.nrrd'), bigVol);
    await importVolume(f('big.nrrd'), out('big'), { chunk: [8, 16, 16] });
    const s = await openVolume(out('big'));
    expect(s.levels).toBe(2);
    expect(s.pyramidComplete).toBe(true);
    const l1 = await s.readBlock({ start: [0, 0, 0], shape: s.levelShape(1) }, { level: 1 });
    expect(Array.from(l1)).toEqual(Array.from(downsample2x(bigData, big, true, 'uint16')));
  });

  it('a cancelled import throws Aborted and leaves nothing behind', async () => {
    const ac = new AbortController();
    const p = importVolume(f('big.nrrd'), out('cancelled'), {
      chunk: [4, 16, 16],
      signal: ac.signal,
      onProgress: (fr) => {
        if (fr > 0.3) ac.abort();
      },
    });
    await expect(p).rejects.toSatisfy((e) => isPetromapError(e, 'Aborted'));
    expect((await readdir(path.join(dir, 'out'))).filter((e) => e.startsWith('cancelled'))).toEqual([]);
  });
});

describe('bad input', () => {
  const expectInvalid = async (p: Promise<unknown>, re: RegExp, tag = 'InvalidInput') => {
    const err = await p.then(
      () => null,
      (e) => e,
    );
    expect(err, 'should have failed').not.toBeNull();
    expect(isPetromapError(err, tag as never), String(err)).toBe(true);
    expect((err as Error).message).toMatch(re);
  };

  it('empty file', async () => {
    await writeFile(f('empty.nrrd'), '');
    await expectInvalid(importVolume(f('empty.nrrd'), out('x1'), { displayName: 'scan 7.nrrd' }), /scan 7\.nrrd is empty/);
  });

  it('truncated multi-page TIFF', async () => {
    const b = tiffBytes(pages(data), 12, 9);
    await writeFile(f('cut.tif'), b.subarray(0, Math.floor(b.length / 2)));
    await expectInvalid(importVolume(f('cut.tif'), out('x2'), opts), /cut\.tif is (damaged or )?truncated/);
    const withIj = tiffBytes(pages(data), 12, 9, { description: 'ImageJ=1.54f\nimages=10\nslices=10\n' });
    await writeFile(f('cut-ij.tif'), withIj.subarray(0, Math.floor(withIj.length / 2)));
    await expectInvalid(importVolume(f('cut-ij.tif'), out('x2b'), opts), /cut-ij\.tif is (damaged or )?truncated/);
  });

  it('NRRD whose sizes need more bytes than the file has', async () => {
    const b = await readFile(f('a.nrrd'));
    await writeFile(f('short.nrrd'), b.subarray(0, b.length - 100));
    await expectInvalid(importVolume(f('short.nrrd'), out('x3')), /short\.nrrd is truncated.*need 2,160 bytes.*only 2,060/);
  });

  it('truncated gzip NRRD fails mid-import and leaves no partial store', async () => {
    const g = await readFile(f('g.nrrd'));
    await writeFile(f('gcut.nrrd'), g.subarray(0, g.length - 200));
    await expectInvalid(importVolume(f('gcut.nrrd'), out('x4'), opts), /gcut\.nrrd .*(truncated|damaged)/);
    expect((await readdir(path.join(dir, 'out'))).filter((e) => e.includes('partial') || e.startsWith('x4'))).toEqual([]);
  });

  it('a gzip NRRD whose "byte skip" runs past its data says so (not "ends after N bytes but needs N")', async () => {
    const g = (await readFile(f('g.nrrd'))).toString('latin1');
    await writeFile(f('gskip.nrrd'), Buffer.from(g.replace('encoding: gzip', 'encoding: gzip\nbyte skip: 99999999999'), 'latin1'));
    await expectInvalid(importVolume(f('gskip.nrrd'), out('x6'), opts), /gskip\.nrrd: its header says to skip 99,999,999,999 bytes \("byte skip"\)/);
  });

  it('raw dimensions that do not match the file size', async () => {
    await expectInvalid(
      importVolume(f('r.raw'), out('x5'), { raw: { shape: [10, 12, 10], dtype: 'uint16', littleEndian: true } }),
      /needs 2,400 bytes, but the file has 2,160 bytes/,
    );
    await expectInvalid(importVolume(f('r.raw'), out('x5')), /headerless raw file: give its size/);
  });

  it('unknown extension lists the supported ones', async () => {
    await writeFile(f('scan.xyz'), 'not a volume at all');
    await expectInvalid(importVolume(f('scan.xyz'), out('x6')), /scan\.xyz: unknown volume file type\. Supported: .*nrrd.*nii/, 'Unsupported');
  });

  it('refuses to overwrite an existing store (Conflict) and leaves it intact', async () => {
    const before = await readFile(path.join(out('a'), 'zarr.json'), 'utf8');
    await expectInvalid(importVolume(f('g.nrrd'), out('a')), /already exists/, 'Conflict');
    expect(await readFile(path.join(out('a'), 'zarr.json'), 'utf8')).toBe(before);
  });

  it('NRRD detached header whose data file is far too short', async () => {
    await writeFile(f('huge.raw'), Buffer.alloc(16));
    await writeFile(f('huge.nhdr'), 'NRRD0004\ntype: uint8\ndimension: 3\nsizes: 1000 1000 1000\nencoding: raw\ndata file: huge.raw\n\n');
    await expectInvalid(importVolume(f('huge.nhdr'), out('x7')), /huge\.nhdr is truncated or its header is wrong.*1,000,000,000 bytes.*only 16/);
  });

  it('header sizes beyond the memory budget are refused before anything is allocated (raw, limits option)', async () => {
    await expectInvalid(
      importVolume(f('r.raw'), out('x9'), { raw: { shape: [1e6, 1e6, 1e6], dtype: 'uint16', littleEndian: true } }),
      /r\.raw: one slice of 1000000 x 1000000 voxels would need .* of memory to decode, more than the 512 MiB allowed/,
    );
    // a small budget refuses a real volume: one 12 x 9 slice of uint16 is 216 bytes
    await expectInvalid(
      importVolume(f('a.nrrd'), out('x9'), { limits: { ...DEFAULT_LIMITS, maxDecodeBytes: 200 } }),
      /a\.nrrd: one slice of 9 x 12 voxels would need 1 KiB of memory/,
    );
    // a slab of 64 slices over budget: fewer slices per chunk instead of a refusal
    const meta = await importVolume(f('a.nrrd'), out('x9b'), { limits: { ...DEFAULT_LIMITS, maxDecodeBytes: 1000 } });
    expect(meta.shape).toEqual(shape);
    expect((await openVolume(out('x9b'))).chunk[0]).toBe(4);
    expect(Array.from((await readAll(out('x9b'))).all)).toEqual(Array.from(data));
    expect((await readdir(path.join(dir, 'out'))).filter((e) => e.startsWith('x9') && e !== 'x9b.ome.zarr')).toEqual([]);
  });

  it('errors name files by their base name only', async () => {
    await expectInvalid(importVolume(f('g.nrrd'), out('a')), /^Cannot import g\.nrrd: a\.ome\.zarr already exists/, 'Conflict');
    await writeFile(f('bad.nhdr'), `NRRD0004\ntype: uint8\ndimension: 3\nsizes: 4 4 4\nencoding: raw\ndata file: missing.raw\n\n`);
    const err = await importVolume(f('bad.nhdr'), out('x10')).catch((e: Error) => e);
    expect((err as Error).message).toMatch(/^bad\.nhdr: its data file "missing\.raw" was not found next to it/);
    expect((err as Error).message).not.toContain(dir);
  });

  it('not enough disk space: DiskFull names the sizes, nothing written', async () => {
    // a sparse 4 TiB raw file: takes no space, but its import would need more than is free
    const big = f('sparse.raw');
    const { open } = await import('node:fs/promises');
    const fh = await open(big, 'w');
    await fh.truncate(4 * 1024 ** 4);
    await fh.close();
    await expectInvalid(
      importVolume(big, out('x8'), { raw: { shape: [524288, 2048, 2048], dtype: 'uint16', littleEndian: true } }),
      /Importing sparse\.raw .*needs about [\d.]+ [TG]iB on disk but only [\d.]+ \w+ is free/,
      'DiskFull',
    );
    await rm(big);
    expect((await readdir(path.join(dir, 'out'))).filter((e) => e.startsWith('x8'))).toEqual([]);
  });
});
