/**
 * `npm run bench -- train [--shape z,y,x] [--repeats N] [--seed S]`: the same training, two ways
 * (issue 13: web training at most 1.2x the CLI's time on the same data).
 * - web: the Train step's job (server/pipeline/train startTrain: the project's stored state mapped
 *   to lib/pipeline trainFromLabels, run in the compute host's worker thread), wall time of the job;
 * - CLI: `petromap train` as a user runs it (a fresh process), wall time.
 * Both train on the synthetic sandstone's exact registration with the default feature bank and
 * seed; runs alternate and the medians are compared.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Shape3 } from '../lib/volume/types';
import { startTrain } from '../server/pipeline/train';
import { makeSandstoneProject, storeTruthRegistration } from '../tests/server/train-fixture';

const run_ = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;

export async function run(args: string[]): Promise<void> {
  let shape: Shape3 = [64, 128, 128];
  let repeats = 3;
  let seed = 11;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--shape') shape = args[++i]!.split(',').map(Number) as Shape3;
    else if (args[i] === '--repeats') repeats = Number(args[++i]);
    else if (args[i] === '--seed') seed = Number(args[++i]);
  }
  const fx = await makeSandstoneProject({ shape, seed, grainDiameterVox: 14 });
  try {
    const { svc, projectId, sample } = fx;
    const rec = storeTruthRegistration(fx);
    const ds = svc.repo.listDatasets(projectId);
    const vol = ds.find((d) => d.kind === 'volume')!, eds = ds.find((d) => d.kind === 'eds')!;
    const regFile = path.join(svc.ws.root, 'registration.json');
    await writeFile(regFile, JSON.stringify({ edsToSlab: rec.edsToSlab, slabToVoxel: rec.slabToVoxel, slabSize: [shape[2], shape[1]], surface: rec.surface }));
    console.log(`synthetic sandstone ${shape.join('x')} (seed ${seed}), ${repeats} runs each, default feature bank and model`);
    const web: number[] = [], cli: number[] = [];
    for (let k = 0; k < repeats; k++) {
      let t = Date.now();
      const j = await svc.jobs.wait(startTrain(svc, projectId).id);
      if (j.error) throw new Error(`web training failed: ${j.error}`);
      web.push((Date.now() - t) / 1000);
      t = Date.now();
      await run_(process.execPath, [path.join(ROOT, 'bin', 'petromap.mjs'), 'train', '--volume', svc.ws.abs(vol.relPath), '--eds', svc.ws.abs(eds.relPath), '--registration', regFile, '--out', path.join(svc.ws.root, `cli-model-${k}`)], { cwd: ROOT, maxBuffer: 1 << 24 });
      cli.push((Date.now() - t) / 1000);
      console.log(`  run ${k + 1}: web job ${web[k]!.toFixed(1)} s, petromap train ${cli[k]!.toFixed(1)} s`);
    }
    const ratio = median(web) / median(cli);
    console.log(`median: web ${median(web).toFixed(1)} s, CLI ${median(cli).toFixed(1)} s; web / CLI = ${ratio.toFixed(2)} (target <= 1.2) ${ratio <= 1.2 ? 'meets' : 'MISSES'}`);
    void sample;
    if (ratio > 1.2) process.exitCode = 1;
  } finally {
    fx.cleanup();
  }
}
