import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPetromapError } from '../../../lib/errors';
import { formatNrrdHeader, writeNrrd } from '../../../lib/synthetic/nrrd-writer-node';
import { describeVolumeFile, detectVolumeFormat, importVolume } from '../../../lib/volume/import-node';
import type { DenseVolume, Shape3 } from '../../../lib/volume/types';
import { downsample2x, openVolume } from '../../../lib/volume/zarr-store-node';
import { tiffBytes, writeMeta, writeNifti, writeTiff } from './fixtures';

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
