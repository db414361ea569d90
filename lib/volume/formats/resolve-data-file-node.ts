/**
 * File access of the header readers: size and first bytes of a file, and the data file a detached
 * header (NRRD `data file:`, MHD `ElementDataFile`) names, confined to the header's own folder.
 */
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { invalidInput, notFound, unsupported } from '../../errors';
import { shown } from './header-checks-node';
import type { OpenOptions } from './volume-reader';

export async function fileSize(path: string, name: string): Promise<number> {
  const st = await fs.promises.stat(path).catch(() => null);
  if (!st) throw notFound(`${name} does not exist.`);
  if (!st.isFile()) throw invalidInput(`${name} is not a file.`);
  if (st.size === 0) throw invalidInput(`${name} is empty (0 bytes). Copy the file again.`);
  return st.size;
}

export async function readHead(path: string, n: number): Promise<Buffer> {
  const fh = await fs.promises.open(path, 'r');
  try {
    const buf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/**
 * The data file a detached header names: only a plain file name in the header's own folder
 * (no folder part, no "..", not absolute), and a link there must not lead out of that folder.
 * The messages never tell whether anything outside the folder exists.
 */
export async function resolveDataFile(headerPath: string, ref: string, name: string, opts: OpenOptions): Promise<string> {
  const what = `${name}: its data file "${shown(ref)}"`;
  if (opts.allowDetachedData === false) {
    throw unsupported(`${name} is a header whose voxels are in another file ("${shown(ref)}"); upload a single-file volume (.nrrd, .mha, .nii, .tif) or a .zip holding the header and its data file.`);
  }
  if (!ref || ref === '.' || ref === '..' || /[\\/\x00]/.test(ref) || nodePath.isAbsolute(ref) || /^[A-Za-z]:/.test(ref)) {
    throw invalidInput(`${what} is not allowed: it must be a plain file name in the same folder as the header (no folder, "..", or absolute path).`);
  }
  const dir = nodePath.dirname(nodePath.resolve(headerPath));
  const dataPath = nodePath.join(dir, ref);
  const lst = await fs.promises.lstat(dataPath).catch(() => null);
  if (!lst) throw notFound(`${what} was not found next to it. Put the header and its data file in the same folder.`);
  if (lst.isSymbolicLink()) {
    const escape = invalidInput(`${what} is a link leading out of the header's folder (or nowhere); copy the data file itself next to the header.`);
    // the link's first target is checked without touching it, then the whole chain
    const target = await fs.promises.readlink(dataPath).catch(() => null);
    const first = target === null ? null : nodePath.resolve(dir, target);
    if (first === null || !(isInside(dir, first) || isInside(await realDir(dir), first))) throw escape;
    const real = await fs.promises.realpath(dataPath).catch(() => null);
    if (!real || nodePath.dirname(real) !== (await realDir(dir))) throw escape;
    return real;
  }
  return dataPath;
}

async function realDir(dir: string): Promise<string> {
  return fs.promises.realpath(dir).catch(() => dir);
}

function isInside(dir: string, p: string): boolean {
  return nodePath.dirname(p) === dir;
}
