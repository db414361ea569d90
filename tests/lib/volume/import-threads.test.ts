import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeNrrd } from '../../../lib/synthetic/nrrd-writer-node';
import { importVolume } from '../../../lib/volume/import-node';
import type { Shape3 } from '../../../lib/volume/types';
import { openVolume } from '../../../lib/volume/zarr-store-node';

const dirs: string[] = [];
afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

describe('import: level 0 written by worker threads', () => {
  it('stores every level exactly as the one-thread import does', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'petromap-import-threads-'));
    dirs.push(dir);
    const shape: Shape3 = [21, 150, 70]; // 3 slabs of 8 (the last short), 3 bands of 64 rows (the last short)
    const data = new Uint16Array(shape[0] * shape[1] * shape[2]);
    let t = 9;
    for (let i = 0; i < data.length; i++) data[i] = (t = (t * 1103515245 + 12345) >>> 0) >>> 18;
    const file = path.join(dir, 'v.nrrd');
    await writeNrrd(file, { meta: { shape, spacingUm: [1, 1, 1], originUm: [0, 0, 0], dtype: 'uint16', channels: ['xrm'] }, data });
    const one = path.join(dir, 'one.ome.zarr');
    const two = path.join(dir, 'two.ome.zarr');
    await importVolume(file, one, { chunk: [8, 64, 32], threads: 1 });
    await importVolume(file, two, { chunk: [8, 64, 32], threads: 3 });
    const a = await openVolume(one);
    const b = await openVolume(two);
    expect(b.levels).toBe(a.levels);
    expect(b.levels).toBeGreaterThan(1);
    expect(b.pyramidComplete).toBe(true);
    for (let k = 0; k < a.levels; k++) {
      const box = { start: [0, 0, 0] as Shape3, shape: a.levelShape(k) };
      expect(Buffer.from((await b.readBlock(box, { level: k })).buffer).equals(Buffer.from((await a.readBlock(box, { level: k })).buffer)), `level ${k}`).toBe(true);
    }
    const level0 = await b.readBlock({ start: [0, 0, 0], shape }, { level: 0 });
    expect(Buffer.from(level0.buffer).equals(Buffer.from(data.buffer))).toBe(true);
  });
});
