/**
 * `petromap import-eds <map.png|map.tif|tima-folder> [--legend legend.csv] [--pixel-um 2.5]
 *   [--bse bse.png] [--companion Fe=fe.tif ...] --out <dir>`
 * Imports an EDS mineral map (lib/eds), stores it in <dir> (map.json, labels.u16, companions) and
 * prints a JSON summary (size, pixel size, phases with area %, unclassified %) on stdout.
 * On failure: one line `petromap import-eds: <message>` on stderr (paths reduced to their last
 * component, clipped) and exit code 1. Limits for hostile input come from the environment
 * (lib/limits.ts). `--out` must be new, empty or a folder petromap wrote: a user's folder is never replaced.
 */
import { importMineralMap, type MineralMapInput } from '../eds/import-node';
import { rgbToHex } from '../eds/legend';
import { checkMineralMapFolder, mineralAreaFractions, saveMineralMap } from '../eds/store-node';
import { unclassifiedFraction, type MineralMap } from '../eds/types';
import { invalidInput, isPetromapError } from '../errors';
import { limitsFromEnv, safeMessage } from '../limits';
import { progressBar } from './progress';

export const USAGE =
  'usage: petromap import-eds <map.png|map.tif|tima-export-folder> [--legend legend.csv] [--pixel-um <µm>] ' +
  '[--bse bse.png] [--companion <name>=<image>]... --out <dir>';

interface Args {
  input: MineralMapInput;
  out: string;
}

export function parseImportEdsArgs(argv: string[]): Args {
  let map: string | undefined, legend: string | undefined, out: string | undefined, pixelSizeUm: number | undefined;
  const companions: { name: string; path: string }[] = [];
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw invalidInput(`${flag} needs a value. ${USAGE}`);
      return v;
    };
    if (flag === '--legend') legend = value();
    else if (flag === '--out') out = value();
    else if (flag === '--pixel-um') {
      const s = value();
      pixelSizeUm = Number(s);
      if (!(pixelSizeUm > 0) || !Number.isFinite(pixelSizeUm)) throw invalidInput(`--pixel-um must be a positive number of micrometres, not "${s}".`);
    } else if (flag === '--bse') companions.push({ name: 'BSE', path: value() });
    else if (flag === '--companion') {
      const s = value();
      const eq = s.indexOf('=');
      if (eq <= 0 || eq === s.length - 1) throw invalidInput(`--companion takes <name>=<image>, e.g. --companion Fe=fe.tif, not "${s}".`);
      companions.push({ name: s.slice(0, eq), path: s.slice(eq + 1) });
    } else if (flag.startsWith('--')) throw invalidInput(`unknown option ${flag}. ${USAGE}`);
    else if (map === undefined) map = flag;
    else throw invalidInput(`only one map can be imported at a time (got ${map} and ${flag}). ${USAGE}`);
  }
  if (!map) throw invalidInput(`give the mineral map image or TIMA export folder. ${USAGE}`);
  if (!out) throw invalidInput(`--out <dir> is required (where the imported map is stored). ${USAGE}`);
  return { input: { map, legend, pixelSizeUm, companions }, out };
}

export interface ImportEdsSummary {
  source?: string;
  out: string;
  width: number;
  height: number;
  pixelSizeUm: number;
  /** phases sorted by area, % of all map pixels */
  phases: { id: number; name: string; color: string; areaPercent: number }[];
  unclassifiedPercent: number;
  companions: string[];
}

export function summariseMineralMap(map: MineralMap, out: string): ImportEdsSummary {
  const fr = mineralAreaFractions(map);
  const r = (x: number) => Math.round(x * 1e4) / 1e2;
  return {
    source: map.source,
    out,
    width: map.width,
    height: map.height,
    pixelSizeUm: map.pixelSizeUm,
    phases: map.legend
      .map((p) => ({ id: p.id, name: p.name, color: rgbToHex(p.color), areaPercent: r(fr.get(p.id) ?? 0) }))
      .sort((a, b) => b.areaPercent - a.areaPercent),
    unclassifiedPercent: r(unclassifiedFraction(map)),
    companions: map.companions.map((c) => c.name),
  };
}

export async function main(argv: string[]): Promise<number> {
  try {
    const { input, out } = parseImportEdsArgs(argv);
    const limits = limitsFromEnv();
    await checkMineralMapFolder(out); // refuse a user's folder before the (long) import
    const bar = process.stderr.isTTY ? progressBar('import-eds') : undefined;
    const map = await importMineralMap(input, { onProgress: bar, limits });
    bar?.done();
    await saveMineralMap(out, map);
    process.stdout.write(JSON.stringify(summariseMineralMap(map, out), null, 2) + '\n');
    return 0;
  } catch (err) {
    const msg = isPetromapError(err) || err instanceof Error ? err.message : String(err);
    process.stderr.write(`petromap import-eds: ${safeMessage(msg, 400)}\n`);
    if (!isPetromapError(err) && process.env.PETROMAP_DEBUG) console.error(err);
    return 1;
  }
}
