/**
 * Issue 15 §1 on the command line: `petromap register --face bottom`, `petromap train` with two
 * (--eds, --registration) pairs, and `petromap run` with a second --eds qualified by --face bottom;
 * mistakes (no top map, a qualifier given twice, a second legend the class table does not know)
 * refused before any work, nothing written.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { edsMapsFromSequence } from '../../../lib/cli/eds-maps-args';
import { main as registerMain } from '../../../lib/cli/register';
import { main as runMain } from '../../../lib/cli/run';
import { main as trainMain } from '../../../lib/cli/train';
import { saveMineralMap } from '../../../lib/eds/store-node';
import { affine2to3FromJson } from '../../../lib/registration/transform-export';
import { registrationError } from '../../../lib/registration/quality';
import { generateTwoFaceSandstone, type TwoFaceSample } from '../../../lib/synthetic/two-faces';
import { writeSyntheticSample } from '../../../lib/synthetic/write-sample-node';
import { writeDenseVolume } from '../../../lib/volume/zarr-store-node';

const tmp = mkdtempSync(join(tmpdir(), 'petromap-cli-two-faces-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let s: TwoFaceSample;
const store = join(tmp, 'scan.ome.zarr'), topDir = join(tmp, 'top-map'), bottomDir = join(tmp, 'bottom-map');

beforeAll(async () => {
  s = generateTwoFaceSandstone({ shape: [40, 128, 128], seed: 21 });
  await writeDenseVolume(store, s.volume, { chunk: [40, 64, 64] });
  await saveMineralMap(topDir, s.eds);
  await saveMineralMap(bottomDir, s.bottom.eds);
  // the maps as a user exports them: image + legend CSV (what petromap register reads)
  await writeSyntheticSample(join(tmp, 'top-files'), s);
  await writeSyntheticSample(join(tmp, 'bottom-files'), { ...s, eds: s.bottom.eds });
});

async function quiet<T>(f: () => Promise<T>) {
  const log: string[] = [], errs: string[] = [];
  const l = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void log.push(a.join(' ')));
  const e = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void errs.push(a.join(' ')));
  const w = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    const code = await f().catch((x: unknown) => x);
    return { code, out: log.join('\n'), err: errs.join('\n') };
  } finally {
    l.mockRestore(); e.mockRestore(); w.mockRestore();
  }
}

describe('two mapped faces on the command line', () => {
  it('binds --face, --legend and --pixel-um to the --eds written before them', () => {
    const seq = [
      { name: 'legend', value: 'l1.csv' }, { name: 'eds', value: 'top.png' }, { name: 'pixel-um', value: 2 },
      { name: 'eds', value: 'bottom.png' }, { name: 'face', value: 'bottom' }, { name: 'legend', value: 'l2.csv' }, { name: 'out', value: 'x' },
    ];
    expect(edsMapsFromSequence(seq, 'eds', 'usage')).toEqual([
      { path: 'top.png', face: 'top', legend: 'l1.csv', pixelUm: 2 },
      { path: 'bottom.png', face: 'bottom', legend: 'l2.csv' },
    ]);
    expect(() => edsMapsFromSequence([{ name: 'eds', value: 'a' }, { name: 'face', value: 'top' }, { name: 'face', value: 'bottom' }], 'eds', 'usage')).toThrow(/--face is given twice for the EDS map a/);
  });

  it('petromap run refuses, before any work: no top map; a second legend the class table does not know', async () => {
    const noTop = join(tmp, 'run-no-top');
    const r1 = await quiet(() => runMain(['--volume', store, '--eds', bottomDir, '--face', 'bottom', '--out', noTop]));
    expect((r1.code as Error).message).toMatch(/Give the map of the top face too/);
    expect(existsSync(noTop)).toBe(false);
    // the bottom map exported with another lab's mineral names: the class table names none of them
    const renamed = join(tmp, 'bottom-renamed');
    await saveMineralMap(renamed, { ...s.bottom.eds, legend: s.bottom.eds.legend.map((p) => ({ ...p, name: `Phase ${p.id}` })), source: 'bottom-renamed' });
    const table = join(tmp, 'classes.json');
    writeFileSync(table, JSON.stringify([{ code: 1, name: 'pore', minerals: ['Pore/Epoxy'] }, { code: 2, name: 'quartz', minerals: ['Quartz'] }]));
    const bad = join(tmp, 'run-bad-legend');
    const r2 = await quiet(() => runMain(['--volume', store, '--eds', topDir, '--eds', renamed, '--face', 'bottom', '--classes', table, '--out', bad]));
    expect((r2.code as Error).message).toMatch(/None of the minerals of the class table \(Pore\/Epoxy, Quartz\) is in the legend of bottom-renamed \(Phase 1/);
    expect(existsSync(bad) ? readdirSync(bad) : []).toEqual([]);
  });

  it('petromap register --face bottom, then petromap train on both registered maps', async () => {
    const top = join(tmp, 'top.json'), bottom = join(tmp, 'bottom.json');
    const rt = await quiet(() => registerMain(['--volume', store, '--map', join(tmp, 'top-files', 'eds-map.png'), join(tmp, 'top-files', 'eds-legend.csv'), '--pixel-um', '2.5', '--out', top]));
    const rb = await quiet(() => registerMain(['--volume', store, '--map', join(tmp, 'bottom-files', 'eds-map.png'), join(tmp, 'bottom-files', 'eds-legend.csv'), '--pixel-um', '2.5', '--face', 'bottom', '--out', bottom]));
    expect(rt.err + rb.err).toBe('');
    expect(process.exitCode ?? 0).toBe(0);
    const jb = JSON.parse(readFileSync(bottom, 'utf8'));
    expect(jb.face).toBe('bottom');
    expect(JSON.parse(readFileSync(top, 'utf8')).face).toBe('top');
    // edsToVoxel of the bottom map in the volume's own voxel indices, against the generator's truth
    const e = registrationError(affine2to3FromJson(jb.edsToVoxel), s.bottom.edsToVoxel, s.bottom.eds.width, s.bottom.eds.height, s.volume.meta.shape);
    expect(e.mean).toBeLessThanOrEqual(0.5);
    expect(e.max).toBeLessThanOrEqual(1.5);

    const model = join(tmp, 'model');
    const rtr = await quiet(() => trainMain(['--volume', store, '--eds', topDir, '--registration', top, '--eds', bottomDir, '--registration', bottom, '--epochs', '5', '--out', model]));
    expect(rtr.code).toBe(0);
    const summary = JSON.parse(rtr.out);
    expect(existsSync(join(model, 'model.json')) || readdirSync(model).length > 0).toBe(true);
    expect(summary.classes.length).toBeGreaterThanOrEqual(4);
    // one pair is missing its registration
    const r3 = await quiet(() => trainMain(['--volume', store, '--eds', topDir, '--registration', top, '--eds', bottomDir, '--out', join(tmp, 'model2')]));
    expect((r3.code as Error).message).toMatch(/one --registration per --eds/);
    expect(existsSync(join(tmp, 'model2'))).toBe(false);
  }, 600_000); // two registrations and a training: ~75-115 s wall at load 14-22
});
