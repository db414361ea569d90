/**
 * `petromap run --spacing z,y,x` and `--mirror auto|none` (the last stop's "noticed, not fixed": a
 * scan whose file gives no voxel size had to be imported separately first, and predict's --mirror
 * had no counterpart). Both are declared as import and predict declare them, checked before any
 * work with their messages; --spacing reaches the import (no "assumed" warning, the store holds it)
 * and is refused for a petromap store, whose size was set at its import; --mirror none is said on
 * stderr before the work starts. A run stopped at its registration keeps its imported volume only
 * when it has the voxel size this run would import with. A map far larger than the scan at its voxel
 * size is refused before the import (it was refused after it: minutes on a real scan, files written).
 */
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { importedAlike, main as runMain } from '../../../lib/cli/run';
import { saveMineralMap } from '../../../lib/eds/store-node';
import type { MineralMap } from '../../../lib/eds/types';
import { isPetromapError } from '../../../lib/errors';
import { nrrdHeader } from '../../../lib/report/volume-headers';
import { openVolume, writeDenseVolume } from '../../../lib/volume/zarr-store-node';
import { capture, cliTempDir } from './cli-session';

const tmp = cliTempDir('petromap-run-spacing-');

/** A 6 x 16 x 16 NRRD that gives no voxel size (no space directions, no spacings), rock only: no air, so the registration stops at once. */
function scanWithoutSize(name = 'scan.nrrd'): string {
  const file = path.join(tmp, name);
  const v = new Uint8Array(6 * 16 * 16).fill(140);
  const head = nrrdHeader({ shape: [6, 16, 16], spacingUm: [1, 1, 1], comment: 'x' }).replace(/space directions: .*\n/, '').replace(/space units: .*\n/, '').replace(/space origin: .*\n/, '').replace(/space: .*\n/, '');
  writeFileSync(file, Buffer.concat([Buffer.from(head, 'latin1'), v]));
  return file;
}

/** A map of n x n px at `um` µm/px, quartz and pyrite squares; 300 px at 12 µm is far larger than the scan. */
async function mapOf(name: string, n: number, um: number): Promise<string> {
  const labels = new Uint16Array(n * n).map((_, k) => 1 + ((k % n >> 2) + ((k / n) >> 2)) % 2);
  const map: MineralMap = { width: n, height: n, pixelSizeUm: um, labels, companions: [],
    legend: [{ id: 1, name: 'Quartz', color: [230, 220, 180] }, { id: 2, name: 'Pyrite', color: [160, 30, 30] }] };
  const dir = path.join(tmp, name);
  await saveMineralMap(dir, map);
  return dir;
}
const largeMap = () => mapOf('large-map', 300, 12);

const run = async (argv: string[]) => {
  const r = await capture(() => runMain(argv).catch((x: unknown) => x as never));
  return { ...r, code: r.code as unknown };
};

