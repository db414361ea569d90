/**
 * Volumes as other tools write them (tifffile, nibabel, zarr-python 2, OME-Zarr 0.5 by hand; see
 * formats-foreign-writers.py): every voxel and the voxel size in µm reach the store, and what
 * petromap cannot import is refused with a message naming what to do. Needs Debian's
 * python3-tifffile, python3-nibabel and python3-zarr (.ci/run installs them); PETROMAP_SKIP_PY=1 skips.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeVolumeFile, importVolume } from '../../../lib/volume/import-node';
import { openVolume } from '../../../lib/volume/zarr-store-node';

const skip = process.env.PETROMAP_SKIP_PY === '1';
const [Z, Y, X] = [12, 20, 24];
const base = (z: number, y: number, x: number) => (z * Y * X + y * X + x) % 251;

let dir: string;
beforeAll(() => {
  if (skip) return;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'petromap-foreign-'));
  execFileSync('/usr/bin/python3', [path.join(__dirname, 'formats-foreign-writers.py'), dir], { encoding: 'utf8', env: { ...process.env, PYTHONWARNINGS: 'ignore' } });
}, 60_000);
afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** Imports `name` and checks every voxel against value(base) and the voxel size (z, y, x) in µm. */
async function check(name: string, value: (b: number) => number, spacingUm: [number, number, number] | null, dtype: string) {
  const store = path.join(dir, 'out', `${name}.store.ome.zarr`);
  const meta = await importVolume(path.join(dir, name), store);
  expect(meta.shape).toEqual([Z, Y, X]);
  expect(meta.dtype).toBe(dtype);
  if (spacingUm) meta.spacingUm.forEach((s, i) => expect(s).toBeCloseTo(spacingUm[i]!, 6));
  else expect(meta.spacingUm).toEqual([1, 1, 1]);
  const v = await (await openVolume(store)).readBlock({ start: [0, 0, 0], shape: [Z, Y, X] });
  let wrong = 0;
  for (let z = 0, i = 0; z < Z; z++) for (let y = 0; y < Y; y++) for (let x = 0; x < X; x++, i++) if (v[i] !== value(base(z, y, x))) wrong++;
  expect(wrong, `${name}: voxels that differ from the writer's`).toBe(0);
  return meta;
}

const u16 = (b: number) => b * 200;
const same = (b: number) => b;

