/**
 * `petromap info <file|folder|store.ome.zarr> [--raw-shape z,y,x --raw-dtype T [--big-endian]]`
 * Prints, as JSON, what a volume file's header says (shape, voxel type, voxel size in µm, notes)
 * or, for an imported store, its metadata, pyramid levels and chunking, or, for a model folder, its
 * classes and the volume it was trained on. Reads headers only.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import * as nodePath from 'node:path';
import { MODEL_FORMAT, readTrainedOn } from '../classify/trained-on';
import { invalidInput, isPetromapError } from '../errors';
import { limitsFromEnv, safeMessage } from '../limits';
import { describeVolumeFile } from '../volume/import-node';
import { openVolume } from '../volume/zarr-store-node';
import { shortUsage } from './args';
import { shellWord } from './next-step';
import { parseVolumeArgs } from './import';
import { isPetromapStore } from './store-kind';
import { warnIfSpacingAssumed, withShownSpacing } from './voxel-size';

export const USAGE = `usage: petromap info <volume file | folder of slices | store.ome.zarr | model folder | EDS map folder> [--format F]
       [--raw-shape z,y,x --raw-dtype uint16 [--big-endian] [--header-bytes N]] [--spacing z,y,x (µm)]
  Reads headers only; writes nothing. The volume options are import's: what petromap import would read with them
  (--spacing replaces the file's voxel size, as at import).
  Output (stdout, JSON), for a file: { kind: "file", format, shape: [z, y, x], sourceType, dtype,
  spacingUm: [z, y, x], originUm, spacingKnown (false: the file gives no voxel size, or it is petromap's export of a scan
  whose size was assumed; import then marks it assumed), notes: [...] }; for a store: { kind: "store", path, meta, levels,
  levelShapes, chunk, compression, pyramidComplete, spacingAssumed (true: the imported file gave no voxel size and 1 µm
  was assumed; a warning says so on stderr) }; for a model folder: { kind: "model", classes, classNames, featureVersion,
  trainedOn (the volume's name, shape, voxel size; null for a model saved before petromap recorded it), trainedOnText };
  for an EDS map folder from petromap import-eds: { kind: "eds-map", source, width, height, pixelSizeUm, fields,
  crop (import-eds --crop: { x, y, width, height, fromWidth, fromHeight }), companions, legend: [{ id, name, areaPercent }] }. A run's or a prediction's folder is refused, naming what it holds.
  Voxel sizes are printed to 7 significant digits (float32 headers: 0.003 mm reads 3 µm, not 3.000000026); the store
  keeps the exact value.`;

/** A model folder (`petromap train --out`): what it is and the volume it was trained on; null when `dir` is not one. */
async function modelInfo(dir: string): Promise<Record<string, unknown> | null> {
  const text = await readFile(nodePath.join(dir, 'model.json'), 'utf8').catch(() => null);
  if (text === null) return null;
  let m: Record<string, unknown>;
  try {
    m = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return null;
  }
  if (!m || m.format !== MODEL_FORMAT) return null;
  const on = readTrainedOn(m.trainedOn, nodePath.join(dir, 'model.json'));
  const set = m.featureSet as { version?: number; specs?: unknown[] } | undefined;
  return {
    kind: 'model',
    path: nodePath.resolve(dir),
    savedAt: m.savedAt,
    classes: m.classes,
    classNames: m.classNames,
    hidden: m.hidden,
    features: Array.isArray(set?.specs) ? set.specs.length : undefined,
    featureVersion: set?.version ?? 1,
    trainedOn: on ?? null,
    trainedOnText: on
      ? `trained on ${on.volume} (${on.shape.join(' × ')} voxels of ${on.spacingUm.map((v) => Number(v.toPrecision(7))).join(' × ')} µm, feature definition version ${on.featureVersion})`
      : 'the volume it was trained on is unknown (saved before petromap recorded it)',
  };
}

/**
 * An EDS map folder (`petromap import-eds --out`): its size, pixel size and legend from map.json, or
 * null when `dir` is not one. Before, info answered "holds no .tif/.tiff, .png or .bmp slices".
 */
