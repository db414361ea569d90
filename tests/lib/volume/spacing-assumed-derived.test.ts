/**
 * A scan whose file gave no voxel size is imported at an assumed 1 µm and its store says so
 * (spacingAssumed). The stores made on its geometry say so too: the OME-Zarr export (also when the
 * server exports through its brick reader) and the upscale composite; a scan whose size was read
 * gives stores that do not.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportVolume } from '../../../lib/report/export-node';
import { buildComposite } from '../../../lib/upscale/composite-node';
import type { Shape3 } from '../../../lib/volume/types';
import { brickReader } from '../../../lib/volume/zarr/brick-reader-node';
import { createVolume, openVolume } from '../../../lib/volume/zarr-store-node';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'petromap-spacing-assumed-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const shape: Shape3 = [4, 8, 8];
const whole = { start: [0, 0, 0] as Shape3, shape };
const spacingUm: Shape3 = [1, 1, 1];

async function scan(name: string, spacingAssumed: boolean) {
  const p = path.join(dir, name);
  const s = await createVolume(p, { shape, spacingUm, originUm: [0, 0, 0], dtype: 'uint16', channels: ['xray'] }, { chunk: [4, 8, 8], spacingAssumed });
  await s.writeBlock(whole, Uint16Array.from({ length: 4 * 8 * 8 }, (_, i) => 1000 + i));
  const c = await createVolume(`${p}-classes`, { shape, spacingUm, originUm: [0, 0, 0], dtype: 'uint8', channels: ['class'] }, { chunk: [4, 8, 8], downsample: 'mode' });
  await c.writeBlock(whole, new Uint8Array(4 * 8 * 8).fill(1));
  return { volume: await openVolume(p), classes: await openVolume(`${p}-classes`) };
}

describe('stores derived from a scan keep its "voxel size assumed" flag', () => {
  for (const assumed of [true, false]) {
    it(`${assumed ? 'assumed' : 'read from the file'}: the OME-Zarr export (store and brick reader) and the composite say the same`, async () => {
      const tag = assumed ? 'a' : 'k';
      const { volume, classes } = await scan(`scan-${tag}.ome.zarr`, assumed);
      expect(volume.spacingAssumed).toBe(assumed);
      expect(brickReader(volume, { concurrent: true }).spacingAssumed).toBe(assumed);

      await exportVolume(volume, 'ome-zarr', path.join(dir, `export-${tag}.ome.zarr`));
      expect((await openVolume(path.join(dir, `export-${tag}.ome.zarr`))).spacingAssumed).toBe(assumed);
      // the server exports through its (concurrent) brick reader
      await exportVolume(brickReader(volume, { concurrent: true }), 'ome-zarr', path.join(dir, `export-br-${tag}.ome.zarr`));
      expect((await openVolume(path.join(dir, `export-br-${tag}.ome.zarr`))).spacingAssumed).toBe(assumed);

      await buildComposite(volume, classes, [], path.join(dir, `composite-${tag}.ome.zarr`), { chunk: [4, 8, 8] });
      expect((await openVolume(path.join(dir, `composite-${tag}.ome.zarr`))).spacingAssumed).toBe(assumed);
    });
  }
});
