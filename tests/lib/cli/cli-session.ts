/**
 * What the CLI tests share: a temp folder removed after the file's tests (process.exitCode reset
 * after each test), and `capture`, which runs a command with its console and stdout/stderr output
 * collected instead of printed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, vi } from 'vitest';

/** A temp folder for this test file (call at the file's top level). */
export function cliTempDir(prefix: string): string {
  const tmp = mkdtempSync(path.join(os.tmpdir(), prefix));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  afterEach(() => {
    process.exitCode = undefined;
  });
  return tmp;
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
