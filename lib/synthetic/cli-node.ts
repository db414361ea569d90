/**
 * Writes a synthetic sample to a folder, for the demo and for trying the importers by hand:
 *   npx tsx lib/synthetic/cli-node.ts <outDir> ['{"seed": 3, "eds": {"rotationDeg": 40}}']
 */
import { pathToFileURL } from 'node:url';
import { generateSandstone } from './generate-sandstone';
import type { SandstoneInput } from './options';
import { writeSyntheticSample } from './write-sample-node';

export async function main(argv: string[]): Promise<void> {
  const [dir, json] = argv;
  if (!dir) throw new Error('usage: cli-node.ts <outDir> [options as JSON]');
  const opts = json ? (JSON.parse(json) as SandstoneInput) : {};
  const t0 = performance.now();
  const sample = generateSandstone(opts);
  await writeSyntheticSample(dir, sample);
  const [nz, ny, nx] = sample.volume.meta.shape;
  console.log(`wrote ${nz}x${ny}x${nx} sandstone and a ${sample.eds.width}x${sample.eds.height} EDS map to ${dir} in ${Math.round(performance.now() - t0)} ms`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
