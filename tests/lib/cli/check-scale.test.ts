/**
 * `petromap check-scale`: on a sample's files with the EDS pixel size given 1.3 times too large, it
 * prints the pixel size at which the map matches best (the generator's, within 5 %) beside the
 * given one, says the given one looks wrong and prints the register command that registers at the
 * size found, from the pose found there (register --find-pixel-size): run as printed, it writes a
 * registration within half a voxel of the truth at that size. Bad arguments are refused before any work.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it, vi } from 'vitest';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { main } from '../../../lib/cli/check-scale';
import { main as register } from '../../../lib/cli/register';
import { registrationError } from '../../../lib/registration/quality';
import { writeSyntheticSample } from '../../../lib/synthetic/write-sample-node';
import { smallSample } from '../registration/helpers';

let dir = '';
afterAll(async () => { if (dir) await rm(dir, { recursive: true, force: true }); });

async function capture(argv: string[], run: (argv: string[]) => Promise<void> = main) {
  const out: string[] = [], err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  const error = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  process.exitCode = 0;
  try {
    await run(argv);
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
  const m = /^the map matches best at ([\d.]+) µm per pixel \(given ([\d.]+) µm\): the given pixel size looks wrong .*register at it, starting from the pose found here \(the same search, then the registration\): petromap register (.*--find-pixel-size --pixel-size-range 0.7,1) \(--pixel-um ([\d.]+) alone/.exec(r.out);
  expect(m, r.out).not.toBeNull();
  expect(Math.abs(Number(m![1]) / truePx - 1)).toBeLessThan(0.05);
  expect(Number(m![2])).toBeCloseTo(given, 2);
  // the command as printed (its paths hold no spaces), with an --out of the test's
  const out = join(dir, 'registration.json');
  const argv = m![3]!.split(' ');
  expect(argv.slice(0, 2)).toEqual(['--volume', dir]);
  const reg = await capture([...argv, '--out', out], register);
  expect(reg.err).toBe('');
  expect(reg.code).toBe(0);
  expect(reg.out).toMatch(/^the map matches best at [\d.]+ µm per pixel \(given [\d.]+ µm\): the given pixel size looks wrong .* Registering at [\d.]+ µm per pixel, from the pose found there\.\nregistered /);
  const json = JSON.parse(await readFile(out, 'utf8')) as { pixelSizeSearch: { givenPixelUm: number; pixelUm: number }; edsToVoxel: Record<'x' | 'y' | 'z', { u: number; v: number; offset: number }> };
  expect(json.pixelSizeSearch.givenPixelUm).toBeCloseTo(given, 9);
  expect(Math.abs(json.pixelSizeSearch.pixelUm / truePx - 1)).toBeLessThan(0.05);
  const e = json.edsToVoxel;
  const edsToVoxel = [e.z.u, e.z.v, e.z.offset, e.y.u, e.y.v, e.y.offset, e.x.u, e.x.v, e.x.offset] as Parameters<typeof registrationError>[0];
  expect(registrationError(edsToVoxel, s.truth.edsToVoxel, s.eds.width, s.eds.height, s.volume.meta.shape).mean).toBeLessThan(0.5);
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
  const lm = await capture(['--volume', tmpdir(), '--map', tmpdir(), '--find-pixel-size', '--landmarks', fileURLToPath(import.meta.url)], register);
  expect(lm.code).toBe(1);
  expect(lm.err).toMatch(/^petromap register: --find-pixel-size searches the pose automatically .* give one of them\./);
  const alone = await capture(['--volume', tmpdir(), '--map', tmpdir(), '--pixel-size-range', '0.9,1.1'], register);
  expect(alone.err).toMatch(/--pixel-size-range sets the pixel sizes --find-pixel-size searches/);
});
