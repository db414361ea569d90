/**
 * Zipped volumes as people make them: TIFF slices named slice_1 … slice_12 without zero padding
 * (with the macOS resource forks a Finder zip adds) stack in the names' numeric order, and a
 * zipped OME-Zarr folder from another tool imports with its voxel size, and zipped SkyScan BMP
 * slices with their reconstruction log's.
 */
import { writeFile } from 'node:fs/promises';
import { zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importVolumeDataset } from '@/server/storage/datasets';
import { openVolume } from '@/lib/volume/zarr-store-node';
import { tiffBytes } from '../lib/volume/fixtures';
import { tempProject, type TempProject } from './temp-workspace';

let ctx: TempProject;
const [NZ, NY, NX] = [12, 6, 8];

beforeAll(() => {
  ctx = tempProject('zip tests', { prefix: 'petromap-zips-' });
});
afterAll(() => ctx.cleanup());

async function upload(name: string, files: Record<string, Uint8Array>) {
  const tmp = ctx.ws.tmpPath('t') + '.zip';
  await writeFile(tmp, zipSync(files));
  return importVolumeDataset(ctx, ctx.projectId, name, tmp, { spacingUm: undefined });
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

  it('a zip of SkyScan NRecon BMP slices with its reconstruction log imports with the log\'s voxel size', async () => {
    const files: Record<string, Uint8Array> = { 'rec/sample_rec.log': new TextEncoder().encode('[Reconstruction]\r\nPixel Size (um)=6.5\r\n') };
    for (let z = 0; z < NZ; z++) files[`rec/sample_rec${String(z).padStart(8, '0')}.bmp`] = greyBmp(NX, NY, (_x, y) => z * 10 + y);
    const d = await upload('rec.zip', files);
    const store = await openVolume(ctx.ws.abs(d.relPath));
    expect(store.meta.spacingUm).toEqual([6.5, 6.5, 6.5]);
    const v = await store.readBlock({ start: [0, 0, 0], shape: [NZ, NY, 1] });
    expect(Array.from(v)).toEqual(Array.from({ length: NZ * NY }, (_, i) => Math.floor(i / NY) * 10 + (i % NY)));
  });
});

/** An 8-bit BMP with a grey palette, rows bottom-up and padded to 4 bytes, as NRecon writes it. */
function greyBmp(w: number, h: number, value: (x: number, y: number) => number): Uint8Array {
  const stride = Math.ceil(w / 4) * 4;
  const dataAt = 14 + 40 + 256 * 4;
  const b = Buffer.alloc(dataAt + stride * h);
  b.write('BM', 0, 'latin1');
  b.writeUInt32LE(b.length, 2);
  b.writeUInt32LE(dataAt, 10);
  b.writeUInt32LE(40, 14);
  b.writeInt32LE(w, 18);
  b.writeInt32LE(h, 22);
  b.writeUInt16LE(1, 26);
  b.writeUInt16LE(8, 28);
  b.writeUInt32LE(256, 46);
  for (let i = 0; i < 256; i++) b.writeUInt32LE(i * 0x010101, 54 + i * 4);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) b[dataAt + (h - 1 - y) * stride + x] = value(x, y);
  return b;
}
