/**
 * Hostile input through the readers added at stop 28 (engineer E): OME-Zarr from other tools
 * (metadata paths and links leading out of the folder, sizes beyond the budgets), NIfTI-2 (64-bit
 * sizes and offset), ImageJ stacks over 4 GiB (images=N), PNG/BMP slice folders and the SkyScan
 * log's pixel size. Same contract as cases-volume.ts: each case writes its input under the folder
 * it is given, and the import must refuse it with a clean one-line message and write nothing.
 */
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { deflatedZeros, zstdZeros } from './bombs';
import { tiffBytes } from '../lib/volume/fixtures';
import type { HostileCase } from './harness';

async function folder(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  return dir;
}

const json = (o: unknown) => JSON.stringify(o);
const AXES = [{ name: 'z', type: 'space', unit: 'micrometer' }, { name: 'y', type: 'space', unit: 'micrometer' }, { name: 'x', type: 'space', unit: 'micrometer' }];

/** Zarr v3 array metadata (uncompressed chunks). */
function v3Array(shape: number[], chunks: number[], dtype = 'uint8'): string {
  return json({
    zarr_format: 3, node_type: 'array', shape, data_type: dtype,
    chunk_grid: { name: 'regular', configuration: { chunk_shape: chunks } },
    chunk_key_encoding: { name: 'default', configuration: { separator: '/' } },
    fill_value: 0, codecs: [{ name: 'bytes', configuration: { endian: 'little' } }], attributes: {},
  });
}

/** An OME-Zarr 0.5 image folder `vol.zarr` under dir whose multiscale names `path`; the level itself is written by `level`. */
function omeZarr(path: string, level?: (root: string) => Promise<void>): HostileCase['make'] {
  return async (dir) => {
    const root = join(await folder(dir), 'vol.zarr');
    await mkdir(root);
    const ms = [{ version: '0.5', axes: AXES, datasets: [{ path, coordinateTransformations: [{ type: 'scale', scale: [2, 2, 2] }] }] }];
    await writeFile(join(root, 'zarr.json'), json({ zarr_format: 3, node_type: 'group', attributes: { ome: { version: '0.5', multiscales: ms } } }));
    if (level) await level(root);
    return root;
  };
}

/** A valid 4 x 4 x 4 level at `at` (its chunk c/0/0/0 filled with 7). */
async function level444(at: string): Promise<void> {
  await mkdir(join(at, 'c', '0', '0'), { recursive: true });
  await writeFile(join(at, 'zarr.json'), v3Array([4, 4, 4], [4, 4, 4]));
  await writeFile(join(at, 'c', '0', '0', '0'), Buffer.alloc(64, 7));
}

/** An OME-Zarr whose 4 x 64 x 64 uint8 level has one zstd chunk `chunk`. */
const zstdLevel = (chunk: Buffer) =>
  omeZarr('0', async (r) => {
    await mkdir(join(r, '0', 'c', '0', '0'), { recursive: true });
    const meta = JSON.parse(v3Array([4, 64, 64], [4, 64, 64])) as { codecs: unknown[] };
    meta.codecs.push({ name: 'zstd', configuration: { level: 0, checksum: false } });
    await writeFile(join(r, '0', 'zarr.json'), json(meta));
    await writeFile(join(r, '0', 'c', '0', '0', '0'), chunk);
  });

/** NIfTI-2 header (540 bytes + 4 extension bytes) with dims (x, y, z), uint8, the given vox_offset, plus `body`. */
function nifti2(dims: [bigint, bigint, bigint], voxOffset: bigint, body: Buffer): Buffer {
  const h = Buffer.alloc(544);
  h.writeInt32LE(540, 0);
  h.write('n+2\0\r\n\x1a\n', 4, 'latin1');
  h.writeInt16LE(2, 12); // uint8
  h.writeInt16LE(8, 14);
  [3n, dims[0], dims[1], dims[2], 1n, 1n, 1n, 1n].forEach((d, i) => h.writeBigInt64LE(d, 16 + 8 * i));
  [1, 0.001, 0.001, 0.001, 1, 1, 1, 1].forEach((v, i) => h.writeDoubleLE(v, 104 + 8 * i));
  h.writeBigInt64LE(voxOffset, 168);
  h.writeInt32LE(2, 500); // mm
  return Buffer.concat([h, body]);
}

