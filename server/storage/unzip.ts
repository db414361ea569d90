/**
 * Unpacking an uploaded zip without trusting it (issue 12). The central directory is read first
 * (from the end of the file, bounded) and every entry is checked before one byte is written:
 * entry count, names (plain relative paths inside the target folder: no '..', no absolute path,
 * no drive letter, no symbolic link), declared sizes (total unpacked, per-entry ratio, free disk)
 * and that entries do not overlap. Then each entry is streamed from the file through a native
 * inflate to disk, one at a time, counting what actually comes out: an entry that unpacks to more
 * than its header declares, or whose CRC differs, is refused on the spot. Nothing is held in memory
 * beyond one stream chunk. On any refusal the target folder is removed.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { PetromapError, invalidInput, isPetromapError, throwIfAborted, unsupported, type StageOptions } from '@/lib/errors';
import { DEFAULT_LIMITS, LIMIT_ENV, checkDiskBudget, formatBytes, type Limits } from '@/lib/limits';

export interface ZipEntry {
  /** the name as stored (decoded), for messages */
  rawName: string;
  /** safe relative path ('/'-separated), or '' for entries that are skipped */
  rel: string;
  dir: boolean;
  method: number;
  flags: number;
  crc: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

/** Entries below this size are not held to the ratio limit (a small all-zero file compresses 1000:1 and harms nothing). */
const RATIO_FLOOR_BYTES = 1 << 20;
const TOTAL_RATIO_FLOOR_BYTES = 64 << 20;
/** The central directory is read into memory: bounded. */
const MAX_CENTRAL_DIR_BYTES = 64 << 20;
const MAX_NAME_CHARS = 1024;

/** An entry name fit for a one-line message: no control characters, not too long. */
export function shownName(s: string): string {
  let clean = s.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
  // an absolute name is not echoed whole (it would read like a path of this machine)
  if (/^([\\/]|[A-Za-z]:)/.test(clean)) clean = `…/${clean.split(/[\\/]/).filter(Boolean).pop() ?? ''}`;
  return clean.length > 80 ? `${clean.slice(0, 77)}…` : clean;
}

/**
 * The relative path an entry name may be written to, or a refusal. Backslashes count as
 * separators (zips made on Windows); '.' segments are dropped.
 */
export function safeEntryPath(raw: string, zipName: string): string {
  const bad = (why: string) => invalidInput(`${zipName}: the zip entry "${shownName(raw)}" ${why}; nothing was imported. Zip the files with plain relative names.`);
  if (!raw.length) throw bad('has an empty name');
  if (raw.length > MAX_NAME_CHARS) throw bad(`has a name longer than ${MAX_NAME_CHARS} characters`);
  if (/[\u0000]/.test(raw)) throw bad('has a NUL character in its name');
  const n = raw.replace(/\\/g, '/');
  if (n.startsWith('/')) throw bad('is an absolute path (unsafe: it points outside the target folder)');
  if (/^[A-Za-z]:/.test(n)) throw bad('starts with a drive letter (unsafe: it points outside the target folder)');
  const parts = n.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.some((p) => p === '..')) throw bad("contains '..' (unsafe: it points outside the target folder)");
  return parts.join('/');
}

const u16 = (b: Buffer, o: number) => b.readUInt16LE(o);
const u32 = (b: Buffer, o: number) => b.readUInt32LE(o);
const u64 = (b: Buffer, o: number) => {
  const v = b.readBigUInt64LE(o);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) return Number.POSITIVE_INFINITY;
  return Number(v);
};

async function readAt(fd: import('node:fs/promises').FileHandle, pos: number, len: number): Promise<Buffer> {
  const buf = Buffer.alloc(len);
  const { bytesRead } = await fd.read(buf, 0, len, pos);
  return bytesRead === len ? buf : buf.subarray(0, bytesRead);
}

/**
 * Reads and checks the central directory of `zipFile`. `name` is the upload's name for messages.
 * Refuses (PetromapError) anything unsafe or over the limits before anything is unpacked.
 */
