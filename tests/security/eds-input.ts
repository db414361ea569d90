/**
 * The EDS import as the product runs it, for the security harness (kinds 'eds' and 'legend'):
 * a folder with the map image (map.png / map.tif / map.tiff), legend.csv (or legend.json) and an
 * optional pixel.json `{ "pixelSizeUm": 2 }` goes through importMineralMap + saveMineralMap with
 * the limits from the environment, like `petromap import-eds` (lib/cli/import-eds.ts).
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { importMineralMap } from '../../lib/eds/import-node';
import { saveMineralMap } from '../../lib/eds/store-node';
import { limitsFromEnv } from '../../lib/limits';

export async function importEdsFolderForTest(inputDir: string, outDir: string): Promise<void> {
  const names = await readdir(inputDir);
  const map = names.find((n) => /^map\.(png|tiff?)$/i.test(n));
  const legend = names.find((n) => /^legend\.(csv|json|tsv|txt)$/i.test(n));
  if (!map) throw new Error(`test input ${inputDir} has no map.png / map.tif`);
  let pixelSizeUm: number | undefined;
  if (names.includes('pixel.json')) pixelSizeUm = (JSON.parse(await readFile(join(inputDir, 'pixel.json'), 'utf8')) as { pixelSizeUm?: number }).pixelSizeUm;
  const limits = limitsFromEnv();
  const m = await importMineralMap({ map: join(inputDir, map), legend: legend ? join(inputDir, legend) : undefined, pixelSizeUm }, { limits });
  await saveMineralMap(outDir, m);
}
