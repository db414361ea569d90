/**
 * Zipped EDS maps as people make them: a legend saved by Excel as "Unicode text" (legend.txt,
 * UTF-16, tabs) imports; a JPEG map is refused saying why (not "no map image found"), nothing stored.
 */
import { readdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { encode } from 'fast-png';
import { zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importEdsDataset } from '@/server/storage/datasets';
import { tempProject, type TempProject } from './temp-workspace';

let ctx: TempProject;
beforeAll(() => {
  ctx = tempProject('eds zips', { prefix: 'petromap-eds-zips-' });
});
afterAll(() => ctx.cleanup());

const W = 20;
const H = 10;
const png = encode({ width: W, height: H, channels: 3, depth: 8, data: Uint8Array.from({ length: W * H * 3 }, (_, i) => (Math.floor(i / 3) % W < 10 ? [255, 255, 0] : [0, 128, 0])[i % 3]!) });
const info = new TextEncoder().encode('{"pixelSizeUm": 2.5}');

async function upload(name: string, files: Record<string, Uint8Array>) {
  const tmp = ctx.ws.tmpPath('t') + '.zip';
  await writeFile(tmp, zipSync(files));
  return importEdsDataset(ctx, ctx.projectId, name, tmp);
}

describe('zipped EDS maps', () => {
  it("a legend saved as Excel's Unicode text (legend.txt, UTF-16, tabs) imports", async () => {
    const legend = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('Mineral\tR\tG\tB\r\nQuartz \t255\t255\t0\r\nClay (illite)\t0\t128\t0\r\n', 'utf16le')]);
    const d = await upload('section.zip', { 'section/phase map.png': png, 'section/legend.txt': legend, 'section/info.json': info });
    const legendOut = (d.info as { legend: { name: string; pixels: number }[] }).legend.map((p) => [p.name, p.pixels]);
    expect(legendOut).toEqual([['Quartz', 100], ['Clay (illite)', 100]]);
  });

  it('a JPEG map in the zip is refused saying why, and nothing is stored', async () => {
    const before = ctx.repo.listDatasets(ctx.projectId).length;
    const dirs = readdirSync(path.join(ctx.root, 'datasets')).length;
    const legend = new TextEncoder().encode('name,r,g,b\nQuartz,255,255,0\n');
    await expect(upload('jpeg.zip', { 'map.jpg': Uint8Array.of(0xff, 0xd8, 0xff, 0xe0), 'legend.csv': legend, 'info.json': info })).rejects.toThrow(
      /map\.jpg is a JPEG: JPEG compression changes a phase map's colours/,
    );
    expect(ctx.repo.listDatasets(ctx.projectId).length).toBe(before);
    expect(readdirSync(path.join(ctx.root, 'datasets')).length).toBe(dirs);
  });
});
