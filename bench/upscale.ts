/**
 * `npm run bench -- upscale [--size 1024 | --shape z,y,x] [--interior 512] [--ratio 8] [--no-small] [--no-big] [--keep]`
 * Multi-scale lithology (issue 18):
 * 1. accuracy and time on the test samples (2 seeds × ratios 4× and 8×, 48×56×56 low-res): interior
 *    registration RMS error from starts 9.5 voxels and 9.5° off, porosity per class and of the
 *    whole sample against the generator's exact porosity, interval coverage;
 * 2. scale: a `size`³ low-res scan with two `interior`³ interior scans at `ratio`×, written blockwise;
 *    `petromap upscale`'s chain (runUpscale, NRRD export) runs in a child process whose peak RSS
 *    (VmHWM) is the figure (target: 1024³ + two 512³ under 2 GiB), with its time and figures.
 *    --shape 64,1024,1024 runs a 64-slice slab of that sample with the same two 512³ interiors: every
 *    buffer (slabs of 1024² planes, the interiors' slabs and footprints) is the full size, only the
 *    number of slabs is smaller, so its peak RSS stands in for the 1024³ one (not the same run) at
 *    1/16 of the synthesis time.
 * No peer: desktop suites do this by hand over several tools; nothing scriptable on this machine.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
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
    const truth = await writeMultiscaleSample(dir, { seed: 1, ratio, shape, interiors });
    console.log(`  synthesised in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    const args = join(dir, 'args.json');
    await writeFile(args, JSON.stringify({ volumePath: truth.paths.volume, classesPath: truth.paths.classes, outDir: join(dir, 'out'), formats: ['nrrd'], interiors: truth.interiors.map((t, k) => ({ path: t.path, start: perturbedStart(t, 10 + k) })) }));
    const t1 = performance.now();
    const tsxCli = join(dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist', 'cli.mjs');
    const here = dirname(fileURLToPath(import.meta.url));
    const out = execFileSync(process.execPath, [tsxCli, join(here, 'run.ts'), 'upscale', '--child', args], { encoding: 'utf8', maxBuffer: 1 << 26 });
    const seconds = (performance.now() - t1) / 1000;
    const { rssKiB } = JSON.parse(out.trim().split('\n').pop()!) as { rssKiB: number };
    const r = JSON.parse(await readFile(join(dir, 'out', 'report.json'), 'utf8')) as UpscaleResult;
    figures(`  ${shape.join('×')} + 2 × ${edge}³`, truth, r, seconds);
    console.log(`  peak RSS of the upscale process ${(rssKiB / 2 ** 20).toFixed(2)} GiB (target < 2 GiB): ${rssKiB < 2 * 2 ** 20 ? 'met' : 'NOT met'}`);
  } finally {
    if (!keep) await rm(dir, { recursive: true, force: true });
    else console.log(`  kept ${dir}`);
  }
}

async function child(argsPath: string): Promise<void> {
  const input = JSON.parse(await readFile(argsPath, 'utf8'));
  await runUpscale(input);
  const status = await readFile('/proc/self/status', 'utf8');
  console.log(JSON.stringify({ rssKiB: Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) }));
}

export async function run(args: string[]): Promise<void> {
  if (args[0] === '--child') return child(args[1]!);
  if (!args.includes('--no-small')) await small();
  const size = Number(arg(args, '--size', '1024'));
  const shape = arg(args, '--shape', `${size},${size},${size}`).split(',').map(Number) as Vec3;
  if (!args.includes('--no-big')) await big(shape, Number(arg(args, '--interior', '512')), Number(arg(args, '--ratio', '8')), args.includes('--keep'));
}
