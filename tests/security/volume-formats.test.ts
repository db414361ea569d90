/**
 * Issue 12, hostile volume files: every case of cases-volume.ts runs in a child process (the real
 * import, peak memory measured) and must be refused on purpose with a clean one-line message,
 * under 512 MiB, leaving nothing in the output folder.
 */
import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPetromapError } from '../../lib/errors';
import { describeVolumeFile, importVolume } from '../../lib/volume/import-node';
import { expectRefused } from './expect-refused';
import { bytesUnder, runCaseInChild, scratch } from './harness';
import { readerCases, skyscan } from './cases-readers';
import { volumeCases } from './cases-volume';
import { linkCases } from './cases-links';

describe('hostile volume files (child process each)', () => {
  for (const c of [...volumeCases, ...readerCases, ...linkCases]) {
    it(`item ${c.item}: ${c.name}`, async () => {
      const s = await scratch();
      try {
        const input = await c.make(s.input);
        const r = await runCaseInChild(c.kind, input, s.out);
        expectRefused(r, c.expect, /InvalidInput|Unsupported|NotFound|DiskFull/);
        expect(await bytesUnder(s.out)).toBe(0);
      } finally {
        await s.dispose();
      }
    }, 60_000);
  }
});

describe('detached data files: the answer does not depend on what exists outside', () => {
  let s: Awaited<ReturnType<typeof scratch>>;
  beforeAll(async () => {
    s = await scratch();
    await mkdir(s.input, { recursive: true });
  });
  afterAll(() => s.dispose());

  const refusal = async (header: string, ref: string, link: boolean) => {
    const d = join(s.input, `${Math.random().toString(36).slice(2)}`);
    await mkdir(d);
    if (link) await symlink(ref, join(d, 'data.raw'));
    const dataRef = link ? 'data.raw' : ref;
    const file = header === 'nhdr' ? 'scan.nhdr' : 'scan.mhd';
    const text =
      header === 'nhdr'
        ? `NRRD0004\ntype: uint8\ndimension: 3\nsizes: 4 4 4\nencoding: raw\ndata file: ${dataRef}\n\n`
        : `ObjectType = Image\nNDims = 3\nDimSize = 4 4 4\nElementType = MET_UCHAR\nElementDataFile = ${dataRef}\n`;
    await writeFile(join(d, file), text);
    const err = await describeVolumeFile(join(d, file)).then(
      () => null,
      (e: unknown) => e,
    );
    expect(isPetromapError(err), String(err)).toBe(true);
    return (err as Error).message.replace(/data file "[^"]*"/, 'data file "REF"');
  };

  it.each(['nhdr', 'mhd'])('%s: an existing and a missing file outside give the same message (path and link)', async (h) => {
    for (const link of [false, true]) {
      const a = await refusal(h, '/etc/passwd', link);
      const b = await refusal(h, '/etc/petromap-missing', link);
      expect(a).toBe(b);
      expect(a).not.toMatch(/\d{3,}|bytes|exist/);
      const c = await refusal(h, '../../etc/passwd', link);
      const d = await refusal(h, '../../etc/petromap-missing', link);
      expect(c).toBe(d);
    }
  });

  it('a server import of one uploaded file refuses any detached data file', async () => {
    const d = join(s.input, 'upload');
    await mkdir(d);
    await writeFile(join(d, 'x.raw'), Buffer.alloc(64));
    await writeFile(join(d, 'x.nhdr'), 'NRRD0004\ntype: uint8\ndimension: 3\nsizes: 4 4 4\nencoding: raw\ndata file: x.raw\n\n');
    await expect(importVolume(join(d, 'x.nhdr'), join(s.out, 'v.ome.zarr'), { allowDetachedData: false })).rejects.toThrow(/voxels are in another file/);
    expect(await bytesUnder(s.out)).toBe(0);
    // the same header is fine where detached data is allowed (the CLI, a zip upload)
    await expect(importVolume(join(d, 'x.nhdr'), join(s.out, 'v.ome.zarr'))).resolves.toMatchObject({ shape: [4, 4, 4] });
  });
});

describe('a SkyScan log that is a link out of the slice folder', () => {
  it('is not read: the slices import without its pixel size', async () => {
    const s = await scratch();
    try {
      const d = await skyscan('5')(s.input);
      await writeFile(join(s.input, 'outside.log'), 'Pixel Size (um)=7\n');
      await rm(join(d, 'scan_rec.log'));
      await symlink(join(s.input, 'outside.log'), join(d, 'scan_rec.log'));
      const desc = await describeVolumeFile(d);
      expect(desc.notes.join(' ')).not.toMatch(/SkyScan/);
      expect(desc.spacingUm ?? []).not.toContain(7);
    } finally {
      await s.dispose();
    }
  });
});

describe('a slice folder whose slice is a link to another slice of the same folder', () => {
  it('is read (only links out of the folder are refused)', async () => {
    const s = await scratch();
    try {
      const { tiffBytes } = await import('../lib/volume/fixtures');
      const d = join(s.input, 'slices');
      await mkdir(d, { recursive: true });
      await writeFile(join(d, 'slice_0001.tif'), tiffBytes([new Uint8Array(16).fill(5)], 4, 4));
      await writeFile(join(d, 'slice_0003.tif'), tiffBytes([new Uint8Array(16).fill(7)], 4, 4));
      await symlink('slice_0001.tif', join(d, 'slice_0002.tif'));
      await expect(importVolume(d, join(s.out, 'v.ome.zarr'))).resolves.toMatchObject({ shape: [3, 4, 4] });
    } finally {
      await s.dispose();
    }
  });
});
