/**
 * Uploads become datasets through the real importers: good files land as ready datasets, bad
 * ones answer with a message naming the file and leave nothing behind (no row, no folder).
 */
import { existsSync, readdirSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importEdsDataset, importVolumeDataset } from '@/server/storage/datasets';
import { generateSandstone } from '@/lib/synthetic';
import { writeSyntheticSample } from '@/lib/synthetic/write-sample-node';
import { openVolume } from '@/lib/volume/zarr-store-node';
import { makeTruncatedTiff } from '../e2e/tiff-fixture.mjs';
import { tempProject, type TempProject } from './temp-workspace';

let ctx: TempProject;
let sampleDir: string;
const sample = generateSandstone({ shape: [20, 48, 56], voxelUm: 2, eds: { pixelUm: 2.5 } });

beforeAll(async () => {
  ctx = tempProject('upload tests');
  sampleDir = path.join(ctx.root, 'sample');
  await writeSyntheticSample(sampleDir, sample);
});
afterAll(() => ctx.cleanup());

const datasetDirs = () => readdirSync(path.join(ctx.root, 'datasets'));
async function copyToTmp(src: string, ext: string) {
  const p = ctx.ws.tmpPath('t') + ext;
  await writeFile(p, await readFile(src));
  return p;
}

describe('volume uploads', () => {
  it('imports an NRRD into a chunked store with a pyramid', async () => {
    const d = await importVolumeDataset(ctx, ctx.projectId, 'sandstone.nrrd', await copyToTmp(path.join(sampleDir, 'volume.nrrd'), '.nrrd'));
    expect(d.status).toBe('ready');
    const store = await openVolume(ctx.ws.abs(d.relPath));
    expect(store.meta.shape).toEqual([20, 48, 56]);
    const block = await store.readBlock({ start: [5, 0, 0], shape: [1, 48, 56] });
    expect(Array.from(block.slice(0, 50))).toEqual(Array.from(sample.volume.data.slice(5 * 48 * 56, 5 * 48 * 56 + 50)));
  });

  it('refuses a truncated TIFF, naming the file, and leaves nothing behind', async () => {
    const before = datasetDirs().length;
    const rows = ctx.repo.listDatasets(ctx.projectId).length;
    const truncated = makeTruncatedTiff();
    const tmp = ctx.ws.tmpPath('t') + '.tif';
    await writeFile(tmp, truncated);
    await expect(importVolumeDataset(ctx, ctx.projectId, 'scan-0042.tif', tmp)).rejects.toThrow(/scan-0042\.tif/);
    expect(datasetDirs().length).toBe(before);
    expect(ctx.repo.listDatasets(ctx.projectId).length).toBe(rows);
  });

  it('refuses an unknown extension', async () => {
    const tmp = ctx.ws.tmpPath('t') + '.xyz';
    await writeFile(tmp, 'hello');
    await expect(importVolumeDataset(ctx, ctx.projectId, 'notes.xyz', tmp)).rejects.toThrow(/notes\.xyz/);
  });
});

describe('EDS uploads', () => {
  it('imports a zip of map + legend + BSE with its pixel size', async () => {
    const zip = zipSync({
      'eds-map.png': await readFile(path.join(sampleDir, 'eds-map.png')),
      'eds-legend.csv': await readFile(path.join(sampleDir, 'eds-legend.csv')),
      'bse.png': await readFile(path.join(sampleDir, 'bse.png')),
      'info.json': Buffer.from(JSON.stringify({ pixelSizeUm: 2.5 })),
    });
    const tmp = ctx.ws.tmpPath('t') + '.zip';
    await writeFile(tmp, zip);
    const d = await importEdsDataset(ctx, ctx.projectId, 'surface-map.zip', tmp);
    const info = d.info as { width: number; pixelSizeUm: number; legend: { name: string }[]; companions: string[] };
    expect(info.width).toBe(sample.eds.width);
    expect(info.pixelSizeUm).toBe(2.5);
    expect(info.legend.map((l) => l.name)).toContain('Quartz');
    expect(info.companions).toContain('BSE');
  });

  it('explains that a bare map image needs its legend', async () => {
    const tmp = await copyToTmp(path.join(sampleDir, 'eds-map.png'), '.png');
    await expect(importEdsDataset(ctx, ctx.projectId, 'map.png', tmp)).rejects.toThrow(/legend/);
  });

  it('a legend missing a colour of the map lists the colour and keeps nothing', async () => {
    const csv = (await readFile(path.join(sampleDir, 'eds-legend.csv'), 'utf8')).split('\n').filter((l) => !/quartz/i.test(l)).join('\n');
    const zip = zipSync({ 'eds-map.png': await readFile(path.join(sampleDir, 'eds-map.png')), 'legend.csv': Buffer.from(csv), 'info.json': Buffer.from('{"pixelSizeUm": 2.5}') });
    const tmp = ctx.ws.tmpPath('t') + '.zip';
    await writeFile(tmp, zip);
    const before = datasetDirs().length;
    await expect(importEdsDataset(ctx, ctx.projectId, 'bad-legend.zip', tmp)).rejects.toThrow(/#[0-9a-f]{6}/i);
    expect(datasetDirs().length).toBe(before);
    expect(existsSync(tmp)).toBe(true);
  });
});
