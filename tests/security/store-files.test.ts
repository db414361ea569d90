/**
 * A petromap volume store's own files are not trusted (cases-store.ts): each hostile store is
 * opened and read whole in this process (the store, then the brick reader; `npm run bench -- fuzz`
 * runs the same cases in a child process with its peak memory) and must be refused on purpose with
 * a one-line message that names what is wrong. A valid store next to them reads as written.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPetromapError } from '../../lib/errors';
import { openVolume } from '../../lib/volume/zarr-store-node';
import { brickReader } from '../../lib/volume/zarr/brick-reader-node';
import { storeCases } from './cases-store';
import { readStoreWhole } from './store-input';

let root: string;
beforeAll(async () => void (root = await mkdtemp(join(tmpdir(), 'petromap-stores-'))));
afterAll(() => rm(root, { recursive: true, force: true }));

describe('hostile petromap stores', () => {
  storeCases.forEach((c, i) => {
    it(`item ${c.item}: ${c.name}`, async () => {
      const path = await c.make(join(root, `case-${i}`));
      const err = await readStoreWhole(path).then(() => null, (e: unknown) => e);
      expect(isPetromapError(err, 'InvalidInput'), String(err)).toBe(true);
      const msg = (err as Error).message;
      expect(msg).not.toContain('\n');
      expect(msg.replace(relative('/', root), 'ROOT')).toMatch(c.expect);
    });
  });
});

describe('a valid store', () => {
  it('opens and reads its values through the store and the brick reader (no link, within the budget)', async () => {
    const { createVolume } = await import('../../lib/volume/zarr-store-node');
    for (const compression of ['zstd', 'gzip', 'none'] as const) {
      const path = join(root, `ok-${compression}.ome.zarr`);
      const v = await createVolume(path, { shape: [5, 70, 66], dtype: 'uint16', spacingUm: [1, 1, 1], originUm: [0, 0, 0], channels: ['xray'] }, { chunk: [4, 64, 64], compression });
      const data = Uint16Array.from({ length: 5 * 70 * 66 }, (_, k) => (k * 7919) % 65521);
      await v.writeBlock({ start: [0, 0, 0], shape: [5, 70, 66] }, data);
      const o = await openVolume(path);
      const box = { start: [0, 0, 0] as [number, number, number], shape: [5, 70, 66] as [number, number, number] };
      expect(await o.readBlock(box)).toEqual(data);
      expect(await brickReader(o).readBlock(box)).toEqual(data);
    }
  });
});
