/**
 * `petromap import-eds <map.png|map.tif|tima-folder> [--legend legend.csv] [--pixel-um 2.5]
 *   [--bse bse.png] [--companion Fe=fe.tif ...] [--dataset <sample|id>] [--preview out.png] [--crop x,y,w,h] --out <dir>`
 * Imports an EDS mineral map (lib/eds), stores it in <dir> (map.json, labels.u16, companions) and
 * prints a JSON summary (size, pixel size, phases with area %, minor phases, unclassified % and
 * not measured %) on stdout. A TIMA project folder holding several datasets needs `--dataset`;
 * without it the error lists them. `--preview` writes the coloured mosaic with its legend (PNG).
 * On failure: one line `petromap import-eds: <message>` on stderr (paths reduced to their last
 * component, clipped) and exit code 1. Limits for hostile input come from the environment
 * (lib/limits.ts). `--out` must be new, empty or a folder petromap wrote: a user's folder is never replaced.
 */
import { rename, rm, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { cropMineralMap, parseCropBox, type CropBox } from '../eds/crop';
import { importMineralMap, type MineralMapInput } from '../eds/import-node';
import { rgbToHex } from '../eds/legend';
import { groupMinorPhases, MINOR_PHASE_PX, phaseAreas } from '../eds/minor-phases';
import { renderMineralMapPreview } from '../eds/preview';
import { checkMineralMapFolder, saveMineralMap } from '../eds/store-node';
import { notMeasuredFraction, unclassifiedFraction, type MapCrop, type MineralMap } from '../eds/types';
import { invalidInput, isPetromapError } from '../errors';
import { limitsFromEnv, safeMessage } from '../limits';
import { nextAfterImportEds } from './next-step';
import { progressBar } from './progress';

export const USAGE = [
  'usage: petromap import-eds <map.png|map.tif|tima-export-folder> [legend.csv | --legend legend.csv] [--pixel-um <µm>]',
  '         [--bse bse.png] [--companion <name>=<image>]... [--dataset <sample|id>] [--preview out.png]',
  '         [--minor-px <n>] [--crop x,y,width,height] --out <dir>',
  '  Stores an EDS mineral map in <dir> for register, train and run: a colour map with its legend, a label image (one',
  '  integer per mineral) with its legend, or a TESCAN TIMA export folder (it brings its legend, pixel size and BSE).',
  '  legend.csv  one mineral a line: name,r,g,b (e.g. Quartz,236,220,180), id,name,r,g,b, name,#rrggbb or, for a label',
  '               image, code,name (e.g. 3,Albite); a header line is optional; a JSON legend [{ name, color: [r, g, b], id? }]',
  '               is read too. Rows named Unclassified or Unknown mean "no mineral"; Background (resin) trains as pore.',
  '  --pixel-um   the map\'s pixel size in µm, for an image that does not store it (a TIMA export gives its own)',
  '  --bse, --companion  further images of the same pixels (the BSE image; an element map as Fe=fe.tif), kept with the map',
  '  --dataset    a TIMA project folder holding several datasets: the one to import, by sample name',
  '               (from the project files) or id (the dataset folder, a GUID; a unique prefix will do)',
  '  --preview    also write the coloured mosaic with its legend as a PNG',
  `  --minor-px   phases with fewer pixels are grouped as "minor phases" in the summary and preview (default ${MINOR_PHASE_PX})`,
  '  --crop       keep only this box of the map, in map pixels (x right and y down from the top-left pixel 0,0), e.g.',
  '               --crop 200,150,400,300: for a map far larger than the scanned area. The BSE and element images and a TIMA',
  '               field layout are cut the same way; the pixel size is unchanged. map.json records the box ("crop"): a later',
  '               registration reads coordinates in the cropped map; pixel u,v there is u+x, v+y in the map as exported.',
  'Output (stdout, JSON), a summary: source, sampleName, out, width, height, pixelSizeUm, phases',
  '[{id, name, color, pixels, areaPercent}] (% of all map pixels, largest first), minorPhases',
  '{thresholdPx, count, pixels, areaPercent, names} or null, unclassifiedPercent (measured pixels with',
  'no mineral), notMeasuredPercent (area no TIMA field covers), companions, preview, crop ({x, y, width, height,',
  'fromWidth, fromHeight}, with --crop).',
].join('\n');

/** A legend file's name (a second word after the map is its legend, as in `petromap register`). */
const LEGEND_FILE = /\.(csv|tsv|txt|json)$/i;

/** One line for error messages (the full text is USAGE, printed by --help). */
const USAGE_LINE = 'usage: petromap import-eds <map|tima-folder> [options] --out <dir> (see petromap import-eds --help)';

interface Args {
  input: MineralMapInput;
  out: string;
  preview?: string;
  minorPx: number;
  crop?: CropBox;
}

export function parseImportEdsArgs(argv: string[]): Args {
  let map: string | undefined, legend: string | undefined, out: string | undefined, pixelSizeUm: number | undefined;
  let dataset: string | undefined, preview: string | undefined, minorPx = MINOR_PHASE_PX, positionalLegend: string | undefined;
  let crop: CropBox | undefined;
  const companions: { name: string; path: string }[] = [];
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw invalidInput(`${flag} needs a value. ${USAGE_LINE}`);
      return v;
    };
    if (flag === '--legend') legend = value();
    else if (flag === '--out') out = value();
    else if (flag === '--dataset') dataset = value();
    else if (flag === '--crop') crop = parseCropBox(value());
    else if (flag === '--preview') {
      preview = value();
      if (!/\.png$/i.test(preview)) throw invalidInput(`--preview writes a PNG; give a file name ending in .png, not "${preview}".`);
    } else if (flag === '--minor-px') {
      const s = value();
      minorPx = Number(s);
      if (!Number.isInteger(minorPx) || minorPx < 0) throw invalidInput(`--minor-px must be a whole number of pixels (0 groups nothing), not "${s}".`);
    }
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
    } else if (flag.startsWith('--')) throw invalidInput(`unknown option ${flag}. ${USAGE_LINE}`);
    else if (map === undefined) map = flag;
    // `import-eds map.png legend.csv`, as `petromap register` takes them: the second word is the legend
    else if (positionalLegend === undefined && LEGEND_FILE.test(flag)) positionalLegend = flag;
    else throw invalidInput(`only one map can be imported at a time (got ${map} and ${flag}). ${USAGE_LINE}`);
  }
  if (!map) throw invalidInput(`give the mineral map image or TIMA export folder. ${USAGE_LINE}`);
  if (positionalLegend !== undefined) {
    if (legend !== undefined) throw invalidInput(`two legends were given (${positionalLegend} and --legend ${legend}); give one. ${USAGE_LINE}`);
    legend = positionalLegend;
  }
  if (!out) throw invalidInput(`--out <dir> is required (where the imported map is stored). ${USAGE_LINE}`);
  return { input: { map, legend, pixelSizeUm, companions, dataset }, out, preview, minorPx, ...(crop ? { crop } : {}) };
}

