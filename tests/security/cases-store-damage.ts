/**
 * A petromap store whose chunk changed on disk after petromap wrote it (a flipped bit, a cut file, a
 * header bit): with zstd's content checksum (stores written since it came in) each is refused, the
 * store, chunk and level named, instead of reading back as other voxels. Same contract as
 * cases-store.ts: kind 'store' opens the store and reads it whole; each must be refused with a
 * clean one-line message under 512 MiB.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { HostileCase } from './harness';

/**
 * A valid zstd store `vol.ome.zarr` of 4 x 64 x 64 uint16 (one chunk), its chunk file then
 * rewritten by `edit`. `noise`: values zstd cannot compress (it stores them as a raw block, where a
 * flipped bit still decodes: only the checksum sees it); else grey values it entropy-codes.
 */
function damaged(edit: (chunk: Buffer) => Buffer | Promise<Buffer>, noise = true, compression: 'zstd' | 'none' = 'zstd'): HostileCase['make'] {
  return async (dir) => {
    const { createVolume } = await import('../../lib/volume/zarr-store-node');
    await mkdir(dir, { recursive: true });
    const path = join(dir, 'vol.ome.zarr');
    const v = await createVolume(path, { shape: [4, 64, 64], dtype: 'uint16', spacingUm: [1, 1, 1], originUm: [0, 0, 0], channels: ['xray'] }, { chunk: [4, 64, 64], levels: 1, compression });
    let s = 99;
    const data = Uint16Array.from({ length: 4 * 64 * 64 }, () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) >>> (noise ? 16 : 22));
    await v.writeBlock({ start: [0, 0, 0], shape: [4, 64, 64] }, data);
    const file = v.chunkFile([0, 0, 0]);
    await writeFile(file, await edit(await readFile(file)));
    return path;
  };
}

const flip = (at: (n: number) => number, bit: number) => (b: Buffer) => {
  const c = Buffer.from(b);
  c[at(b.length)]! ^= 1 << bit;
  return c;
};

const DAMAGED = /^Could not read volume "[^"]*vol\.ome\.zarr" \(chunk 0\/0\/0 of pyramid level 0\): the chunk is damaged on disk \((its voxels do not match the checksum written with them|its compressed data does not decode)\)\. Re-import the scan/;
const CHECKSUM = /^Could not read volume "[^"]*vol\.ome\.zarr" \(chunk 0\/0\/0 of pyramid level 0\): the chunk is damaged on disk \(its voxels do not match the checksum written with them\)\. Re-import the scan/;

/** A valid zstd frame with its content checksum, of 100 bytes of 7: decodes cleanly, but to 100 of the chunk's 32,768 bytes. */
const shortFrame = async (): Promise<Buffer> => {
  const { default: Zstd } = await import('numcodecs/zstd');
  const { addContentChecksum } = await import('../../lib/volume/zarr/zstd-checksum');
  const small = new Uint8Array(100).fill(7);
  return Buffer.from(addContentChecksum(await Zstd.fromConfig({ id: 'zstd', level: 1 }).encode(small), small));
};

/** A chunk file shorter than its chunk (a crash before the bytes reached the disk, a copy cut short): damaged, never read as zeros. */
const SHORT = /^Could not read volume "[^"]*vol\.ome\.zarr" \(chunk 0\/0\/0 of pyramid level 0\): the chunk is damaged on disk \((it holds [\d,]+ of its 32,768 bytes|its compressed data does not decode)\)\. Re-import the scan/;

export const storeDamageCases: HostileCase[] = [
  { item: 4, kind: 'store', name: 'petromap store whose zstd chunk (a raw block) has one bit flipped in its middle', make: damaged(flip((n) => n >> 1, 3)), expect: CHECKSUM },
  { item: 4, kind: 'store', name: 'petromap store whose zstd chunk (a raw block) has one bit flipped 40 bytes before its end', make: damaged(flip((n) => n - 40, 0)), expect: CHECKSUM },
  { item: 4, kind: 'store', name: 'petromap store whose zstd chunk (entropy-coded) has one bit flipped in its middle', make: damaged(flip((n) => n >> 1, 3), false), expect: DAMAGED },
  { item: 4, kind: 'store', name: 'petromap store whose zstd chunk lost its last 4 bytes (the checksum)', make: damaged((b) => b.subarray(0, b.length - 4)), expect: DAMAGED },
  { item: 4, kind: 'store', name: "petromap store whose zstd chunk's checksum flag was cleared", make: damaged(flip(() => 4, 2)), expect: DAMAGED },
  { item: 4, kind: 'store', name: 'petromap store whose zstd chunk file is empty (0 bytes)', make: damaged(() => Buffer.alloc(0)), expect: SHORT },
  { item: 4, kind: 'store', name: 'petromap store whose zstd chunk is a valid checksummed frame of 100 bytes', make: damaged(shortFrame), expect: SHORT },
  { item: 4, kind: 'store', name: 'petromap store (uncompressed) whose chunk file was cut to half', make: damaged((b) => b.subarray(0, b.length >> 1), true, 'none'), expect: SHORT },
  { item: 4, kind: 'store', name: 'petromap store (uncompressed) whose chunk file is empty (0 bytes)', make: damaged(() => Buffer.alloc(0), true, 'none'), expect: SHORT },
];
