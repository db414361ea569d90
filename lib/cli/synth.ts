/**
 * `petromap synth <outDir> [--seed N] [--options '{json}']`: write a synthetic sandstone sample
 * with its ground truth (volume.nrrd, eds-map.png, eds-legend.csv, bse.png, truth-labels.nrrd,
 * truth.json).
 */
import { join } from 'node:path';
import { invalidInput } from '../errors';
import { generateSandstone } from '../synthetic';
import type { SandstoneInput } from '../synthetic';
import { writeSyntheticSample } from '../synthetic/write-sample-node';
import { parseCommandArgs } from './args';
import { shellWord } from './next-step';
import { progressBar } from './progress';

export const USAGE = `usage: petromap synth <outDir> [--seed N] [--options '<json>']
  Writes a synthetic sandstone (quartz, feldspar, clay, pyrite, pores) with its EDS map and ground truth:
  volume.nrrd, eds-map.png, eds-legend.csv, bse.png, truth-labels.nrrd, truth.json in <outDir>.
  --options takes the generator's options as JSON, e.g. '{"eds":{"rotationDeg":40}}'.
  Output (stdout, JSON): { out, volume: { shape: [z, y, x], spacingUm: [z, y, x] }, eds: { width, height, pixelSizeUm } }.
  Then (stderr) the petromap run line that takes the sample through the whole chain.`;

/** The `petromap run` line for a sample written to `dir` (its EDS map is a PNG: the legend and pixel size are given). */
export function nextRunLine(dir: string, pixelSizeUm: number): string {
  const q = shellWord;
  const f = (name: string) => q(join(dir, name));
  return `petromap run --volume ${f('volume.nrrd')} --eds ${f('eds-map.png')} --legend ${f('eds-legend.csv')} --pixel-um ${+pixelSizeUm.toPrecision(6)} --out ${q(`${dir.replace(/\/+$/, '')}-run`)}`;
}

const SPEC = {
  usage: USAGE,
  options: { seed: { kind: 'number', integer: true, min: 0 }, options: { kind: 'string' } },
  positionals: { name: 'output folder', min: 1, max: 1 },
} as const;

export async function main(argv: string[]): Promise<number> {
  const { values: a, positionals: [dir] } = parseCommandArgs(argv, SPEC);
  const opts: SandstoneInput = {};
  if (a.options !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(a.options);
    } catch {
      throw invalidInput('--options must be JSON, e.g. \'{"seed": 3}\'.');
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw invalidInput('--options must be a JSON object, e.g. \'{"seed": 3}\'.');
    Object.assign(opts, parsed);
  }
  if (a.seed !== undefined) (opts as { seed?: number }).seed = a.seed;
  const bar = progressBar('synth');
  const sample = await generateSandstone(opts, { onProgress: bar });
  await writeSyntheticSample(dir!, sample);
  bar.done();
  const [nz, ny, nx] = sample.volume.meta.shape;
  console.log(JSON.stringify({ out: dir, volume: { shape: [nz, ny, nx], spacingUm: sample.volume.meta.spacingUm }, eds: { width: sample.eds.width, height: sample.eds.height, pixelSizeUm: sample.eds.pixelSizeUm } }, null, 1));
  // what to do with it (stderr: stdout stays the JSON)
  process.stderr.write(`petromap synth: next, the whole chain on it: ${nextRunLine(dir!, sample.eds.pixelSizeUm)}\n`);
  return 0;
}
