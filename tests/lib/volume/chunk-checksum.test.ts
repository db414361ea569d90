/**
 * A petromap store's zstd chunks carry zstd's content checksum (stores written since it came in):
 * a chunk changed on disk is refused with a message naming the store and the chunk instead of
 * reading back as other voxels, and stores written before (no checksum) read and write as before.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Zstd from 'numcodecs/zstd';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Shape3 } from '../../../lib/volume/types';
import { brickReader } from '../../../lib/volume/zarr/brick-reader-node';
import { addContentChecksum, checksumKernel, xxh64Low32 } from '../../../lib/volume/zarr/zstd-checksum';
import { ZstdDamaged, zstdInto } from '../../../lib/volume/zarr/zstd-into-node';
import { buildPyramid, createVolume, openVolume } from '../../../lib/volume/zarr-store-node';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'petromap-chunk-checksum-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Deterministic bytes: a smooth half (zstd's compressed blocks) and a noisy half (raw literals, where an old-format flip read silently). */
function rockLike(n: number, seed: number): Uint16Array {
  let s = seed >>> 0;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) >>> 16);
  return Uint16Array.from({ length: n }, (_, i) => (i < n / 2 ? 1000 + ((i >> 3) % 50) * 20 : rnd()));
}

const shape: Shape3 = [8, 16, 32];
const chunk: Shape3 = [8, 16, 16];
const meta = { shape, spacingUm: [2, 2, 2] as Shape3, originUm: [0, 0, 0] as Shape3, dtype: 'uint16' as const, channels: ['xray'] };
const whole = { start: [0, 0, 0] as Shape3, shape };
const DAMAGED = /^Could not read volume ".*fresh\.ome\.zarr" \(chunk 0\/0\/1 of pyramid level 0\): the chunk is damaged on disk \(its voxels do not match the checksum written with them\)\. Re-import the scan/;

/** zstd's Frame Header Descriptor bit 2: the frame carries a content checksum. */
const hasChecksum = (frame: Uint8Array) => (frame[4]! & 4) !== 0;

