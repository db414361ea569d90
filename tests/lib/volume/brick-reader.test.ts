import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Zstd from 'numcodecs/zstd';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Box3, Shape3 } from '../../../lib/volume/types';
import { brickReader } from '../../../lib/volume/zarr/brick-reader-node';
import { zstdInto } from '../../../lib/volume/zarr/zstd-into-node';
import { buildPyramid, createVolume } from '../../../lib/volume/zarr-store-node';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'petromap-brick-reader-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

// a volume whose edges cut chunks (23 = 16 + 7, ...), two channels, a pyramid level whose chunks are cut to its shape
const shape: Shape3 = [23, 37, 45];
const chunk: Shape3 = [16, 16, 32];
const n = shape[0] * shape[1] * shape[2];
const values = (c: number) => Uint16Array.from({ length: n }, (_, i) => (i * 7919 + c * 104729) % 65521);

async function twoChannelStore(name: string, compression: 'zstd' | 'none') {
  const store = await createVolume(path.join(dir, name), { shape, spacingUm: [1, 1, 1], originUm: [0, 0, 0], dtype: 'uint16', channels: ['a', 'b'] }, { chunk, compression, levels: 2 });
  for (const c of [0, 1]) await store.writeBlock({ start: [0, 0, 0], shape }, values(c), { channel: c });
  await buildPyramid(store);
  return store;
}