describe.skipIf(skip)('volumes written by other tools', () => {
  it('TIFF stacks from tifffile: 8-bit, signed 16-bit, float32, big-endian, deflate with predictor (also big-endian), tiled, BigTIFF', async () => {
    await check('u8.tif', same, null, 'uint8');
    await check('i16-signed.tif', (b) => b * 100 - 12000, null, 'float32');
    await check('f32.tif', (b) => b / 8, null, 'float32');
    await check('u16-big-endian.tif', u16, null, 'uint16');
    await check('f32-big-endian.tif', (b) => b / 8, null, 'float32');
    await check('u16-deflate-predictor.tif', u16, null, 'uint16');
    await check('u16-tiled.tif', u16, null, 'uint16');
    await check('u16-bigtiff-tiled-deflate-be.tif', u16, null, 'uint16');
    // big-endian with the horizontal predictor: geotiff undid it on the bytes as if little-endian (0 200 400 600 read 0 200 144 88)
    await check('u16-big-endian-deflate-predictor.tif', u16, null, 'uint16');
    await check('i16-big-endian-tiled-predictor.tif', (b) => b * 100 - 12000, null, 'float32');
  });

  it('voxel size from ImageJ descriptions (mm, micron), resolution tags in cm and inch, and OME-XML', async () => {
    await check('u16-imagej-mm.tif', u16, [3, 2.5, 2.5], 'uint16');
    await check('i16-imagej-micron.tif', (b) => b - 100, [3, 2.5, 2.5], 'float32');
    await check('u8-resolution-cm.tif', same, [2.5, 2.5, 2.5], 'uint8');
    await check('u8-resolution-inch.tif', same, [2.5, 2.5, 2.5], 'uint8');
    await check('u8-ome.ome.tif', same, [3, 2.5, 2.5], 'uint8');
  });

  it('an OME-TIFF with two channels is refused, naming them', async () => {
    await expect(describeVolumeFile(path.join(dir, 'two-channels.ome.tif'))).rejects.toThrow(/OME-TIFF with 2 channels; petromap imports one greyscale 3D stack/);
  });

  it('a folder slice_1 … slice_12 (no zero padding) is stacked in numeric order', async () => {
    await check('slices-unpadded', u16, [3, 2.5, 2.5], 'uint16');
    // the same files listed as a shell's slice_*.tif lists them (slice_1, slice_10, slice_11, slice_12, slice_2, ...)
    const listed = fs.readdirSync(path.join(dir, 'slices-unpadded')).sort().map((f) => path.join(dir, 'slices-unpadded', f));
    expect(path.basename(listed[1]!)).toBe('slice_10.tif');
    const store = path.join(dir, 'out', 'listed.ome.zarr');
    await importVolume(listed, store);
    const v = await (await openVolume(store)).readBlock({ start: [0, 0, 0], shape: [Z, 1, 1] });
    expect(Array.from(v)).toEqual(Array.from({ length: Z }, (_, z) => u16(base(z, 0, 0))));
  });

  it('SkyScan NRecon slices (8-bit BMP, 16-bit TIFF) get the voxel size of their reconstruction log; 16-bit PNG slices stack in numeric order', async () => {
    const bmp = await check('skyscan-bmp', same, [4.99998, 4.99998, 4.99998], 'uint8');
    expect(bmp.spacingUm).toEqual([4.99998, 4.99998, 4.99998]);
    expect((await describeVolumeFile(path.join(dir, 'skyscan-bmp'))).notes).toContain('voxel size from the SkyScan log sample_rec.log: 4.99998 µm');
    await check('skyscan-tif', u16, [4.99998, 4.99998, 4.99998], 'uint16');
    await check('png16-slices', u16, null, 'uint16');
  });

  it('NIfTI-1 and NIfTI-2 from nibabel (.nii and .nii.gz, mm)', async () => {
    await check('i16.nii', same, [3, 2.5, 2.5], 'float32');
    await check('i16.nii.gz', same, [3, 2.5, 2.5], 'float32');
    await check('u16-nifti2.nii.gz', u16, [3, 2.5, 2.5], 'uint16');
  });

  it('OME-Zarr 0.4 / Zarr v2 from zarr-python (blosc), the bioformats2raw layout and a t,c,z,y,x image in mm', async () => {
    await check('v2.ome.zarr', u16, [3, 2.5, 2.5], 'uint16');
    await check('bioformats2raw.ome.zarr', u16, [3, 2.5, 2.5], 'uint16');
    await check('v2-tczyx-mm.ome.zarr', u16, [3, 2.5, 2.5], 'uint16');
    expect((await describeVolumeFile(path.join(dir, 'v2.ome.zarr'))).format).toBe('ome-zarr');
  });

  it('OME-Zarr 0.5 / Zarr v3 (gzip; big-endian int16), with its translation as the origin', async () => {
    const meta = await check('v3.ome.zarr', u16, [3, 2.5, 2.5], 'uint16');
    expect(meta.originUm).toEqual([30, 0, 0]);
    await check('v3-i16-big-endian.ome.zarr', (b) => b - 50, [3, 2.5, 2.5], 'float32');
  });

  it('Zarr folders petromap cannot import are refused with what to do, nothing written', async () => {
    const out = path.join(dir, 'refused.ome.zarr');
    await expect(importVolume(path.join(dir, 'v2-three-channels.ome.zarr'), out)).rejects.toThrow(/holds 3 channels; petromap imports one greyscale 3D volume/);
    await expect(importVolume(path.join(dir, 'plain-group.zarr'), out)).rejects.toThrow(/Zarr folder but not an OME-Zarr image/);
    expect(fs.existsSync(out)).toBe(false);
    expect(fs.readdirSync(dir).filter((f) => f.includes('.partial-'))).toEqual([]);
  });
});
