/**
 * `petromap run --volume <store.ome.zarr | volume file> --eds <map folder | map image | TIMA export>
 *   [--legend legend.csv] [--pixel-um <µm>] [--eds <bottom face's map> --face bottom [--legend ...] [--pixel-um ...]]
 *   [--spacing z,y,x] [--classes classes.json] [--landmarks pairs.json] [--threads n] [--mirror auto|none]
 *   [--export nrrd,nifti,tiff,ome-zarr,ome-zarr-v2] --out <new folder>`
 * The whole chain: (import), register, transfer labels, train, predict, report, export.
 *
 * Everything that can be checked without reading the volume is checked first, in this order, so a
 * mistake costs a second, not a registration and a training: the options (numbers, paths, formats),
 * the output folder (new or empty, not inside an input), the class table and landmarks (JSON),
 * the volume's header or store metadata, then the EDS map (its pixel size). Only then is a
 * volume file imported. A petromap store given as --volume is referenced, never copied, and only
 * read (run.json records it).
 */
import { join, resolve } from 'node:path';
import { estimateMargin } from '../classify/quality-text';
import type { MineralMap } from '../eds/types';
import { invalidInput } from '../errors';
import type { MoreMap } from '../pipeline/more-maps';
import type { LandmarkPair } from '../registration/types';
import { parseCommandArgs, parseListOption, readJsonOption } from './args';
import { edsMapsFromSequence, topMapFirst } from './eds-maps-args';
import { droppedMineralsNote, untrainedCaveat, untrainedMinerals } from './dropped-minerals';
import { readEdsInput } from './eds-input';
import { MIRROR_OPTION, mirrorChoice } from './predict';
import { progressBar } from './progress';
import { givenSpacingNote, SPACING_OPTION } from './spacing-option';
import { isPetromapStore } from './store-kind';
import { checkRunOutFolder, reuseStoppedRun, startRunFolder, writeRunRecord, type RunRecord } from './run-output';
import { cliSurfaceAdvice, doubtfulRegistrationStop, unverifiedRegistration, type DoubtSizes } from './registration-doubt';
import { thinClassesNote } from './thin-classes';
import { cliVoxelSizeAdvice, warnIfSpacingAssumed } from './voxel-size';

// The pipeline, the importers and the exporter take seconds to load: they are imported once the
// options and the output folder have passed their checks, so that a mistake is reported at once.
const lib = () => Promise.all([
  import('../eds/import-node'), import('../eds/store-node'), import('../limits'), import('../pipeline/run-mineralogy'),
  import('../volume/import-node'), import('../volume/zarr-store-node'), import('./export-labels'), import('../registration/map-scale'), import('../registration/moving-image'),
]).then(([edsImport, edsStore, limits, pipeline, volumeImport, zarr, exp, mapScale, moving]) => ({ ...edsImport, ...edsStore, ...limits, ...pipeline, ...volumeImport, ...zarr, ...exp, ...mapScale, ...moving }));

