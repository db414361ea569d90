/**
 * A label image's legend as users write it: `code,name` (or `id,name`), no colours. Before, such a
 * legend was refused ("cannot tell the columns from "code,name"") although a label image needs no
 * colours; now each mineral gets a distinct colour of its own, and a colour map given such a legend
 * is refused in words (its pixels cannot be told apart without colours).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode } from 'fast-png';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importMineralMap } from '../../../lib/eds/import-node';
import { parseLegend } from '../../../lib/eds/legend';
import { isPetromapError } from '../../../lib/errors';
import { tiffBytes } from './tiff-helper';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'petromap-codename-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, content: string | Uint8Array): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, content);
  return p;
}

describe('code,name legends of label images', () => {
  it('parses code,name with or without a header, ids kept, colours distinct and marked as assigned', () => {
    for (const text of ['code,name\n1,Quartz\n2,K-feldspar\n5,Apatite\n0,Unclassified\n', '1;Quartz\r\n2;K-feldspar\r\n5;Apatite\r\n0;Unclassified\r\n', '\uFEFFID\tMineral\n1\tQuartz\n2\tK-feldspar\n5\tApatite\n0\tUnclassified\n']) {
      const l = parseLegend(text, 'legend.csv');
      expect(l.explicitIds).toBe(true);
      expect(l.coloursGiven).toBe(false);
      expect(l.phases.map((p) => [p.id, p.name])).toEqual([[1, 'Quartz'], [2, 'K-feldspar'], [5, 'Apatite']]);
      expect(l.unclassified.map((u) => u.id)).toEqual([0]);
      expect(new Set(l.phases.map((p) => p.color.join())).size).toBe(3);
    }
    // many minerals: colours stay distinct past the fixed palette
    const many = parseLegend(Array.from({ length: 60 }, (_, i) => `${i + 1},mineral ${i + 1}`).join('\n'), 'big.csv');
    expect(new Set(many.phases.map((p) => p.color.join())).size).toBe(60);
    expect(parseLegend('name,r,g,b\nQuartz,1,2,3\n', 'l.csv').coloursGiven).toBe(true);
  });

  it('imports a label TIFF with a code,name legend: the labels are the codes', async () => {
    const tif = tiffBytes(3, 2, Uint8Array.of(1, 2, 5, 0, 5, 1));
    const map = await importMineralMap({ map: await file('labels.tif', tif), legend: await file('codes.csv', 'code,name\n1,Quartz\n2,K-feldspar\n5,Apatite\n'), pixelSizeUm: 1.6 });
    expect(Array.from(map.labels)).toEqual([1, 2, 5, 0, 5, 1]);
    expect(map.legend.map((p) => p.name)).toEqual(['Quartz', 'K-feldspar', 'Apatite']);
  });

  it('refuses a colour map given a code,name legend, saying what each one needs', async () => {
    const rgb = Uint8Array.of(255, 0, 0, 0, 255, 0);
    const png = await file('colours.png', encode({ width: 2, height: 1, data: rgb, channels: 3, depth: 8 }));
    let msg = '';
    try {
      await importMineralMap({ map: png, legend: await file('codes2.csv', 'code,name\n1,Quartz\n2,Pyrite\n'), pixelSizeUm: 1 });
    } catch (e) {
      expect(isPetromapError(e)).toBe(true);
      msg = (e as Error).message;
    }
    expect(msg).toMatch(/colours\.png is a colour image, but its legend codes2\.csv gives only codes and names, no colours.*name,r,g,b.*label image/);
  });
});
