/**
 * `petromap predict --volume <store.ome.zarr> --model <model folder> --out <folder> [--threads n]
 *   [--brick z,y,x] [--export nrrd|nifti|tiff]`
 * Classifies the whole volume blockwise (resumable: run the same command again after an
 * interruption; Ctrl-C cancels). With PETROMAP_REDIS_URL set the bricks go to the `petromap worker`
 * processes on Redis (docs/scale-out.md); the volume, model and output folder must then lie in the
 * workspace (PETROMAP_DATA). Prints a JSON summary on stdout.
 */
import { join } from 'node:path';
import { predictVolume } from '../classify/predict-node';
import { invalidInput } from '../errors';
import { exportVolume, type ExportFormat } from '../report/export-node';
import type { Shape3 } from '../volume/types';
import { openVolume } from '../volume/zarr-store-node';
import { progressBar } from './progress';
import { parseArgs, positiveInt } from './train';

export const USAGE = 'usage: petromap predict --volume <store.ome.zarr> --model <model folder> --out <folder> [--threads <n>] [--brick z,y,x] [--export nrrd|nifti|tiff]';

export function parseBrick(v: string | undefined): Shape3 | undefined {
  if (v === undefined) return undefined;
  const b = v.split(',').map(Number);
  if (b.length !== 3 || !b.every((n) => Number.isInteger(n) && n >= 8)) throw invalidInput(`--brick must be three whole numbers ≥ 8 (z,y,x), not "${v}".`);
  return b as Shape3;
}

export async function main(argv: string[]): Promise<number> {
  const a = parseArgs(argv, ['volume', 'model', 'out', 'threads', 'brick', 'export'], USAGE);
  for (const k of ['volume', 'model', 'out']) if (!a[k]) throw invalidInput(`--${k} is required. ${USAGE}`);
  const fmt = a.export as ExportFormat | undefined;
  if (fmt && !['nrrd', 'nifti', 'tiff'].includes(fmt)) throw invalidInput(`--export must be nrrd, nifti or tiff, not "${fmt}".`);
  const bar = progressBar('predict');
  // Ctrl-C cancels: in process the threads stop; with PETROMAP_REDIS_URL every worker drops this run's bricks
  const ac = new AbortController();
  const onSig = () => ac.abort(new Error('interrupted'));
  process.once('SIGINT', onSig);
  process.once('SIGTERM', onSig);
  const r = await predictVolume(a.volume!, a.model!, a.out!, { threads: a.threads ? positiveInt(a.threads, 'threads', 1) : undefined, brick: parseBrick(a.brick), onProgress: bar, signal: ac.signal })
    .finally(() => {
      process.off('SIGINT', onSig);
      process.off('SIGTERM', onSig);
      bar.done();
    });
  let exported: string | undefined;
  if (fmt) {
    exported = join(a.out!, `labels.${fmt === 'nifti' ? 'nii' : fmt === 'tiff' ? 'tif' : 'nrrd'}`);
    await exportVolume(await openVolume(r.labelsPath), fmt, exported);
  }
  console.log(JSON.stringify({ ...r, exported }, null, 2));
  return 0;
}