async function mapInfo(dir: string): Promise<Record<string, unknown> | null> {
  const text = await readFile(nodePath.join(dir, 'map.json'), 'utf8').catch(() => null);
  let m: Record<string, unknown>;
  try {
    m = JSON.parse(text ?? 'null') as Record<string, unknown>;
  } catch {
    return null;
  }
  if (!m || m.format !== 'petromap-mineral-map' || !Array.isArray(m.legend)) return null;
  const legend = (m.legend as { id?: unknown; name?: unknown; areaFraction?: unknown }[]).map((p) => ({ id: p.id, name: p.name, areaPercent: typeof p.areaFraction === 'number' ? +(100 * p.areaFraction).toFixed(2) : undefined }));
  return {
    kind: 'eds-map',
    path: nodePath.resolve(dir),
    source: m.source,
    width: m.width,
    height: m.height,
    pixelSizeUm: m.pixelSizeUm,
    fields: Array.isArray(m.fields) ? m.fields.length : undefined,
    // import-eds --crop: the box of the map as exported (pixel u, v here is u + x, v + y there)
    ...(m.crop && typeof m.crop === 'object' ? { crop: m.crop } : {}),
    companions: Array.isArray(m.companions) ? (m.companions as { name?: unknown }[]).map((c) => c.name) : [],
    legend,
  };
}

/**
 * A folder petromap wrote that is neither a volume nor a model (a run's or a prediction's --out):
 * refused naming what inside it info does describe (its stores, model, map, exported volume files).
 * Told by run.json / predict.json, or by petromap stores in a folder without slice images.
 * Undefined otherwise. Before, such a folder was "no slices", or, holding labels.tif from
 * --export tiff, read as a volume of one slice.
 */
async function outputFolderAdvice(dir: string): Promise<string | undefined> {
  const entries = await readdir(dir).catch(() => null);
  if (!entries) return undefined;
  const record = entries.includes('run.json') || entries.includes('predict.json');
  if (!record && entries.some((e) => /\.(tiff?|png|bmp)$/i.test(e))) return undefined;
  const inside: string[] = []; // relative to dir (the CLI shortens long paths in a message)
  for (const e of entries.sort()) {
    const p = nodePath.join(dir, e);
    if (!(await stat(p).then((st) => st.isDirectory(), () => false))) {
      if (record && /\.(nrrd|nii|tiff?)$/i.test(e)) inside.push(e);
      continue;
    }
    if (isPetromapStore(p) || (await modelInfo(p)) || (await mapInfo(p))) inside.push(e);
    else for (const f of (await readdir(p).catch(() => [] as string[])).sort()) if (isPetromapStore(nodePath.join(p, f))) inside.push(`${e}/${f}`);
  }
  if (!inside.length) return undefined;
  return `${dir} is a folder of petromap's results, not a volume; give info one of what it holds (in that folder): ${inside.slice(0, 8).join(', ')}${inside.length > 8 ? ', …' : ''}.`;
}

const IMAGE_2D = /\.(png|jpe?g|bmp|gif)$/i;
const VOLUME_FILE = /\.(nrrd|nhdr|nii|nii\.gz|mha|mhd|txm)$/i;

/** The import line of a colour EDS map image (its legend, when the folder shows one). */
const importEdsLine = (map: string, legend?: string) =>
  `petromap import-eds ${shellWord(map)} --legend ${legend ? shellWord(legend) : '<legend.csv>'} --pixel-um <µm> --out <map folder>`;

/**
 * A 2D image given to info (an EDS colour map, a BSE image): not a volume; where it goes. Before:
 * "unknown volume file type" for a PNG, or a colour TIFF's "save the slices as greyscale".
 */
function imageAdvice(path: string): string {
  return `${path} is a 2D image, not a volume. A colour EDS mineral map is imported with its legend: ${importEdsLine(path)} ` +
    '(info then describes that folder). A scan saved as image slices: give the folder of its slices.';
}

/**
 * A folder holding a volume file beside 2D images and a legend or petromap synth's truth (a sample
 * folder such as synth writes): what it holds and the command for each, instead of reading its
 * images as slices of a volume ("the distance between the 2 slices is unknown").
 */
