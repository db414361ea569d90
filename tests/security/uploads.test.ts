/**
 * Hostile zip uploads (issue 12, item 2), each imported in a child process through the server's
 * zip import (tests/security/zip-input.ts): refused on purpose (a PetromapError, not a crash),
 * with a clean one-line message saying what is wrong, in bounded memory, leaving nothing behind.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectRefused } from './expect-refused';
import { runCaseInChild, scratch } from './harness';
import { zipCases } from './cases-zip';
import { safeEntryPath } from '@/server/storage/unzip';

let box: Awaited<ReturnType<typeof scratch>>;
beforeAll(async () => {
  box = await scratch('petromap-zip-');
});
afterAll(() => box.dispose());

async function withEnv<T>(env: Record<string, string> | undefined, fn: () => Promise<T>): Promise<T> {
  const saved: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(env ?? {})) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

describe('hostile zip uploads are refused', () => {
  for (const [i, c] of zipCases.entries()) {
    it(c.name, async () => {
      const input = await c.make(join(box.input, String(i)));
      const out = join(box.out, String(i));
      const r = await withEnv(c.env, () => runCaseInChild('zip', input, out));
      expectRefused(r, c.expect, /InvalidInput|Unsupported|DiskFull/);
      expect(await readdir(out)).toEqual([]);
    });
  }
});

describe('a good zip still imports', () => {
  it('unpacks a zipped NRRD into a dataset folder', async () => {
    const nx = 24, ny = 20, nz = 6;
    const header = `NRRD0004\ntype: uint8\ndimension: 3\nsizes: ${nx} ${ny} ${nz}\nspacings: 1 1 1\nencoding: raw\n\n`;
    const data = Buffer.alloc(nx * ny * nz, 7);
    const zip = join(box.input, 'good.zip');
    await writeFile(zip, zipSync({ 'scan/volume.nrrd': new Uint8Array(Buffer.concat([Buffer.from(header, 'latin1'), data])) }));
    const out = join(box.out, 'good');
    const r = await runCaseInChild('zip', zip, out);
    expect(r.error).toBe('');
    expect(r.ok).toBe(true);
    const left = await readdir(out);
    expect(left).toHaveLength(1); // the dataset folder, no unpacked zip
    expect(left[0]).toMatch(/^d[0-9a-f]{10}$/);
    const marker = await readFile(join(out, left[0]!, '.petromap-dataset'), 'utf8');
    expect(JSON.parse(marker).writtenBy).toBe('petromap');
  });
});

describe('entry names', () => {
  it('accepts plain relative paths and refuses anything pointing outside', () => {
    expect(safeEntryPath('a/b/c.tif', 'z.zip')).toBe('a/b/c.tif');
    expect(safeEntryPath('./a//b.tif', 'z.zip')).toBe('a/b.tif');
    expect(safeEntryPath('win\\dir\\b.tif', 'z.zip')).toBe('win/dir/b.tif');
    for (const bad of ['../x', 'a/../../x', '/etc/passwd', 'C:/x', 'c:x', '\\\\server\\share\\x', '..', 'a\u0000b']) {
      expect(() => safeEntryPath(bad, 'z.zip'), bad).toThrow(/z\.zip/);
    }
  });
});
