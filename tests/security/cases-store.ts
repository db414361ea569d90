/**
 * A petromap volume store's own files, not trusted (a store copied in from elsewhere or damaged on
 * disk; stop 29 left these open): links in the store (a chunk file, a chunk-row folder, a level
 * folder) were followed out of it, a named pipe as a chunk file blocked the read, a chunk file
 * larger than any chunk was read whole, and the level metadata's declared chunk shape (or codecs)
 * was trusted until the first read allocated it. Same contract as cases-links.ts: kind 'store' opens
 * the store and reads it whole (the store, then the brick reader); each must be refused with a clean
 * one-line message under 512 MiB.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, rename, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { HostileCase } from './harness';

type Store = Awaited<ReturnType<typeof import('../../lib/volume/zarr-store-node')['createVolume']>>;

/**
 * A valid petromap store `vol.ome.zarr` (`shape` uint8 or uint16, one chunk of 4 x 64 x 64 per
 * level, `compression`), written with real values, then changed by `edit` (its folder, the store, the
 * case's scratch folder).
 */
function store(edit: (path: string, v: Store, dir: string) => Promise<void>, o: { shape?: [number, number, number]; dtype?: 'uint8' | 'uint16'; compression?: 'zstd' | 'gzip' | 'none' } = {}): HostileCase['make'] {
  return async (dir) => {
    const { createVolume } = await import('../../lib/volume/zarr-store-node');
    await mkdir(dir, { recursive: true });
    const path = join(dir, 'vol.ome.zarr');
    const shape = o.shape ?? [4, 64, 64];
    const dtype = o.dtype ?? 'uint8';
    const v = await createVolume(path, { shape, dtype, spacingUm: [1, 1, 1], originUm: [0, 0, 0], channels: ['xray'] }, { chunk: [4, 64, 64], compression: o.compression ?? 'zstd', levels: 1 });
    const n = shape[0] * shape[1] * shape[2];
    const data = dtype === 'uint8' ? new Uint8Array(n).fill(3) : new Uint16Array(n).fill(300);
    await v.writeBlock({ start: [0, 0, 0], shape }, data);
    await edit(path, v, dir);
    return path;
  };
}

/** The chunk file of (0, 0, 0) at level 0 moved outside the store (`outside-chunk`), a link left in its place. */
const chunkLinkedOut = store(async (_p, v, dir) => {
  const outside = join(dir, 'outside-chunk');
  await rename(v.chunkFile([0, 0, 0]), outside);
  await symlink(outside, v.chunkFile([0, 0, 0]));
});

/** Level 0's zarr.json rewritten by `f` (its JSON). */
const levelMeta = (f: (j: Record<string, unknown>) => void, o?: Parameters<typeof store>[1]) =>
  store(async (path) => {
    const file = join(path, '0', 'zarr.json');
    const j = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    f(j);
    await writeFile(file, JSON.stringify(j));
  }, o);

/** The group's petromap attributes rewritten by `f`. */
const groupAttrs = (f: (a: Record<string, unknown>) => void) =>
  store(async (path) => {
    const file = join(path, 'zarr.json');
    const j = JSON.parse(await readFile(file, 'utf8')) as { attributes: { petromap: Record<string, unknown> } };
    f(j.attributes.petromap);
    await writeFile(file, JSON.stringify(j));
  });