export interface ImportEdsSummary {
  source?: string;
  sampleName?: string;
  out: string;
  width: number;
  height: number;
  pixelSizeUm: number;
  /** every phase (minor ones too), sorted by area, % of all map pixels */
  phases: { id: number; name: string; color: string; pixels: number; areaPercent: number }[];
  /** phases under the threshold, as displays group them */
  minorPhases: { thresholdPx: number; count: number; pixels: number; areaPercent: number; names: string[] } | null;
  /** measured pixels with no mineral, % of all map pixels */
  unclassifiedPercent: number;
  /** map area no field covers (TIMA mosaics), % of all map pixels */
  notMeasuredPercent: number;
  companions: string[];
  preview?: string;
  /** --crop: the box kept, in the pixels of the map as exported, and that map's size */
  crop?: MapCrop;
}

export function summariseMineralMap(map: MineralMap, out: string, minorPx = MINOR_PHASE_PX): ImportEdsSummary {
  const r = (x: number) => Math.round(x * 1e4) / 1e2;
  const areas = phaseAreas(map);
  const { minor } = groupMinorPhases(areas, minorPx);
  return {
    source: map.source,
    ...(map.sampleName ? { sampleName: map.sampleName } : {}),
    out,
    width: map.width,
    height: map.height,
    pixelSizeUm: map.pixelSizeUm,
    phases: areas
      .map((p) => ({ id: p.id, name: p.name, color: rgbToHex(p.color), pixels: p.pixels, areaPercent: r(p.areaFraction) }))
      .sort((a, b) => b.pixels - a.pixels || a.id - b.id),
    minorPhases: minor && { thresholdPx: minor.thresholdPx, count: minor.phases.length, pixels: minor.pixels, areaPercent: r(minor.areaFraction), names: minor.phases.map((p) => p.name) },
    unclassifiedPercent: r(unclassifiedFraction(map)),
    notMeasuredPercent: r(notMeasuredFraction(map)),
    companions: map.companions.map((c) => c.name),
    ...(map.crop ? { crop: { ...map.crop } } : {}),
  };
}

