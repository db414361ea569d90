/**
 * Hostile zip uploads (issue 12, item 2): bombs, too many entries, high ratio, zip-slip names,
 * symbolic links, more than the disk holds. Each `make` writes its zip streaming (the 1 GiB bomb
 * never exists in memory) with the small writer below, which can lie in the directory the way a
 * crafted zip does. Used by tests/security/uploads.test.ts and the fuzz benchmark.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import zlib from 'node:zlib';
import { LIMIT_ENV } from '../../lib/limits';
import type { HostileCase } from './harness';

export interface ZipEntrySpec {
  name: string;
  /** chunks of the entry's content (generated lazily); default empty */
  data?: () => Iterable<Uint8Array>;
  /** 8 deflate (default) or 0 stored */
  method?: 0 | 8;
  /** size the directory declares instead of the real one (a lying bomb) */
  declaredSize?: number;
  /** Unix mode in the external attributes (host = Unix), e.g. 0o120777 for a symbolic link */
  unixMode?: number;
  /** already-deflated content (method 8) with its real size and CRC: fast bombs */
  deflated?: { chunks: () => Iterable<Uint8Array>; size: number; crc: number };
}

function write(out: WriteStream, b: Uint8Array): Promise<void> | void {
  if (!out.write(b)) return new Promise((r) => out.once('drain', () => r()));
}

/** Writes a zip file entry by entry; memory stays at one chunk whatever the entry sizes. */
export async function writeZip(file: string, entries: ZipEntrySpec[]): Promise<number> {
  const out = createWriteStream(file);
  let pos = 0;
  const put = async (b: Uint8Array) => {
    pos += b.length;
    await write(out, b);
  };
  const central: Buffer[] = [];
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const method = e.method ?? 8;
    const offset = pos;
    const lh = Buffer.alloc(30);
    lh.writeUInt32LE(0x04034b50, 0);
    lh.writeUInt16LE(20, 4);
    lh.writeUInt16LE(0x0808, 6); // sizes in the data descriptor, UTF-8 name
    lh.writeUInt16LE(method, 8);
    lh.writeUInt16LE(name.length, 26);
    await put(lh);
    await put(name);
    let crc = 0;
    let size = 0;
    let csize = 0;
    const chunks = e.data ? e.data() : [];
    if (e.deflated) {
      for (const c of e.deflated.chunks()) {
        csize += c.length;
        await put(c);
      }
      size = e.deflated.size;
      crc = e.deflated.crc;
    } else if (method === 8) {
      const deflate = zlib.createDeflateRaw({ level: 6 });
      const pending: Buffer[] = [];
      deflate.on('data', (c: Buffer) => pending.push(c));
      const flush = async () => {
        while (pending.length) {
          const c = pending.shift()!;
          csize += c.length;
          await put(c);
        }
      };
      for (const c of chunks) {
        crc = zlib.crc32(c, crc);
        size += c.length;
        await new Promise<void>((r) => deflate.write(c, () => r()));
        await flush();
      }
      await new Promise<void>((r) => deflate.end(() => r()));
      await new Promise<void>((r) => (deflate.readableEnded ? r() : deflate.once('end', () => r())));
      await flush();
    } else {
      for (const c of chunks) {
        crc = zlib.crc32(c, crc);
        size += c.length;
        csize += c.length;
        await put(c);
      }
    }
    const dd = Buffer.alloc(16);
    dd.writeUInt32LE(0x08074b50, 0);
    dd.writeUInt32LE(crc >>> 0, 4);
    dd.writeUInt32LE(csize, 8);
    dd.writeUInt32LE(size, 12);
    await put(dd);
    const ch = Buffer.alloc(46);
    ch.writeUInt32LE(0x02014b50, 0);
    ch.writeUInt16LE(e.unixMode !== undefined ? (3 << 8) | 20 : 20, 4);
    ch.writeUInt16LE(20, 6);
    ch.writeUInt16LE(0x0808, 8);
    ch.writeUInt16LE(method, 10);
    ch.writeUInt32LE(crc >>> 0, 16);
    ch.writeUInt32LE(csize, 20);
    ch.writeUInt32LE(e.declaredSize ?? size, 24);
    ch.writeUInt16LE(name.length, 28);
    ch.writeUInt32LE(e.unixMode !== undefined ? (e.unixMode << 16) >>> 0 : 0, 38);
    ch.writeUInt32LE(offset, 42);
    central.push(ch, name);
  }
  const cdOffset = pos;
  let cdSize = 0;
  for (const c of central) {
    cdSize += c.length;
    await put(c);
  }
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(Math.min(entries.length, 0xffff), 8);
  eocd.writeUInt16LE(Math.min(entries.length, 0xffff), 10);
  eocd.writeUInt32LE(cdSize, 12);
  eocd.writeUInt32LE(cdOffset, 16);
  await put(eocd);
  await new Promise<void>((res, rej) => out.end((err?: Error | null) => (err ? rej(err) : res())));
  return pos;
}

const MiB = 2 ** 20;
const zeros = (bytes: number, chunk = MiB) =>
  function* () {
    const z = new Uint8Array(chunk);
    for (let left = bytes; left > 0; left -= chunk) yield left >= chunk ? z : z.subarray(0, left);
  };
const text = (s: string) => () => [Buffer.from(s)];

