/**
 * The capped compressors (lib/volume/zarr/capped-codecs.ts) decode what they decoded before: a
 * sharded v3 OME-Zarr with gzip and zstd inner chunks, a v2 array with a shuffle filter, petromap
 * stores written with gzip and zstd (read through zarrita, not the direct zstd path), and a zstd
 * frame that does not state its size. The hostile side is in tests/security/cases-links.ts.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync, gzipSync } from 'node:zlib';
import Zstd from 'numcodecs/zstd';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importVolume } from '../../../lib/volume/import-node';
import { chunkCap } from '../../../lib/volume/zarr/capped-codecs';
import { createVolume, openVolume } from '../../../lib/volume/zarr-store-node';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'petromap-capped-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const json = (o: unknown) => JSON.stringify(o);
const AXES = ['z', 'y', 'x'].map((name) => ({ name, type: 'space', unit: 'micrometer' }));
const ramp = (n: number, mul = 7) => Uint8Array.from({ length: n }, (_, i) => (i * mul) % 251);

async function omeGroup(root: string, v: 2 | 3): Promise<void> {
  await mkdir(join(root, '0'), { recursive: true });
  const ms = [{ version: v === 3 ? '0.5' : '0.4', axes: AXES, datasets: [{ path: '0', coordinateTransformations: [{ type: 'scale', scale: [1, 1, 1] }] }] }];
  if (v === 3) await writeFile(join(root, 'zarr.json'), json({ zarr_format: 3, node_type: 'group', attributes: { ome: { version: '0.5', multiscales: ms } } }));
  else {
    await writeFile(join(root, '.zgroup'), json({ zarr_format: 2 }));
    await writeFile(join(root, '.zattrs'), json({ multiscales: ms }));
  }
}

async function readAll(path: string, out: string): Promise<Uint8Array> {
  await importVolume(path, out);
  const v = await openVolume(out);
  return (await v.readBlock({ start: [0, 0, 0], shape: v.meta.shape })) as Uint8Array;
}

describe('capped compressors read valid chunks unchanged', () => {
  it.each(['gzip', 'zstd'] as const)('a sharded v3 OME-Zarr with two %s inner chunks per shard', async (codec) => {
    const root = join(dir, `sharded-${codec}.zarr`);
    await omeGroup(root, 3);
    const innerCodec = codec === 'gzip' ? { name: 'gzip', configuration: { level: 5 } } : { name: 'zstd', configuration: { level: 1, checksum: false } };
    await writeFile(join(root, '0', 'zarr.json'), json({
      zarr_format: 3, node_type: 'array', shape: [4, 16, 16], data_type: 'uint8', fill_value: 0, attributes: {},
      chunk_grid: { name: 'regular', configuration: { chunk_shape: [4, 16, 16] } },
      chunk_key_encoding: { name: 'default', configuration: { separator: '/' } },
      codecs: [{ name: 'sharding_indexed', configuration: { chunk_shape: [2, 16, 16], codecs: [{ name: 'bytes', configuration: { endian: 'little' } }, innerCodec], index_codecs: [{ name: 'bytes', configuration: { endian: 'little' } }], index_location: 'end' } }],
    }));
    const truth = ramp(4 * 16 * 16);
    const enc = async (b: Uint8Array) => (codec === 'gzip' ? gzipSync(b) : Buffer.from(await Zstd.fromConfig({ id: 'zstd', level: 1 }).encode(b)));
    const a = await enc(truth.subarray(0, 512));
    const b = await enc(truth.subarray(512));
    const index = Buffer.alloc(32);
    index.writeBigUInt64LE(0n, 0);
    index.writeBigUInt64LE(BigInt(a.length), 8);
    index.writeBigUInt64LE(BigInt(a.length), 16);
    index.writeBigUInt64LE(BigInt(b.length), 24);
    await mkdir(join(root, '0', 'c', '0', '0'), { recursive: true });
    await writeFile(join(root, '0', 'c', '0', '0', '0'), Buffer.concat([a, b, index]));
    expect(Array.from(await readAll(root, join(dir, `sharded-${codec}.ome.zarr`)))).toEqual(Array.from(truth));
  });

  it('a v2 zlib array with a shuffle filter (elementsize 1: the bytes as they are)', async () => {
    const root = join(dir, 'v2-filter.zarr');
    await omeGroup(root, 2);
    await writeFile(join(root, '0', '.zarray'), json({ zarr_format: 2, shape: [2, 8, 8], chunks: [2, 8, 8], dtype: '|u1', compressor: { id: 'zlib', level: 5 }, fill_value: 0, order: 'C', filters: [{ id: 'shuffle', elementsize: 1 }], dimension_separator: '/' }));
    const truth = ramp(128, 3);
    await mkdir(join(root, '0', '0', '0'), { recursive: true });
    await writeFile(join(root, '0', '0', '0', '0'), deflateSync(truth));
    expect(Array.from(await readAll(root, join(dir, 'v2-filter.ome.zarr')))).toEqual(Array.from(truth));
  });

  it.each(['gzip', 'zstd'] as const)('a petromap store written with %s reads back the same voxels through zarrita', async (compression) => {
    const path = join(dir, `store-${compression}.ome.zarr`);
    const v = await createVolume(path, { shape: [5, 20, 24], dtype: 'uint16', spacingUm: [1, 1, 1], originUm: [0, 0, 0], channels: ['xray'] }, { chunk: [4, 16, 16], compression, levels: 1 });
    const truth = Uint16Array.from({ length: 5 * 20 * 24 }, (_, i) => (i * 37) % 65521);
    await v.writeBlock({ start: [0, 0, 0], shape: [5, 20, 24] }, truth);
    const again = await openVolume(path);
    // readChunk goes through zarrita's codec chain (the capped codecs), not the direct zstd path
    const c = await again.readChunk([1, 1, 1]);
    expect(c.length).toBe(4 * 16 * 16);
    expect(c[0]).toBe(truth[4 * 480 + 16 * 24 + 16]);
    expect(Array.from(await again.readBlock({ start: [0, 0, 0], shape: [5, 20, 24] }))).toEqual(Array.from(truth));
  });

  it('a zstd chunk whose frame does not state its size decodes within the cap', async () => {
    const path = join(dir, 'unsized.ome.zarr');
    const v = await createVolume(path, { shape: [2, 8, 8], dtype: 'uint8', spacingUm: [1, 1, 1], originUm: [0, 0, 0], channels: ['xray'] }, { chunk: [2, 8, 8], compression: 'zstd', levels: 1 });
    await v.writeBlock({ start: [0, 0, 0], shape: [2, 8, 8] }, new Uint8Array(128));
    // one raw block of 128 bytes, no content size in the frame header
    const head = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x38]);
    const block = Buffer.alloc(3);
    block.writeUIntLE((128 << 3) | 1, 0, 3); // raw block, last
    const truth = ramp(128, 5);
    await writeFile(v.chunkFile([0, 0, 0]), Buffer.concat([head, block, truth]));
    const again = await openVolume(path);
    expect(Array.from(await again.readChunk([0, 0, 0]))).toEqual(Array.from(truth));
  });

  it('the cap is the declared bytes plus 1/64 and 4 KiB, none for types without a size', () => {
    expect(chunkCap({ shape: [4, 64, 64], dataType: 'uint16' })).toEqual({ declared: 32768, cap: 32768 + 512 + 4096 });
    expect(chunkCap({ shape: [4, 4], dataType: 'string' })).toBeUndefined();
  });
});
