/**
 * Hostile input left open at stop 28 (engineer G, stop 29): slice folders whose slice files are links
 * out of the folder (or not files at all), OME-Zarr chunks the inflation checks skipped (sharded v3
 * arrays, v2 arrays with filters, a shard index lying about where its chunks are), and a petromap
 * store whose own chunks inflate (a store copied in from elsewhere or damaged on disk). Same
 * contract as cases-volume.ts: each case writes its input under the folder it is given, and the
 * import (or the store read, kind 'store') must refuse it with a clean one-line message.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { deflatedZeros, zstdZeros } from './bombs';
import { tiffBytes } from '../lib/volume/fixtures';
import type { HostileCase } from './harness';

async function folder(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  return dir;
}

const json = (o: unknown) => JSON.stringify(o);
const AXES = [{ name: 'z', type: 'space', unit: 'micrometer' }, { name: 'y', type: 'space', unit: 'micrometer' }, { name: 'x', type: 'space', unit: 'micrometer' }];

/** A folder `kind` of three 4 x 4 slices where `slice_0002.<ext>` is made by `second` (a link, a FIFO, a folder). */
function sliceFolder(ext: 'tif' | 'png' | 'bmp', second: (at: string, dir: string, one: Buffer) => Promise<void>): HostileCase['make'] {
  return async (dir) => {
    const d = join(await folder(dir), `${ext}-slices`);
    await mkdir(d);
    const one = ext === 'tif' ? tiffBytes([new Uint8Array(16).fill(5)], 4, 4) : ext === 'png' ? await pngSlice() : bmpSlice();
    for (const k of [1, 3]) await writeFile(join(d, `slice_000${k}.${ext}`), one);
    await second(join(d, `slice_0002.${ext}`), dir, one);
    return d;
  };
}

/** A link at `at` to a file outside the slice folder (a valid slice: only its place is wrong). */
const linkOut = async (at: string, dir: string, one: Buffer) => {
  const outside = join(dir, `outside-${Math.random().toString(36).slice(2)}`);
  await writeFile(outside, one);
  await symlink(outside, at);
};

async function pngSlice(): Promise<Buffer> {
  const { encode } = await import('fast-png');
  return Buffer.from(encode({ width: 4, height: 4, data: new Uint8Array(16).fill(5), channels: 1, depth: 8 }));
}

function bmpSlice(): Buffer {
  const b = Buffer.alloc(54 + 1024 + 16, 5);
  b.write('BM', 0, 'latin1');
  b.writeUInt32LE(b.length, 2);
  b.writeUInt32LE(54 + 1024, 10);
  b.writeUInt32LE(40, 14);
  b.writeInt32LE(4, 18);
  b.writeInt32LE(4, 22);
  b.writeUInt16LE(1, 26);
  b.writeUInt16LE(8, 28);
  b.writeUInt32LE(0, 30);
  b.writeUInt32LE(0, 46);
  for (let i = 0; i < 256; i++) (b.fill(i, 54 + 4 * i, 54 + 4 * i + 3), (b[54 + 4 * i + 3] = 0));
  return b;
}

/** An OME-Zarr 0.5 image `vol.zarr` whose level 0 (4 x 64 x 64 uint8) has the metadata `meta` and the chunk files `files` (key -> bytes). */
function omeZarrV3(meta: Record<string, unknown>, files: Record<string, Buffer>): HostileCase['make'] {
  return async (dir) => {
    const root = join(await folder(dir), 'vol.zarr');
    await mkdir(join(root, '0'), { recursive: true });
    const ms = [{ version: '0.5', axes: AXES, datasets: [{ path: '0', coordinateTransformations: [{ type: 'scale', scale: [2, 2, 2] }] }] }];
    await writeFile(join(root, 'zarr.json'), json({ zarr_format: 3, node_type: 'group', attributes: { ome: { version: '0.5', multiscales: ms } } }));
    await writeFile(join(root, '0', 'zarr.json'), json({ zarr_format: 3, node_type: 'array', shape: [4, 64, 64], data_type: 'uint8', fill_value: 0, attributes: {}, chunk_key_encoding: { name: 'default', configuration: { separator: '/' } }, ...meta }));
    for (const [k, b] of Object.entries(files)) {
      await mkdir(join(root, '0', ...k.split('/').slice(0, -1)), { recursive: true });
      await writeFile(join(root, '0', ...k.split('/')), b);
    }
    return root;
  };
}

/** v3 sharding: one 4 x 64 x 64 shard of one inner chunk of `inner` (4 x 64 x 64 or 2 x 64 x 64), codecs `codecs`, index at the end. */
function sharded(inner: number[], codecs: unknown[]): Record<string, unknown> {
  return {
    chunk_grid: { name: 'regular', configuration: { chunk_shape: [4, 64, 64] } },
    codecs: [{ name: 'sharding_indexed', configuration: { chunk_shape: inner, codecs, index_codecs: [{ name: 'bytes', configuration: { endian: 'little' } }], index_location: 'end' } }],
  };
}