/**
 * `n` MiB of zeros, deflated in about a second: one MiB compressed once with a sync flush (so it
 * ends on a byte boundary and can be repeated: its back references only ever reach zeros), then a
 * final empty block. 1 GiB -> about 1 MB.
 */
function deflatedZeros(nMiB: number): NonNullable<ZipEntrySpec['deflated']> {
  const zero = new Uint8Array(MiB);
  const piece = zlib.deflateRawSync(zero, { level: 9, finishFlush: zlib.constants.Z_SYNC_FLUSH });
  let crc = 0;
  for (let i = 0; i < nMiB; i++) crc = zlib.crc32(zero, crc);
  return {
    size: nMiB * MiB,
    crc,
    *chunks() {
      for (let i = 0; i < nMiB; i++) yield piece;
      yield Buffer.from([0x03, 0x00]);
    },
  };
}

/** A hostile case plus the environment its child needs (limits set through LIMIT_ENV variables). */
export type ZipCase = HostileCase & { env?: Record<string, string> };

const zipCase = (name: string, expect: RegExp, entries: () => ZipEntrySpec[], env?: Record<string, string>): ZipCase => ({
  item: 2,
  name,
  kind: 'zip',
  expect,
  env,
  async make(dir: string) {
    await mkdir(dir, { recursive: true });
    const file = join(dir, `${name.replace(/[^a-z0-9]+/gi, '-').slice(0, 40)}.zip`);
    await writeZip(file, entries());
    return file;
  },
});

/**
 * `nMiB` MiB of zeros with `padKiB` KiB of random bytes in stored blocks after it: an entry that
 * passes the ratio checks and still unpacks fast (the server test's slow hostile import).
 */
export function paddedZeros(nMiB: number, padKiB: number): NonNullable<ZipEntrySpec['deflated']> {
  const z = deflatedZeros(nMiB);
  const pad: Buffer[] = [];
  let crc = z.crc;
  for (let left = padKiB * 1024; left > 0; ) {
    const n = Math.min(65535, left);
    const data = randomBytes(n);
    const head = Buffer.alloc(5);
    head[0] = 0; // not final, stored
    head.writeUInt16LE(n, 1);
    head.writeUInt16LE(~n & 0xffff, 3);
    pad.push(head, data);
    crc = zlib.crc32(data, crc);
    left -= n;
  }
  return {
    size: z.size + padKiB * 1024,
    crc,
    *chunks() {
      const all = [...z.chunks()];
      yield* all.slice(0, -1); // the final empty block goes last
      yield* pad;
      yield all[all.length - 1]!;
    },
  };
}

const outside = /outside the target folder/;

export const zipCases: ZipCase[] = [
  zipCase('zip bomb: 1 MB unpacks to 1 GiB', /ratio of \d+ above the 200 allowed.*zip bomb/, () => [{ name: 'scan.nrrd', deflated: deflatedZeros(1024) }]),
  zipCase('zip bomb with lying sizes: declares 1 MiB, unpacks to 1 GiB', /unpacks to more than the 1 MiB its header declares/, () => [
    { name: 'scan.nrrd', deflated: deflatedZeros(1024), declaredSize: MiB },
  ]),
  zipCase('high compression ratio (16 MiB of zeros)', /ratio of \d+ above the 200 allowed/, () => [{ name: 'legend.csv', data: text('Quartz,255,0,0\n') }, { name: 'map.tif', data: zeros(16 * MiB) }]),
  zipCase('zip bomb of many small entries (300 x 1 MiB of zeros)', /would unpack .* a ratio of \d+ above the 200 allowed/, () =>
    Array.from({ length: 300 }, (_, i) => ({ name: `slices/s${i}.tif`, deflated: deflatedZeros(1) })),
  ),
  zipCase('too many entries (20 001 empty files)', /holds (20001|more than the 20000) entries|more than the 20000 entries/, () =>
    Array.from({ length: 20_001 }, (_, i) => ({ name: `slices/s${String(i).padStart(5, '0')}.tif`, method: 0 as const })),
  ),
  zipCase("zip-slip: '../' in an entry name", outside, () => [{ name: 'ok.txt', data: text('a') }, { name: '../../evil.sh', data: text('echo pwned') }]),
  zipCase("zip-slip: '..' in the middle of a name", outside, () => [{ name: 'slices/../../../evil.txt', data: text('x') }]),
  zipCase('zip-slip: absolute path', outside, () => [{ name: '/tmp/petromap-evil.txt', data: text('x') }]),
  zipCase('zip-slip: Windows drive letter', outside, () => [{ name: 'C:\\Windows\\evil.dll', data: text('x') }]),
  zipCase('zip-slip: backslashes with ..', outside, () => [{ name: '..\\..\\evil.txt', data: text('x') }]),
  zipCase('symbolic link entry', /symbolic link/, () => [
    { name: 'legend.csv', data: text('Quartz,255,0,0\n') },
    { name: 'map.png', data: text('/etc/passwd'), method: 0, unixMode: 0o120777 },
  ]),
  zipCase('unpacked total larger than the free disk', /needs about .* on disk but only .* is free/, () => [{ name: 'volume.nrrd', data: zeros(2 * MiB, 64 * 1024), method: 0 }], {
    // a reserve larger than any disk: whatever is free, the unpacked total does not fit
    [LIMIT_ENV.diskReserveBytes.name]: String(1e6),
  }),
];
