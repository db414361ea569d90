/**
 * Every command answers --help with its usage and exit code 0 (issue 16 §4: `register --help`
 * answered "Unknown option --help"), and the commands that print JSON say what it holds.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { commandNames, main } from '../../../lib/cli/main';

const BIN = fileURLToPath(new URL('../../../bin/petromap.mjs', import.meta.url));

/** Commands whose result is JSON on stdout (always or with --json / --format json / --log json). */
const JSON_OUTPUT = ['import', 'info', 'synth', 'train', 'predict', 'run', 'workers', 'worker'];

async function captureLog(fn: () => Promise<number>): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const spy = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')));
  try {
    return { code: await fn(), out: lines.join('\n') };
  } finally {
    spy.mockRestore();
  }
}

describe('petromap <command> --help', () => {
  const names = commandNames();

  it('lists at least the commands of the README', () => {
    expect(names).toEqual(expect.arrayContaining(['synth', 'import', 'import-eds', 'info', 'register', 'train', 'predict', 'run', 'worker', 'workers']));
  });

  it.each(names)('%s exports USAGE and prints it with exit code 0', async (cmd) => {
    const mod = (await import(`../../../lib/cli/${cmd}.ts`)) as { USAGE?: unknown };
    expect(typeof mod.USAGE, `lib/cli/${cmd}.ts exports USAGE`).toBe('string');
    for (const flag of ['--help', '-h']) {
      const r = await captureLog(() => main([cmd, flag]));
      expect(r.code).toBe(0);
      expect(r.out).toBe(mod.USAGE);
      expect(r.out).toMatch(new RegExp(`^usage: petromap ${cmd}\\b`));
    }
    // --help wins over anything else on the line, even options that would be refused
    expect((await captureLog(() => main([cmd, '--no-such-option', '--help']))).code).toBe(0);
  });

  it.each(JSON_OUTPUT)('%s documents its JSON output', async (cmd) => {
    const { USAGE } = (await import(`../../../lib/cli/${cmd}.ts`)) as { USAGE: string };
    expect(USAGE).toMatch(/JSON/);
    expect(USAGE).toMatch(/\{ ?\w+/); // names the fields
  });

  it('train --help says what each of its options is for and what it writes', async () => {
    const { USAGE } = await import('../../../lib/cli/train');
    for (const opt of ['volume', 'eds', 'registration', 'accept-registration', 'classes', 'labels', 'features', 'layers', 'epochs', 'out']) {
      expect(USAGE, `--${opt}`).toMatch(new RegExp(`\\n  (--[\\w-]+, )*--${opt}\\b[^\\n]*?: `));
    }
    expect(USAGE).toMatch(/Output \(stdout, JSON\): \{ model, classes/);
  });

  it('a refused option: one line on stderr naming it, exit code 1', async () => {
    let err = '';
    const spy = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void (err += a.join(' ') + '\n'));
    try {
      expect(await main(['run', '--pixel-um'])).toBe(1);
    } finally {
      spy.mockRestore();
    }
    expect(err).toMatch(/^petromap run: --pixel-um needs a value/);
    expect(err.trim().split('\n')).toHaveLength(1);
  });

  it('help <command> and the bare command list', async () => {
    const r = await captureLog(() => main(['help', 'run']));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^usage: petromap run /);
    const l = await captureLog(() => main(['--help']));
    for (const n of names) expect(l.out).toContain(`  ${n} `);
  });

  it('the installed entry point (bin/petromap.mjs) answers --help with exit code 0', () => {
    const r = spawnSync(process.execPath, [BIN, 'run', '--help'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^usage: petromap run /);
    expect(r.stderr).toBe('');
  });
});
