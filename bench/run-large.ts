/**
 * `npm run bench -- run-large [--size 1024] [--depth 96] [--threads 2] [--seed 11] [--keep]`
 * The whole mineralogy chain end to end on a large synthetic sample (issue 17: 1024^3 in under
 * 10 minutes with peak RSS under 2 GiB, on 2 cores): import (NRRD -> OME-Zarr with its pyramid,
 * EDS map PNG + legend), register, train, predict (bricks, verification, pyramids), report, in a
 * child process through the lib/ entries the CLI uses (importVolume, importMineralMap,
 * runMineralogy). Prints the stage breakdown, the child's peak RSS (VmHWM) and, on the generated
 * part, the mean IoU of the labels against the truth.
 *
 * The sample: generateSandstone holds the whole volume and several per-voxel fields in memory (about
 * 20 bytes per voxel, 36 s for 64x512x512), so it cannot make 1024^3 in bounded memory. This
 * benchmark therefore generates a `--depth` x size x size sample (surface, EDS map and truth as
 * usual; 96x1024x1024 takes about 2 GiB and a few minutes, in this process, not the measured one),
 * and streams the size^3 NRRD from it slice by slice: slices below the generated depth repeat its
 * rock part, reflected back and forth along z (a deeper rock of the same fabric).
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { confusionMetrics } from '../lib/classify/model';
import { generateSandstone } from '../lib/synthetic';
import { formatNrrdHeader } from '../lib/synthetic/nrrd-writer-node';
import { SAMPLE_FILES, writeSyntheticSample } from '../lib/synthetic/write-sample-node';
import type { Shape3 } from '../lib/volume/types';
import { openVolume } from '../lib/volume/zarr-store-node';
import { peakRssKiB } from './_big-store';

const here = dirname(fileURLToPath(import.meta.url));
const arg = (a: string[], name: string, d: string) => (a.includes(name) ? a[a.indexOf(name) + 1]! : d);
const LARGE = 'volume-large.nrrd';

interface ChildResult {
  vmHwmKiB: number;
  seconds: Record<string, number>;
  /** CPU seconds of the child (all threads) per stage */
  cpu: Record<string, number>;
  predict: { bricks: number; verifyAt: number; pyramidsAt: number; seconds: number };
  validationMeanIoU: number;
  labelsPath: string;
}

/** Source slice of slice z: the generated ones as they are, deeper ones reflected within [zRock, depth). */
export function sourceSlice(z: number, depth: number, zRock: number): number {
  if (z < depth) return z;
  const p = depth - zRock;
  const m = (z - depth) % (2 * p);
  return m < p ? depth - 1 - m : zRock + (m - p);
}

