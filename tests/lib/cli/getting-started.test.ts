/**
 * A new user's first minutes with the command line: `petromap --help` says how to start (a
 * synthetic sample, then the whole chain on it), and `petromap synth` ends with the exact
 * `petromap run` line for the files it wrote; that line runs the whole chain and says, beside the
 * held-out surface tiles (which read high), the truth-free estimate of the 3D map's quality.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { main, usage } from '../../../lib/cli/main';
import { nextRunLine } from '../../../lib/cli/synth';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'petromap-start-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function capture(fn: () => Promise<number>) {
  let out = '', err = '';
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void (out += a.join(' ') + '\n'));
  const cerr = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void (err += a.join(' ') + '\n'));
  const w = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  try {
    return { code: await fn(), out, err };
  } finally {
    log.mockRestore();
    cerr.mockRestore();
    w.mockRestore();
  }
}

describe('getting started on the command line', () => {
  it('petromap --help says how to start', () => {
    expect(usage()).toMatch(/Getting started[^\n]*\n {2}petromap synth demo\n {2}petromap run --volume demo\/volume\.nrrd --eds demo\/eds-map\.png --legend demo\/eds-legend\.csv --pixel-um 2\.5 --out demo-run/);
    expect(usage()).toMatch(/step by step: import, import-eds, register, train, predict/);
  });

  it('synth ends with the run line for its files, and that line runs the whole chain, saying how good the 3D map is expected to be', async () => {
    const dir = path.join(tmp, 'demo');
    const s = await capture(() => main(['synth', dir, '--options', '{"shape":[32,96,96],"seed":4,"grainDiameterVox":12}']));
    expect(s.code).toBe(0);
    const px = JSON.parse(s.out).eds.pixelSizeUm as number;
    const line = s.err.split('\n').find((l) => l.startsWith('petromap synth: next, the whole chain on it: '))!;
    expect(line).toBeDefined();
    const cmd = line.slice('petromap synth: next, the whole chain on it: '.length);
    expect(cmd).toBe(nextRunLine(dir, px));
    const argv = cmd.split(' ');
    expect(argv.slice(0, 2)).toEqual(['petromap', 'run']);
    const r = await capture(() => main(argv.slice(1)));
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out);
    // beside the held-out surface tiles (which read high), the truth-free 3D estimate, in the JSON and in words
    expect(j.quality.meanIoU).toBeGreaterThan(0.3);
    expect(j.quality.meanIoU).toBeLessThan(1);
    expect(r.err).toMatch(new RegExp(`petromap run: estimated 3D mean IoU ${j.quality.meanIoU.toFixed(3)} ± 0\\.\\d\\d \\(held-out surface tiles ${j.validation.meanIoU.toFixed(3)}: they measure the labelled layer, not the volume in depth`));
    // the tiles are not said to read higher: on this very run line they read 0.456 against an estimate of 0.556
    expect(r.err).not.toMatch(/which read higher than in depth/);
  }, 180_000);

  it('quotes a folder with spaces', () => {
    expect(nextRunLine('/data/core 4', 2.5)).toBe("petromap run --volume '/data/core 4/volume.nrrd' --eds '/data/core 4/eds-map.png' --legend '/data/core 4/eds-legend.csv' --pixel-um 2.5 --out '/data/core 4-run'");
  });
});
