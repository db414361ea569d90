/**
 * A scan whose file gives no voxel size (a plain TIFF slice stack) imported in the web app at a
 * silent 1 µm: the dataset now says the size was assumed, a size given with the upload replaces
 * it, and the automatic search refuses a map that at that voxel size is far larger than the scan
 * (the real TIMA export, 20 mm at 12.05 µm/px, on a 160-voxel scan at 1 µm: the search grew past
 * 6 GiB without progress and could not be cancelled) in words that say what to fix: the server
 * refuses it before a job with the registration stage's own check (lib/registration/map-scale.ts).
 */
import { writeFile } from 'node:fs/promises';
import { zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importVolumeDataset } from '@/server/storage/datasets';
import { datasetOut, type VolumeInfoOut } from '@/server/routers/datasets';
import { refuseOversizedMap } from '@/server/pipeline/correlate';
import { tiffBytes } from '../lib/volume/fixtures';
import { tempProject, type TempProject } from './temp-workspace';

let ctx: TempProject;
const [NZ, NY, NX] = [4, 6, 8];

beforeAll(() => {
  ctx = tempProject('voxel size', { prefix: 'petromap-voxel-' });
});
afterAll(() => ctx.cleanup());

/** zipped slices rec_0000 … rec_0003, optionally with ImageJ's spacing in each */
async function upload(name: string, opts: { imagej?: boolean; spacingUm?: [number, number, number] } = {}) {
  const files: Record<string, Uint8Array> = {};
  for (let z = 0; z < NZ; z++) {
    const page = new Uint16Array(NY * NX).fill(100 + z);
    files[`scan/rec_${String(z).padStart(4, '0')}.tif`] = opts.imagej ? tiffBytes([page], NY, NX, { description: 'ImageJ=1.54f\nunit=micron\nspacing=3\n', xResolution: 0.5 }) : tiffBytes([page], NY, NX);
  }
  const tmp = ctx.ws.tmpPath('t') + '.zip';
  await writeFile(tmp, zipSync(files));
  return datasetOut(await importVolumeDataset(ctx, ctx.projectId, name, tmp, { spacingUm: opts.spacingUm }));
}

describe('a voxel size the file does not give', () => {
  it('is marked assumed (1 µm); a file with ImageJ spacing and a size given with the upload are not', async () => {
    const bare = await upload('bare.zip');
    expect(bare.meta?.spacingUm).toEqual([1, 1, 1]);
    expect(bare.spacingAssumed).toBe(true);
    const imagej = await upload('imagej.zip', { imagej: true });
    expect(imagej.meta?.spacingUm).toEqual([3, 2, 2]);
    expect(imagej.spacingAssumed).toBe(false);
    const given = await upload('given.zip', { spacingUm: [2, 2, 2] });
    expect(given.meta?.spacingUm).toEqual([2, 2, 2]);
    expect(given.spacingAssumed).toBe(false);
    // old datasets (no flag stored) read as not assumed
    const old = datasetOut({ ...ctx.repo.dataset(bare.id)!, info: { meta: bare.meta!, levels: 1 } satisfies VolumeInfoOut });
    expect(old.spacingAssumed).toBe(false);
  });
});

describe('the automatic search on a map far larger than the scan', () => {
  // the real TIMA export's size and a legend of 30 phases that cover it
  const tima = { name: 'STA-export.zip', info: { width: 1660, height: 1660, pixelSizeUm: 12.048, legend: Array.from({ length: 30 }, (_, i) => ({ id: i + 1, name: `phase ${i + 1}`, color: [0, 0, 0], areaFraction: 1 / 30 })) } };
  const volumeOf = (id: string) => ({ info: ctx.repo.dataset(id)!.info });
  it('is refused before a job starts by the registration stage\'s check, naming both sizes and the assumed voxel size', async () => {
    const bare = await upload('bare-search.zip');
    expect(() => refuseOversizedMap(tima, volumeOf(bare.id))).toThrow(/STA-export.zip covers 20 mm × 20 mm .*20000 × 20000 voxels of 1 µm: 3333 times as wide as the scan \(8 × 6 voxels, 8 µm × 6 µm\).*no voxel size, so 1 µm was assumed.*upload it again with its voxel size/);
    const given = await upload('given-search.zip', { spacingUm: [1, 1, 1] });
    expect(() => refuseOversizedMap(tima, volumeOf(given.id))).toThrow(/Check the voxel size of the scan and the pixel size of the map/);
  });
  it('goes ahead at a voxel size that makes the map a size the search covers', async () => {
    // 1660 px at 12.05 µm on 8 x 6 voxels of 2.5 mm: the map is 8 voxels wide
    const coarse = await upload('coarse-search.zip', { spacingUm: [2500, 2500, 2500] });
    expect(() => refuseOversizedMap(tima, volumeOf(coarse.id))).not.toThrow();
  });
});