export const USAGE = `usage: petromap run --volume <store.ome.zarr|volume file> --eds <map folder|map image|TIMA export> [--legend legend.csv] [--pixel-um <µm>]
       [--eds <map of the bottom face> --face bottom [--legend legend.csv] [--pixel-um <µm>]] [--spacing z,y,x (µm)]
       [--classes classes.json] [--landmarks pairs.json] [--accept-registration] [--threads <n>] [--mirror auto|none]
       [--export nrrd,nifti,tiff,ome-zarr,ome-zarr-v2] --out <new folder>
  The whole chain: import (a volume file; a petromap store is referenced, read only), register, train, predict, report.
  Two mapped faces: give --eds again for the map of the sample's bottom face (or a second map of the top) with --face bottom;
  --face, --legend and --pixel-um qualify the --eds written before them (before the first --eds: the first map). The bottom
  map is registered on the volume turned upside down, and one model is trained on the labels of both faces (held-out tiles
  on each face). A map whose legend has no class, or that matches its face far worse than the top map matches the top
  (another face, another sample), is refused before anything is written. --landmarks are the top map's.
  All options, the output folder and the inputs' headers are checked before any work. --out must be new or empty.
  --pixel-um: the EDS map's pixel size, for a map image that does not store it.
  --classes: which legend minerals make each class, a JSON array such as
      [{ "code": 1, "name": "quartz", "minerals": ["Quartz"] }, { "code": 2, "name": "feldspar", "minerals": ["Albite", "Orthoclase"] }]
    (codes 1-255; minerals by their legend names, any case; minerals in no class are not trained). Without it: pore, quartz,
    feldspar, clay and pyrite, found by the legend's names.
  --landmarks: at least 3 points seen on both the map and the scan, far apart, a JSON array such as
      [{ "eds": [120, 40], "voxel": [12, 300, 415] }, ...]   (eds: the map's pixel u, v (x right, y down); voxel: z, y, x
    of the same point on the polished surface; or "slab": [u, v], a pixel of the surface slab). They place the top map instead
    of the automatic search.
  --spacing: the scan's voxel size in µm (z,y,x), for a volume file that does not give it (a TIFF stack, raw) or gives a
  wrong one; it replaces the file's, as petromap import --spacing does. A petromap store keeps the size it was imported with.
  --mirror: auto (default) predicts with the volume above the polished surface mirrored, as the model was trained; none
  predicts without it (as petromap predict --mirror none; the rock near the surface then reads much worse).
  A registration nothing confirms (no landmark pairs, and the map's parts held out of its fit do not agree with it, or too
  few lie on the volume to tell) stops the run before training, exit code 1, with registration.json written: check
  --pixel-um, the scan's voxel size and --face, or give --landmarks. --accept-registration trains on it anyway (with a warning).
  --export: the predicted labels also as labels.nrrd, labels.nii, labels.tif, labels.ome.zarr (Zarr v3)
  and/or labels.v2.ome.zarr (OME-Zarr 0.4 / Zarr v2, for zarr-python 2 and older viewers) in --out.
  Files in --out: run.json (inputs; "volume.referenced"), registration.json (registration-2.json, ... for further maps), model/, prediction/ (labels, probabilities,
  uncertainty OME-Zarr), modal.csv, depth.csv, report.json, the exports; volume.ome.zarr when a file was imported.
  Output (stdout, JSON): { volume: { store, referenced, importedFrom? }, registration: { coverage, miAfter, surface },
  moreRegistrations?: [{ face, coverage, miAfter, surface (of the face, in the upside-down volume for the bottom) }],
  labelledVoxels, validation: { accuracy, meanIoU } (held-out surface tiles: the labelled layer, not the volume in depth),
  quality (the truth-free estimate of the 3D quality: meanIoU, perClass, ...), modal: [rows], seconds: { register, train, predict, report },
  files: { ... }, exports: [{ format, path, bytes }] }. Progress and notes go to stderr.`;

const SPEC = {
  usage: USAGE,
  options: {
    volume: { kind: 'path', must: 'exist', what: 'the volume', required: true },
    eds: { kind: 'path', must: 'exist', what: 'the EDS map', required: true, multiple: true },
    face: { kind: 'string', choices: ['top', 'bottom'], multiple: true },
    out: { kind: 'string', required: true },
    legend: { kind: 'path', must: 'file', what: 'the legend', multiple: true },
    'pixel-um': { kind: 'number', min: 0, exclusiveMin: true, unit: 'µm, the EDS map\'s pixel size', multiple: true },
    spacing: SPACING_OPTION,
    classes: { kind: 'path', must: 'file', what: 'the class table' },
    landmarks: { kind: 'path', must: 'file', what: 'the landmarks' },
    threads: { kind: 'number', integer: true, min: 1 },
    export: { kind: 'string' }, // a list of the exporter's formats, checked once it is loaded
    'accept-registration': { kind: 'flag' },
    mirror: MIRROR_OPTION,
  },
} as const;


/**
 * --landmarks, checked before the import: a JSON array of at least 3 pairs, each an EDS pixel and its
 * slab pixel or voxel, all numbers. Before, only "eds" being an array was checked here: 2 pairs, or a
 * voxel of two numbers, were refused by the registration, after the scan's import.
 */