describe('petromap run --spacing and --mirror', () => {
  const scan = scanWithoutSize();

  it('checks them before any work with import\'s and predict\'s messages; --spacing with a store is refused in words', async () => {
    const map = await largeMap();
    const o = path.join(tmp, 'never');
    const cases: [string[], RegExp][] = [
      [['--spacing', '2,2'], /^--spacing needs three positive numbers z,y,x \(e\.g\. 2\.5,2\.5,2\.5\), not "2,2"\.$/],
      [['--spacing', '0,1,1'], /^--spacing needs three positive numbers z,y,x/],
      [['--mirror', 'off'], /^--mirror must be auto, none, not "off"\.$/],
    ];
    for (const [extra, re] of cases) {
      const r = await run(['--volume', scan, '--eds', map, '--out', o, ...extra]);
      expect(isPetromapError(r.code, 'InvalidInput'), `${extra.join(' ')}: ${String(r.code)}`).toBe(true);
      expect((r.code as Error).message.split('\n')[0]).toMatch(re);
      expect(r.err).toBe('');
    }
    const store = path.join(tmp, 'given.ome.zarr');
    await writeDenseVolume(store, { meta: { shape: [4, 8, 8], spacingUm: [2, 2, 2], originUm: [0, 0, 0], dtype: 'uint8', channels: ['xrm'] }, data: new Uint8Array(256) });
    const s = await run(['--volume', store, '--eds', map, '--out', o, '--spacing', '1,1,1']);
    expect(isPetromapError(s.code, 'InvalidInput')).toBe(true);
    expect((s.code as Error).message).toMatch(/^--spacing gives the voxel size of a scan file that run imports; .*given\.ome\.zarr is a petromap store, whose voxel size was set when it was imported\. Give run the scan file with --spacing, or import the scan again with its real voxel size: petromap import <scan> --spacing z,y,x \(µm\) --out <new store>\.$/);
    expect(existsSync(o)).toBe(false);
  });

  it('a map far larger than the scan is refused before the import, naming --spacing for a volume file', async () => {
    const o = path.join(tmp, 'large');
    const r = await run(['--volume', scan, '--eds', await largeMap(), '--out', o]);
    expect(isPetromapError(r.code, 'Unprocessable'), String(r.code)).toBe(true);
    expect((r.code as Error).message).toMatch(/^The EDS map .* covers 3\.6 mm × 3\.6 mm .*The scan's file gives no voxel size, so 1 µm was assumed: import the scan again with its voxel size \(give it to run: --spacing z,y,x in µm\)\./);
    expect(r.err).not.toMatch(/import: /); // no import started
    expect(existsSync(o)).toBe(false);
  });

  it('--spacing reaches the import: no "assumed" warning, the imported store holds it; without it the warning names --spacing', async () => {
    const map = await mapOf('small-map', 16, 2);
    const given = path.join(tmp, 'given-run');
    const g = await run(['--volume', scan, '--eds', map, '--out', given, '--spacing', '2,3,3', '--mirror', 'none']);
    expect(isPetromapError(g.code)).toBe(true); // the scan has no air above a surface: refused at the registration
    expect((g.code as Error).message).toMatch(/No air layer found above the sample/);
    expect(g.err).not.toMatch(/was assumed/);
    expect(g.err).toMatch(/^petromap run: --mirror none: the prediction does not mirror the volume above the polished surface as the training does, .*the held-out tiles and the estimated 3D quality are measured with the mirror and do not show this\.$/m);
    const st = await openVolume(path.join(given, 'volume.ome.zarr'));
    expect(st.meta.spacingUm).toEqual([2, 3, 3]);
    expect(st.spacingAssumed).toBeFalsy();

    const assumed = path.join(tmp, 'assumed-run');
    // (another file: the warning is said once per volume in a process, and the refusal above said it for scan.nrrd)
    const a = await run(['--volume', scanWithoutSize('scan2.nrrd'), '--eds', map, '--out', assumed]);
    expect(isPetromapError(a.code)).toBe(true);
    expect(a.err).toMatch(/petromap run: warning: the voxel size of scan2\.nrrd \(1 µm\) was assumed at import, because its file gives none; .*\(run takes it as --spacing z,y,x in µm\)/);
    expect(a.err).not.toMatch(/--mirror none/);
    expect((await openVolume(path.join(assumed, 'volume.ome.zarr'))).spacingAssumed).toBe(true);

    // a unit mix-up gets import's note, worded for run
    const mm = await run(['--volume', scan, '--eds', map, '--out', path.join(tmp, 'mm-run'), '--spacing', '0.002,0.002,0.002']);
    expect(mm.err).toContain('petromap run: note: --spacing 0.002,0.002,0.002 is read in µm: smaller than 0.01 µm, unusual for XRM or micro-CT. If it is in mm, run again with --spacing 2,2,2 (µm).\n');

    // a stopped run's imported volume is kept only at the voxel size this run imports with
    const now = (spacingUm: number[], spacingAssumed: boolean) => ({ meta: { spacingUm }, spacingAssumed });
    expect(await importedAlike(openVolume, given, now([2, 3, 3], false))).toBe(true);
    expect(await importedAlike(openVolume, given, now([1, 1, 1], true))).toBe(false);
    expect(await importedAlike(openVolume, assumed, now([1, 1, 1], true))).toBe(true);
    expect(await importedAlike(openVolume, assumed, now([1, 1, 1], false))).toBe(false);
    expect(await importedAlike(openVolume, path.join(tmp, 'none'), now([1, 1, 1], true))).toBe(false);
  }, 60_000);
});
