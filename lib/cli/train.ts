/**
 * `petromap train --volume <store.ome.zarr> --eds <map folder> --registration <registration.json>
 *   [--classes classes.json] [--features classifier|default|skimage] [--layers 1] [--epochs 20] [--out model]`
 * Trains the voxel classifier on the registered EDS labels (mirrored surface features, spatial
 * hold-out) and saves it. Prints a JSON summary on stdout (classes, counts, validation).
 */
import { readFile } from 'node:fs/promises';
import { classifierFeatureSet } from '../classify/feature-sets';
import { SURFACE_LABEL_LAYERS } from '../classify/training-set';
import { loadMineralMap } from '../eds/store-node';
import { invalidInput } from '../errors';
import { defaultFeatureSet, skimagePreset } from '../features';
import { classMapFromTable, parseClassTable } from '../pipeline/run-mineralogy';
import { trainFromLabels } from '../pipeline/train-from-labels';
import { openVolume } from '../volume/zarr-store-node';
import { progressBar } from './progress';

export const USAGE =
  'usage: petromap train --volume <store.ome.zarr> --eds <map folder from import-eds> --registration <registration.json> ' +
  '[--classes classes.json] [--features classifier|default|skimage] [--layers <n>] [--epochs <n>] [--out <model folder>]';

export function parseArgs(argv: string[], flags: string[], usage: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const f = argv[i]!;
    if (!f.startsWith('--') || !flags.includes(f.slice(2))) throw invalidInput(`Unknown option ${f}. ${usage}`);
    const v = argv[++i];
    if (v === undefined || v.startsWith('--')) throw invalidInput(`${f} needs a value. ${usage}`);
    out[f.slice(2)] = v;
  }
  return out;
}

export function positiveInt(v: string | undefined, name: string, def: number): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw invalidInput(`--${name} must be a whole number ≥ 1, not "${v}".`);
  return n;
}

export async function readJson(path: string, what: string): Promise<unknown> {
  const text = await readFile(path, 'utf8').catch((err) => {
    throw invalidInput(`${what} ${path} could not be read: ${(err as Error).message}`);
  });
  try {
    return JSON.parse(text);
  } catch {
    throw invalidInput(`${what} ${path} is not valid JSON.`);
  }
}

export async function main(argv: string[]): Promise<number> {
  const a = parseArgs(argv, ['volume', 'eds', 'registration', 'classes', 'features', 'layers', 'epochs', 'out'], USAGE);
  for (const k of ['volume', 'eds', 'registration']) if (!a[k]) throw invalidInput(`--${k} is required. ${USAGE}`);
  const store = await openVolume(a.volume!);
  const map = await loadMineralMap(a.eds!);
  const reg = (await readJson(a.registration!, 'Registration')) as { edsToSlab: never; slabToVoxel: never; slabSize: [number, number]; surface: { a: number; b: number; c: number } };
  if (!reg.edsToSlab || !reg.slabToVoxel || !reg.slabSize || !reg.surface) throw invalidInput(`${a.registration} is not a registration written by "petromap register" (edsToSlab, slabToVoxel, slabSize, surface).`);
  const table = a.classes ? parseClassTable(await readJson(a.classes, 'Class table'), a.classes) : undefined;
  const { classMap, classes } = classMapFromTable(map, table);
  const features = a.features ?? 'classifier';
  if (!['classifier', 'default', 'skimage'].includes(features)) throw invalidInput(`--features must be classifier, default or skimage, not "${features}".`);
  const set = features === 'skimage' ? skimagePreset(store.meta.spacingUm) : features === 'default' ? defaultFeatureSet(store.meta.spacingUm) : classifierFeatureSet(store.meta.spacingUm);
  const bar = progressBar('train');
  const out = a.out ?? 'model';
  const r = await trainFromLabels(a.volume!, { kind: 'eds', map, edsToSlab: reg.edsToSlab, slabToVoxel: reg.slabToVoxel, surface: reg.surface, slab: { width: reg.slabSize[0], height: reg.slabSize[1] }, classMap }, out, {
    featureSet: set, classNames: Object.fromEntries(classes.map((c) => [c.code, c.name])), labelLayers: positiveInt(a.layers, 'layers', SURFACE_LABEL_LAYERS),
    train: { epochs: positiveInt(a.epochs, 'epochs', 20) }, source: `EDS map ${a.eds}`, onProgress: bar,
  });
  bar.done();
  const v = r.validation;
  console.log(JSON.stringify({ model: out, classes: r.classes.map((c) => ({ code: c, name: classes.find((k) => k.code === c)?.name ?? `class ${c}` })), labelledVoxels: r.labelledVoxels, boundaryVoxels: r.boundaryVoxels, counts: r.counts, epochs: r.history.length, bestEpoch: r.bestEpoch + 1, validation: Number.isFinite(v.accuracy) ? { accuracy: v.accuracy, meanIoU: v.meanIoU, perClass: v.perClass, confusion: v.confusion } : null }, null, 2));
  return 0;
}
