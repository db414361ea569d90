/**
 * Mistakes a new user makes with their own data, each said where it happens instead of passing
 * silently (every case passed without a word before):
 * - a slice folder numbered every 50 imported with --spacing z = x (every 50th slice, a z spacing 50× too small);
 * - a voxel size 1000× off from a unit mix-up (2 "mm" that were µm: 2000 µm voxels);
 * - a legend colour one level off (a typo): the refusal names the legend row no pixel has;
 * - minerals without a class (default classes, or a class table with a typo) dropped from training
 *   by `run` / `train` without a word (the real TIMA export's hematite-magnetite is 53 % of its map).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { capture, cliTempDir } from './cli-session';
import { droppedMineralsNote } from '../../../lib/cli/dropped-minerals';
import { main } from '../../../lib/cli/main';
import { renderMineralMapPng } from '../../../lib/eds/render';
import { saveMineralMap } from '../../../lib/eds/store-node';
import type { MineralMap } from '../../../lib/eds/types';
import { writeTiff } from '../volume/fixtures';

const tmp = cliTempDir('petromap-mistakes-');


/** A 2 x 2 checkerboard of 16 px squares of two minerals. */
function checkerMap(n: number, pixelSizeUm: number, names: [string, string]): MineralMap {
  const labels = new Uint16Array(n * n).map((_, k) => 1 + ((((k % n) >> 4) + ((k / n) >> 4)) % 2));
  return { width: n, height: n, pixelSizeUm, labels, companions: [], source: 'mount.png',
    legend: [{ id: 1, name: names[0], color: [236, 220, 180] }, { id: 2, name: names[1], color: [160, 30, 30] }] };
}

describe('a new user\'s mistakes on the command line', () => {
  it('a slice folder numbered every 50 given --spacing with z = x: the import says z may be 50× that', async () => {
    const d = path.join(tmp, 'every50');
    mkdirSync(d);
    for (const k of [0, 50, 100, 150]) await writeTiff(path.join(d, `scan_${String(k).padStart(4, '0')}.tif`), [new Uint8Array(30).fill(k)], 6, 5);
    const r = await capture(() => main(['import', d, '--spacing', '2,2,2', '--out', path.join(tmp, 'every50.ome.zarr')]));
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out).meta.spacingUm).toEqual([2, 2, 2]); // the user's value is kept
    expect(r.err).toMatch(/note: the slice files are numbered every 50 but the spacing given has z = x = 2 µm: if the folder holds one slice in every 50 of the scan, z is 50 × 2 = 100 µm \(give 100,2,2\)/);
    // consecutive numbers: nothing to say
    const c = path.join(tmp, 'consecutive');
    mkdirSync(c);
    for (const k of [1, 2, 3]) await writeTiff(path.join(c, `s${k}.tif`), [new Uint8Array(30).fill(k)], 6, 5);
    const rc = await capture(() => main(['info', c, '--spacing', '2,2,2']));
    expect(rc.code, rc.err).toBe(0);
    expect(rc.out).not.toMatch(/numbered every/);
  });

  it('a voxel size 1000× off (µm written as mm) is imported as written, with a note to check the unit', async () => {
    const file = path.join(tmp, 'mm.nrrd');
    const header = 'NRRD0004\ntype: uint8\ndimension: 3\nsizes: 4 4 2\nspace: left-posterior-superior\nspace directions: (2,0,0) (0,2,0) (0,0,2)\nspace units: "mm" "mm" "mm"\nencoding: raw\n\n';
    writeFileSync(file, Buffer.concat([Buffer.from(header), Buffer.alloc(32, 7)]));
    const r = await capture(() => main(['info', file]));
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.spacingUm).toEqual([2000, 2000, 2000]);
    expect(j.notes.join(' ')).toMatch(/the voxel size read from the file, 2000 x 2000 x 2000 µm \(z, y, x\), is larger than 1 mm, unusual for XRM or micro-CT: check the file's length unit/);
    // the real size given: no note
    const g = await capture(() => main(['info', file, '--spacing', '2,2,2']));
    expect(JSON.parse(g.out).notes.join(' ')).not.toMatch(/unusual/);
  });

  it('a legend colour one level off: the refusal names the legend row no pixel has', async () => {
    const map = checkerMap(64, 2.5, ['Quartz', 'Hematite']);
    writeFileSync(path.join(tmp, 'map.png'), renderMineralMapPng(map));
    writeFileSync(path.join(tmp, 'legend.csv'), 'name,r,g,b\nQuartz,235,220,180\nHematite,160,30,30\n');
    const r = await capture(() => main(['import-eds', path.join(tmp, 'map.png'), '--legend', path.join(tmp, 'legend.csv'), '--pixel-um', '2.5', '--out', path.join(tmp, 'typo-eds')]));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/#ecdcb4 is 1 level from Quartz #ebdcb4 in the legend, a colour no pixel of the map has: is that legend row mistyped\?/);
  });

  it('run says which minerals have no class, with their share of the map, before it works', async () => {
    // a scan without a voxel size and a map far larger than it: run stops at registration, after its checks and notes
    const raw = path.join(tmp, 'scan.raw');
    writeFileSync(raw, new Uint8Array(6 * 16 * 16).fill(90));
    const store = path.join(tmp, 'scan.ome.zarr');
    expect((await capture(() => main(['import', raw, '--raw-shape', '6,16,16', '--raw-dtype', 'uint8', '--out', store]))).code).toBe(0);
    const mapDir = path.join(tmp, 'mount-eds');
    await saveMineralMap(mapDir, checkerMap(300, 12, ['Quartz', 'Hematite_Magnetite']));
    const r = await capture(() => main(['run', '--volume', store, '--eds', mapDir, '--out', path.join(tmp, 'run')]));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/petromap run: note: 1 mineral of mount\.png has no class and is not trained on, 49\.9 % of the map: Hematite_Magnetite \(49\.9 %\); give a class table \(--classes classes\.json/);
  }, 60_000);

  it('a class table naming a mineral the legend lacks says so', () => {
    const map = checkerMap(32, 2, ['Quartz', 'Hematite']);
    const note = droppedMineralsNote(map, { 1: 2, 2: null }, [{ minerals: ['Quartz'] }, { minerals: ['Hematit'] }]);
    expect(note).toBe('1 mineral of mount.png has no class and is not trained on, 50.0 % of the map: Hematite (50.0 %); add them to the class table (--classes) to keep them. ' +
      'Also, the class table names "Hematit", which the legend lacks (spelling?).');
    expect(droppedMineralsNote(map, { 1: 2, 2: 3 })).toBeUndefined();
    // a further map (run's bottom face) with --classes: the hint names the table it was given, and the
    // table's minerals that only the other face has are not called misspelt
    expect(droppedMineralsNote(map, { 1: 2, 2: null }, [{ minerals: ['Quartz'] }, { minerals: ['Pyrite'] }], false)).toBe(
      '1 mineral of mount.png has no class and is not trained on, 50.0 % of the map: Hematite (50.0 %); add them to the class table (--classes) to keep them.',
    );
  });
});
