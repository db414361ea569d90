/**
 * The zarrita FileSystemStore that every volume store writes through: each file (chunk or metadata)
 * goes to a temporary name in the same folder and is renamed into place, so an interrupted write
 * leaves the previous content readable.
 *
 * Reads are confined to the store (a store copied in from elsewhere or damaged on disk is not
 * trusted): `checkTree` refuses a link among the store's folders once, on open (they are few: levels,
 * channels, chunk rows), and every file is opened with O_NOFOLLOW, so a chunk file that is a link
 * is refused at its read without a path check per chunk; a file that is not a regular file (a named
 * pipe would block the read) or larger than a chunk can be is refused before it is read.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import FileSystemStore from '@zarrita/storage/fs';
import type * as zarr from 'zarrita';
import { invalidInput, PetromapError } from '../../errors';
import { formatBytes } from '../../limits';

/** Open flags of every read: the last component may not be a link, and a named pipe does not block the open. */
export const READ_FLAGS = fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK;

/** Largest metadata file (zarr.json) read before the arrays' chunk shapes are known. */
const META_MAX_BYTES = 16 * 2 ** 20;

/** The refusal of a link inside a store (`rel`: its path inside the store). */
export function linkInStore(root: string, rel: string): PetromapError {
  return invalidInput(
    `Volume "${root}": "${rel}" is a link, and a petromap volume holds no links (it could lead to files outside the volume); the volume was not written by petromap or is damaged. Re-import the scan.`,
  );
}

/** FileSystemStore whose writes go to a temp file in the same folder and are renamed into place. */
export class AtomicFileSystemStore extends FileSystemStore {
  /** largest chunk file `get` reads (the largest chunk's bound: createVolume and openVolume set it); metadata files: 16 MiB */
  maxChunkBytes = META_MAX_BYTES;
  /**
   * A store whose every chunk was written (attributes.petromap.complete, ZarrVolumeStore sets this):
   * the refusal of a chunk file that is missing (`rel`: its key), or undefined where a missing chunk
   * is the fill value (a level not built yet). Unset: every missing chunk is the fill value (zarr's rule).
   */
  missingChunk?: (rel: string) => PetromapError | undefined;

  /** A file of the store, or undefined when it does not exist; a link or a non-file is refused (see the header). */
  override async get(key: zarr.AbsolutePath, opts: { signal?: AbortSignal } = {}): Promise<Uint8Array | undefined> {
    opts.signal?.throwIfAborted();
    const rel = key.replace(/^\/+/, '');
    const fp = nodePath.join(/*turbopackIgnore: true*/ this.root, rel);
    let fh: fs.promises.FileHandle;
    try {
      fh = await fs.promises.open(fp, READ_FLAGS).catch((err: NodeJS.ErrnoException) => {
        // a regular file under a write lease (Samba oplocks, NFS server delegations) refuses a
        // non-blocking open with EWOULDBLOCK (fcntl(2)); a pipe never does, so the blocking retry is safe
        if (err?.code === 'EAGAIN' || err?.code === 'EWOULDBLOCK') return fs.promises.open(fp, READ_FLAGS & ~fs.constants.O_NONBLOCK);
        throw err;
      });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException)?.code;
      if (code === 'ENOENT') {
        const refusal = this.missingChunk && !/(^|\/)zarr\.json$/.test(rel) ? this.missingChunk(rel) : undefined;
        if (refusal) throw refusal;
        return undefined;
      }
      if (code === 'ELOOP') throw linkInStore(this.root, rel);
      throw err;
    }
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw invalidInput(`Volume "${this.root}": "${rel}" is not a regular file; the volume is damaged. Re-import the scan.`);
      const max = /(^|\/)zarr\.json$/.test(rel) ? META_MAX_BYTES : this.maxChunkBytes;
      if (st.size > max) {
        throw invalidInput(`Volume "${this.root}": the file "${rel}" holds ${formatBytes(st.size)}, more than a file of this volume can (${formatBytes(max)}); the volume is damaged. Re-import the scan.`);
      }
      const buf = Buffer.allocUnsafe(st.size);
      for (let off = 0; off < st.size; ) {
        const { bytesRead } = await fh.read(buf, off, st.size - off, off);
        if (!bytesRead) return buf.subarray(0, off);
        off += bytesRead;
      }
      opts.signal?.throwIfAborted();
      return buf;
    } finally {
      await fh.close();
    }
  }

  /**
   * Refuses a link among the store's folders and their entries: the root's, each level's, its `c/`,
   * channel and z-row folders (zarr v3 keys `<level>/c/<channel>/<z>/<y>/<x>`); the entries of the
   * y-row folders are the chunk files, which `get` opens with O_NOFOLLOW. A few folders per level
   * and channel plus one per z row of chunks: read once, on open.
   */
  async checkTree(): Promise<void> {
    const walk = async (rel: string, depth: number): Promise<void> => {
      const dir = nodePath.join(/*turbopackIgnore: true*/ this.root, rel);
      const entries = await fs.promises.readdir(/*turbopackIgnore: true*/ dir, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return [];
        throw err;
      });
      for (const e of entries) {
        const r = rel ? `${rel}/${e.name}` : e.name;
        if (e.isSymbolicLink()) throw linkInStore(this.root, r);
        if (e.isDirectory() && depth < 4) await walk(r, depth + 1);
      }
    };
    await walk('', 0);
  }

  override async set(key: zarr.AbsolutePath, value: Uint8Array): Promise<void> {
    const fp = nodePath.join(this.root, key.replace(/^\/+/, ''));
    await fs.promises.mkdir(nodePath.dirname(fp), { recursive: true });
    const tmp = `${fp}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      // no fsync before the rename: it cost 1.4-1.65x the encode-and-write loop of 64³ chunks (+1.7 to
      // +3.5 ms a chunk, ext4, lib/volume/README.md); a crash can leave a chunk empty, and an empty or
      // short chunk is refused as damaged on disk when read (ZarrVolumeStore.#getChunk), never read as zeros
      await fs.promises.writeFile(tmp, value);
      await fs.promises.rename(tmp, fp);
    } catch (err) {
      await fs.promises.rm(tmp, { force: true }).catch(() => {});
      throw storageError(err, fp);
    }
  }
}

/** A temp name of `set` above: `<chunk>.tmp-<pid>-<8 hex>`. */
const ATOMIC_TEMP_RE = /\.tmp-\d+-[0-9a-f]{8}$/;

/**
 * Remove the temp files a killed writer left in a store folder (a process killed between its write
 * and its rename). Call only when no writer is at work on the store; returns how many it removed.
 */
export async function removeStaleTemps(root: string): Promise<number> {
  let removed = 0;
  const walk = async (dir: string): Promise<void> => {
    const entries = await fs.promises.readdir(/*turbopackIgnore: true*/ dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const p = nodePath.join(/*turbopackIgnore: true*/ dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile() && ATOMIC_TEMP_RE.test(e.name)) {
        await fs.promises.rm(p, { force: true });
        removed++;
      }
    }
  };
  await walk(root);
  return removed;
}

export function storageError(err: unknown, file: string): PetromapError {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new PetromapError('DiskFull', `The disk is full while writing "${file}". Free some space and try again.`, { cause: err });
  }
  return new PetromapError('InvalidInput', `Could not write "${file}": ${(err as Error)?.message ?? String(err)}`, { cause: err });
}
