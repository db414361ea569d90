/**
 * Shared harness of the security / fuzz suite (issue 12): every hostile case runs in a child
 * process, so its peak memory can be measured (process.resourceUsage().maxRSS of the child) and a
 * crash cannot take the test runner down. Used by tests/security/*.test.ts and `npm run bench -- fuzz`.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What takes the hostile input (see run-case-child.ts); 'store' reads a petromap volume store whole. */
export type CaseKind = 'volume' | 'eds' | 'tima' | 'legend' | 'zip' | 'store';

export interface HostileCase {
  /** item number in issue 12, section 2 */
  item: number;
  name: string;
  kind: CaseKind;
  /** writes the hostile input under dir (which the case owns) and returns the path to import */
  make(dir: string): Promise<string>;
  /** the one-line error must match this */
  expect: RegExp;
}

export interface CaseRun {
  ok: boolean;
  /** first line of the error (empty when ok) */
  error: string;
  /** the error's tag, when it was a PetromapError */
  tag?: string;
  /** the child crashed (non-zero exit without a JSON report, signal, or an untagged error) */
  crashed: boolean;
  peakRssMiB: number;
  seconds: number;
}

export const RSS_LIMIT_MIB = 512;
const CHILD = fileURLToPath(new URL('./run-case-child.ts', import.meta.url));

/** Runs one import in a child node process; `outDir` is where it may write (checked afterwards). */
export function runCaseInChild(kind: CaseKind, input: string, outDir: string, timeoutMs = 120_000): Promise<CaseRun> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, kind, input, outDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = out.trim().split('\n').pop() ?? '';
      try {
        const r = JSON.parse(line) as Omit<CaseRun, 'crashed' | 'seconds'> & { untagged?: boolean };
        resolve({ ok: r.ok, error: r.error, tag: r.tag, peakRssMiB: r.peakRssMiB, crashed: !!r.untagged, seconds: (Date.now() - t0) / 1000 });
      } catch {
        resolve({ ok: false, error: `child exited with ${code ?? signal}: ${err.trim().split('\n').slice(-3).join(' | ')}`, crashed: true, peakRssMiB: NaN, seconds: (Date.now() - t0) / 1000 });
      }
    });
  });
}

/** Total bytes of the files under dir (0 when it does not exist). */
export async function bytesUnder(dir: string): Promise<number> {
  let total = 0;
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += await bytesUnder(p);
    else total += (await stat(p).catch(() => ({ size: 0 }))).size;
  }
  return total;
}

/** A fresh scratch folder with `input/` (the case's files) and `out/` (where the import writes). */
export async function scratch(prefix = 'petromap-hostile-'): Promise<{ root: string; input: string; out: string; dispose(): Promise<void> }> {
  const root = await mkdtemp(join(tmpdir(), prefix));
  return { root, input: join(root, 'input'), out: join(root, 'out'), dispose: () => rm(root, { recursive: true, force: true }) };
}

/** One line, no absolute path of the machine, not an echo of a whole input. */
export function isCleanMessage(msg: string): boolean {
  return !msg.includes('\n') && msg.length <= 400 && !/(^|[\s"'(])\/(tmp|work|home|root|etc|var)\//.test(msg);
}
