/**
 * `petromap check-scale`: on a sample's files with the EDS pixel size given 1.3 times too large, it
 * prints the pixel size at which the map matches best (the generator's, within 5 %) beside the
 * given one and says the given one looks wrong; bad arguments are refused before any work.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it, vi } from 'vitest';
import { main } from '../../../lib/cli/check-scale';
import { writeSyntheticSample } from '../../../lib/synthetic/write-sample-node';
import { smallSample } from '../registration/helpers';

let dir = '';
afterAll(async () => { if (dir) await rm(dir, { recursive: true, force: true }); });

async function capture(argv: string[]) {
  const out: string[] = [], err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  const error = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  process.exitCode = 0;
  try {
    await main(argv);
    return { out: out.join('\n'), err: err.join('\n'), code: process.exitCode ?? 0 };
  } finally {
    log.mockRestore(); error.mockRestore(); write.mockRestore();
    process.exitCode = 0;
  }
}

it('prints the pixel size the map matches best at, beside a wrong given one', async () => {
  dir = await mkdtemp(join(tmpdir(), 'petromap-check-scale-'));
  const s = smallSample({ seed: 2 });
  await writeSyntheticSample(dir, s);
  const truePx = s.eds.pixelSizeUm, given = +(truePx * 1.3).toFixed(3);
  const r = await capture(['--volume', dir, '--map', join(dir, 'eds-map.png'), join(dir, 'eds-legend.csv'), '--pixel-um', String(given), '--range', '0.7,1']);
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  const m = /^the map matches best at ([\d.]+) µm per pixel \(given ([\d.]+) µm\): the given pixel size looks wrong .*register with --pixel-um ([\d.]+)/.exec(r.out);
  expect(m, r.out).not.toBeNull();
  expect(Math.abs(Number(m![1]) / truePx - 1)).toBeLessThan(0.05);
  expect(Number(m![2])).toBeCloseTo(given, 2);
}, 300_000);

it('refuses bad arguments with one line and exit code 1, before reading anything', async () => {
  const none = await capture(['--volume', tmpdir()]);
  expect(none.code).toBe(1);
  expect(none.err).toMatch(/^petromap check-scale: --map is required/);
  const range = await capture(['--volume', tmpdir(), '--map', tmpdir(), '--range', '2,3']);
  expect(range.code).toBe(1);
  expect(range.err).toMatch(/^petromap check-scale: --range must be <low>,<high>.*not "2,3"/);
  const both = await capture(['--volume', tmpdir(), '--map', tmpdir(), '--eds', tmpdir()]);
  expect(both.err).toMatch(/--map or --eds, not both/);
});
