/**
 * `petromap run --volume <store.ome.zarr | volume file> --eds <map folder | map image> [--legend legend.csv]
 *   [--pixel-um <µm>] [--classes classes.json] [--landmarks pairs.json] [--threads n] --out <folder>`
 * The whole chain: (import), register, transfer labels, train, predict, report. Prints a JSON
 * summary (modal mineralogy next to the EDS area %, validation, times, files) on stdout.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { importMineralMap } from '../eds/import-node';
import { loadMineralMap } from '../eds/store-node';
import { invalidInput } from '../errors';
import { classMapFromTable, parseClassTable, runMineralogy } from '../pipeline/run-mineralogy';
import type { LandmarkPair } from '../registration/types';
import { importVolume } from '../volume/import-node';
import { progressBar } from './progress';
import { parseArgs, positiveInt, readJson } from './train';

export const USAGE =
  'usage: petromap run --volume <store.ome.zarr|volume file> --eds <map folder|map image> [--legend legend.csv] [--pixel-um <µm>] ' +
  '[--classes classes.json] [--landmarks pairs.json] [--threads <n>] --out <folder>';

export async function main(argv: string[]): Promise<number> {
  const a = parseArgs(argv, ['volume', 'eds', 'legend', 'pixel-um', 'classes', 'landmarks', 'threads', 'out'], USAGE);
  for (const k of ['volume', 'eds', 'out']) if (!a[k]) throw invalidInput(`--${k} is required. ${USAGE}`);
  const out = a.out!;
  let volumePath = a.volume!;
  const vs = await stat(volumePath).catch(() => null);
  if (!vs) throw invalidInput(`The volume ${volumePath} does not exist.`);
  if (!vs.isDirectory() || !(await stat(join(volumePath, 'zarr.json')).catch(() => null))) {
    const dest = join(out, 'volume.ome.zarr');
    if (!(await stat(dest).catch(() => null))) {
      const bar = progressBar('import');
      await importVolume(volumePath, dest, { onProgress: bar });
      bar.done();
    }
    volumePath = dest;
  }
  const es = await stat(a.eds!).catch(() => null);
  if (!es) throw invalidInput(`The EDS map ${a.eds} does not exist.`);
  const map = es.isDirectory() && (await stat(join(a.eds!, 'map.json')).catch(() => null))
    ? await loadMineralMap(a.eds!)
    : await importMineralMap({ map: a.eds!, legend: a.legend, pixelSizeUm: a['pixel-um'] ? Number(a['pixel-um']) : undefined });
  const table = a.classes ? parseClassTable(await readJson(a.classes, 'Class table'), a.classes) : undefined;
  const { classMap, classes } = classMapFromTable(map, table);
  const landmarks = a.landmarks ? ((await readJson(a.landmarks, 'Landmarks')) as LandmarkPair[]) : undefined;
  const bar = progressBar('run');
  // Ctrl-C cancels (with PETROMAP_REDIS_URL, the prediction's bricks on every worker too)
  const ac = new AbortController();
  const onSig = () => ac.abort(new Error('interrupted'));
  process.once('SIGINT', onSig);
  process.once('SIGTERM', onSig);
  const r = await runMineralogy(volumePath, map, classMap, out, { classes, register: { landmarks }, threads: a.threads ? positiveInt(a.threads, 'threads', 1) : undefined, onProgress: bar, signal: ac.signal })
    .finally(() => {
      process.off('SIGINT', onSig);
      process.off('SIGTERM', onSig);
      bar.done();
    });
  console.log(JSON.stringify({
    volume: volumePath,
    registration: { coverage: r.registration.quality.coverage, miAfter: r.registration.quality.miAfter, surface: r.registration.surface },
    labelledVoxels: r.labelledVoxels,
    validation: { accuracy: r.validation.accuracy, meanIoU: r.validation.meanIoU },
    modal: r.modal.rows,
    seconds: r.seconds,
    files: r.files,
  }, null, 2));
  return 0;
}