async function sampleFolderAdvice(dir: string): Promise<string | undefined> {
  const entries = (await readdir(dir).catch(() => null))?.sort();
  if (!entries) return undefined;
  const volumes = entries.filter((e) => VOLUME_FILE.test(e));
  const images = entries.filter((e) => IMAGE_2D.test(e) || /\.tiff?$/i.test(e));
  const legends = entries.filter((e) => /\.(csv|tsv)$/i.test(e));
  if (!volumes.length || !images.length || (!legends.length && !entries.includes('truth.json'))) return undefined;
  const p = (e: string) => nodePath.join(dir, e);
  const scans = volumes.filter((e) => !/truth|label/i.test(e));
  const scan = scans[0] ?? volumes[0]!;
  const maps = images.filter((e) => /eds|map|mineral/i.test(e));
  const legend = legends.find((e) => /legend/i.test(e)) ?? legends[0];
  const parts = [`the scan ${scan} (petromap info ${shellWord(p(scan))})`];
  if (maps.length) parts.push(`the EDS map ${maps[0]}${legend ? ` with its legend ${legend}` : ''} (${importEdsLine(p(maps[0]!), legend && p(legend))})`);
  const others = entries.filter((e) => e !== scan && e !== maps[0] && e !== legend && (VOLUME_FILE.test(e) || IMAGE_2D.test(e) || /\.(tiff?|json)$/i.test(e)));
  if (others.length) parts.push(`also ${others.slice(0, 6).join(', ')}`);
  return `${dir} is a sample's folder, not a volume: ${parts.join('; ')}.`;
}

export async function info(target: string | string[], argvOpts: ReturnType<typeof parseVolumeArgs>['opts'] = {}): Promise<Record<string, unknown>> {
  const model = typeof target === 'string' ? await modelInfo(target) : null;
  if (model) return model;
  const map = typeof target === 'string' ? await mapInfo(target) : null;
  if (map) return map;
  if (typeof target === 'string' && isPetromapStore(target)) {
    const s = await openVolume(target);
    warnIfSpacingAssumed('info', s);
    return {
      kind: 'store',
      path: nodePath.resolve(target),
      meta: withShownSpacing(s.meta),
      // the file it was imported from gave no voxel size: meta.spacingUm is an assumed 1 µm
      spacingAssumed: s.spacingAssumed,
      levels: s.levels,
      levelShapes: Array.from({ length: s.levels }, (_, k) => s.levelShape(k)),
      chunk: s.chunk,
      compression: s.compression,
      pyramidComplete: s.pyramidComplete,
    };
  }
  const results = typeof target === 'string' && !isPetromapStore(target) ? await outputFolderAdvice(target) ?? await sampleFolderAdvice(target) : undefined;
  if (results) throw invalidInput(results);
  if (typeof target === 'string' && IMAGE_2D.test(target) && (await stat(target).then((st) => st.isFile(), () => false))) throw invalidInput(imageAdvice(target));
  try {
    return { kind: 'file', ...withShownSpacing(await describeVolumeFile(target, argvOpts)) };
  } catch (err) {
    // a colour TIFF: the reader's "save the slices as greyscale" is for a scan; a colour map belongs to import-eds
    if (typeof target === 'string' && isPetromapError(err) && / is a colour TIFF /.test(err.message)) err.message += ` If it is a colour EDS mineral map: ${importEdsLine(target)}.`;
    throw err;
  }
}

export async function main(argv: string[]): Promise<number> {
  try {
    const { sources, opts } = parseVolumeArgs(argv, USAGE, true);
    opts.limits = limitsFromEnv();
    if (sources.length === 0) throw invalidInput(`Give a volume file, folder or store. ${shortUsage(USAGE)}`);
    const out = await info(sources.length === 1 ? sources[0]! : sources, opts);
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return 0;
  } catch (err) {
    const msg = isPetromapError(err) ? err.message : (err as Error)?.message ?? String(err);
    process.stderr.write(`petromap info: ${safeMessage(msg, 600)}\n`);
    return 1;
  }
}