/** A shard file: the chunks' bytes one after another, then the index (offset, length per chunk; `lie` replaces the first entry). */
function shardFile(chunks: Buffer[], lie?: [bigint, bigint]): Buffer {
  const index = Buffer.alloc(16 * chunks.length);
  let at = 0n;
  chunks.forEach((c, i) => {
    index.writeBigUInt64LE(i === 0 && lie ? lie[0] : at, 16 * i);
    index.writeBigUInt64LE(i === 0 && lie ? lie[1] : BigInt(c.length), 16 * i + 8);
    at += BigInt(c.length);
  });
  return Buffer.concat([...chunks, index]);
}

const BYTES = { name: 'bytes', configuration: { endian: 'little' } };
const BOMB = /decodes to more than its declared 16,384 bytes|a zstd chunk does not decode to its declared/;

/** A petromap store `vol.ome.zarr` (4 x 64 x 64 uint8, one chunk, `compression`) whose chunk file is replaced by `chunk`. */
function petromapStore(compression: 'zstd' | 'gzip', chunk: () => Promise<Buffer> | Buffer): HostileCase['make'] {
  return async (dir) => {
    const { createVolume } = await import('../../lib/volume/zarr-store-node');
    const path = join(await folder(dir), 'vol.ome.zarr');
    const v = await createVolume(path, { shape: [4, 64, 64], dtype: 'uint8', spacingUm: [1, 1, 1], originUm: [0, 0, 0], channels: ['xray'] }, { chunk: [4, 64, 64], compression });
    await v.writeBlock({ start: [0, 0, 0], shape: [4, 64, 64] }, new Uint8Array(4 * 64 * 64).fill(3));
    await writeFile(v.chunkFile([0, 0, 0]), await chunk());
    return path;
  };
}

