/**
 * `petromap train --volume <store.ome.zarr> --eds <map folder> --registration <registration.json>
 *   [--classes classes.json] [--features classifier|default|skimage] [--layers 1] [--epochs 20] [--out model]`
 * Trains the voxel classifier on the registered EDS labels (mirrored surface features, spatial
 * hold-out) and saves it. `--eds` and `--registration` repeat in pairs for more maps of the sample
 * (the bottom face registered with `petromap register --face bottom`): one model on every map.
 *
 * `petromap train --volume <store.ome.zarr> --labels <label volume> [--classes names.csv] ...`
 * The headless Annotate step: trains on a label volume aligned with the scan (TIFF, folder of TIFF
 * slices, NRRD, NIfTI, MHA/MHD or a petromap OME-Zarr store; 0 = unlabelled, 1..255 = class code),
 * through the same lib/pipeline trainFromLabels path as painted strokes. A label file is read with
 * the volume importers (budgets of PETROMAP_MAX_*) into a temporary store next to the model.
 *
 * Both print a JSON summary on stdout (classes, counts, validation).
 */
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { DEFAULT_BANK, FEATURE_BANKS, featureBank, type FeatureBank } from '../classify/feature-banks';
import { estimateMargin } from '../classify/quality-text';
import { SURFACE_LABEL_LAYERS } from '../classify/training-set';
import { loadMineralMap } from '../eds/store-node';
import { invalidInput, notFound, unprocessable } from '../errors';
import { classMapFromTable, parseClassTable } from '../pipeline/run-mineralogy';
import { trainFromLabels, type EdsLabels } from '../pipeline/train-from-labels';
import { limitsFromEnv } from '../limits';
import { importVolume } from '../volume/import-node';
import type { VolumeStore } from '../volume/store';
import { openVolume } from '../volume/zarr-store-node';
import { parseCommandArgs, readJsonOption, shortUsage } from './args';
import { progressBar } from './progress';
import { thinClassesNote } from './thin-classes';
import { droppedMineralsNote, untrainedCaveat, untrainedMinerals } from './dropped-minerals';
import { isStoredMineralMap } from './eds-input';
import { nextAfterTrain, shellWord } from './next-step';
import { isPetromapStore, STORE_HINT } from './store-kind';
import { warnIfSpacingAssumed } from './voxel-size';

export { untrainedCaveat };

export const USAGE = `usage: petromap train --volume <store.ome.zarr> --eds <map folder from import-eds> --registration <registration.json>
       [--eds <map> --registration <its registration.json>]... [--classes classes.json] [--features classifier|default|skimage]
       [--layers <n>] [--epochs <n>] [--accept-registration] [--out <model folder>]
   or: petromap train --volume <store.ome.zarr> --labels <label volume> [--classes names.csv]
       [--features strokes|classifier|default|skimage] [--epochs <n>] [--out <model folder>]
  Trains the voxel classifier that predict applies to the whole volume: on a registered EDS map (the minerals under the
  polished surface are the labels), or on a label volume painted or made elsewhere (the headless Annotate step).
  --volume: a store from petromap import (a volume file is imported first: petromap import <file> --out <store.ome.zarr>).
  --eds, --registration: a map folder from petromap import-eds and the registration.json petromap register wrote for it.
    Repeat them in pairs for more maps of the sample (its bottom face, registered with petromap register --face bottom; the
    face is read from each registration): one model is trained on every map, with held-out tiles on each.
  --accept-registration: a registration register marked doubtful (nothing confirms it) is refused; this trains on it anyway.
  --classes: with --eds, which legend minerals make each class, a JSON array such as
      [{ "code": 1, "name": "quartz", "minerals": ["Quartz"] }, { "code": 2, "name": "feldspar", "minerals": ["Albite", "Orthoclase"] }]
    (as petromap run --classes; without it: pore, quartz, feldspar, clay and pyrite, found by the legend's names; minerals in no
    class are not trained and are named on stderr). With --labels: a CSV naming the label codes, one "code,name" a line (1,quartz).
  --labels: a label volume voxel for voxel on the scan (.tif, a folder of TIFF slices, .nrrd, .nii, .mha/.mhd or a petromap
    .ome.zarr store): 0 = unlabelled, 1-255 = the class code.
  --features: the filter bank (default: classifier for --eds, strokes for --labels); default is the ilastik-like bank (62 filters),
    skimage the filters of scikit-image's multiscale_basic_features.
  --layers: how many voxel layers under the surface take the map's labels (default ${SURFACE_LABEL_LAYERS}).
  --epochs: training passes over the labels (default 20).
  --out: the model folder (default model) for predict --model: model.json (its classes and their names, the features, the volume
    it was trained on) and its weights.
  Output (stdout, JSON): { model, classes: [{ code, name }], labelledVoxels, boundaryVoxels (--eds), counts (labelled voxels per
  class), epochs, bestEpoch, validation: { accuracy, meanIoU, perClass, confusion } (held-out surface tiles) or null,
  quality (--eds: the truth-free estimate of the 3D quality: meanIoU, perClass, ...) }.
  Notes (stderr): minerals no class takes, classes with few labelled voxels, the estimated 3D mean IoU, the next command.`;

