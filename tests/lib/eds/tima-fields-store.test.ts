/** The TIMA field layout kept with the imported and stored map (issue 19: per-field registration). */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importMineralMap } from '../../../lib/eds/import-node';
import { loadMineralMap, saveMineralMap, storedFieldCount } from '../../../lib/eds/store-node';
import { isPetromapError } from '../../../lib/errors';
import { fieldAt } from '../../../lib/registration/refine-fields';
import { writeSyntheticTimaProject, type SyntheticTimaProject } from '../../../lib/synthetic/tima-node';

let dir: string;
let proj: SyntheticTimaProject;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'petromap-timafields-'));
  proj = await writeSyntheticTimaProject(join(dir, 'export'), { datasets: [{ sampleName: 'S1', cols: 6, rows: 5 }] });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('TIMA field layout at import and in the store', () => {
  it('imports one rectangle per measured field, each covering exactly its measured pixels, and stores it atomically with the map', async () => {
    const t = proj.datasets[0];
    const map = await importMineralMap({ map: join(proj.root, t.path) });
    expect(map.fields).toHaveLength(t.fields);
    // every measured pixel lies in exactly one field, no unmeasured pixel in any
    for (let v = 0; v < map.height; v++) for (let u = 0; u < map.width; u++) {
      const inside = map.fields!.filter((f) => u >= f.u0 && u < f.u0 + f.width && v >= f.v0 && v < f.v0 + f.height).length;
      expect(inside).toBe(t.measured[v * map.width + u]);
    }
    const out = join(dir, 'stored');
    await saveMineralMap(out, map);
    const json = JSON.parse(await readFile(join(out, 'map.json'), 'utf8')) as { fields: unknown[] };
    expect(json.fields).toHaveLength(t.fields);
    const back = await loadMineralMap(out);
    expect(back.fields).toEqual(map.fields);
    expect(await storedFieldCount(out)).toBe(t.fields);
    expect(fieldAt(back.fields!, 0.4 * map.width, 0.5 * map.height)?.name).toBeTruthy();
  });

  it('maps that are not TIMA, and maps stored before the layout was kept, have none and stay readable', async () => {
    const out = join(dir, 'plain');
    await saveMineralMap(out, { width: 2, height: 2, pixelSizeUm: 1, labels: new Uint16Array([1, 1, 0, 1]), legend: [{ id: 1, name: 'Quartz', color: [1, 2, 3] }], companions: [] });
    const j = JSON.parse(await readFile(join(out, 'map.json'), 'utf8')) as Record<string, unknown>;
    expect(j.fields).toBeUndefined();
    expect((await loadMineralMap(out)).fields).toBeUndefined();
    expect(await storedFieldCount(out)).toBe(0);
    expect(await storedFieldCount(join(dir, 'nothing-here'))).toBeUndefined();
  });

  it('refuses a damaged field layout in a stored map, and one outside the map when saving (what was stored stays)', async () => {
    const out = join(dir, 'damaged');
    const map = { width: 4, height: 4, pixelSizeUm: 1, labels: new Uint16Array(16).fill(1), legend: [{ id: 1, name: 'Quartz', color: [1, 2, 3] as [number, number, number] }], companions: [], fields: [{ name: 'A1', u0: 0, v0: 0, width: 4, height: 4 }] };
    await saveMineralMap(out, map);
    const err = await saveMineralMap(out, { ...map, fields: [{ name: 'A1', u0: 2, v0: 0, width: 4, height: 4 }] }).then(() => null, (e: unknown) => e);
    expect(isPetromapError(err, 'InvalidInput')).toBe(true);
    expect((err as Error).message).toMatch(/field 1 is not a rectangle of whole pixels inside the 4 x 4 map/);
    expect((await loadMineralMap(out)).fields).toEqual(map.fields);
    const p = join(out, 'map.json');
    const j = JSON.parse(await readFile(p, 'utf8')) as Record<string, unknown>;
    await writeFile(p, JSON.stringify({ ...j, fields: [{ u0: -1, v0: 0, width: 2, height: 2 }] }));
    const e2 = await loadMineralMap(out).then(() => null, (e: unknown) => e);
    expect(isPetromapError(e2, 'InvalidInput')).toBe(true);
    expect((e2 as Error).message).toMatch(/damaged.*field 1/);
  });
});