export function checkLandmarks(json: unknown, file: string): LandmarkPair[] {
  const list = Array.isArray(json) ? json : (json as { landmarks?: unknown } | null)?.landmarks;
  const nums = (v: unknown, n: number) => Array.isArray(v) && v.length === n && v.every((x) => typeof x === 'number' && Number.isFinite(x));
  const bad = Array.isArray(list) ? list.findIndex((p: unknown) => {
    const q = p as Partial<LandmarkPair> | null;
    return !q || typeof q !== 'object' || !nums(q.eds, 2) || !(q.slab === undefined ? nums(q.voxel, 3) : nums(q.slab, 2));
  }) : -1;
  if (!Array.isArray(list) || bad >= 0) {
    throw invalidInput(`--landmarks ${file}: expected a JSON array of { "eds": [u, v], "voxel": [z, y, x] } or { "eds": [u, v], "slab": [u, v] }${bad >= 0 ? `; pair ${bad + 1} is not one` : ''}.`);
  }
  if (list.length < 3) throw invalidInput(`--landmarks ${file}: ${list.length} pair${list.length === 1 ? '' : 's'}; at least 3 are needed to place the map (points seen on both the map and the scan's surface, far apart).`);
  return list as LandmarkPair[];
}

/** The EDS map: a folder written by `petromap import-eds`, or imported now (fast; fails on a missing pixel size). */
const readEds = (eds: string, legend: string | undefined, pixelSizeUm: number | undefined): Promise<MineralMap> => readEdsInput(eds, legend, pixelSizeUm, { flag: '--eds' });

/** The voxel-size advice of an error, for run: a volume file takes --spacing here, a store is imported again. */
function runVoxelSizeAdvice(err: unknown, isStore: boolean): unknown {
  if (!isStore && err instanceof Error) err.message = err.message.replace('(petromap import <scan> --spacing z,y,x --out <new store>)', '(give it to run: --spacing z,y,x in µm)');
  return err;
}

/** Whether the volume a stopped run imported into `out` has the voxel size (and its being assumed) this run would import with. */
export async function importedAlike(open: (p: string) => Promise<{ meta: { spacingUm: readonly number[] }; spacingAssumed?: boolean }>, out: string,
  now: { meta: { spacingUm: readonly number[] }; spacingAssumed?: boolean }): Promise<boolean> {
  const kept = await open(join(out, 'volume.ome.zarr')).catch(() => undefined);
  return !!kept && !!kept.spacingAssumed === !!now.spacingAssumed && kept.meta.spacingUm.every((v, i) => v === now.meta.spacingUm[i]);
}

