/**
 * The EDS map a command reads (`register --map`, `run --eds`): a folder written by `petromap
 * import-eds` (read as stored: it carries its legend and pixel size), or a map image / TIMA export
 * imported now. A stored map given a --legend or --pixel-um is refused, not read with them ignored:
 * the stored legend and pixel size would silently win.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { MineralMap } from '../eds/types';
import { invalidInput, type StageOptions } from '../errors';

/** True for a folder written by `petromap import-eds` (its map.json). */
export const isStoredMineralMap = (path: string): boolean =>
  !!statSync(path, { throwIfNoEntry: false })?.isDirectory() && existsSync(join(path, 'map.json'));

export async function readEdsInput(path: string, legend: string | undefined, pixelSizeUm: number | undefined, opts: StageOptions & { flag: string }): Promise<MineralMap> {
  if (isStoredMineralMap(path)) {
    const extra = [legend !== undefined && '--legend', pixelSizeUm !== undefined && '--pixel-um'].filter(Boolean);
    if (extra.length) {
      throw invalidInput(`${opts.flag} ${path} is a map imported with "petromap import-eds": it carries its own legend and pixel size, so ${extra.join(' and ')} would be ignored. ` +
        `Leave ${extra.join(' and ')} out, or import the map again with the right ${extra.length > 1 ? 'ones' : 'one'} (petromap import-eds <map> --legend … --pixel-um … --out <folder>).`);
    }
    const { loadMineralMap } = await import('../eds/store-node');
    return loadMineralMap(path);
  }
  const { importMineralMap } = await import('../eds/import-node');
  const { limitsFromEnv } = await import('../limits');
  return importMineralMap({ map: path, legend, pixelSizeUm }, { signal: opts.signal, onProgress: opts.onProgress, limits: limitsFromEnv() });
}