export async function run(args: string[]): Promise<void> {
  if (args[0] === '--child') return child(args.slice(1));
  const size = Number(arg(args, '--size', '1024'));
  const depth = Math.min(size, Number(arg(args, '--depth', '96')));
  const threads = Number(arg(args, '--threads', '2'));
  const seed = Number(arg(args, '--seed', '11'));
  const dir = join(here, 'out', 'run-large');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  try {
    console.log(`generating a ${depth}x${size}x${size} synthetic sandstone (seed ${seed}) ...`);
    let t = performance.now();
    let sample: ReturnType<typeof generateSandstone> | null = generateSandstone({ shape: [depth, size, size], seed });
    console.log(`  generated in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    await writeSyntheticSample(dir, sample);
    // first z below the surface everywhere (+2): the rock that deeper slices repeat
    const { a, b, c } = sample.truth.surface;
    const zRock = Math.ceil(Math.max(c, a * (size - 1) + c, b * (size - 1) + c, a * (size - 1) + b * (size - 1) + c)) + 2;
    if (zRock >= depth - 8) throw new Error(`--depth ${depth} leaves no rock below the tilted surface (first rock slice ${zRock}); use a larger depth.`);
    t = performance.now();
    const shape: Shape3 = [size, size, size];
    const fd = openSync(join(dir, LARGE), 'w');
    try {
      writeSync(fd, Buffer.from(formatNrrdHeader({ meta: { ...sample.volume.meta, shape }, data: new Uint16Array(0) }), 'latin1'));
      const plane = size * size;
      const vol = sample.volume.data as Uint16Array;
      for (let z = 0; z < size; z++) {
        const s = sourceSlice(z, depth, zRock);
        writeSync(fd, Buffer.from(vol.buffer, vol.byteOffset + s * plane * 2, plane * 2));
      }
    } finally {
      closeSync(fd);
    }
    console.log(`  ${size}^3 uint16 NRRD (${((size ** 3 * 2) / 2 ** 30).toFixed(2)} GiB) streamed in ${((performance.now() - t) / 1000).toFixed(1)} s (rock below slice ${depth} reflected from slices ${zRock}..${depth - 1})`);
    const truth = sample.truthLabels;
    const pixelUm = sample.eds.pixelSizeUm;
    sample = null; // the child runs without the generator's memory in this process mattering
    const tsxCli = join(dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist', 'cli.mjs');
    t = performance.now();
    const r = spawnSync(process.execPath, [tsxCli, join(here, 'run.ts'), 'run-large', '--child', dir, String(threads), String(pixelUm), String(seed)], { encoding: 'utf8', maxBuffer: 1 << 26, stdio: ['ignore', 'pipe', 'inherit'] });
    const wall = (performance.now() - t) / 1000;
    const line = r.stdout.trim().split('\n').pop() ?? '';
    if (r.status !== 0 || !line.startsWith('{')) {
      console.log(`  the chain failed (exit ${r.status}): ${r.stdout.trim().split('\n').slice(-3).join(' | ')}`);
      return;
    }
    const res = JSON.parse(line) as ChildResult;
    const s = res.seconds;
    const p = res.predict;
    console.log(`\nstage breakdown, ${size}^3 (${(size ** 3 / 1e6).toFixed(0)} M voxels), ${threads} threads:`);
    const cp = res.cpu;
    const rows: [string, number, number][] = [
      ['import volume (NRRD -> OME-Zarr + pyramid)', s.importVolume!, cp.importVolume!],
      ['import EDS map', s.importEds!, cp.importEds!],
      ['register', s.register!, cp.register!],
      ['train (features of the labelled voxels, MLP)', s.train!, cp.train!],
      ['predict: bricks', p.verifyAt, cp.bricks!],
      ['predict: verification (every sample voxel labelled)', p.pyramidsAt - p.verifyAt, cp.verify!],
      ['predict: output pyramids', p.seconds - p.pyramidsAt, cp.pyramids!],
      ['report (modal mineralogy, depth profile)', s.report!, cp.report!],
    ];
    const total = rows.reduce((acc, [, v]) => acc + v, 0);
    const cpuTotal = rows.reduce((acc, [, , v]) => acc + v, 0);
    console.log(`  ${'stage'.padEnd(54)} ${'wall'.padStart(8)} ${'share'.padStart(6)} ${'CPU (all threads)'.padStart(18)}`);
    for (const [k, v, cv] of rows) console.log(`  ${k.padEnd(54)} ${v.toFixed(1).padStart(7)}s ${((100 * v) / total).toFixed(1).padStart(5)}% ${cv.toFixed(1).padStart(17)}s`);
    console.log(`  ${'total (in the child)'.padEnd(54)} ${total.toFixed(1).padStart(7)}s ${''.padStart(6)} ${cpuTotal.toFixed(1).padStart(17)}s  (child wall ${wall.toFixed(1)} s; target < 600 s)`);
    console.log(`prediction: ${((size ** 3) / p.verifyAt / 1e6).toFixed(2)} M voxels/s wall over the bricks, ${((size ** 3) / (cp.bricks! / threads) / 1e6).toFixed(2)} M voxels/s per CPU time of ${threads} threads; ${p.bricks} bricks`);
    console.log(`peak RSS of the chain (VmHWM of the child): ${(res.vmHwmKiB / 2 ** 20).toFixed(2)} GiB (target < 2 GiB)`);
    // accuracy on the generated slices (below the surface) against the truth
    const labels = await openVolume(res.labelsPath);
    const got = await labels.readBlock({ start: [0, 0, 0], shape: [depth, size, size] });
    const m = confusionMetrics(truth, got, [1, 2, 3, 4, 5]);
    console.log(`mean IoU on the generated ${depth} slices: ${m.meanIoU.toFixed(3)} (per class ${m.perClass.map((c) => `${c.class}:${c.iou.toFixed(2)}`).join(' ')}); held-out validation mean IoU ${res.validationMeanIoU.toFixed(3)}`);
  } finally {
    if (!args.includes('--keep')) rmSync(dir, { recursive: true, force: true });
  }
}

/** Child: the chain through the lib/ entries, timed per stage; prints one JSON line. */
async function child([dir, threadsArg, pixelArg, seedArg]: string[]): Promise<void> {
  const { importVolume } = await import('../lib/volume/import-node');
  const { importMineralMap } = await import('../lib/eds/import-node');
  const { classMapFromTable, runMineralogy } = await import('../lib/pipeline/run-mineralogy');
  let t = performance.now();
  const seconds: Record<string, number> = {};
  const cpu: Record<string, number> = {};
  const cpuNow = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  };
  let c = cpuNow();
  const lap = (k: string) => {
    seconds[k] = (performance.now() - t) / 1000;
    t = performance.now();
    cpu[k] = cpuNow() - c;
    c = cpuNow();
  };
  const store = join(dir!, 'volume.ome.zarr');
  await importVolume(join(dir!, LARGE), store);
  lap('importVolume');
  const map = await importMineralMap({ map: join(dir!, SAMPLE_FILES.edsMap), legend: join(dir!, SAMPLE_FILES.legend), pixelSizeUm: Number(pixelArg) });
  lap('importEds');
  const { classMap, classes } = classMapFromTable(map);
  // the prediction's own phases, from its progress messages
  let tPredict = 0, verifyAt = 0, pyramidsAt = 0;
  // CPU time at the stage boundaries of runMineralogy's progress (register 0-0.15, train -0.45, predict -0.95, report)
  const marks: Record<string, number> = { start: cpuNow() };
  const mark = (k: string) => (marks[k] ??= cpuNow());
  const r = await runMineralogy(store, map, classMap, join(dir!, 'run'), {
    classes, threads: Number(threadsArg), seed: Number(seedArg),
    onProgress: (f, msg) => {
      const now = performance.now();
      if (f >= 0.15) mark('train');
      if (f >= 0.45) mark('predict');
      if (msg?.startsWith('checking that every voxel')) mark('verify');
      if (msg?.startsWith('building the output pyramids')) mark('pyramids');
      if (f >= 0.95 && !msg?.startsWith('building the output pyramids') && !msg?.startsWith('checking')) mark('report');
      if (!tPredict && msg && /^brick|bricks already done/.test(msg)) tPredict = now;
      if (!verifyAt && msg?.startsWith('checking that every voxel')) verifyAt = now;
      if (!pyramidsAt && msg?.startsWith('building the output pyramids')) pyramidsAt = now;
    },
  });
  Object.assign(seconds, r.seconds);
  const end = cpuNow();
  const at = (k: string, d: number) => marks[k] ?? d;
  cpu.register = at('train', end) - marks.start!;
  cpu.train = at('predict', end) - at('train', end);
  cpu.bricks = at('verify', end) - at('predict', end);
  cpu.verify = at('pyramids', end) - at('verify', end);
  cpu.pyramids = at('report', end) - at('pyramids', end);
  cpu.report = end - at('report', end);
  const p0 = tPredict || verifyAt;
  const predict = { bricks: r.prediction.bricksTotal, verifyAt: (verifyAt - p0) / 1000, pyramidsAt: (pyramidsAt - p0) / 1000, seconds: r.seconds.predict };
  console.log(JSON.stringify({ vmHwmKiB: await peakRssKiB(), seconds, cpu, predict, validationMeanIoU: r.validation.meanIoU, labelsPath: r.prediction.labelsPath } satisfies ChildResult));
}