const SPEC = {
  usage: USAGE,
  options: {
    volume: { kind: 'path', must: 'dir', what: 'the volume store', required: true, fileHint: STORE_HINT },
    eds: { kind: 'path', must: 'exist', what: 'the EDS map', multiple: true },
    registration: { kind: 'path', must: 'file', what: 'the registration JSON', multiple: true },
    labels: { kind: 'path', must: 'exist', what: 'the label volume' },
    classes: { kind: 'path', must: 'file', what: 'the class file' },
    features: { kind: 'string', choices: ['strokes', 'classifier', 'default', 'skimage'] },
    layers: { kind: 'number', integer: true, min: 1 },
    epochs: { kind: 'number', integer: true, min: 1 },
    out: { kind: 'string' },
    'accept-registration': { kind: 'flag' },
  },
} as const;

export function positiveInt(v: string | undefined, name: string, def: number): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw invalidInput(`--${name} must be a whole number ≥ 1, not "${v}".`);
  return n;
}


/**
 * Class names from a CSV: one `code,name` per line (a header line and blank lines are skipped;
 * `#` starts a comment). Codes are whole numbers 1..255.
 */
export function parseClassNamesCsv(text: string, file: string): Record<number, string> {
  const out: Record<number, string> = {};
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) return;
    const m = /^\s*"?([^,;\t"]*)"?\s*[,;\t]\s*"?(.*?)"?\s*$/.exec(line);
    if (!m) throw invalidInput(`${file} line ${i + 1}: expected "code,name", got "${line.slice(0, 60)}".`);
    const code = Number(m[1]);
    if (!Number.isInteger(code) || code < 1 || code > 255) {
      if (i === 0 || Object.keys(out).length === 0) return; // header (code,name)
      throw invalidInput(`${file} line ${i + 1}: class code "${m[1]!.slice(0, 20)}" must be a whole number 1..255 (0 means unlabelled).`);
    }
    if (!m[2]) throw invalidInput(`${file} line ${i + 1}: class ${code} has no name.`);
    out[code] = m[2].slice(0, 80);
  });
  if (!Object.keys(out).length) throw invalidInput(`${file} names no class: write one "code,name" per line, e.g. "1,high porosity".`);
  return out;
}

/** Said when the class-names file leaves label codes of the label volume unnamed (one or several). */
export function unnamedClassesNote(file: string, codes: readonly number[]): string {
  const list = (xs: string[]) => (xs.length > 1 ? `${xs.slice(0, -1).join(', ')} and ${xs[xs.length - 1]}` : xs[0]!);
  return codes.length === 1
    ? `${file} gives no name for label code ${codes[0]}; it is called "class ${codes[0]}".`
    : `${file} gives no name for label codes ${list(codes.map(String))}; they are called ${list(codes.map((c) => `"class ${c}"`))}.`;
}

/** The label volume as a store: a petromap OME-Zarr store as it is, any other file imported (with the budgets) into `tmpDir`. */
async function labelStore(path: string, tmpDir: string, scan: VolumeStore): Promise<VolumeStore> {
  if (!existsSync(path)) throw notFound(`The label volume ${path} does not exist.`);
  if (isPetromapStore(path)) return openVolume(path);
  const dest = join(tmpDir, 'labels.ome.zarr');
  // the labels lie voxel for voxel on the scan: its voxel size (a slice folder need not say its own)
  await importVolume(path, dest, { limits: limitsFromEnv(), compression: 'zstd', spacingUm: scan.meta.spacingUm });
  return openVolume(dest);
}

