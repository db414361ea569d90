/**
 * Issue 16 §1: a Zeiss .txm uploaded in the web app (a lone file, or inside a .zip) becomes a
 * dataset through the same import the upload job runs; a .txrm upload is refused with the
 * reconstruction message and leaves no dataset behind.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { zipSync } from 'fflate';
import { writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importVolumeDataset } from '@/server/storage/datasets';
import { txmBytes } from '@/lib/volume/formats/txm-writer-node';
import type { Shape3 } from '@/lib/volume/types';
import { openVolume } from '@/lib/volume/zarr-store-node';
import { tempProject, type TempProject } from '../../server/temp-workspace';

let ctx: TempProject;
const shape: Shape3 = [12, 16, 20];
const voxels = new Uint16Array(shape[0] * shape[1] * shape[2]).map((_, i) => (i * 37) % 65521);

beforeAll(() => {
  ctx = tempProject('txm uploads', { prefix: 'petromap-txm-ws-' });
});
afterAll(() => ctx.cleanup());

async function upload(name: string, bytes: Uint8Array) {
  const tmp = ctx.ws.tmpPath('upload') + path.extname(name);
  await writeFile(tmp, bytes);
  return importVolumeDataset(ctx, ctx.projectId, name, tmp);
}

async function expectVoxels(relPath: string) {
  const store = await openVolume(ctx.ws.abs(relPath));
  expect(store.meta.shape).toEqual(shape);
  expect(store.meta.spacingUm).toEqual([4, 4, 4]);
  const back = await store.readBlock({ start: [0, 0, 0], shape });
  expect(Buffer.from(back.buffer, back.byteOffset, back.byteLength).equals(Buffer.from(voxels.buffer))).toBe(true);
}

describe('web uploads of Zeiss files', () => {
  it('a .txm becomes a ready dataset with its voxels and pixel size', async () => {
    const d = await upload('Versa scan.txm', txmBytes({ shape, voxels, pixelSizeUm: 4 }));
    expect(d.status).toBe('ready');
    await expectVoxels(d.relPath);
  });

  it('a .zip holding a .txm is imported too', async () => {
    const d = await upload('scan.zip', zipSync({ 'export/scan.txm': txmBytes({ shape, voxels, pixelSizeUm: 4 }) }));
    await expectVoxels(d.relPath);
  });

  it('a .txrm is refused with the reconstruction message and leaves no dataset', async () => {
    const before = readdirSync(path.join(ctx.root, 'datasets')).length;
    const err = await upload('tomo.txrm', txmBytes({ shape: [2, 4, 4], voxels: new Uint16Array(32) })).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/^tomo\.txrm holds Zeiss projections \(\.txrm\), not a reconstructed volume: reconstruct it first/);
    expect(readdirSync(path.join(ctx.root, 'datasets')).length).toBe(before);
  });
});
