/**
 * `petromap predict --volume <store.ome.zarr> --model <model folder> --out <folder> [--threads n]
 *   [--brick z,y,x] [--export nrrd|nifti|tiff]`
 * Classifies the whole volume blockwise (resumable: run the same command again after an
 * interruption; Ctrl-C cancels). With PETROMAP_REDIS_URL set the bricks go to the `petromap worker`
 * processes on Redis (docs/scale-out.md); the volume, model and output folder must then lie in the
 * workspace (PETROMAP_DATA). Prints a JSON summary on stdout.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile, realpath } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { hasReason, invalidInput, PetromapError } from '../errors';
import type { Shape3 } from '../volume/types';
import { parseCommandArgs, parseListOption } from './args';
import { progressBar } from './progress';
import { shellWord } from './next-step';
import { checkOutsideInputs } from './run-output';
import { isPetromapStore, STORE_HINT } from './store-kind';
import { warnIfSpacingAssumed } from './voxel-size';

export const USAGE = `usage: petromap predict --volume <store.ome.zarr> --model <model folder> --out <folder> [--threads <n>] [--brick z,y,x]
       [--export nrrd,nifti,tiff,ome-zarr,ome-zarr-v2] [--mirror auto|none]
  Classifies the whole volume blockwise. Resumable: run the same command again after an interruption (Ctrl-C stops it
  and prints that command; the finished bricks are kept).
  With PETROMAP_REDIS_URL the bricks go to the "petromap worker" processes (docs/scale-out.md).
  --export: the labels also as labels.nrrd, labels.nii, labels.tif, labels.ome.zarr (Zarr v3)
  and/or labels.v2.ome.zarr (OME-Zarr 0.4 / Zarr v2, for zarr-python 2 and older viewers) in --out (labels.ome.zarr is the
  prediction's own store). A scan whose voxel size was assumed at import exports with it, marked as assumed in each file.
  --mirror: auto (default) mirrors the volume above the polished surface the model was trained at, as in training;
  none predicts without it: another scan of the rock at the same voxel size but of another size (the training
  surface is a plane in the training scan's voxels); the rock within a few filter widths of its surface then reads much worse.
  Output (stdout, JSON): { labelsPath, probabilitiesPath, uncertaintyPath, classes (label codes), classNames ({ code: name }),
  bricksTotal, bricksDone, ...,
  exported: first export's path, exports: [{ format, path, bytes, spacingAssumed? }] }.`;

/** --mirror as predict and run declare it (lib/cli/args checks it before any work). */
export const MIRROR_OPTION = { kind: 'string', choices: ['auto', 'none'] } as const;

const SPEC = {
  usage: USAGE,
  options: {
    volume: { kind: 'path', must: 'dir', what: 'the volume store', required: true, fileHint: STORE_HINT },
    model: { kind: 'path', must: 'dir', what: 'the model folder', required: true, fileHint: 'the folder "petromap train --out" wrote' },
    out: { kind: 'string', required: true },
    threads: { kind: 'number', integer: true, min: 1 },
    brick: { kind: 'string' },
    export: { kind: 'string' }, // a list of the exporter's formats, checked once it is loaded
    mirror: MIRROR_OPTION,
  },
} as const;

/** The model's class names by label code (model.json's classNames), so the label codes can be read; {} when it has none. */
async function modelClassNames(model: string, classes: readonly number[]): Promise<Record<number, string>> {
  const j = JSON.parse(await readFile(join(model, 'model.json'), 'utf8').catch(() => '{}')) as { classes?: unknown; classNames?: unknown };
  const names = Array.isArray(j.classNames) && Array.isArray(j.classes) && j.classNames.length === j.classes.length ? j.classNames : [];
  return Object.fromEntries(classes.map((c) => [c, names[(j.classes as unknown[]).indexOf(c)]]).filter(([, n]) => typeof n === 'string'));
}

/**
 * The volume as given to the prediction: the name the folder's earlier prediction recorded when it is
 * the same store (run.json's absolute path, then "predict --volume run/volume.ome.zarr" from its
 * parent), else its absolute path. Before, a relative and an absolute path of one store were "another
 * model or settings" and the finished or half-done prediction could not be resumed or exported.
 */
export async function volumeAsRecorded(volume: string, out: string): Promise<string> {
  const abs = resolve(volume);
  const prev = await readFile(join(out, 'predict.json'), 'utf8').then((s) => (JSON.parse(s) as { volume?: unknown }).volume, () => undefined);
  if (typeof prev === 'string' && prev !== abs) {
    const [mine, theirs] = await Promise.all([realpath(abs).catch(() => abs), realpath(prev).catch(() => null)]);
    if (mine === theirs) return prev;
  }
  return abs;
}

/**
 * --mirror: the prediction's options (none: no mirror, said on stderr) and its refusal with the way
 * out added: a model that mirrors at its training surface refuses a scan of another shape (matched
 * by the refusal's reason, lib/errors hasReason; before, by its words). `petromap run` predicts the
 * scan it trained on: its note says that the held-out tiles and the quality estimate, measured with
 * the mirror, do not show the cost.
 */
