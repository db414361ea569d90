/**
 * `npm run bench -- upscale [--size 1024 | --shape z,y,x] [--interior 512] [--ratio 8] [--no-small] [--no-big] [--keep]`
 * Multi-scale lithology (issue 18):
 * 1. accuracy and time on the test samples (2 seeds × ratios 4× and 8×, 48×56×56 low-res): interior
 *    registration RMS error from starts 9.5 voxels and 9.5° off, porosity per class and of the
 *    whole sample against the generator's exact porosity, interval coverage;
 * 2. scale: a `size`³ low-res scan (default 1024³) with two `interior`³ interior scans (default 512³)
 *    at `ratio`× (default 8×). The large scan is made straight at low resolution from the analytic
 *    sample model (fields.ts: every voxel's exact footprint porosity, no high-resolution voxel made),
 *    slab by slab in worker threads, written as a chunked store; the interiors at high resolution
 *    at known poses. `petromap upscale`'s chain (runUpscale: registration from starts 9.5 voxels and
 *    9.5° off, measurement, composite, NRRD export) runs in a child process whose peak RSS (VmHWM,
 *    all its threads) is the figure (target: 1024³ + two 512³ under 2 GiB), with its wall and CPU
 *    time and the accuracy figures. --shape z,y,x runs another shape (e.g. a slab 64,1024,1024).
 * No peer: desktop suites do this by hand over several tools; nothing scriptable on this machine.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rmsPoseDistance } from '../lib/registration/register-3d';
import { MultiscaleField } from '../lib/synthetic/multiscale/fields';
import { defaultInteriors, perturbedStart, writeMultiscaleSample, type MultiscaleTruth } from '../lib/synthetic/multiscale/write-multiscale-node';
import { poseAffine, type Vec3 } from '../lib/upscale/interior-pose';
import { runUpscale, type UpscaleResult } from '../lib/upscale/run-upscale-node';

const arg = (args: string[], name: string, def: string) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1]! : def;
};

function figures(label: string, truth: MultiscaleTruth, r: UpscaleResult, seconds: number) {
  const errs = truth.interiors.map((t, k) => rmsPoseDistance(r.interiors[k]!.hiToLow, poseAffine(t.pose, t.shape), t.shape));
  const cls = truth.classes.map((c) => {
    const e = r.classes.find((x) => x.code === c.code)?.porosity;
    return `${c.name} ${e ? e.value.toFixed(4) : '—'} (truth ${c.porosity.toFixed(4)}, Δ ${e ? (e.value - c.porosity).toFixed(4) : '—'})`;
  });
  const t = r.total, inside = t.low <= truth.totalPorosity && truth.totalPorosity <= t.high;
  console.log(`${label}: registration RMS error ${errs.map((e) => e.toFixed(3)).join(' / ')} low-res voxels (estimate ${r.interiors.map((i) => i.quality?.errorEstimateVox.toFixed(2)).join(' / ')})`);
  console.log(`  ${cls.join('; ')}`);
  console.log(`  whole sample ${t.value.toFixed(4)} [${t.low.toFixed(4)}, ${t.high.toFixed(4)}] truth ${truth.totalPorosity.toFixed(4)} (Δ ${(t.value - truth.totalPorosity).toFixed(4)}, ${inside ? 'inside' : 'OUTSIDE'} the interval); ${seconds.toFixed(1)} s`);
  return { errs, dc: truth.classes.map((c) => Math.abs((r.classes.find((x) => x.code === c.code)?.porosity?.value ?? NaN) - c.porosity)), dt: Math.abs(t.value - truth.totalPorosity), inside, seconds };
}

async function small(): Promise<void> {
  console.log('-- accuracy on the test samples (48×56×56 low-res; interiors 96³ at 4×, 176³ at 8×)');
  const rows: ReturnType<typeof figures>[] = [];
  for (const ratio of [4, 8]) for (const seed of [1, 2]) {
    const dir = await mkdtemp(join(tmpdir(), 'petromap-bench-upscale-'));
    try {
      const shape: Vec3 = [48, 56, 56];
      const truth = await writeMultiscaleSample(dir, { seed, ratio, shape, interiors: defaultInteriors(new MultiscaleField({ seed, shape, ratio }), ratio === 4 ? 96 : 176) });
      const t0 = performance.now();
      const r = await runUpscale({ volumePath: truth.paths.volume, classesPath: truth.paths.classes, outDir: join(dir, 'out'), formats: ['nrrd'], interiors: truth.interiors.map((t, k) => ({ path: t.path, start: perturbedStart(t, seed * 10 + k) })) });
      rows.push(figures(`ratio ${ratio}×, seed ${seed}`, truth, r, (performance.now() - t0) / 1000));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  const all = (f: (x: (typeof rows)[number]) => number[]) => rows.flatMap(f);
  const med = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
  console.log(`  worst registration error ${Math.max(...all((x) => x.errs)).toFixed(3)} (target ≤ 0.5), worst class error ${Math.max(...all((x) => x.dc)).toFixed(4)} (≤ 0.02), ` +
    `worst total error ${Math.max(...rows.map((x) => x.dt)).toFixed(4)} (≤ 0.01), intervals covering the truth ${rows.filter((x) => x.inside).length}/${rows.length}, median time ${med(rows.map((x) => x.seconds)).toFixed(1)} s`);
}

async function big(shape: Vec3, edge: number, ratio: number, keep: boolean): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'petromap-bench-upscale-big-'));
  try {
    console.log(`-- scale: ${shape.join('×')} low-res, two ${edge}³ interiors at ${ratio}× (written blockwise in this process)`);
    const t0 = performance.now();
    let interiors = defaultInteriors(new MultiscaleField({ seed: 1, shape, ratio }), edge);
    // a thin slab of the sample (--shape): both interiors at its mid-depth
    if (shape[0] < 2 * (edge / ratio)) interiors = interiors.map((i) => ({ ...i, centre: [shape[0] / 2, i.centre[1], i.centre[2]] as Vec3 }));
    const cpu0 = process.cpuUsage();
    const truth = await writeMultiscaleSample(dir, { seed: 1, ratio, shape, interiors }, { onProgress: progressLog() });
    const cpuSynth = process.cpuUsage(cpu0);
    console.log(`  synthesised in ${((performance.now() - t0) / 1000).toFixed(0)} s wall, ${((cpuSynth.user + cpuSynth.system) / 1e6).toFixed(0)} s CPU (this process, worker threads included); load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    const args = join(dir, 'args.json');
    await writeFile(args, JSON.stringify({ volumePath: truth.paths.volume, classesPath: truth.paths.classes, outDir: join(dir, 'out'), formats: ['nrrd'], interiors: truth.interiors.map((t, k) => ({ path: t.path, start: perturbedStart(t, 10 + k) })) }));
    const t1 = performance.now();
    const tsxCli = join(dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist', 'cli.mjs');
    const here = dirname(fileURLToPath(import.meta.url));
    const out = execFileSync(process.execPath, [tsxCli, join(here, 'run.ts'), 'upscale', '--child', args], { encoding: 'utf8', maxBuffer: 1 << 26 });
    const seconds = (performance.now() - t1) / 1000;
    const { rssKiB, cpuSeconds } = JSON.parse(out.trim().split('\n').pop()!) as { rssKiB: number; cpuSeconds: number };
    const r = JSON.parse(await readFile(join(dir, 'out', 'report.json'), 'utf8')) as UpscaleResult;
    figures(`  ${shape.join('×')} + 2 × ${edge}³`, truth, r, seconds);
    console.log(`  upscale process: ${seconds.toFixed(0)} s wall, ${cpuSeconds.toFixed(0)} s CPU (all threads); load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    console.log(`  peak RSS of the upscale process ${(rssKiB / 2 ** 20).toFixed(2)} GiB (target < 2 GiB): ${rssKiB < 2 * 2 ** 20 ? 'met' : 'NOT met'}`);
  } finally {
    if (!keep) await rm(dir, { recursive: true, force: true });
    else console.log(`  kept ${dir}`);
  }
}

/** progress on stderr, every 5 % (a long run shows where it is) */
function progressLog() {
  const t0 = performance.now();
  let last = -1;
  return (f: number, m?: string) => {
    const k = Math.floor(f * 20);
    if (k === last) return;
    last = k;
    process.stderr.write(`    ${(100 * f).toFixed(0)} % ${m ?? ''} (${((performance.now() - t0) / 1000).toFixed(0)} s)\n`);
  };
}

async function child(argsPath: string): Promise<void> {
  const input = JSON.parse(await readFile(argsPath, 'utf8'));
  await runUpscale(input, { onProgress: progressLog() });
  const status = await readFile('/proc/self/status', 'utf8');
  const cpu = process.resourceUsage();
  console.log(JSON.stringify({ rssKiB: Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0), cpuSeconds: (cpu.userCPUTime + cpu.systemCPUTime) / 1e6 }));
}

export async function run(args: string[]): Promise<void> {
  if (args[0] === '--child') return child(args[1]!);
  if (!args.includes('--no-small')) await small();
  const size = Number(arg(args, '--size', '1024'));
  const shape = arg(args, '--shape', `${size},${size},${size}`).split(',').map(Number) as Vec3;
  if (!args.includes('--no-big')) await big(shape, Number(arg(args, '--interior', '512')), Number(arg(args, '--ratio', '8')), args.includes('--keep'));
}