export async function main(argv: string[]): Promise<number> {
  const { values: a, sequence } = parseCommandArgs(argv, SPEC);
  const maps = topMapFirst(edsMapsFromSequence(sequence, 'eds', USAGE), 'eds');
  const isStore = isPetromapStore(a.volume);
  if (isStore && a.spacing) {
    throw invalidInput(`--spacing gives the voxel size of a scan file that run imports; ${a.volume} is a petromap store, whose voxel size was set when it was imported. `
      + 'Give run the scan file with --spacing, or import the scan again with its real voxel size: petromap import <scan> --spacing z,y,x (µm) --out <new store>.');
  }
  // a folder holding only a run stopped at its registration ("run again with --accept-registration") is reused
  const stopped = await checkRunOutFolder(a.out, [{ flag: '--volume', path: a.volume }, ...maps.map((m) => ({ flag: '--eds', path: m.path }))]);
  // a CSV (the map's legend, or train's names.csv) given as the class table: said as such, not as "not valid JSON (Unexpected token ...)"
  if (a.classes && /\.(csv|tsv|txt)$/i.test(a.classes)) {
    throw invalidInput(`--classes ${a.classes}: a text table; run's --classes is a JSON class table such as [{ "code": 1, "name": "quartz", "minerals": ["Quartz"] }] (petromap run --help). A map's legend is given with --legend.`);
  }
  const classesJson = a.classes ? await readJsonOption('classes', a.classes) : undefined;
  const landmarks = a.landmarks ? checkLandmarks(await readJsonOption('landmarks', a.landmarks), a.landmarks) : undefined;
  const L = await lib();
  const formats = a.export === undefined ? [] : parseListOption('export', a.export, L.LABEL_EXPORT_FORMATS);
  const table = a.classes ? L.parseClassTable(classesJson, a.classes) : undefined;
  // the volume's header (a file) or metadata (a store): a wrong file is named before the EDS import
  const spacing = isStore ? await L.openVolume(a.volume) : await L.describeVolumeFile(a.volume, { limits: L.limitsFromEnv(), spacingUm: a.spacing }).then((d) => ({ meta: d, spacingAssumed: !d.spacingKnown }));
  // the map's scale, the feature scales and every figure in µm rest on the voxel size: say once when it was assumed
  warnIfSpacingAssumed('run', { path: a.volume, meta: spacing.meta, spacingAssumed: spacing.spacingAssumed },
    `the EDS map is registered at its scale, the feature scales and every figure in µm rest on it${isStore ? '' : ' (run takes it as --spacing z,y,x in µm)'}`);
  const unit = a.spacing && givenSpacingNote(a.spacing, 'run again');
  if (unit) process.stderr.write(`petromap run: note: ${unit}\n`);
  const map = await readEds(maps[0]!.path, maps[0]!.legend, maps[0]!.pixelUm);
  const { classMap, classes } = L.classMapFromTable(map, table);
  const dropped = droppedMineralsNote(map, classMap, table);
  if (dropped) process.stderr.write(`petromap run: note: ${dropped}\n`);
  // further maps (the bottom face): read and their legends checked now, before any work
  const moreMaps: MoreMap[] = [];
  for (const m of maps.slice(1)) {
    const more = await readEds(m.path, m.legend, m.pixelUm);
    const more1 = L.classMapFromTable(more, table).classMap;
    const droppedMore = droppedMineralsNote(more, more1, table, false);
    if (droppedMore) process.stderr.write(`petromap run: note: ${droppedMore}\n`);
    moreMaps.push({ map: more, classMap: more1, face: m.face });
  }
  // a map far larger than the scan at its voxel size (the search could not cover it): refused from the sizes now, as the
  // registration would refuse it, but before the import (minutes on a real scan; before, after it)
  for (const [k, m] of [map, ...moreMaps.map((x) => x.map)].entries()) {
    if (k === 0 && landmarks) continue; // placed by its landmarks, not searched
    try {
      L.checkMapScale({ ...m, name: m.source, classes: L.movingImage(m).classes }, spacing.meta, { spacingAssumed: spacing.spacingAssumed });
    } catch (err) {
      throw runVoxelSizeAdvice(cliVoxelSizeAdvice(err), isStore);
    }
  }

  const mirror = mirrorChoice(a.mirror, 'run');
  const record: RunRecord = {
    volume: isStore ? { store: resolve(a.volume), referenced: true } : { store: resolve(a.out, 'volume.ome.zarr'), referenced: false, importedFrom: resolve(a.volume) },
    eds: resolve(maps[0]!.path),
    startedAt: new Date().toISOString(),
    args: argv,
  };
  // the stopped run's imported volume is kept when it came from the same file at the same voxel size (a run stopped
  // on its registration is often run again with the real --spacing: that one imports again)
  const keepImported = stopped ? await reuseStoppedRun(a.out, stopped, !isStore && await importedAlike(L.openVolume, a.out, spacing) ? resolve(a.volume) : undefined) : false;
  if (stopped) process.stderr.write(`petromap run: reusing ${a.out}: it held only a run stopped before training on its registration${keepImported ? ' (its imported volume is kept)' : ''}\n`);
  await startRunFolder(a.out, record);
  // Ctrl-C cancels (with PETROMAP_REDIS_URL, the prediction's bricks on every worker too)
  const ac = new AbortController();
  const onSig = () => ac.abort(new Error('interrupted'));
  process.once('SIGINT', onSig);
  process.once('SIGTERM', onSig);
  try {
    if (!record.volume.referenced && !keepImported) {
      const bar = progressBar('import');
      await L.importVolume(a.volume, record.volume.store, { limits: L.limitsFromEnv(), spacingUm: a.spacing, onProgress: bar, signal: ac.signal }).finally(() => bar.done());
    }
    const bar = progressBar('run');
    const [, ny, nx] = spacing.meta.shape;
    const volumeUm: [number, number] = [nx * spacing.meta.spacingUm[2]!, ny * spacing.meta.spacingUm[1]!];
    const sizesOf = (m: MineralMap, face: string, k = 0): DoubtSizes => ({
      mapPx: [m.width, m.height], mapPixelUm: m.pixelSizeUm, volumeUm, face,
      inputs: { volume: a.volume, map: maps[k]!.path, legend: maps[k]!.legend, pixelUm: maps[k]!.pixelUm },
    });
    // a registration nothing confirms stops the run before training (registration.json is written), unless --accept-registration
    const afterRegister = a['accept-registration'] ? undefined : async (regs: Parameters<typeof doubtfulRegistrationStop>[0][]) => {
      const all = [{ m: map, face: 'top', file: 'registration.json' }, ...moreMaps.map((m, k) => ({ m: m.map, face: m.face, file: `registration-${k + 2}.json` }))];
      for (const [k, reg] of regs.entries()) {
        const stop = doubtfulRegistrationStop(reg, { ...sizesOf(all[k]!.m, all[k]!.face, k), file: join(a.out, all[k]!.file), again: [...argv, '--accept-registration'] });
        if (stop) {
          bar.done();
          // marked, so that the command the stop gives (the same --out with --accept-registration) reuses this folder
          await writeRunRecord(a.out, { ...record, stoppedAt: 'registration' });
          throw stop;
        }
      }
    };
    const r = await L.runMineralogy(record.volume.store, map, classMap, a.out, { classes, register: { landmarks, voxelSizeAssumed: spacing.spacingAssumed }, moreMaps, afterRegister, threads: a.threads, ...mirror.options, onProgress: bar, signal: ac.signal })
      .catch((err: unknown) => {
        throw cliSurfaceAdvice(runVoxelSizeAdvice(cliVoxelSizeAdvice(err), isStore), moreMaps.length ? 'either' : 'top');
      })
      .finally(() => bar.done());
    const xbar = progressBar('export');
    const exports = await L.exportLabels(r.files.labels!, formats, a.out, { signal: ac.signal, onProgress: formats.length ? xbar : undefined }).finally(() => xbar.done());
    await writeRunRecord(a.out, { ...record, finishedAt: new Date().toISOString(), exports });
    const thin = thinClassesNote(r.trainingCounts, Object.fromEntries(classes.map((c) => [c.code, c.name])), classes.map((c) => c.code));
    if (thin) process.stderr.write(`petromap run: note: ${thin}\n`);
    // --accept-registration on a registration nothing confirms (a wrong --pixel-um, the bottom face given as the top): said, not left silent
    const unverified = unverifiedRegistration(r.registration, sizesOf(map, 'top'));
    if (unverified) process.stderr.write(`petromap run: ${unverified.replace(/before training on it\.$/, `and run again: the model and the 3D map in ${a.out} rest on this registration.`)}\n`);
    // the held-out surface tiles lie in the labelled layer: say both, as petromap train does (not 'which read higher':
    // petromap synth's own run line gave tiles 0.456 under an estimate of 0.556)
    // with the range it stands for and the minerals it does not count, as petromap train says it
    const untrained = new Set([...untrainedMinerals(map, classMap), ...moreMaps.flatMap((m) => untrainedMinerals(m.map, m.classMap))]);
    if (r.quality) process.stderr.write(`petromap run: estimated 3D mean IoU ${r.quality.meanIoU.toFixed(3)} ± ${estimateMargin(r.quality.outOfRange).toFixed(2)} (held-out surface tiles ${r.validation.meanIoU.toFixed(3)}: they measure the labelled layer, not the volume in depth; see "quality" in the summary)${untrainedCaveat(untrained)}\n`);
    console.log(JSON.stringify({
      volume: record.volume,
      registration: { coverage: r.registration.quality.coverage, miAfter: r.registration.quality.miAfter, surface: r.registration.surface },
      ...(r.moreRegistrations ? { moreRegistrations: r.moreRegistrations.map((g) => ({ face: g.face ?? 'top', coverage: g.quality.coverage, miAfter: g.quality.miAfter, surface: g.surface })) } : {}),
      labelledVoxels: r.labelledVoxels,
      validation: { accuracy: r.validation.accuracy, meanIoU: r.validation.meanIoU },
      quality: r.quality,
      modal: r.modal.rows,
      seconds: r.seconds,
      files: { ...r.files, run: join(a.out, 'run.json') },
      exports,
    }, null, 2));
    return 0;
  } finally {
    process.off('SIGINT', onSig);
    process.off('SIGTERM', onSig);
  }
}