/** Writes the preview PNG through a temp name (a failure leaves no half-written file). */
async function writePreview(path: string, map: MineralMap, minorPx: number): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    await writeFile(tmp, renderMineralMapPreview(map, { minorThresholdPx: minorPx }));
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    const code = (err as NodeJS.ErrnoException).code;
    throw invalidInput(`could not write the preview ${basename(path)}${code ? ` (${code})` : ''}; the map was stored in --out.`, { cause: err });
  }
}

/**
 * A map pixel size outside 0.01 µm – 1 mm is almost always a unit mix-up (--pixel-um given in mm:
 * 0.0016 for 1.6 µm), said as a note, as import says it of a voxel size (the map is stored as given).
 * Before, it was stored without a word and register then failed far from the cause.
 */
export function pixelSizeNote(um: number, typed: boolean): string | undefined {
  const big = um > 1000, small = um < 0.01;
  if (!big && !small) return undefined;
  const size = big ? 'larger than 1 mm' : 'smaller than 0.01 µm';
  if (!typed) return `the map's pixel size, ${um} µm, is ${size}, unusual for an EDS map. Check it, and give the real one with --pixel-um <µm> if it is wrong.`;
  return `--pixel-um ${um} is read in µm: ${size}, unusual for an EDS map. If it is in ${big ? 'nm' : 'mm'}, import again with --pixel-um ${+(big ? um / 1000 : um * 1000).toPrecision(6)}.`;
}

export async function main(argv: string[]): Promise<number> {
  try {
    const { input, out, preview, minorPx, crop } = parseImportEdsArgs(argv);
    const limits = limitsFromEnv();
    await checkMineralMapFolder(out); // refuse a user's folder before the (long) import
    const bar = process.stderr.isTTY ? progressBar('import-eds') : undefined;
    const whole = await importMineralMap(input, { onProgress: bar, limits }).catch((err: unknown) => {
      // a project folder with several datasets: say how to choose one here
      if (isPetromapError(err) && err.details?.timaDatasets) err.message = err.message.replace(/ Choose one by its (sample name or )?id\.$/, ' Choose one with --dataset <sample name or id>.');
      throw err;
    });
    bar?.done();
    const map = crop ? cropMineralMap(whole, crop) : whole;
    await saveMineralMap(out, map);
    const summary = summariseMineralMap(map, out, minorPx);
    if (preview) {
      await writePreview(preview, map, minorPx);
      summary.preview = preview;
    }
    process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
    const unit = pixelSizeNote(map.pixelSizeUm, input.pixelSizeUm !== undefined);
    if (unit) process.stderr.write(`petromap import-eds: note: ${unit}\n`);
    process.stderr.write(`petromap import-eds: ${nextAfterImportEds(out)}\n`);
    return 0;
  } catch (err) {
    const msg = isPetromapError(err) || err instanceof Error ? err.message : String(err);
    process.stderr.write(`petromap import-eds: ${safeMessage(msg, 400)}\n`);
    if (!isPetromapError(err) && process.env.PETROMAP_DEBUG) console.error(err);
    return 1;
  }
}
