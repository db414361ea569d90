/**
 * Zipped volumes as people make them: TIFF slices named slice_1 … slice_12 without zero padding
 * (with the macOS resource forks a Finder zip adds) stack in the names' numeric order, and a
 * zipped OME-Zarr folder from another tool imports with its voxel size.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb } from '@/server/db';
import { Repo } from '@/server/db/repo';
import { Workspace } from '@/server/storage/workspace';
import { importVolumeDataset } from '@/server/storage/datasets';
import { openVolume } from '@/lib/volume/zarr-store-node';
import { tiffBytes } from '../lib/volume/fixtures';

let root: string;
let ctx: { repo: Repo; ws: Workspace };
let projectId: string;
const [NZ, NY, NX] = [12, 6, 8];

beforeAll(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'petromap-zips-'));
  const ws = new Workspace(root);
  ctx = { repo: new Repo(openDb(ws.dbFile)), ws };
  projectId = ctx.repo.createProject('zip tests', 'mineralogy').id;
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function upload(name: string, files: Record<string, Uint8Array>) {
  const tmp = ctx.ws.tmpPath('t') + '.zip';
  await writeFile(tmp, zipSync(files));
  return importVolumeDataset(ctx, projectId, name, tmp, { spacingUm: undefined });
}

describe('zipped volumes', () => {
  it('slice_1 … slice_12 (no zero padding, with ._ resource forks) stack as 1, 2, … 12', async () => {
    const files: Record<string, Uint8Array> = {};
    for (let z = 1; z <= NZ; z++) {
      // every voxel of slice k holds k; ImageJ's description gives the spacing
      const page = new Uint16Array(NY * NX).fill(z);
      files[`scan/slice_${z}.tif`] = tiffBytes([page], NY, NX, { description: 'ImageJ=1.54f\nunit=micron\nspacing=3\n', xResolution: 0.5 });
      files[`__MACOSX/scan/._slice_${z}.tif`] = new Uint8Array(82);
      files[`scan/._slice_${z}.tif`] = new Uint8Array(82);
    }
    const d = await upload('slices.zip', files);
    const store = await openVolume(ctx.ws.abs(d.relPath));
    expect(store.meta.shape).toEqual([NZ, NY, NX]);
    expect(store.meta.spacingUm).toEqual([3, 2, 2]);
    const v = await store.readBlock({ start: [0, 0, 0], shape: [NZ, 1, 1] });
    expect(Array.from(v)).toEqual(Array.from({ length: NZ }, (_, z) => z + 1));
  });

  it('a zipped OME-Zarr 0.5 folder imports with its voxel size', async () => {
    const axes = ['z', 'y', 'x'].map((name) => ({ name, type: 'space', unit: 'millimeter' }));
    const ms = { axes, datasets: [{ path: 's0', coordinateTransformations: [{ type: 'scale', scale: [0.004, 0.002, 0.002] }] }] };
    const arr = {
      zarr_format: 3, node_type: 'array', shape: [NZ, NY, NX], data_type: 'uint8', fill_value: 0, codecs: [{ name: 'bytes' }],
      chunk_grid: { name: 'regular', configuration: { chunk_shape: [NZ, NY, NX] } }, chunk_key_encoding: { name: 'default', configuration: { separator: '/' } },
    };
    const enc = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));
    const d = await upload('scan.ome.zarr.zip', {
      'scan.ome.zarr/zarr.json': enc({ zarr_format: 3, node_type: 'group', attributes: { ome: { version: '0.5', multiscales: [ms] } } }),
      'scan.ome.zarr/s0/zarr.json': enc(arr),
      'scan.ome.zarr/s0/c/0/0/0': Uint8Array.from({ length: NZ * NY * NX }, (_, i) => i % 251),
    });
    const store = await openVolume(ctx.ws.abs(d.relPath));
    expect(store.meta.shape).toEqual([NZ, NY, NX]);
    store.meta.spacingUm.forEach((s, i) => expect(s).toBeCloseTo([4, 2, 2][i]!, 9));
    const v = await store.readBlock({ start: [NZ - 1, NY - 1, 0], shape: [1, 1, NX] });
    expect(Array.from(v)).toEqual(Array.from({ length: NX }, (_, x) => (NZ * NY * NX - NX + x) % 251));
  });
});
