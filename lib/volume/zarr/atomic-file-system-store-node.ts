/**
 * The zarrita FileSystemStore that every volume store writes through: each file (chunk or metadata)
 * goes to a temporary name in the same folder and is renamed into place, so an interrupted write
 * leaves the previous content readable.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import FileSystemStore from '@zarrita/storage/fs';
import type * as zarr from 'zarrita';
import { PetromapError } from '../../errors';

/** FileSystemStore whose writes go to a temp file in the same folder and are renamed into place. */
export class AtomicFileSystemStore extends FileSystemStore {
  override async set(key: zarr.AbsolutePath, value: Uint8Array): Promise<void> {
    const fp = nodePath.join(this.root, key.replace(/^\/+/, ''));
    await fs.promises.mkdir(nodePath.dirname(fp), { recursive: true });
    const tmp = `${fp}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
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