/** A PNG signature + IHDR declaring width x height (8-bit grey), a tiny IDAT and IEND (CRCs are not checked before the size). */
function pngHeader(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const b = Buffer.alloc(12 + data.length);
    b.writeUInt32BE(data.length, 0);
    b.write(type, 4, 'latin1');
    data.copy(b, 8);
    return b;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // grey
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.alloc(64))), chunk('IEND', Buffer.alloc(0))]);
}

/** 8-bit grey BMP header declaring width x height with no pixel rows behind it. */
function bmpHeader(width: number, height: number): Buffer {
  const b = Buffer.alloc(54 + 1024);
  b.write('BM', 0, 'latin1');
  b.writeUInt32LE(b.length, 2);
  b.writeUInt32LE(54 + 1024, 10);
  b.writeUInt32LE(40, 14);
  b.writeInt32LE(width, 18);
  b.writeInt32LE(height, 22);
  b.writeUInt16LE(1, 26);
  b.writeUInt16LE(8, 28);
  for (let i = 0; i < 256; i++) b.fill(i, 54 + 4 * i, 54 + 4 * i + 3);
  return b;
}

/** A folder of three small 8-bit BMP slices with a SkyScan log saying `Pixel Size (um)=<value>`. */
export function skyscan(value: string): HostileCase['make'] {
  return async (dir) => {
    const d = join(await folder(dir), 'rec');
    await mkdir(d);
    const slice = bmpHeader(4, 4);
    const full = Buffer.concat([slice, Buffer.alloc(16, 9)]);
    full.writeUInt32LE(full.length, 2);
    for (let k = 0; k < 3; k++) await writeFile(join(d, `scan_rec${String(k).padStart(4, '0')}.bmp`), full);
    await writeFile(join(d, 'scan_rec.log'), `[Reconstruction]\r\nPixel Size (um)=${value}\r\n`);
    return d;
  };
}

const OUT_OF_FOLDER = /not a folder inside it; the metadata is damaged|leads out of the image's folder/;

