/**
 * A scan whose file gives no voxel size imports at an assumed 1 µm. The web app marks it
 * "assumed"; the command line said nothing after the import's note: `petromap info` on the store
 * did not know, and `register` refused a map far larger than the scan telling a CLI user to use the
 * web app's Data step. Now the store records it, `info` says `spacingAssumed: true` with one warning,
 * `register` warns once and its refusal names the assumption and `petromap import --spacing`.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { capture, cliTempDir } from './cli-session';
import { main } from '../../../lib/cli/main';
import { assumedSpacingWarning, warnIfSpacingAssumed } from '../../../lib/cli/voxel-size';
import { saveMineralMap } from '../../../lib/eds/store-node';
import type { MineralMap } from '../../../lib/eds/types';

const tmp = cliTempDir('petromap-voxel-assumed-');


/** A headerless raw scan (no voxel size in it): 6 x 16 x 16 uint8, air above rock. */
function rawScan(): string {
  const file = path.join(tmp, 'scan.raw');
  const v = new Uint8Array(6 * 16 * 16);
  for (let i = 0; i < v.length; i++) v[i] = i >= 2 * 256 ? 120 + ((i * 37) % 60) : 10;
  writeFileSync(file, v);
  return file;
}

const count = (s: string, re: RegExp) => s.split('\n').filter((l) => re.test(l)).length;

describe('a voxel size assumed at import, on the command line', () => {
  const raw = rawScan();
  const assumed = path.join(tmp, 'assumed.ome.zarr'), given = path.join(tmp, 'given.ome.zarr');

  it('import records it in the store; info says spacingAssumed and warns once; a given --spacing is not assumed', async () => {
    const a = await capture(() => main(['import', raw, '--raw-shape', '6,16,16', '--raw-dtype', 'uint8', '--out', assumed]));
    expect(a.code, a.err).toBe(0);
    expect(a.err).toMatch(/1 µm was assumed/);
    const i = await capture(() => main(['info', assumed]));
    expect(i.code, i.err).toBe(0);
    expect(JSON.parse(i.out).spacingAssumed).toBe(true);
    expect(count(i.err, /warning: the voxel size of assumed\.ome\.zarr \(1 µm\) was assumed at import/)).toBe(1);
    expect(i.err).toMatch(/petromap import <scan> --spacing z,y,x/);

    const g = await capture(() => main(['import', raw, '--raw-shape', '6,16,16', '--raw-dtype', 'uint8', '--spacing', '2,2,2', '--out', given]));
    expect(g.code, g.err).toBe(0);
    const gi = await capture(() => main(['info', given]));
    expect(JSON.parse(gi.out).spacingAssumed).toBe(false);
    expect(gi.err).not.toMatch(/assumed/);
  });

  it('register warns once and refuses a map far larger than the scan naming the assumption and the CLI fix, not the web app', async () => {
    // a 300 x 300 px map at 12 µm/px (a TIMA-like mount) on a 16-voxel scan at an assumed 1 µm, stored by import-eds
    const n = 300;
    const labels = new Uint16Array(n * n).map((_, k) => 1 + ((k % n >> 4) + ((k / n) >> 4)) % 2);
    const map: MineralMap = { width: n, height: n, pixelSizeUm: 12, labels, companions: [],
      legend: [{ id: 1, name: 'Quartz', color: [230, 220, 180] }, { id: 2, name: 'Hematite', color: [160, 30, 30] }] };
    const mapDir = path.join(tmp, 'tima-eds');
    await saveMineralMap(mapDir, map);
    const r = await capture(() => main(['register', '--volume', assumed, '--map', mapDir, '--out', path.join(tmp, 'reg.json')]));
    expect(r.code).toBe(1);
    expect(count(r.err, /warning: the voxel size of assumed\.ome\.zarr \(1 µm\) was assumed at import/)).toBe(1);
    const refusal = r.err.split('\n').find((l) => l.startsWith('petromap register: The EDS map'))!;
    expect(refusal, r.err).toBeDefined();
    expect(refusal).toMatch(/no voxel size, so 1 µm was assumed/);
    expect(refusal).toMatch(/petromap import <scan> --spacing z,y,x/);
    expect(refusal).not.toMatch(/Data step/);
  }, 60_000);

  it('the warning is printed once per volume, and only for an assumed size', () => {
    expect(assumedSpacingWarning('train', { path: '/x/scan.ome.zarr', meta: { spacingUm: [1, 1, 1] } })).toBeUndefined();
    expect(assumedSpacingWarning('train', { path: '/x/scan.ome.zarr/', meta: { spacingUm: [1, 1, 1] }, spacingAssumed: true }, 'the feature scales are set in µm from it'))
      .toBe('petromap train: warning: the voxel size of scan.ome.zarr (1 µm) was assumed at import, because its file gives none; the feature scales are set in µm from it. ' +
        'Import the scan again with its real voxel size: petromap import <scan> --spacing z,y,x (µm) --out <new store>.');
    const err: string[] = [];
    const w = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => (err.push(String(s)), true));
    try {
      const s = { path: path.join(tmp, 'once.ome.zarr'), meta: { spacingUm: [1, 1, 1] }, spacingAssumed: true };
      expect(warnIfSpacingAssumed('predict', s)).toBe(true);
      expect(warnIfSpacingAssumed('predict', s)).toBe(false);
    } finally {
      w.mockRestore();
    }
    expect(err).toHaveLength(1);
  });
});