describe('brick reader (prediction threads)', () => {
  it('reads what the store reads (halos, reflected borders, both channels, level 1), in buffers it reuses', async () => {
    const store = await twoChannelStore('a.ome.zarr', 'zstd');
    const reader = brickReader(store, { maxBytes: 30 * 16 * 16 * 32 * 2 });
    const cases: Array<[Box3, number | Shape3, number]> = [
      [{ start: [0, 0, 0], shape }, 0, 0],
      [{ start: [3, 4, 5], shape: [8, 9, 7] }, 4, 0],
      [{ start: [16, 16, 32], shape: [7, 21, 13] }, [2, 30, 5], 0],
      [{ start: [0, 0, 0], shape: [1, 1, 1] }, 25, 0],
      [{ start: [5, 5, 5], shape: [16, 16, 32] }, 3, 0],
      [{ start: [2, 3, 4], shape: [6, 10, 12] }, [1, 2, 3], 1],
    ];
    for (const [box, halo, level] of cases) {
      // both channels read before either is used: each channel has its own buffer
      const got = [await reader.readBlock(box, { halo, level, channel: 0 }), await reader.readBlock(box, { halo, level, channel: 1 })];
      for (const c of [0, 1]) expect(Array.from(got[c]!)).toEqual(Array.from(await store.readBlock(box, { halo, level, channel: c })));
      const f = await reader.readBlockF32(box, { halo, level, channel: 1 });
      expect(f).toBeInstanceOf(Float32Array);
      expect(Array.from(f)).toEqual(Array.from(await store.readBlockF32(box, { halo, level, channel: 1 })));
    }
    expect(reader.stats.hits).toBeGreaterThan(reader.stats.misses);
    expect(reader.stats.bytes).toBeLessThanOrEqual(30 * 16 * 16 * 32 * 2);
    // every chunk was decoded here (zstd into recycled buffers), none through the store
    expect(reader.stats.direct).toBe(reader.stats.misses);
    // a budget of 3 chunks: dropped chunks' buffers decode the next ones, the values stay right
    const small = brickReader(store, { maxBytes: 3 * 16 * 16 * 32 * 2 });
    for (const [box, halo, level] of cases) {
      expect(Array.from(await small.readBlock(box, { halo, level, channel: 1 }))).toEqual(Array.from(await store.readBlock(box, { halo, level, channel: 1 })));
    }
    expect(small.stats.bytes).toBeLessThanOrEqual(3 * 16 * 16 * 32 * 2);
    // the next read of a channel reuses the buffer of the one before (no new block per brick)
    const a = await reader.readBlock({ start: [4, 4, 4], shape: [8, 8, 8] }, { halo: 2 });
    const b = await reader.readBlock({ start: [9, 9, 9], shape: [8, 8, 8] }, { halo: 2 });
    expect(b.buffer).toBe(a.buffer);
  });

  it('concurrent readers (the server) get a new array per read; writes pass through and later reads see them', async () => {
    // the old chunk cache's cases: chunks that do not divide the volume, halos beyond a chunk, reads that overlap in time
    const shape2: Shape3 = [19, 23, 17];
    const data = Uint16Array.from({ length: shape2[0] * shape2[1] * shape2[2] }, (_, i) => (i * 7919) % 65521);
    const store = await createVolume(path.join(dir, 'odd.ome.zarr'), { shape: shape2, spacingUm: [1, 1, 1], originUm: [0, 0, 0], dtype: 'uint16', channels: ['xrm'] }, { chunk: [7, 5, 6], compression: 'zstd', levels: 1 });
    await store.writeBlock({ start: [0, 0, 0], shape: shape2 }, data);
    const reader = brickReader(store, { maxBytes: 4 * 7 * 5 * 6 * 2, concurrent: true });
    const cases: Array<[Box3, number | Shape3]> = [
      [{ start: [0, 0, 0], shape: shape2 }, 0],
      [{ start: [3, 4, 5], shape: [8, 9, 7] }, 4],
      [{ start: [10, 14, 9], shape: [9, 9, 8] }, [2, 30, 5]],
      [{ start: [0, 0, 0], shape: [1, 1, 1] }, 25],
      [{ start: [5, 5, 5], shape: [6, 6, 6] }, 3],
    ];
    const got = await Promise.all(cases.flatMap(([box, halo]) => [reader.readBlock(box, { halo }), reader.readBlockF32(box, { halo })]));
    for (let i = 0; i < cases.length; i++) {
      const [box, halo] = cases[i]!;
      expect(Array.from(got[2 * i]!)).toEqual(Array.from(await store.readBlock(box, { halo })));
      expect(Array.from(got[2 * i + 1]!)).toEqual(Array.from(await store.readBlockF32(box, { halo })));
    }
    expect(new Set(got.map((a) => a.buffer)).size).toBe(got.length);
    expect(reader.stats.bytes).toBeLessThanOrEqual(4 * 7 * 5 * 6 * 2);

    const box: Box3 = { start: [2, 3, 4], shape: [9, 8, 7] };
    const before = await reader.readBlock(box, { halo: 2 });
    const patch = Uint16Array.from({ length: 9 * 8 * 7 }, (_, i) => i);
    await reader.writeBlock(box, patch);
    expect(Array.from(await reader.readBlock(box))).toEqual(Array.from(patch));
    expect(Array.from(await reader.readBlock(box, { halo: 2 }))).toEqual(Array.from(await store.readBlock(box, { halo: 2 })));
    expect(Array.from(before)).not.toEqual(Array.from(await reader.readBlock(box, { halo: 2 })));
    // a one-thread reader's write drops its cached chunks too
    const one = brickReader(store);
    await one.readBlock({ start: [0, 0, 0], shape: shape2 });
    await one.writeBlock(box, data.subarray(0, 9 * 8 * 7));
    expect(Array.from(await one.readBlock(box))).toEqual(Array.from(data.subarray(0, 9 * 8 * 7)));
  });

  it('a write of exactly one chunk stores the caller\'s array as that chunk (views with an offset too), like any other write', async () => {
    for (const compression of ['zstd', 'none'] as const) {
      const store = await twoChannelStore(`w-${compression}.ome.zarr`, compression);
      const box: Box3 = { start: [0, 16, 0], shape: chunk };
      const m = chunk[0] * chunk[1] * chunk[2];
      const backing = Uint16Array.from({ length: m + 3 }, (_, i) => (i * 31) % 60000);
      const data = backing.subarray(3);
      await store.writeBlock(box, data, { channel: 1, wholeChunks: true });
      expect(Array.from(await store.readBlock(box, { channel: 1 }))).toEqual(Array.from(data));
      expect(Array.from(backing.subarray(3))).toEqual(Array.from(data)); // the caller's array is left as it was
      // the neighbours and the other channel are untouched
      const rest: Box3 = { start: [0, 0, 0], shape: [23, 16, 45] };
      const want = values(1);
      const got = await store.readBlock(rest, { channel: 1 });
      let same = true;
      for (let z = 0; z < 23 && same; z++) for (let y = 0; y < 16; y++) for (let x = 0; x < 45; x++) if (got[(z * 16 + y) * 45 + x] !== want[(z * 37 + y) * 45 + x]) same = false;
      expect(same).toBe(true);
      expect(Array.from(await store.readBlock(box, { channel: 0 }))).not.toEqual(Array.from(data));
    }
  });

  it('other codecs, chunks never written and damaged chunks go through the store: same values, the store\'s error', async () => {
    const plain = await twoChannelStore('plain.ome.zarr', 'none');
    const r1 = brickReader(plain);
    const box: Box3 = { start: [3, 5, 7], shape: [15, 20, 30] };
    expect(Array.from(await r1.readBlock(box, { halo: 3, channel: 1 }))).toEqual(Array.from(await plain.readBlock(box, { halo: 3, channel: 1 })));
    expect(r1.stats.direct).toBe(0);

    const sparse = await createVolume(path.join(dir, 'sparse.ome.zarr'), { shape, spacingUm: [1, 1, 1], originUm: [0, 0, 0], dtype: 'uint16', channels: ['a'] }, { chunk, compression: 'zstd', levels: 1 });
    await sparse.writeBlock({ start: [0, 0, 0], shape: chunk }, values(0).subarray(0, chunk[0] * chunk[1] * chunk[2]), { wholeChunks: true });
    const r2 = brickReader(sparse);
    const all: Box3 = { start: [0, 0, 0], shape };
    expect(Array.from(await r2.readBlock(all, { halo: 2 }))).toEqual(Array.from(await sparse.readBlock(all, { halo: 2 })));
    expect(r2.stats.direct).toBe(1);

    await writeFile(sparse.chunkFile([0, 0, 0]), Buffer.from('not zstd at all'));
    await expect(brickReader(sparse).readBlock({ start: [0, 0, 0], shape: [4, 4, 4] })).rejects.toThrow(/Could not read volume .*chunk 0\/0\/0/);
    await expect(sparse.readBlock({ start: [0, 0, 0], shape: [4, 4, 4] })).rejects.toThrow(/Could not read volume .*chunk 0\/0\/0/);
  });
});

describe('zstd into a given buffer', () => {
  it('decodes what numcodecs encodes, bit for bit, and refuses wrong sizes and non-zstd data', async () => {
    const dec = await zstdInto();
    expect(dec).not.toBeNull(); // zstddec's wasm is found: the stores decode without numcodecs' copies
    const codec = Zstd.fromConfig({ id: 'zstd', level: 1 });
    const r = (() => {
      let s = 12345;
      return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
    })();
    for (const n of [0, 1, 1000, 1 << 21]) {
      const raw = Uint8Array.from({ length: n }, (_, i) => (i % 97 < 50 ? i & 7 : Math.floor(r() * 256)));
      const packed = await codec.encode(raw);
      const out = new Uint8Array(n);
      dec!.decode(packed, out);
      expect(Buffer.compare(out, raw)).toBe(0);
      if (n) expect(() => dec!.decode(packed, new Uint8Array(n - 1))).toThrow(/zstd/);
    }
    expect(() => dec!.decode(new TextEncoder().encode('not zstd at all'), new Uint8Array(15))).toThrow(/zstd/);
  });
});