describe('zstd content checksum of the chunks petromap writes', () => {
  it('XXH64 (wasm and JavaScript stripe loops) as the reference zstd decoder verifies it (every length class, and a flipped checksum refused)', async () => {
    expect(xxh64Low32(new Uint8Array(0))).toBe(0x51d8e999); // XXH64("") = 0xEF46DB3751D8E999
    expect(checksumKernel()).toBe('wasm'); // wasm/build/checksum.wasm (npm install builds it) is found and loaded
    const z = (await zstdInto())!;
    expect(z).not.toBeNull();
    const codec = Zstd.fromConfig({ id: 'zstd', level: 1 });
    for (const n of [1, 3, 4, 7, 8, 12, 31, 32, 33, 63, 64, 100, 1000, 4097, 65536 + 5, 300_001]) {
      const data = new Uint8Array(rockLike(Math.ceil(n / 2), n).buffer, 0, n);
      expect(xxh64Low32(data, { js: true })).toBe(xxh64Low32(data)); // the wasm stripe loop and the JavaScript one agree
      const frame = addContentChecksum(await codec.encode(data), data);
      expect(hasChecksum(frame)).toBe(true);
      const out = new Uint8Array(n);
      z.decode(frame, out); // zstddec recomputes XXH64 of what it decoded and compares
      expect(Buffer.from(out).equals(Buffer.from(data))).toBe(true);
      expect(Buffer.from(await codec.decode(frame)).equals(Buffer.from(data))).toBe(true); // numcodecs' decoder (the fallback) too
      const bad = frame.slice();
      bad[bad.length - 1]! ^= 0x10;
      expect(() => z.decode(bad, new Uint8Array(n))).toThrow(ZstdDamaged);
      await expect(codec.decode(bad)).rejects.toThrow(/checksum/);
    }
  });

  it('a flipped bit anywhere in a chunk of a new store is refused with the store and the chunk named, never read as other voxels', async () => {
    const p = path.join(dir, 'fresh.ome.zarr');
    const store = await createVolume(p, meta, { chunk, levels: 1 });
    const data = rockLike(8 * 16 * 32, 7);
    await store.writeBlock(whole, data);
    expect(JSON.parse(await readFile(path.join(p, '0', 'zarr.json'), 'utf8')).codecs[1]).toEqual({ name: 'zstd', configuration: { level: 1, checksum: true } });
    const file = store.chunkFile([0, 0, 1]);
    const good = await readFile(file);
    expect(hasChecksum(good)).toBe(true);

    // one byte in the noisy half: the three read paths (store, brick reader, whole-chunk pass) refuse it
    const flipped = Buffer.from(good);
    flipped[good.length - 100]! ^= 0x04;
    await writeFile(file, flipped);
    await expect(store.readBlock(whole)).rejects.toThrow(DAMAGED);
    await expect(brickReader(store).readBlock({ start: [0, 0, 16], shape: [8, 16, 16] })).rejects.toThrow(DAMAGED);
    await expect(store.withChunk([0, 0, 1], undefined, () => {})).rejects.toThrow(DAMAGED);
    await expect((await openVolume(p)).readBlock(whole)).rejects.toThrow(DAMAGED);

    // every 23rd byte, a bit in turn: a read either refuses or gives the original voxels (a flip in a
    // field the decoder does not need changes nothing); none reads back as other voxels
    let silent = 0, refused = 0, same = 0;
    for (let i = 0; i < good.length; i += 23) {
      const b = Buffer.from(good);
      b[i]! ^= 1 << (i % 8);
      await writeFile(file, b);
      try {
        const got = (await store.readBlock(whole)) as Uint16Array;
        if (Buffer.from(got.buffer, got.byteOffset, got.byteLength).equals(Buffer.from(data.buffer))) same++;
        else silent++;
      } catch (err) {
        expect((err as Error).message).toMatch(/^Could not read volume ".*fresh\.ome\.zarr" \(chunk 0\/0\/1[ )].*(damaged|decodes to more)/);
        refused++;
      }
    }
    expect(silent).toBe(0);
    expect(refused).toBeGreaterThan(0.9 * (refused + same));
    await writeFile(file, good);
    expect(Array.from((await store.readBlock(whole)) as Uint16Array)).toEqual(Array.from(data));
  });

  it('a store written before the checksum (zstd without it) reads, writes and builds its pyramid exactly as before', async () => {
    const p = path.join(dir, 'old.ome.zarr');
    // an old store: created, then each level's codec set back to what petromap wrote before (checksum: false), then opened
    await createVolume(p, meta, { chunk, levels: 2 });
    for (const k of ['0', '1']) {
      const f = path.join(p, k, 'zarr.json');
      const j = JSON.parse(await readFile(f, 'utf8'));
      j.codecs[1].configuration.checksum = false;
      await writeFile(f, JSON.stringify(j));
    }
    const store = await openVolume(p);
    const data = rockLike(8 * 16 * 32, 11);
    await store.writeBlock(whole, data);
    await buildPyramid(store);
    for (const [cc, level] of [[[0, 0, 0], 0], [[0, 0, 1], 0], [[0, 0, 0], 1]] as const) {
      expect(hasChecksum(await readFile(store.chunkFile([...cc] as Shape3, level)))).toBe(false);
    }
    const again = await openVolume(p);
    expect(Array.from((await again.readBlock(whole)) as Uint16Array)).toEqual(Array.from(data));
    expect(Array.from((await brickReader(again).readBlock(whole)) as Uint16Array)).toEqual(Array.from(data));
    expect(JSON.parse(await readFile(path.join(p, '0', 'zarr.json'), 'utf8')).codecs[1].configuration.checksum).toBe(false);
    // level 1 (1x2x2 means: z, one chunk deep, is not halved) reads
    const l1 = (await again.readBlock({ start: [0, 0, 0], shape: again.levelShape(1) }, { level: 1 })) as Uint16Array;
    expect(l1.length).toBe(8 * 8 * 16);
  });
});