export async function readZipDirectory(zipFile: string, name: string, limits: Limits = DEFAULT_LIMITS): Promise<ZipEntry[]> {
  const damaged = (why: string) => invalidInput(`${name} is not a readable zip file (${why}).`);
  const fd = await open(zipFile, 'r');
  try {
    const fileSize = (await fd.stat()).size;
    if (fileSize < 22) throw damaged('too short to be a zip');
    const tailLen = Math.min(fileSize, 22 + 0xffff + 20);
    const tailPos = fileSize - tailLen;
    const tail = await readAt(fd, tailPos, tailLen);
    let eocd = -1;
    for (let i = tail.length - 22; i >= 0; i--) {
      if (tail[i] === 0x50 && u32(tail, i) === 0x06054b50) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) throw damaged('no end of central directory record; the upload may be incomplete');
    let count = u16(tail, eocd + 10);
    let cdSize = u32(tail, eocd + 12);
    let cdOffset = u32(tail, eocd + 16);
    if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
      // ZIP64: the locator sits just before the end record
      const loc = eocd - 20;
      if (loc < 0 || u32(tail, loc) !== 0x07064b50) throw damaged('a ZIP64 size without its ZIP64 record');
      const z64pos = u64(tail, loc + 8);
      if (!(z64pos + 56 <= fileSize)) throw damaged('the ZIP64 record points outside the file');
      const z = await readAt(fd, z64pos, 56);
      if (z.length < 56 || u32(z, 0) !== 0x06064b50) throw damaged('a damaged ZIP64 record');
      count = u64(z, 32);
      cdSize = u64(z, 40);
      cdOffset = u64(z, 48);
    }
    if (count > limits.maxZipEntries) {
      throw invalidInput(`${name} holds ${count} entries, more than the ${limits.maxZipEntries} allowed (${LIMIT_ENV.maxZipEntries.name}); nothing was imported.`);
    }
    if (!(cdOffset + cdSize <= fileSize)) throw damaged('its directory points outside the file; the upload may be incomplete');
    if (cdSize > MAX_CENTRAL_DIR_BYTES) throw damaged(`a directory of ${formatBytes(cdSize)}, larger than any sane zip`);
    const cd = await readAt(fd, cdOffset, cdSize);
    if (cd.length !== cdSize) throw damaged('its directory is cut off');

    const entries: ZipEntry[] = [];
    let p = 0;
    while (p < cd.length) {
      if (p + 46 > cd.length || u32(cd, p) !== 0x02014b50) throw damaged('a damaged directory entry');
      if (entries.length >= limits.maxZipEntries) {
        throw invalidInput(`${name} holds more than the ${limits.maxZipEntries} entries allowed (${LIMIT_ENV.maxZipEntries.name}); nothing was imported.`);
      }
      const madeBy = u16(cd, p + 4);
      const flags = u16(cd, p + 8);
      const method = u16(cd, p + 10);
      const crc = u32(cd, p + 16);
      let compressedSize = u32(cd, p + 20);
      let size = u32(cd, p + 24);
      const nameLen = u16(cd, p + 28);
      const extraLen = u16(cd, p + 30);
      const commentLen = u16(cd, p + 32);
      const external = u32(cd, p + 38);
      let localOffset = u32(cd, p + 42);
      const end = p + 46 + nameLen + extraLen + commentLen;
      if (end > cd.length) throw damaged('a damaged directory entry');
      const nameBytes = cd.subarray(p + 46, p + 46 + nameLen);
      const rawName = nameBytes.toString(flags & 0x800 ? 'utf8' : 'latin1');
      // ZIP64 extended information: the 64-bit values of the fields that hold 0xffffffff, in order
      let e = p + 46 + nameLen;
      const extraEnd = e + extraLen;
      while (e + 4 <= extraEnd) {
        const id = u16(cd, e);
        const len = u16(cd, e + 2);
        if (e + 4 + len > extraEnd) break;
        if (id === 0x0001) {
          let q = e + 4;
          const take = () => {
            if (q + 8 > e + 4 + len) throw damaged('a damaged ZIP64 field');
            const v = u64(cd, q);
            q += 8;
            return v;
          };
          if (size === 0xffffffff) size = take();
          if (compressedSize === 0xffffffff) compressedSize = take();
          if (localOffset === 0xffffffff) localOffset = take();
        }
        e += 4 + len;
      }
      p = end;

      const rel = safeEntryPath(rawName, name);
      const host = madeBy >> 8;
      const mode = external >>> 16;
      const type = mode & 0o170000;
      const dirByName = /[/\\]$/.test(rawName);
      if ((host === 3 || host === 19) && type === 0o120000) {
        throw invalidInput(`${name}: the zip entry "${shownName(rawName)}" is a symbolic link, which is refused (it could point outside the target folder); nothing was imported. Zip the files themselves.`);
      }
      if ((host === 3 || host === 19) && type !== 0 && type !== 0o100000 && type !== 0o040000) {
        throw invalidInput(`${name}: the zip entry "${shownName(rawName)}" is not a plain file or folder; nothing was imported.`);
      }
      const dir = dirByName || ((host === 3 || host === 19) && type === 0o040000) || (host === 0 && (external & 0x10) !== 0);
      if (flags & 0x1) throw unsupported(`${name} is password-protected (entry "${shownName(rawName)}"); upload an unencrypted zip.`);
      if (!dir && method !== 0 && method !== 8) {
        throw unsupported(`${name}: the zip entry "${shownName(rawName)}" uses compression method ${method}, which petromap does not read; re-zip it with the standard (deflate) compression.`);
      }
      if (!Number.isFinite(size) || !Number.isFinite(compressedSize) || !Number.isFinite(localOffset)) throw damaged('an impossible entry size');
      if (localOffset + 30 + compressedSize > cdOffset) throw damaged(`the entry "${shownName(rawName)}" runs past the end of the data`);
      if (!dir && method === 0 && size !== compressedSize) throw damaged(`the stored entry "${shownName(rawName)}" has two different sizes`);
      if (dir && size > 0) throw damaged(`the folder entry "${shownName(rawName)}" holds data`);
      entries.push({ rawName, rel, dir, method, flags, crc, compressedSize, size, localOffset });
    }
    if (entries.length !== count && count !== 0xffff) throw damaged(`its directory lists ${entries.length} entries but declares ${count}`);

    // declared sizes: total, per-entry ratio; entries must not share their data (overlap bombs)
    let total = 0;
    for (const en of entries) {
      if (en.dir) continue;
      total += en.size;
      if (en.size > RATIO_FLOOR_BYTES && en.size / Math.max(1, en.compressedSize) > limits.maxZipRatio) {
        throw invalidInput(
          `${name}: the zip entry "${shownName(en.rawName)}" would unpack ${formatBytes(en.compressedSize)} into ${formatBytes(en.size)}, a ratio of ${Math.round(en.size / Math.max(1, en.compressedSize))} above the ${limits.maxZipRatio} allowed (${LIMIT_ENV.maxZipRatio.name}); this looks like a zip bomb, nothing was imported.`,
        );
      }
    }
    // many entries each under the floor: the ratio of the whole archive (a floor again: a small zip of text files may compress well)
    if (total > TOTAL_RATIO_FLOOR_BYTES && total / fileSize > limits.maxZipRatio) {
      throw invalidInput(
        `${name} would unpack ${formatBytes(fileSize)} into ${formatBytes(total)}, a ratio of ${Math.round(total / fileSize)} above the ${limits.maxZipRatio} allowed (${LIMIT_ENV.maxZipRatio.name}); this looks like a zip bomb, nothing was imported.`,
      );
    }
    if (total > limits.maxZipUnpackedBytes) {
      throw invalidInput(`${name} would unpack to ${formatBytes(total)}, more than the ${formatBytes(limits.maxZipUnpackedBytes)} allowed (${LIMIT_ENV.maxZipUnpackedBytes.name}); nothing was imported.`);
    }
    const byOffset = entries.filter((en) => !en.dir).sort((a, b) => a.localOffset - b.localOffset);
    for (let i = 1; i < byOffset.length; i++) {
      const prev = byOffset[i - 1]!;
      if (byOffset[i]!.localOffset < prev.localOffset + 30 + prev.compressedSize) {
        throw invalidInput(`${name}: the zip entries "${shownName(prev.rawName)}" and "${shownName(byOffset[i]!.rawName)}" share their data (a trick of zip bombs); nothing was imported.`);
      }
    }
    const seen = new Set<string>();
    for (const en of entries) {
      if (en.dir || !en.rel) continue;
      const key = en.rel.toLowerCase();
      if (seen.has(key)) throw invalidInput(`${name}: the zip holds "${shownName(en.rawName)}" twice; nothing was imported.`);
      seen.add(key);
    }
    return entries;
  } finally {
    await fd.close();
  }
}

