/**
 * `npm run bench -- predict [--size 1024] [--bricks 24] [--threads 2] [--features 1|2] [--hidden 48,48] [--profile | --kernels] [--trace-gc]`: peak RSS of a whole-volume
 * prediction on a large uint16 store (issue 5: under 2 GiB for 1024^3).
 * Writes the store blockwise, saves an MLP over the default classifier bank (weights untrained:
 * memory and speed do not depend on them), then runs lib/classify's predictVolume in a child
 * process, the way the server does, and stops it after `--bricks` bricks (steady state: every
 * worker busy, outputs streaming to the chunk store). Prints the child's VmHWM and the throughput.
 * `--bricks all` predicts the whole volume (about an hour for 1024^3 on 2 cores). `--trace-gc` counts
 * the child's major and minor GCs (all threads) and their pauses.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { classifierFeatureSet } from '../lib/classify/feature-sets';
import { buildMlp, type TrainedModel } from '../lib/classify/model';
import { saveModel } from '../lib/classify/model-io-node';
import { getTf } from '../lib/classify/tf-node';
import { featureNames } from '../lib/features';
import { peakRssKiB, writeBigStore } from './_big-store';

const here = dirname(fileURLToPath(import.meta.url));
// one folder per run, so that two runs (e.g. the two kernel builds, PETROMAP_WASM_RELAXED_SIMD=0) can go side by side
const outDir = join(here, 'out', 'predict', String(process.pid));
const arg = (a: string[], name: string, d: string) => (a.includes(name) ? a[a.indexOf(name) + 1]! : d);

export async function run(args: string[]): Promise<void> {
  if (args[0] === '--child') return child(args.slice(1));
  const size = Number(arg(args, '--size', '1024'));
  const bricks = arg(args, '--bricks', '24');
  const threads = Number(arg(args, '--threads', '2'));
  const profile = args.includes('--profile');
  const hidden = arg(args, '--hidden', '48,48').split(',').map(Number);
  // --features 1|2: the feature definition version (lib/features/plan.ts); default: the classifier bank's
  const version = args.includes('--features') ? (Number(arg(args, '--features', '1')) as 1 | 2) : undefined;
  mkdirSync(outDir, { recursive: true });
  const storePath = join(outDir, `volume-${size}.ome.zarr`);
  const modelDir = join(outDir, `model-${size}`);
  const predDir = join(outDir, `prediction-${size}`);
  for (const p of [storePath, modelDir, predDir]) rmSync(p, { recursive: true, force: true });
  try {
    console.log(`writing a ${size}^3 uint16 store blockwise (${((size ** 3 * 2) / 2 ** 30).toFixed(2)} GiB) ...`);
    let t = performance.now();
    await writeBigStore(storePath, size);
    console.log(`  written in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    await getTf();
    const set = classifierFeatureSet([1, 1, 1], { version });
    const names = featureNames(set, ['xrm']);
    const classes = [1, 2, 3, 4, 5];
    const tm: TrainedModel = {
      model: buildMlp(names.length, hidden, classes.length, { dropout: 0.2 }), classes, mean: new Float32Array(names.length).fill(20000),
      std: new Float32Array(names.length).fill(5000), featureNames: names, featureSet: set, hidden, history: [], bestEpoch: 0,
    };
    await saveModel(modelDir, tm, { classNames: ['pore', 'quartz', 'feldspar', 'clay', 'pyrite'] });
    if (args.includes('--kernels')) {
      const { profileKernels } = await import('./_predict-profile');
      await profileKernels(storePath, set, bricks === 'all' ? Infinity : Number(bricks), [64, 128, 128]);
      return;
    }
    if (profile) {
      const { profileBricks } = await import('./_predict-profile');
      await profileBricks(storePath, modelDir, predDir, bricks === 'all' ? Infinity : Number(bricks), [64, 128, 128]);
      return;
    }
    const tsxCli = join(dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist', 'cli.mjs');
    t = performance.now();
    const traceGc = args.includes('--trace-gc');
    const r = spawnSync(process.execPath, [tsxCli, join(here, 'run.ts'), 'predict', '--child', storePath, modelDir, predDir, bricks, String(threads), traceGc ? 'trace-gc' : ''], { encoding: 'utf8', maxBuffer: 1 << 28 });
    const line = r.stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop() ?? '';
    if (r.status !== 0 || !line.startsWith('{')) {
      console.log(`  child failed: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
      return;
    }
    const res = JSON.parse(line) as { vmHwmKiB: number; seconds: number; cpuSeconds: number; done: number; total: number; voxels: number; kernels: string; threads: Array<{ name: string; s: number }> };
    console.log(`${names.length} features (definition version ${set.version ?? 1}), MLP ${hidden.join('x')}, ${res.kernels} kernels, ${threads} worker threads: ${res.done} of ${res.total} bricks (${(res.voxels / 1e6).toFixed(1)} M voxels) in ${res.seconds.toFixed(1)} s = ${(res.voxels / res.seconds / 1e6).toFixed(3)} M voxels/s`);
    // on a shared machine wall time counts other people's work: CPU time of the process (all its
    // threads) per thread is what the threads would take with the cores to themselves
    console.log(`CPU time ${res.cpuSeconds.toFixed(1)} s (all threads) = ${(res.voxels / (res.cpuSeconds / threads) / 1e6).toFixed(3)} M voxels/s at ${threads} busy threads (wall-clock figure above is lower when the machine is shared)`);
    if (res.threads.length) {
      // the worker threads have ended by now: their CPU is what the listed threads leave
      const listed = res.threads.reduce((a, t) => a + t.s, 0);
      const byName = new Map<string, number>();
      for (const t of res.threads) byName.set(t.name, (byName.get(t.name) ?? 0) + t.s);
      const parts = [...byName].sort((a, b) => b[1] - a[1]).map(([n, v]) => `${n} ${v.toFixed(1)} s`);
      console.log(`CPU by thread: prediction workers ${(res.cpuSeconds - listed).toFixed(1)} s (${((100 * (res.cpuSeconds - listed)) / res.cpuSeconds).toFixed(0)} %), others ${listed.toFixed(1)} s: ${parts.join(', ')}`);
    }
    if (traceGc) console.log(gcSummary(r.stdout, res.done));
    console.log(`peak RSS of the prediction process (VmHWM): ${(res.vmHwmKiB / 2 ** 20).toFixed(2)} GiB for a ${((size ** 3 * 2) / 2 ** 30).toFixed(2)} GiB volume (target < 2 GiB)`);
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}

/** Child: predict until `count` bricks are done (then cancel: the run is resumable), print VmHWM. */
async function child([storePath, modelDir, predDir, countArg, threadsArg, traceGc]: string[]): Promise<void> {
  // V8's flags are the process's: the worker threads started below trace their GCs too
  if (traceGc === 'trace-gc') (await import('node:v8')).setFlagsFromString('--trace-gc');
  const { predictVolume } = await import('../lib/classify/predict-node');
  // the build the worker threads load now (asked before they start: a rebuild during the run does not change theirs)
  const { kernelsFlavour } = await import('../lib/features/kernels-wasm');
  const kernels = kernelsFlavour();
  const ac = new AbortController();
  let done = 0, total = 0;
  const t = performance.now();
  const c0 = process.cpuUsage();
  const brick = [64, 128, 128];
  try {
    await predictVolume(storePath!, modelDir!, predDir!, {
      threads: Number(threadsArg), pyramids: false, signal: ac.signal,
      onProgress: (f) => {
        if (countArg !== 'all' && f > 0) {
          // progress is the fraction of bricks done
          done = readdirSync(join(predDir!, 'bricks')).filter((n) => n.endsWith('.done')).length;
          if (done >= Number(countArg)) ac.abort(new Error('enough bricks for the measurement'));
        }
      },
    });
  } catch (err) {
    if (!ac.signal.aborted) throw err;
  }
  const seconds = (performance.now() - t) / 1000;
  const cu = process.cpuUsage(c0);
  const cpuSeconds = (cu.user + cu.system) / 1e6;
  done = readdirSync(join(predDir!, 'bricks')).filter((n) => n.endsWith('.done')).length;
  const { openVolume } = await import('../lib/volume/zarr-store-node');
  const shape = (await openVolume(storePath!)).meta.shape;
  total = Math.ceil(shape[0] / brick[0]!) * Math.ceil(shape[1] / brick[1]!) * Math.ceil(shape[2] / brick[2]!);
  console.log(JSON.stringify({ vmHwmKiB: await peakRssKiB(), seconds, cpuSeconds, done, total, voxels: done * brick[0]! * brick[1]! * brick[2]!, kernels, threads: threadCpu() }));
}