export const linkCases: HostileCase[] = [
  // slice folders: only the slice files inside the folder are read
  { item: 1, kind: 'volume', name: 'TIFF slice folder whose slice_0002.tif is a link out of the folder', make: sliceFolder('tif', linkOut), expect: /^tif-slices\/slice_0002\.tif is a link that leads out of the folder/ },
  { item: 1, kind: 'volume', name: 'PNG slice folder whose slice_0002.png is a link out of the folder', make: sliceFolder('png', linkOut), expect: /^png-slices\/slice_0002\.png is a link that leads out of the folder/ },
  {
    item: 1,
    kind: 'volume',
    name: 'BMP slice folder whose slice_0002.bmp is a link to a file outside that is no image',
    make: sliceFolder('bmp', async (at, dir) => {
      await writeFile(join(dir, 'secret.txt'), 'not for you\n');
      await symlink(join(dir, 'secret.txt'), at);
    }),
    expect: /^bmp-slices\/slice_0002\.bmp is a link that leads out of the folder/,
  },
  {
    item: 1,
    kind: 'volume',
    name: 'TIFF slice folder whose slice_0002.tif is a link climbing out through ../',
    make: sliceFolder('tif', async (at, dir, one) => {
      await writeFile(join(dir, 'up.tif'), one);
      await symlink('../up.tif', at);
    }),
    expect: /^tif-slices\/slice_0002\.tif is a link that leads out of the folder/,
  },
  {
    item: 1,
    kind: 'volume',
    // a FIFO would block a reader forever (refused before too, by the TIFF opener's own stat)
    name: 'TIFF slice folder whose slice_0002.tif is a named pipe (FIFO)',
    make: sliceFolder('tif', async (at) => void execFileSync('mkfifo', [at])),
    expect: /^tif-slices\/slice_0002\.tif is not a (regular )?file/,
  },
  { item: 1, kind: 'volume', name: 'PNG slice folder whose slice_0002.png is a folder', make: sliceFolder('png', async (at) => void (await mkdir(at))), expect: /^png-slices\/slice_0002\.png is not a regular file/ },
  // OME-Zarr chunks the stop-28 checks skipped: sharded arrays, v2 arrays with filters
  {
    item: 3,
    kind: 'volume',
    // 64 MiB (not 640: seconds of CI to make it) is enough: before the cap it imported, cut to 16 KiB (640 MiB: at 753 MiB RSS)
    name: 'OME-Zarr sharded (v3 sharding_indexed) gzip inner chunk of 4 x 64 x 64 uint8 that inflates to 64 MiB',
    make: async (dir) => omeZarrV3(sharded([4, 64, 64], [BYTES, { name: 'gzip', configuration: { level: 9 } }]), { 'c/0/0/0': shardFile([await deflatedZeros(64 << 20, 'gzip')]) })(dir),
    expect: BOMB,
  },
  {
    item: 3,
    kind: 'volume',
    name: 'OME-Zarr sharded zstd inner chunk inflating to 640 MiB, size not stated',
    make: omeZarrV3(sharded([4, 64, 64], [BYTES, { name: 'zstd', configuration: { level: 0, checksum: false } }]), { 'c/0/0/0': shardFile([zstdZeros(5120)]) }),
    expect: BOMB,
  },
  {
    item: 3,
    kind: 'volume',
    name: 'OME-Zarr shard index giving its chunk 2^40 bytes',
    make: omeZarrV3(sharded([4, 64, 64], [BYTES]), { 'c/0/0/0': shardFile([Buffer.alloc(16384, 1)], [0n, 1n << 40n]) }),
    expect: /^vol\.zarr: the index of the shard at \(0, 0, 0\) points beyond the file \(16,400 bytes\)/,
  },
  {
    item: 3,
    kind: 'volume',
    name: 'OME-Zarr shard index giving its chunk an offset of 2^62',
    make: omeZarrV3(sharded([4, 64, 64], [BYTES]), { 'c/0/0/0': shardFile([Buffer.alloc(16384, 1)], [1n << 62n, 16384n]) }),
    expect: /^vol\.zarr: the index of the shard at \(0, 0, 0\) points beyond the file \(16,400 bytes\)/,
  },
  {
    item: 3,
    kind: 'volume',
    name: 'OME-Zarr v2 zlib chunk with a shuffle filter, 4 x 64 x 64 uint8 inflating to 64 MiB',
    make: async (dir) => {
      const root = join(await folder(dir), 'v2.zarr');
      await mkdir(join(root, '0', '0', '0'), { recursive: true });
      await writeFile(join(root, '.zgroup'), json({ zarr_format: 2 }));
      await writeFile(join(root, '.zattrs'), json({ multiscales: [{ version: '0.4', axes: AXES, datasets: [{ path: '0', coordinateTransformations: [{ type: 'scale', scale: [1, 1, 1] }] }] }] }));
      await writeFile(join(root, '0', '.zarray'), json({ zarr_format: 2, shape: [4, 64, 64], chunks: [4, 64, 64], dtype: '|u1', compressor: { id: 'zlib', level: 9 }, fill_value: 0, order: 'C', filters: [{ id: 'shuffle', elementsize: 1 }], dimension_separator: '/' }));
      await writeFile(join(root, '0', '0', '0', '0'), await deflatedZeros(64 << 20, 'zlib'));
      return root;
    },
    expect: BOMB,
  },
  {
    item: 1,
    kind: 'volume',
    // the import hung on the pipe (and held one of Node's I/O threads) before
    name: 'OME-Zarr whose chunk file is a named pipe (FIFO)',
    make: async (dir) => {
      const grid = { chunk_grid: { name: 'regular', configuration: { chunk_shape: [4, 64, 64] } }, codecs: [BYTES] };
      const root = await omeZarrV3(grid, {})(dir);
      await mkdir(join(root, '0', 'c', '0', '0'), { recursive: true });
      execFileSync('mkfifo', [join(root, '0', 'c', '0', '0', '0')]);
      return root;
    },
    expect: /^vol\.zarr: 0 › c › 0 › 0 › 0 is not a regular file \(a named pipe or a device\)/,
  },
  // a petromap store's own chunks (a store copied in, or damaged on disk) are capped like any other
  { item: 3, kind: 'store', name: 'petromap store (zstd) whose chunk inflates to 640 MiB, size not stated', make: petromapStore('zstd', () => zstdZeros(5120)), expect: /vol\.ome\.zarr.*decodes to more than its declared 16,384 bytes/ },
  // 16 MiB: its 16 KB of gzip fit the chunk file's bound (cases-store.ts), so the decoder's cap is what stops it
  { item: 3, kind: 'store', name: 'petromap store (gzip) whose chunk inflates to 16 MiB', make: petromapStore('gzip', () => deflatedZeros(16 << 20, 'gzip')), expect: /vol\.ome\.zarr.*decodes to more than its declared 16,384 bytes/ },
  // 64 MiB of zeros is 64 KB of gzip, more than a 16 KiB chunk's file can hold: refused before it is read
  { item: 3, kind: 'store', name: 'petromap store (gzip) whose chunk inflates to 64 MiB', make: petromapStore('gzip', () => deflatedZeros(64 << 20, 'gzip')), expect: /vol\.ome\.zarr": the file "0\/c\/0\/0\/0\/0" holds 64 KiB, more than a file of this volume can \(21 KiB\)/ },
];

