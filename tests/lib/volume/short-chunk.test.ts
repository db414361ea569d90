/**
 * A chunk file shorter than its chunk (an empty file left by a crash, a copy cut short) or changed on
 * disk is damaged: a write that covers part of it (read-modify-write) is refused with the store's
 * "damaged on disk" message and leaves the file as it was, instead of reading it as zeros and
 * sealing the zeros under a fresh checksum.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Shape3 } from '../../../lib/volume/types';
import { createVolume, openVolume } from '../../../lib/volume/zarr-store-node';

let dir: string;
beforeAll(async () => void (dir = await mkdtemp(path.join(tmpdir(), 'petromap-short-chunk-'))));
afterAll(() => rm(dir, { recursive: true, force: true }));

const shape: Shape3 = [8, 16, 32];
const meta = { shape, spacingUm: [2, 2, 2] as Shape3, originUm: [0, 0, 0] as Shape3, dtype: 'uint16' as const, channels: ['xray'] };
const DAMAGED = (name: string) =>
  new RegExp(`^Could not read volume ".*${name}\\.ome\\.zarr" \\(chunk 0/0/1 of pyramid level 0\\): the chunk is damaged on disk \\(.*\\)\\. Re-import the scan`);

async function store(name: string, compression: 'zstd' | 'none', edit: (b: Buffer) => Buffer) {
  const p = path.join(dir, `${name}.ome.zarr`);
  const v = await createVolume(p, meta, { chunk: [8, 16, 16], levels: 1, compression });
  let s = 5;
  await v.writeBlock({ start: [0, 0, 0], shape }, Uint16Array.from({ length: 8 * 16 * 32 }, () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) >>> 16));
  const file = v.chunkFile([0, 0, 1]);
  const bytes = edit(await readFile(file));
  await writeFile(file, bytes);
  return { v: await openVolume(p), file, bytes };
}

const oneVoxel = { start: [3, 5, 20] as Shape3, shape: [1, 1, 1] as Shape3 };

describe('a chunk that is too short or damaged is refused by read and by read-modify-write', () => {
  const cases: [string, 'zstd' | 'none', (b: Buffer) => Buffer][] = [
    ['zstd-empty', 'zstd', () => Buffer.alloc(0)],
    ['none-half', 'none', (b) => b.subarray(0, b.length >> 1)],
    ['none-empty', 'none', () => Buffer.alloc(0)],
    // F2: a flipped bit said 'Could not write ".../0/0/0/0/1": Failed to decode chunk via codec "zstd"'
    ['zstd-flipped', 'zstd', (b) => ((b = Buffer.from(b)), (b[b.length >> 1]! ^= 8), b)],
  ];
  for (const [name, compression, edit] of cases) {
    it(`${name}: the read and a one-voxel write say the chunk is damaged on disk; the file is left as it was`, async () => {
      const { v, file, bytes } = await store(name, compression, edit);
      await expect(v.readBlock({ start: [0, 0, 16], shape: [8, 16, 16] })).rejects.toThrow(DAMAGED(name));
      await expect(v.writeBlock(oneVoxel, new Uint16Array([4242]))).rejects.toThrow(DAMAGED(name));
      expect(Buffer.compare(await readFile(file), bytes)).toBe(0);
      // the other chunk still reads and writes
      await v.writeBlock({ start: [0, 0, 0], shape: [1, 1, 1] }, new Uint16Array([7]));
      expect((await v.readBlock({ start: [0, 0, 0], shape: [1, 1, 1] }))[0]).toBe(7);
    });
  }
});
