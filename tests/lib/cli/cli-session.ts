/**
 * What the CLI tests share: a temp folder removed after the file's tests (process.exitCode reset
 * after each test), and `capture`, which runs a command with its console and stdout/stderr output
 * collected instead of printed.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, vi } from 'vitest';
import { saveMineralMap } from '../../../lib/eds/store-node';
import type { generateSandstone } from '../../../lib/synthetic';
import { writeDenseVolume } from '../../../lib/volume/zarr-store-node';

/** A temp folder for this test file (call at the file's top level). */
export function cliTempDir(prefix: string): string {
  const tmp = mkdtempSync(path.join(os.tmpdir(), prefix));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  afterEach(() => {
    process.exitCode = undefined;
  });
  return tmp;
}

/**
 * A synthetic sample as the CLI's files in `dir`: its volume (one chunk), its EDS map and
 * `reg.json`, the registration as `petromap register` writes it, here from the exact pose.
 */
export async function writeSampleAtTruth(dir: string, sample: ReturnType<typeof generateSandstone>, volumeName = 'v.ome.zarr') {
  const vol = path.join(dir, volumeName);
  await writeDenseVolume(vol, sample.volume, { chunk: sample.volume.meta.shape });
  const mapDir = path.join(dir, 'map');
  await saveMineralMap(mapDir, sample.eds);
  const { a, b, c } = sample.truth.surface;
  const m = sample.truth.edsToVoxel;
  const [, ny, nx] = sample.volume.meta.shape;
  const reg = path.join(dir, 'reg.json');
  writeFileSync(reg, JSON.stringify({ edsToSlab: [m[6], m[7], m[8], m[3], m[4], m[5]], slabToVoxel: [a, b, c, 0, 1, 0, 1, 0, 0], slabSize: [nx, ny], surface: { a, b, c } }));
  return { vol, mapDir, reg };
}

/** Runs `fn` with console.log/error and stdout/stderr writes collected; `code` falls back to process.exitCode. */
export async function capture(fn: () => Promise<number | void>) {
  let out = '', err = '';
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void (out += a.join(' ') + '\n'));
  const cerr = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void (err += a.join(' ') + '\n'));
  const ow = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  const w = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  try {
    const code = await fn();
    return { code: code ?? (process.exitCode ?? 0), out, err };
  } finally {
    log.mockRestore();
    cerr.mockRestore();
    ow.mockRestore();
    w.mockRestore();
  }
}
