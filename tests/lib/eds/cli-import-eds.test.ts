import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode } from 'fast-png';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../../lib/cli/import-eds';
import { loadMineralMap } from '../../../lib/eds/store-node';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'petromap-cli-eds-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterEach(() => {
  vi.restoreAllMocks();
});

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '', err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  const code = await main(argv);
  vi.restoreAllMocks();
  return { code, out, err };
}

const TIMA = join(__dirname, '../../../../shared/data/tima-sta');

describe('petromap import-eds', () => {
  it('imports a colour map + legend + BSE, stores it and prints a JSON summary', async () => {
    const Q = [236, 220, 180], P = [255, 230, 0], K = [0, 0, 0];
    const map = await writeFile(join(dir, 'm.png'), encode({ width: 2, height: 2, data: Uint8Array.from([Q, Q, P, K].flat()), channels: 3, depth: 8 }));
    void map;
    await writeFile(join(dir, 'legend.csv'), 'name,r,g,b\nQuartz,236,220,180\nPyrite,255,230,0\n');
    await writeFile(join(dir, 'bse.png'), encode({ width: 2, height: 2, data: Uint8Array.of(1, 2, 3, 4), channels: 1, depth: 8 }));
    const out = join(dir, 'store');
    const r = await run([join(dir, 'm.png'), '--legend', join(dir, 'legend.csv'), '--pixel-um', '2.5', '--bse', join(dir, 'bse.png'), '--out', out]);
    // stderr holds only the next step (stdout stays the JSON summary)
    expect(r.err).toMatch(/^petromap import-eds: next: register it on the volume: petromap register [^\n]*\n$/);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.out);
    expect(s).toMatchObject({ width: 2, height: 2, pixelSizeUm: 2.5, unclassifiedPercent: 25, companions: ['BSE'] });
    expect(s.phases).toEqual([{ id: 1, name: 'Quartz', color: '#ecdcb4', pixels: 2, areaPercent: 50 }, { id: 2, name: 'Pyrite', color: '#ffe600', pixels: 1, areaPercent: 25 }]);
    // an image map has no measured-area mask; with 1-2 px per phase, both are minor at the default 10 px
    expect(s).toMatchObject({ notMeasuredPercent: 0, minorPhases: { thresholdPx: 10, count: 2, pixels: 3, names: ['Quartz', 'Pyrite'] } });
    const back = await loadMineralMap(out);
    expect(Array.from(back.labels)).toEqual([1, 1, 2, 0]);
    expect(Array.from(back.companions[0].data)).toEqual([1, 2, 3, 4]);
  });

  it('prints one error line and returns 1', async () => {
    const r = await run([join(dir, 'm.png'), '--legend', join(dir, 'legend.csv'), '--out', join(dir, 'x')]);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toMatch(/^petromap import-eds: EDS map m\.png: its pixel size is unknown.*\n$/);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect((await run(['--out', join(dir, 'x')])).err).toMatch(/^petromap import-eds: give the mineral map/);
    expect((await run([join(dir, 'm.png')])).err).toMatch(/--out <dir> is required/);
    expect((await run([join(dir, 'm.png'), '--pixel-um', 'abc', '--out', 'x'])).err).toMatch(/--pixel-um must be a positive number.*"abc"/);
    expect((await run([join(dir, 'm.png'), '--frobnicate'])).err).toMatch(/unknown option --frobnicate/);
    expect(existsSync(join(dir, 'x'))).toBe(false);
  });

  it.skipIf(!existsSync(join(TIMA, 'measurement.xml')))('imports the TESCAN TIMA export folder', async () => {
    const r = await run([TIMA, '--out', join(dir, 'tima')]);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.out);
    expect(s).toMatchObject({ width: 1660, height: 1660, companions: ['BSE'], source: 'tima-sta' });
    expect(s.pixelSizeUm).toBeCloseTo(12.048, 3);
    expect(s.phases[0].name).toBe('Hematite_Magnetite');
    // 27.4 % of the rectangle is label 0: 23.0 % no field covers, 4.4 % measured without a mineral
    expect(s.notMeasuredPercent).toBeCloseTo(23.0, 1);
    expect(s.unclassifiedPercent).toBeCloseTo(4.44, 1);
    expect(s.notMeasuredPercent + s.unclassifiedPercent).toBeCloseTo(27.44, 1);
    // a third of the legend is phases under 10 px: grouped, not dropped
    expect(s.phases).toHaveLength(32);
    expect(s.minorPhases).toMatchObject({ thresholdPx: 10, count: 15 });
    expect(s.minorPhases.pixels).toBeLessThan(15 * 10);
  });
});
