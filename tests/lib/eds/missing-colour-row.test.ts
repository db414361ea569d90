/**
 * A colour the legend lacks (N5: a mineralogist's legend without its Pyrite row): the refusal gives
 * the row to add in the legend's own notation (name,r,g,b), not only the colour's hex.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode } from 'fast-png';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importMineralMap } from '../../../lib/eds/import-node';

let dir: string;
beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'petromap-missing-colour-')); });
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

async function mapWithPyrite(): Promise<string> {
  const w = 20, h = 10, data = new Uint8Array(w * h * 3);
  for (let i = 0; i < w * h; i++) data.set(i % w < 3 && i < 3 * w ? [255, 204, 0] : i % 2 ? [255, 255, 153] : [102, 204, 255], 3 * i);
  const p = join(dir, 'phase_map.png');
  await writeFile(p, encode({ width: w, height: h, data, channels: 3, depth: 8 }));
  return p;
}

describe('a colour the legend lacks', () => {
  it('name,r,g,b legend: the refusal gives the row to add as r,g,b and as hex', async () => {
    const legend = join(dir, 'legend.csv');
    await writeFile(legend, 'Mineral,Red,Green,Blue\nQuartz,255,255,153\nAlbite,102,204,255\nUnclassified,128,128,128\n');
    await expect(importMineralMap({ map: await mapWithPyrite(), legend, pixelSizeUm: 1.7 })).rejects.toThrow(
      /#ffcc00 \(9 px, first at column 0, row 0\)\. Add them to the legend \(as a mineral, or named "Unclassified"\), e\.g\. a row <mineral>,255,204,0 \(or <mineral>,#ffcc00\) for #ffcc00, or re-export/,
    );
  });
  it('id,name,r,g,b legend: the row starts with an id', async () => {
    const legend = join(dir, 'legend-ids.csv');
    await writeFile(legend, 'id,name,r,g,b\n1,Quartz,255,255,153\n2,Albite,102,204,255\n');
    await expect(importMineralMap({ map: await mapWithPyrite(), legend, pixelSizeUm: 1.7 })).rejects.toThrow(/e\.g\. a row <id>,<mineral>,255,204,0/);
  });
});