async function trainOnLabelVolume(a: Record<string, string | undefined>): Promise<number> {
  const store = await openVolume(a.volume!);
  warnIfSpacingAssumed('train', store, 'the feature scales are set in µm from it');
  const classNames = a.classes ? parseClassNamesCsv(await readFile(a.classes, 'utf8').catch((err) => {
    throw invalidInput(`Class names ${a.classes} could not be read: ${(err as Error).message}`);
  }), a.classes) : undefined;
  const features = (a.features ?? DEFAULT_BANK.painted) as FeatureBank;
  if (!FEATURE_BANKS.includes(features)) throw invalidInput(`--features must be ${FEATURE_BANKS.join(', ')}, not "${features}".`);
  const set = featureBank(features, store.meta.spacingUm);
  const out = a.out ?? 'model';
  const tmp = await mkdtemp(join(dirname(resolve(out)), '.petromap-labels-'));
  const bar = progressBar('train');
  try {
    const labels = await labelStore(a.labels!, tmp, store);
    const r = await trainFromLabels(a.volume!, { kind: 'strokes', strokes: labels }, out, {
      featureSet: set, classNames, train: a.epochs ? { epochs: positiveInt(a.epochs, 'epochs', 20) } : undefined,
      source: `The label volume ${a.labels}`, onProgress: bar,
    });
    const unnamed = classNames ? r.classes.filter((c) => !(c in classNames)) : [];
    if (unnamed.length) process.stderr.write(`petromap train: note: ${unnamedClassesNote(a.classes!, unnamed)}\n`);
    const v = r.validation;
    console.log(JSON.stringify({ model: out, classes: r.classes.map((c) => ({ code: c, name: classNames?.[c] ?? `class ${c}` })), labelledVoxels: r.labelledVoxels, counts: r.counts, epochs: r.history.length, bestEpoch: r.bestEpoch + 1, validation: Number.isFinite(v.accuracy) ? { accuracy: v.accuracy, meanIoU: v.meanIoU, perClass: v.perClass, confusion: v.confusion } : null }, null, 2));
    process.stderr.write(`petromap train: ${nextAfterTrain(a.volume!, out)}\n`);
    return 0;
  } finally {
    bar.done();
    await rm(tmp, { recursive: true, force: true });
  }
}

/**
 * A registration file that `petromap register` marked doubtful (lib/registration/confidence.ts):
 * why, in words, or undefined. `run` stops on one; train on its registration.json did not (it
 * trained on a map 60 voxels off and printed an estimate of 0.84). Files without a confidence
 * (older ones) pass as before.
 */
export function doubtfulRegistrationFile(reg: { quality?: { confidence?: { verdict?: unknown; reason?: unknown } } }, file: string): string | undefined {
  const c = reg.quality?.confidence;
  if (!c || c.verdict !== 'doubtful') return undefined;
  const reason = typeof c.reason === 'string' ? c.reason.replace(/\.$/, '') : 'no reading confirms it';
  return `${file} is a registration that nothing confirms (petromap register marked it doubtful: ${reason}). ` +
    'Training on it would teach the model minerals from the wrong grains. Check the overlay (register --json writes the transform; the warning of register names what to check), ' +
    'register again with the right --pixel-um / --face or with --landmarks pairs.json, or give --accept-registration to train on it anyway.';
}

/** --eds is not a folder written by import-eds: what train reads and the import that makes it. */
export function notImportedMapMessage(edsPath: string): string {
  const isDir = !!statSync(edsPath, { throwIfNoEntry: false })?.isDirectory();
  const folder = `${basename(edsPath.replace(/[/\\]+$/, '')).replace(/\.[^.]+$/, '') || 'map'}-eds`;
  const what = isDir ? 'a folder without the map.json of an imported map (a TIMA export?)' : 'a file, not a map folder';
  const opts = isDir ? '' : ' --legend <legend.csv> --pixel-um <µm>';
  return `--eds ${edsPath} is ${what}: train reads a map imported by "petromap import-eds". Import it first, then train on the folder: `
    + `petromap import-eds ${shellWord(edsPath)}${opts} --out ${shellWord(folder)}, then --eds ${shellWord(folder)}.`;
}