export function mirrorChoice(mirror: 'auto' | 'none' | undefined, command: 'predict' | 'run' = 'predict') {
  if (mirror === 'none') {
    const cost = 'so the rock within a few filter widths of the surface (about 8 voxels in our tests) can read much worse than deeper '
      + '(synthetic sandstone, 3 seeds: 20-74 % of those voxels right, against 74-88 % with the mirror on the training scan)';
    console.error(command === 'run'
      ? `petromap run: --mirror none: the prediction does not mirror the volume above the polished surface as the training does, ${cost}; the held-out tiles and the estimated 3D quality are measured with the mirror and do not show this.`
      : `petromap predict: --mirror none: the volume above the polished surface is not mirrored as in training, ${cost}; for a reliable map near the surface, train a model on this scan.`);
  }
  return {
    options: mirror === 'none' ? { mirrorSurface: null } : {},
    refused: (err: unknown): never => {
      if (mirror !== 'none' && hasReason(err, 'model-mirrors-other-shape')) {
        throw new PetromapError('Conflict', `${err.message} Or, for a scan of the same rock at this voxel size: --mirror none (no mirror: the rock within a few filter widths of the surface then reads much worse).`, { cause: err, details: err.details });
      }
      throw err;
    },
  };
}

/**
 * What an interrupted prediction (Ctrl-C, or a kill) says: how many bricks are kept in the output
 * folder and the command that resumes it (the same one: finished bricks are skipped). One line, as
 * the CLI prints an error's first line.
 */
export async function interruptedMessage(argv: readonly string[], out: string, stage: 'predicting' | 'exporting'): Promise<string> {
  const again = `petromap predict ${argv.map(shellWord).join(' ')}`;
  if (stage === 'exporting') return `Interrupted while exporting; the prediction in ${out} is complete. To export, run the same command again (the finished prediction is not redone): ${again}`;
  const kept = await readdir(join(out, 'bricks')).then((l) => l.filter((f) => f.endsWith('.done')).length, () => 0);
  const done = kept === 0 ? 'no brick was finished yet' : `${kept} finished brick${kept === 1 ? ' is' : 's are'} kept in ${out}`;
  return `Interrupted; ${done}. To resume where it stopped, run the same command again: ${again}`;
}

/**
 * --model given another of petromap's folders (a run's --out, an EDS map from import-eds, a volume
 * store): refused naming what it is and what to give. Before: "No trained classifier in eds
 * (model.json missing or unreadable). Train a model first." for a folder that was never a model.
 */
export function checkModelFolder(model: string): void {
  if (existsSync(join(model, 'model.json'))) return;
  const what = existsSync(join(model, 'model', 'model.json')) ? `the folder of a petromap run; its model is ${join(model, 'model')}`
    : existsSync(join(model, 'map.json')) ? 'an EDS map folder (petromap import-eds), not a model'
      : isPetromapStore(model) ? 'a volume store, not a model' : undefined;
  if (what) throw invalidInput(`--model ${model} is ${what}. Give --model the folder "petromap train --out" (or run's model/) wrote.`);
}

export function parseBrick(v: string | undefined): Shape3 | undefined {
  if (v === undefined) return undefined;
  const b = v.split(',').map(Number);
  if (b.length !== 3 || !b.every((n) => Number.isInteger(n) && n >= 8)) throw invalidInput(`--brick must be three whole numbers ≥ 8 (z,y,x), not "${v}".`);
  return b as Shape3;
}

export async function main(argv: string[]): Promise<number> {
  const { values: a } = parseCommandArgs(argv, SPEC);
  const brick = parseBrick(a.brick);
  checkModelFolder(a.model);
  checkOutsideInputs(a.out, [{ flag: '--volume', path: a.volume }, { flag: '--model', path: a.model }]);
  // loaded after the checks above (they take seconds to load; a mistake is reported at once)
  const [{ predictVolume }, { exportLabels, LABEL_EXPORT_FORMATS }, { openVolume }] = await Promise.all([import('../classify/predict-node'), import('./export-labels'), import('../volume/zarr-store-node')]);
  const formats = a.export === undefined ? [] : parseListOption('export', a.export, LABEL_EXPORT_FORMATS);
  warnIfSpacingAssumed('predict', await openVolume(a.volume), 'the model\'s feature scales in µm are read at it and the exports carry it');
  const mirror = mirrorChoice(a.mirror);
  const bar = progressBar('predict');
  // Ctrl-C cancels: in process the threads stop; with PETROMAP_REDIS_URL every worker drops this run's bricks
  const ac = new AbortController();
  const onSig = () => ac.abort(new Error('interrupted'));
  process.once('SIGINT', onSig);
  process.once('SIGTERM', onSig);
  let stage: 'predicting' | 'exporting' = 'predicting';
  try {
    const r = await predictVolume(await volumeAsRecorded(a.volume, a.out), a.model, a.out, { threads: a.threads, brick, onProgress: bar, signal: ac.signal, ...mirror.options, volumeName: basename(resolve(a.volume)) }).catch(mirror.refused).finally(() => bar.done());
    stage = 'exporting';
    const exports = await exportLabels(r.labelsPath, formats, a.out, { signal: ac.signal });
    console.log(JSON.stringify({ ...r, classNames: await modelClassNames(a.model, r.classes), exported: exports[0]?.path, exports }, null, 2));
    return 0;
  } catch (err) {
    // Ctrl-C: say what is kept and the command that resumes (before: "The operation was cancelled.")
    if (ac.signal.aborted) throw new PetromapError('Aborted', await interruptedMessage(argv, a.out, stage), { cause: err });
    throw err;
  } finally {
    process.off('SIGINT', onSig);
    process.off('SIGTERM', onSig);
  }
}