/** Counts (and checks the CRC of) what an entry really unpacks to; refuses more than declared. */
class EntryMeter extends Transform {
  n = 0;
  crc = 0;
  constructor(private readonly limit: number, private readonly refuse: () => Error) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
    this.n += chunk.length;
    if (this.n > this.limit) return cb(this.refuse());
    this.crc = zlib.crc32(chunk, this.crc);
    cb(null, chunk);
  }
}

const skipped = (rel: string) => !rel || rel.startsWith('__MACOSX/') || rel === '__MACOSX' || /(^|\/)\.DS_Store$/.test(rel);

/**
 * Unpacks `zipFile` into `dir` (created; must not exist yet) after readZipDirectory's checks.
 * Returns the absolute paths of the files written. On any failure `dir` is removed.
 */
export async function unzipToDir(zipFile: string, dir: string, name: string, opts: StageOptions & { limits?: Limits } = {}): Promise<string[]> {
  const limits = opts.limits ?? DEFAULT_LIMITS;
  const entries = await readZipDirectory(zipFile, name, limits);
  const files = entries.filter((e) => !e.dir && !skipped(e.rel));
  if (!files.length) throw invalidInput(`${name}: the zip file holds no files.`);
  const total = files.reduce((s, e) => s + e.size, 0);
  const root = path.resolve(dir);
  await mkdir(path.dirname(root), { recursive: true });
  await checkDiskBudget(`Unpacking ${name}`, path.dirname(root), total, limits);
  await mkdir(root);
  const written: string[] = [];
  const zipSize = (await stat(zipFile)).size;
  let done = 0;
  try {
    const fd = await open(zipFile, 'r');
    try {
      for (const en of files.sort((a, b) => a.localOffset - b.localOffset)) {
        throwIfAborted(opts.signal);
        const dest = path.resolve(root, en.rel);
        if (!dest.startsWith(root + path.sep)) throw invalidInput(`${name}: the zip entry "${shownName(en.rawName)}" points outside the target folder; nothing was imported.`);
        const lh = await readAt(fd, en.localOffset, 30);
        if (lh.length < 30 || u32(lh, 0) !== 0x04034b50) throw invalidInput(`${name} is not a readable zip file (the entry "${shownName(en.rawName)}" is damaged).`);
        const start = en.localOffset + 30 + u16(lh, 26) + u16(lh, 28);
        if (start + en.compressedSize > zipSize) throw invalidInput(`${name} is not a readable zip file (the entry "${shownName(en.rawName)}" is cut off).`);
        await mkdir(path.dirname(dest), { recursive: true });
        const meter = new EntryMeter(en.size, () =>
          invalidInput(`${name}: the zip entry "${shownName(en.rawName)}" unpacks to more than the ${formatBytes(en.size)} its header declares (a zip bomb or a damaged zip); nothing was imported.`),
        );
        const out = createWriteStream(dest, { flags: 'wx' });
        if (en.compressedSize === 0) {
          out.end();
          await new Promise<void>((res, rej) => (out.on('finish', res), out.on('error', rej)));
        } else {
          const stages: NodeJS.ReadWriteStream[] = en.method === 8 ? [zlib.createInflateRaw({ chunkSize: 64 << 10 })] : [];
          await pipeline([createReadStream(zipFile, { start, end: start + en.compressedSize - 1, highWaterMark: 256 << 10 }), ...stages, meter, out], { signal: opts.signal });
        }
        if (meter.n !== en.size) throw invalidInput(`${name} is not a readable zip file (the entry "${shownName(en.rawName)}" unpacks to ${meter.n} bytes, not the ${en.size} declared).`);
        if (en.size > 0 && meter.crc >>> 0 !== en.crc >>> 0) throw invalidInput(`${name} is not a readable zip file (the entry "${shownName(en.rawName)}" fails its checksum).`);
        written.push(dest);
        done += en.size;
        opts.onProgress?.(total ? done / total : 1, `unpacking ${name}`);
      }
    } finally {
      await fd.close();
    }
    return written;
  } catch (err) {
    await rm(root, { recursive: true, force: true });
    throw zipError(err, name);
  }
}

function zipError(err: unknown, name: string): unknown {
  if (isPetromapError(err)) return err;
  const e = err as NodeJS.ErrnoException;
  if (e?.name === 'AbortError') return new PetromapError('Aborted', 'The job was cancelled.');
  if (e?.code === 'ENOSPC') return new PetromapError('DiskFull', `The workspace disk filled up while unpacking ${name}; nothing was stored.`);
  if (e?.code === 'EEXIST' || e?.code === 'ENOTDIR' || e?.code === 'EISDIR') return invalidInput(`${name}: the zip holds a file and a folder of the same name; nothing was imported.`);
  if (e?.code?.startsWith('Z_') || /invalid|incorrect|unexpected end/i.test(e?.message ?? '')) return invalidInput(`${name} is not a readable zip file (damaged data: ${(e.message ?? '').split('\n')[0]!.slice(0, 80)}).`);
  return err;
}