/**
 * CPU seconds of this process's threads (Linux /proc; [] elsewhere), largest first: where the
 * process's CPU time goes besides the prediction threads (main thread, V8's GC and compiler
 * helpers, libuv's pool). Threads that have ended (the prediction workers after the run) are not
 * listed: their time is the process total minus the listed ones.
 */
function threadCpu(): Array<{ name: string; s: number }> {
  try {
    const tick = 100; // USER_HZ
    return readdirSync('/proc/self/task').map((tid) => {
      const f = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      const name = readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim();
      return { name: tid === String(process.pid) ? 'main' : name, s: (Number(f[11]) + Number(f[12])) / tick };
    }).sort((a, b) => b.s - a.s);
  } catch {
    return [];
  }
}

/**
 * `--trace-gc`: V8's GC lines of the child (one isolate per thread, `[pid:0xisolate] t ms: Kind
 * before (committed) -> after (committed) MB, pause / external ms ...`): count and pause time of the
 * major (Mark-Compact) and minor (Scavenge) GCs, per brick, over all threads.
 */
function gcSummary(stdout: string, bricks: number): string {
  const kinds = new Map<string, { n: number; ms: number }>();
  const isolates = new Set<string>();
  for (const l of stdout.split('\n')) {
    const m = /^\[\d+:(0x[0-9a-f]+)\]\s+\d+ ms: (Mark-Compact|Scavenge|Minor Mark-Compact|Mark-Compact \(reduce\))\b.*?MB, ([\d.]+) \/ ([\d.]+) ms/.exec(l);
    if (!m) continue;
    isolates.add(m[1]!);
    const k = kinds.get(m[2]!) ?? { n: 0, ms: 0 };
    k.n++;
    k.ms += Number(m[3]);
    kinds.set(m[2]!, k);
  }
  const parts = [...kinds].map(([k, v]) => `${k} ${v.n} (${(v.n / Math.max(1, bricks)).toFixed(2)} per brick, pauses ${v.ms.toFixed(0)} ms)`);
  return `GCs of ${isolates.size} isolates (--trace-gc): ${parts.join(', ') || 'none traced'}`;
}
