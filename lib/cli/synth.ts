/**
 * `petromap synth <outDir> [--seed N] [--options '{json}']`: write a synthetic sandstone sample
 * with its ground truth (volume.nrrd, eds-map.png, eds-legend.csv, bse.png, truth-labels.nrrd,
 * truth.json).
 */
import { invalidInput } from '../errors';
import { generateSandstone } from '../synthetic';
import type { SandstoneInput } from '../synthetic';
import { writeSyntheticSample } from '../synthetic/write-sample-node';
import { progressBar } from './progress';

export const USAGE = `usage: petromap synth <outDir> [--seed N] [--options '<json>']
  Writes a synthetic sandstone (quartz, feldspar, clay, pyrite, pores) with its EDS map and
  ground truth. --options takes the generator's options as JSON, e.g. '{"eds":{"rotationDeg":40}}'.`;

export async function main(argv: string[]): Promise<number> {
  let dir: string | undefined;
  const opts: SandstoneInput = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--seed') (opts as { seed?: number }).seed = Number(argv[++i]);
    else if (a === '--options') {
      try {
        Object.assign(opts, JSON.parse(argv[++i] ?? ''));
      } catch {
        throw invalidInput('--options must be JSON, e.g. \'{"seed": 3}\'.');
      }
    } else if (a.startsWith('--')) throw invalidInput(`unknown option ${a}. ${USAGE}`);
    else dir = a;
  }
  if (!dir) throw invalidInput(USAGE);
  const bar = progressBar('synth');
  const sample = await generateSandstone(opts, { onProgress: bar });
  await writeSyntheticSample(dir, sample);
  bar.done();
  const [nz, ny, nx] = sample.volume.meta.shape;
  console.log(JSON.stringify({ out: dir, volume: { shape: [nz, ny, nx], spacingUm: sample.volume.meta.spacingUm }, eds: { width: sample.eds.width, height: sample.eds.height, pixelSizeUm: sample.eds.pixelSizeUm } }, null, 1));
  return 0;
}