export async function main(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(argv, SPEC);
  const a: Record<string, string | undefined> = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, v === undefined ? undefined : String(Array.isArray(v) ? v[0] : v)]));
  const edsList = values.eds ?? [], regList = values.registration ?? [];
  if (a.labels) {
    if (!a.volume) throw invalidInput(`--volume is required. ${shortUsage(USAGE)}`);
    if (a.eds || a.registration) throw invalidInput('Give either --labels (a label volume) or --eds with --registration (a registered EDS map), not both.');
    return trainOnLabelVolume(a);
  }
  for (const k of ['volume', 'eds', 'registration']) if (!a[k]) throw invalidInput(`--${k} is required. ${shortUsage(USAGE)}`);
  if (edsList.length !== regList.length) throw invalidInput(`Give one --registration per --eds, in the same order (${edsList.length} maps, ${regList.length} registrations).`);
  const store = await openVolume(a.volume!);
  warnIfSpacingAssumed('train', store, 'the feature scales are set in µm from it');
  const table = a.classes ? parseClassTable(await readJsonOption('classes', a.classes), a.classes) : undefined;
  const maps: EdsLabels[] = [];
  let classes: { code: number; name: string }[] = [];
  /** minerals of the maps that no class takes: the model reads their rock as one of its classes */
  const untrained = new Set<string>();
  for (const [k, edsPath] of edsList.entries()) {
    // a map image or a TIMA export given as it is (before: "ENOTDIR: not a directory, open '<map.png>/map.json'")
    if (!isStoredMineralMap(edsPath)) throw invalidInput(notImportedMapMessage(edsPath));
    const map = await loadMineralMap(edsPath);
    const reg = (await readJsonOption('registration', regList[k]!)) as { edsToSlab: never; slabToVoxel: never; slabSize: [number, number]; surface: { a: number; b: number; c: number }; face?: unknown; quality?: { confidence?: { verdict?: unknown; reason?: unknown } } };
    if (!reg.edsToSlab || !reg.slabToVoxel || !reg.slabSize || !reg.surface) throw invalidInput(`${regList[k]} is not a registration written by "petromap register" (edsToSlab, slabToVoxel, slabSize, surface).`);
    if (reg.face !== undefined && reg.face !== 'top' && reg.face !== 'bottom') throw invalidInput(`${regList[k]}: "face" must be "top" or "bottom", not ${JSON.stringify(reg.face).slice(0, 40)}.`);
    const doubt = doubtfulRegistrationFile(reg, regList[k]!);
    if (doubt && !values['accept-registration']) throw unprocessable(doubt);
    if (doubt) process.stderr.write(`petromap train: warning: training on it as asked (--accept-registration): ${doubt}\n`);
    const cm = classMapFromTable(map, table);
    const dropped = droppedMineralsNote(map, cm.classMap, table);
    if (dropped) process.stderr.write(`petromap train: note: ${dropped}\n`);
    for (const name of untrainedMinerals(map, cm.classMap)) untrained.add(name);
    if (k === 0) classes = cm.classes;
    else for (const c of cm.classes) if (!classes.some((x) => x.code === c.code)) classes.push(c);
    maps.push({ kind: 'eds', map, edsToSlab: reg.edsToSlab, slabToVoxel: reg.slabToVoxel, surface: reg.surface, slab: { width: reg.slabSize[0], height: reg.slabSize[1] }, classMap: cm.classMap, face: (reg.face as 'top' | 'bottom' | undefined) ?? 'top' });
  }
  const features = (a.features ?? DEFAULT_BANK.eds) as FeatureBank;
  if (!FEATURE_BANKS.includes(features) || features === 'strokes') throw invalidInput(`--features must be classifier, default or skimage, not "${features}".`);
  const set = featureBank(features, store.meta.spacingUm);
  const bar = progressBar('train');
  const out = a.out ?? 'model';
  const r = await trainFromLabels(a.volume!, maps.length > 1 ? maps : maps[0]!, out, {
    featureSet: set, classNames: Object.fromEntries(classes.map((c) => [c.code, c.name])), labelLayers: positiveInt(a.layers, 'layers', SURFACE_LABEL_LAYERS),
    train: { epochs: positiveInt(a.epochs, 'epochs', 20) }, source: `EDS map ${a.eds}`, onProgress: bar,
  });
  bar.done();
  const v = r.validation;
  console.log(JSON.stringify({ model: out, classes: r.classes.map((c) => ({ code: c, name: classes.find((k) => k.code === c)?.name ?? `class ${c}` })), labelledVoxels: r.labelledVoxels, boundaryVoxels: r.boundaryVoxels, counts: r.counts, epochs: r.history.length, bestEpoch: r.bestEpoch + 1, validation: Number.isFinite(v.accuracy) ? { accuracy: v.accuracy, meanIoU: v.meanIoU, perClass: v.perClass, confusion: v.confusion } : null, quality: r.quality }, null, 2));
  const thin = thinClassesNote(r.counts, Object.fromEntries(classes.map((c) => [c.code, c.name])), classes.map((c) => c.code));
  if (thin) process.stderr.write(`petromap train: note: ${thin}\n`);
  if (r.quality) process.stderr.write(`petromap train: estimated 3D mean IoU ${r.quality.meanIoU.toFixed(3)} ± ${estimateMargin(r.quality.outOfRange).toFixed(2)} (held-out surface tiles ${r.quality.surfaceMeanIoU.toFixed(3)}; see "quality" in the summary)${untrainedCaveat(untrained)}\n`);
  process.stderr.write(`petromap train: ${nextAfterTrain(a.volume!, out)}\n`);
  return 0;
}