const LINK = /vol\.ome\.zarr": "[^"]+" is a link, and a petromap volume holds no links/;

export const storeCases: HostileCase[] = [
  // links out of the store: refused, whether the target is a valid chunk or any file
  { item: 1, kind: 'store', name: 'petromap store whose chunk file is a link to a valid chunk outside the store', make: chunkLinkedOut, expect: /"0\/c\/0\/0\/0\/0" is a link, and a petromap volume holds no links/ },
  {
    item: 1,
    kind: 'store',
    name: 'petromap store (no compression) whose chunk file is a link to a file outside that is no chunk',
    make: store(async (_p, v, dir) => {
      await writeFile(join(dir, 'secret.txt'), 'not for you\n'.repeat(1400));
      await rename(v.chunkFile([0, 0, 0]), join(dir, 'moved'));
      await symlink(join(dir, 'secret.txt'), v.chunkFile([0, 0, 0]));
    }, { compression: 'none' }),
    expect: LINK,
  },
  {
    item: 1,
    kind: 'store',
    name: 'petromap store whose chunk-row folder 0/c/0/0/0 is a link to a folder outside',
    make: store(async (path, _v, dir) => {
      const row = join(path, '0', 'c', '0', '0', '0');
      await rename(row, join(dir, 'row-outside'));
      await symlink(join(dir, 'row-outside'), row);
    }),
    expect: /"0\/c\/0\/0\/0" is a link/,
  },
  {
    item: 1,
    kind: 'store',
    name: 'petromap store whose level folder 0 is a link to a copy outside',
    make: store(async (path, _v, dir) => {
      await rename(join(path, '0'), join(dir, 'level-outside'));
      await symlink(join(dir, 'level-outside'), join(path, '0'));
    }),
    expect: /"0" is a link/,
  },
  {
    item: 1,
    kind: 'store',
    // the read blocked forever on the pipe before (the child was killed by the harness's timeout)
    name: 'petromap store whose chunk file is a named pipe (FIFO)',
    make: store(async (_p, v) => {
      const f = v.chunkFile([0, 0, 0]);
      await rm(f);
      execFileSync('mkfifo', [f]);
    }),
    expect: /"0\/c\/0\/0\/0\/0" is not a regular file/,
  },
  {
    item: 4,
    kind: 'store',
    // a sparse file: 8 GiB declared by its size, nothing on disk; it was read whole (or crashed the read)
    name: 'petromap store whose chunk file is 8 GiB (sparse) for a 16 KiB chunk',
    make: store(async (_p, v) => truncate(v.chunkFile([0, 0, 0]), 8 * 2 ** 30)),
    expect: /the file "0\/c\/0\/0\/0\/0" holds 8\.0 GiB, more than a file of this volume can \(2\d KiB\)/,
  },
  // the level's declared chunk shape against the memory budget, before anything is allocated
  {
    item: 2,
    kind: 'store',
    name: 'petromap store whose level 0 declares 4096 x 4096 x 4096 chunks (64 GiB) on a 4 x 64 x 64 volume',
    make: levelMeta((j) => ((j.chunk_grid as { configuration: { chunk_shape: number[] } }).configuration.chunk_shape = [1, 4096, 4096, 4096])),
    expect: /pyramid level 0 declares chunks of 4096 x 4096 x 4096 voxels \(uint8, 64\.0 GiB each\), more than the 512 MiB one read may hold \(PETROMAP_MAX_DECODE_MB\)/,
  },
  {
    item: 2,
    kind: 'store',
    name: 'petromap store whose level 0 is sharded with 4096³ shards of 1 x 1 x 1 chunks (a 1 TiB shard index)',
    make: levelMeta((j) => {
      j.chunk_grid = { name: 'regular', configuration: { chunk_shape: [1, 4096, 4096, 4096] } };
      j.codecs = [{ name: 'sharding_indexed', configuration: { chunk_shape: [1, 1, 1, 1], codecs: j.codecs, index_codecs: [{ name: 'bytes', configuration: { endian: 'little' } }], index_location: 'end' } }];
    }),
    expect: /pyramid level 0 declares chunks of 4096 x 4096 x 4096 voxels|not sharded/,
  },
  {
    item: 2,
    kind: 'store',
    name: 'petromap store whose level 0 is sharded (shards of the store chunk, 1 x 1 x 1 inner chunks)',
    make: levelMeta((j) => {
      j.codecs = [{ name: 'sharding_indexed', configuration: { chunk_shape: [1, 1, 1, 1], codecs: j.codecs, index_codecs: [{ name: 'bytes', configuration: { endian: 'little' } }], index_location: 'end' } }];
    }),
    expect: /is stored with the codecs \[sharding_indexed\], not the \[bytes, zstd\] of its zstd compression \(petromap volumes are not sharded\)/,
  },
  {
    item: 4,
    kind: 'store',
    // a silent wrong answer before: zarrita swapped the bytes, the direct zstd path did not
    name: 'petromap store (uint16) whose level 0 declares big-endian voxels',
    make: levelMeta((j) => ((j.codecs as Array<{ configuration: { endian: string } }>)[0]!.configuration.endian = 'big'), { dtype: 'uint16' }),
    expect: /pyramid level 0 stores its voxels big-endian; petromap writes little-endian/,
  },
  {
    item: 4,
    kind: 'store',
    // a TypeError before (no level was opened, level 0 was undefined)
    name: 'petromap store whose attributes declare "levels": "all"',
    make: groupAttrs((a) => (a.levels = 'all')),
    expect: /is damaged: it declares "all" pyramid levels \(1 to 64\)/,
  },
  {
    item: 4,
    kind: 'store',
    name: 'petromap store whose level 0 chunk differs from the volume\'s chunk size (2 x 64 x 64 for 4 x 64 x 64)',
    make: levelMeta((j) => ((j.chunk_grid as { configuration: { chunk_shape: number[] } }).configuration.chunk_shape = [1, 2, 64, 64])),
    expect: /pyramid level 0 has chunks of 2 x 64 x 64 voxels where the volume's chunk size gives 4 x 64 x 64/,
  },
];