export const readerCases: HostileCase[] = [
  // OME-Zarr: the metadata never leads outside the image's folder
  { item: 1, kind: 'volume', name: 'OME-Zarr whose datasets[].path is ../outside', make: omeZarr('../outside', (r) => level444(join(r, '..', 'outside'))), expect: OUT_OF_FOLDER },
  { item: 1, kind: 'volume', name: 'OME-Zarr whose datasets[].path is 0/../../outside', make: omeZarr('0/../../outside', (r) => level444(join(r, '..', 'outside'))), expect: OUT_OF_FOLDER },
  {
    item: 1,
    kind: 'volume',
    name: 'OME-Zarr whose datasets[].path is absolute (/…/outside)',
    make: async (dir) => {
      const outside = join(await folder(dir), 'outside');
      await level444(outside);
      return omeZarr(outside)(dir);
    },
    // the leading '/' is dropped: the path is looked up inside the folder, where it is not
    expect: /is not a readable Zarr group or array|not a folder inside it/,
  },
  {
    item: 1,
    kind: 'volume',
    name: 'OME-Zarr whose level folder 0 is a link out of the image folder',
    make: omeZarr('0', async (r) => {
      await level444(join(r, '..', 'outside'));
      await symlink(join(r, '..', 'outside'), join(r, '0'));
    }),
    expect: OUT_OF_FOLDER,
  },
  {
    item: 1,
    kind: 'volume',
    name: 'OME-Zarr whose chunk file is a link out of the image folder',
    make: omeZarr('0', async (r) => {
      await level444(join(r, '0'));
      await writeFile(join(r, '..', 'secret.bin'), Buffer.alloc(64, 42));
      const chunk = join(r, '0', 'c', '0', '0', '0');
      await import('node:fs/promises').then((f) => f.rm(chunk));
      await symlink(join(r, '..', 'secret.bin'), chunk);
    }),
    expect: OUT_OF_FOLDER,
  },
  {
    item: 1,
    kind: 'volume',
    name: 'bioformats2raw layout whose OME/ series names ../outside',
    make: async (dir) => {
      const root = join(await folder(dir), 'b2r.zarr');
      await mkdir(join(root, 'OME'), { recursive: true });
      await writeFile(join(root, '.zgroup'), json({ zarr_format: 2 }));
      await writeFile(join(root, '.zattrs'), json({ 'bioformats2raw.layout': 3 }));
      await writeFile(join(root, 'OME', '.zgroup'), json({ zarr_format: 2 }));
      await writeFile(join(root, 'OME', '.zattrs'), json({ series: ['../outside'] }));
      return root;
    },
    expect: OUT_OF_FOLDER,
  },
  // OME-Zarr: declared sizes against the budgets, before anything is allocated
  {
    item: 3,
    kind: 'volume',
    name: 'OME-Zarr declaring 2^20 x 2048 x 2048 uint8 (2 TiB, no chunk written)',
    make: omeZarr('0', async (r) => {
      await mkdir(join(r, '0'));
      await writeFile(join(r, '0', 'zarr.json'), v3Array([1 << 20, 2048, 2048], [64, 64, 64]));
    }),
    expect: /needs about [\d.]+ [GT]iB on disk but only [\d.]+ [KMGT]i?B is free/,
  },
  {
    item: 3,
    kind: 'volume',
    name: 'OME-Zarr declaring one slice of 100000 x 100000 float64',
    make: omeZarr('0', async (r) => {
      await mkdir(join(r, '0'));
      await writeFile(join(r, '0', 'zarr.json'), v3Array([4, 100000, 100000], [1, 1000, 1000], 'float64'));
    }),
    expect: /would need [\d.]+ [KMGT]i?B of memory to decode, more than the 512 MiB allowed/,
  },
  {
    item: 3,
    kind: 'volume',
    name: 'OME-Zarr declaring one chunk of 1024^3 uint16',
    make: omeZarr('0', async (r) => {
      await mkdir(join(r, '0'));
      await writeFile(join(r, '0', 'zarr.json'), v3Array([1024, 1024, 1024], [1024, 1024, 1024], 'uint16'));
    }),
    expect: /one chunk \(1024 x 1024 x 1024 voxels\) would need [\d.]+ [KMGT]i?B of memory/,
  },
  {
    item: 3,
    kind: 'volume',
    name: 'OME-Zarr declaring a negative or fractional shape',
    make: omeZarr('0', async (r) => {
      await mkdir(join(r, '0'));
      await writeFile(join(r, '0', 'zarr.json'), v3Array([4, -4, 4.5], [4, 4, 4]));
    }),
    expect: /not three whole numbers ≥ 1|not a readable Zarr group or array|impossible volume size/,
  },
  {
    item: 3,
    kind: 'volume',
    // zarrita inflates a chunk whole before any size check: this one took 1.1 GiB RSS and was imported (cut to 16 KiB)
    name: 'OME-Zarr v3 gzip chunk of 4 x 64 x 64 uint8 that inflates to 640 MiB',
    make: omeZarr('0', async (r) => {
      await mkdir(join(r, '0', 'c', '0', '0'), { recursive: true });
      const meta = JSON.parse(v3Array([4, 64, 64], [4, 64, 64])) as { codecs: unknown[] };
      meta.codecs.push({ name: 'gzip', configuration: { level: 9 } });
      await writeFile(join(r, '0', 'zarr.json'), json(meta));
      await writeFile(join(r, '0', 'c', '0', '0', '0'), await deflatedZeros(640 << 20, 'gzip'));
    }),
    expect: /^vol\.zarr: the chunk at \(0, 0, 0\) decodes to more than its declared 16,384 bytes; the file is damaged/,
  },
  {
    item: 3,
    kind: 'volume',
    name: 'OME-Zarr v2 zlib chunk of 4 x 64 x 64 uint8 that inflates to 64 MiB',
    make: async (dir) => {
      const root = join(await folder(dir), 'v2.zarr');
      await mkdir(join(root, '0'), { recursive: true });
      await writeFile(join(root, '.zgroup'), json({ zarr_format: 2 }));
      await writeFile(join(root, '.zattrs'), json({ multiscales: [{ version: '0.4', axes: AXES, datasets: [{ path: '0', coordinateTransformations: [{ type: 'scale', scale: [1, 1, 1] }] }] }] }));
      await writeFile(join(root, '0', '.zarray'), json({ zarr_format: 2, shape: [4, 64, 64], chunks: [4, 64, 64], dtype: '|u1', compressor: { id: 'zlib', level: 9 }, fill_value: 0, order: 'C', filters: null, dimension_separator: '/' }));
      await mkdir(join(root, '0', '0', '0'), { recursive: true });
      await writeFile(join(root, '0', '0', '0', '0'), deflateSync(Buffer.alloc(64 << 20), { level: 9 }));
      return root;
    },
    expect: /^v2\.zarr: the chunk at \(0, 0, 0\) decodes to more than its declared 16,384 bytes; the file is damaged/,
  },
  { item: 3, kind: 'volume', name: 'OME-Zarr zstd chunk of 16 KiB whose frame states 640 MiB', make: zstdLevel(zstdZeros(5120, 640n << 20n)), expect: /^vol\.zarr: the chunk at \(0, 0, 0\) decodes to more than its declared 16,384 bytes/ },
  { item: 3, kind: 'volume', name: 'OME-Zarr zstd chunk of 16 KiB inflating to 640 MiB, size not stated', make: zstdLevel(zstdZeros(5120)), expect: /^vol\.zarr: a zstd chunk does not decode to its declared 16,384 bytes/ },
  // NIfTI-2: 64-bit sizes and offset
  { item: 3, kind: 'volume', name: 'NIfTI-2 with dims 2^40 x 2^40 x 2^40 (product beyond 2^53)', make: async (dir) => { const p = join(await folder(dir), 'huge.nii'); await writeFile(p, nifti2([1n << 40n, 1n << 40n, 1n << 40n], 544n, Buffer.alloc(64))); return p; }, expect: /huge\.nii: the header declares an impossible volume size|would need .* of memory to decode/ },
  { item: 3, kind: 'volume', name: 'NIfTI-2 with dims beyond int64 precision (2^62)', make: async (dir) => { const p = join(await folder(dir), 'big.nii'); await writeFile(p, nifti2([4n, 4n, 1n << 62n], 544n, Buffer.alloc(64))); return p; }, expect: /big\.nii: the header declares an impossible volume size/ },
  { item: 3, kind: 'volume', name: 'NIfTI-2 with a negative dim', make: async (dir) => { const p = join(await folder(dir), 'neg.nii'); await writeFile(p, nifti2([4n, -4n, 4n], 544n, Buffer.alloc(64))); return p; }, expect: /neg\.nii: the volume size .* is not three whole numbers ≥ 1/ },
  { item: 3, kind: 'volume', name: 'NIfTI-2 with 2^20 x 2048 x 2048 voxels in a 608-byte file', make: async (dir) => { const p = join(await folder(dir), 'short.nii'); await writeFile(p, nifti2([2048n, 2048n, 1n << 20n], 544n, Buffer.alloc(64))); return p; }, expect: /short\.nii is truncated: its dimensions 2048 x 2048 x 1048576 need/ },
  { item: 3, kind: 'volume', name: 'NIfTI-2 with vox_offset 2^50 (beyond the file)', make: async (dir) => { const p = join(await folder(dir), 'far.nii'); await writeFile(p, nifti2([4n, 4n, 4n], 1n << 50n, Buffer.alloc(64))); return p; }, expect: /far\.nii is truncated: .* holds only 0/ },
  { item: 3, kind: 'volume', name: 'NIfTI-2 with vox_offset -1', make: async (dir) => { const p = join(await folder(dir), 'minus.nii'); await writeFile(p, nifti2([4n, 4n, 4n], -1n, Buffer.alloc(64))); return p; }, expect: /minus\.nii: its vox_offset .* must be a whole number ≥ 0/ },
  // ImageJ stacks over 4 GiB: images=N must be backed by the file's bytes
  {
    item: 3,
    kind: 'volume',
    name: 'ImageJ stack declaring images=100000000 with one 64 x 64 page',
    make: async (dir) => {
      const p = join(await folder(dir), 'ij.tif');
      await writeFile(p, tiffBytes([new Uint16Array(64 * 64)], 64, 64, { description: 'ImageJ=1.54f\nimages=100000000\nslices=100000000\nunit=micron\nspacing=3\n' }));
      return p;
    },
    expect: /^ij\.tif is truncated: it should hold 100000000 slices \(ImageJ header\) but only 1 page\(s\) can be found/,
  },
  {
    item: 3,
    kind: 'volume',
    name: 'ImageJ stack declaring images=1e300',
    make: async (dir) => {
      const p = join(await folder(dir), 'ij2.tif');
      await writeFile(p, tiffBytes([new Uint8Array(64 * 64)], 64, 64, { description: 'ImageJ=1.54f\nimages=1e300\nunit=micron\n' }));
      return p;
    },
    expect: /^ij2\.tif is truncated: it should hold 1e\+300 slices/,
  },
  // PNG / BMP slice folders
  {
    item: 3,
    kind: 'volume',
    name: 'PNG slices declaring 100000 x 100000 pixels',
    make: async (dir) => {
      const d = join(await folder(dir), 'png');
      await mkdir(d);
      for (let k = 1; k <= 3; k++) await writeFile(join(d, `slice_${k}.png`), pngHeader(100000, 100000));
      return d;
    },
    expect: /^png\/slice_1\.png: one slice of 100000 x 100000 pixels would need [\d.]+ [KMGT]i?B of memory to decode/,
  },
  {
    item: 3,
    kind: 'volume',
    name: 'BMP slices declaring 100000 x 100000 pixels (header only)',
    make: async (dir) => {
      const d = join(await folder(dir), 'bmp');
      await mkdir(d);
      for (let k = 1; k <= 3; k++) await writeFile(join(d, `slice_${k}.bmp`), bmpHeader(100000, -100000));
      return d;
    },
    expect: /slice_1\.bmp.*100000 x 100000 pixels.* would need [\d.]+ [KMGT]i?B of memory to decode/,
  },
  { item: 3, kind: 'volume', name: 'SkyScan log with Pixel Size (um)=1e300', make: skyscan('1e300'), expect: /scan_rec\.log gives a pixel size of 1e\+300 µm/ },
  { item: 3, kind: 'volume', name: 'SkyScan log with Pixel Size (um)=0', make: skyscan('0'), expect: /scan_rec\.log gives a pixel size of 0 µm/ },
  { item: 3, kind: 'volume', name: 'SkyScan log with Pixel Size (um)=-5', make: skyscan('-5'), expect: /scan_rec\.log gives a pixel size of -5 µm/ },
  { item: 3, kind: 'volume', name: 'SkyScan log with Pixel Size (um)=NaN', make: skyscan('NaN'), expect: /scan_rec\.log gives a pixel size of NaN µm/ },
];
