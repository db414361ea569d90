/**
 * `npm run bench -- features [--size 256] [--reps 1] [--threads 1,2] [--no-peer] [--no-rss]
 *   [--rss-size 1024] [--rss-bricks 32|all] [--no-gauss] [--compression none|zstd]`
 *
 * 1. One separable Gaussian pass (z and x) of the wasm kernel vs plain C (gcc -O3 -march=native).
 * 2. A synthetic sandstone of size^3 voxels in a zarr store, streamed through the default bank and
 *    the scikit-image preset with 1 and 2 worker threads: voxels/s, and the process's CPU time (all
 *    threads: what counts on a shared machine). The store is uncompressed unless --compression zstd
 *    (what an import writes).
 * 3. scikit-image multiscale_basic_features (the peer) on the same volume: ratio (target >= 3x).
 * 4. Peak RSS (VmHWM of a child process) while a 1024^3 uint16 store (written blockwise, never held
 *    in memory) is streamed through the default bank, features discarded (target < 1.5 GiB).
 *    By default the first 32 bricks (steady state: threads * 2 bricks in flight); --rss-bricks all
 *    streams the whole volume (long).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brickGrid, defaultFeatureSet, skimagePreset } from '../lib/features';
import { WasmKernels } from '../lib/features/kernels-wasm';
import { kernelRadius } from '../lib/features/plan';
import { gaussianWeights } from '../lib/features/reference';
import type { FeatureSet } from '../lib/features/types';
import { streamFeatures } from '../lib/parallel/stream-features-node';
import { generateSandstone } from '../lib/synthetic';
import type { Shape3 } from '../lib/volume/types';
import { createVolume } from '../lib/volume/zarr-store-node';
import { writeBigStore } from './_big-store';

const here = dirname(fileURLToPath(import.meta.url));
const outDir = join(here, 'out', 'features');

function arg(args: string[], name: string, dflt: string): string {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1]! : dflt;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (v: number, d = 2) => v.toFixed(d);

export async function run(args: string[]): Promise<void> {
  if (args[0] === '--rss-child') return rssChild(args.slice(1));
  const size = Number(arg(args, '--size', '256'));
  const reps = Number(arg(args, '--reps', '1'));
  const threadList = arg(args, '--threads', '1,2').split(',').map(Number);
  mkdirSync(outDir, { recursive: true });

  if (!args.includes('--no-gauss')) gaussVsC();

  // ---- 2. synthetic volume into a store + raw file for the peer
  const shape: Shape3 = [size, size, size];
  console.log(`\ngenerating a ${size}^3 synthetic sandstone ...`);
  const t0 = performance.now();
  const sample = generateSandstone({ shape, seed: 7 });
  const vol = sample.volume;
  console.log(`  ${fmt((performance.now() - t0) / 1000, 1)} s, voxel ${vol.meta.spacingUm.join('x')} µm`);
  const storePath = join(outDir, `sandstone-${size}.ome.zarr`);
  rmSync(storePath, { recursive: true, force: true });
  const compression = arg(args, '--compression', 'none') as 'none' | 'zstd';
  const store = await createVolume(storePath, vol.meta, { levels: 1, compression });
  await store.writeBlock({ start: [0, 0, 0], shape }, vol.data);
  const rawPath = join(outDir, `sandstone-${size}.u16`);
  writeFileSync(rawPath, Buffer.from(vol.data.buffer, vol.data.byteOffset, vol.data.byteLength));
  const spacing = vol.meta.spacingUm;

  const sets: Array<[string, FeatureSet]> = [
    ['skimage preset (30 features)', skimagePreset(spacing)],
    ['default bank (62 features)', defaultFeatureSet(spacing)],
  ];
  const nVox = size ** 3;
  const rate: Record<string, number> = {};
  console.log(`\nfeatures of ${size}^3 = ${(nVox / 1e6).toFixed(1)} M voxels (bricks of brickForMemory, features discarded), median of ${reps}:`);
  for (const [name, set] of sets) {
    for (const threads of threadList) {
      const times: number[] = [];
      const cpu: number[] = [];
      for (let r = 0; r < reps; r++) {
        const t = performance.now();
        const c0 = process.cpuUsage();
        await streamFeatures(storePath, set, { threads, onBrick: () => {} });
        times.push((performance.now() - t) / 1000);
        const c = process.cpuUsage(c0);
        cpu.push((c.user + c.system) / 1e6);
      }
      const s = median(times);
      rate[`${set.preset}:${threads}`] = nVox / s;
      console.log(`  ${name.padEnd(30)} threads ${threads}: ${fmt(s, 1)} s, ${fmt(nVox / s / 1e6, 3)} M voxels/s, CPU ${fmt(median(cpu), 1)} s (all threads)`);
    }
  }

  // ---- 3. scikit-image peer
  if (!args.includes('--no-peer')) {
    if (!existsSync('/usr/bin/python3')) console.log('\npeer skipped: /usr/bin/python3 missing');
    else {
      console.log(`\nscikit-image multiscale_basic_features on the same volume (peer, all cores) ...`);
      const r = spawnSync('/usr/bin/python3', [join(here, 'peers', 'skimage_features.py'), rawPath, ...shape.map(String), 'uint16', String(reps)], {
        encoding: 'utf8',
        maxBuffer: 1 << 24,
      });
      if (r.status !== 0) console.log(`  peer failed: ${r.stderr.trim().split('\n').pop()}`);
      else {
        const peer = JSON.parse(r.stdout.trim().split('\n').pop()!) as { median: number; nFeatures: number; skimage: string; threads: number };
        const peerRate = nVox / peer.median;
        console.log(`  skimage ${peer.skimage}: ${fmt(peer.median, 1)} s, ${fmt(peerRate / 1e6, 3)} M voxels/s, ${peer.nFeatures} features`);
        for (const threads of threadList) {
          const ours = rate[`skimage:${threads}`];
          if (ours) console.log(`  ratio petromap skimage preset (${threads} thread${threads > 1 ? 's' : ''}) / scikit-image: ${fmt(ours / peerRate)}x (target >= 3x)`);
        }
      }
    }
  }
  rmSync(rawPath, { force: true });
  rmSync(storePath, { recursive: true, force: true });

  // ---- 4. peak RSS streaming a 1024^3 uint16 store
  if (!args.includes('--no-rss')) await rssBench(Number(arg(args, '--rss-size', '1024')), arg(args, '--rss-bricks', '32'), Math.max(...threadList));
}

/** One Gaussian pass (sigma 3, r = 12) along z and along x over 256^3 float32: wasm vs C. */
function gaussVsC(): void {
  const n = 256;
  const sigma = 3;
  const r = kernelRadius(sigma);
  const reps = 3;
  console.log(`\none Gaussian pass (sigma ${sigma}, ${2 * r + 1} taps) over ${n}^3 float32, median of ${reps}:`);
  const K = new WasmKernels();
  const src = K.alloc(n ** 3);
  const dst = K.alloc(n ** 3);
  const w = K.put(gaussianWeights(sigma, 0));
  const a = K.f32(src, n ** 3);
  for (let i = 0; i < a.length; i++) a[i] = (i * 2654435761) % 1000;
  const tz: number[] = [];
  const tx: number[] = [];
  for (let i = 0; i < reps; i++) {
    let t = performance.now();
    K.k.conv(src, n, n, dst, n - 2 * r, n, n, r, 0, 0, 0, w, r, 1, 0);
    tz.push((performance.now() - t) / 1000);
    t = performance.now();
    K.k.conv(src, n, n, dst, n, n, n - 2 * r, 0, 0, r, 2, w, r, 1, 0);
    tx.push((performance.now() - t) / 1000);
  }
  const outVox = (n - 2 * r) * n * n;
  const wz = outVox / median(tz);
  const wx = outVox / median(tx);
  console.log(`  wasm SIMD: z pass ${fmt(wz / 1e6, 1)} M voxels/s, x pass ${fmt(wx / 1e6, 1)} M voxels/s`);
  try {
    const exe = join(outDir, 'gauss');
    execFileSync('gcc', ['-O3', '-march=native', '-o', exe, join(here, 'peers', 'gauss.c'), '-lm']);
    const c = JSON.parse(execFileSync(exe, [String(n), String(n), String(n), String(sigma), String(reps)], { encoding: 'utf8' })) as {
      zPassSeconds: number;
      xPassSeconds: number;
    };
    const cz = outVox / c.zPassSeconds;
    const cx = outVox / c.xPassSeconds;
    console.log(`  C -O3 -march=native: z pass ${fmt(cz / 1e6, 1)} M voxels/s, x pass ${fmt(cx / 1e6, 1)} M voxels/s`);
    console.log(`  ratio wasm / C: z ${fmt(wz / cz)}x, x ${fmt(wx / cx)}x`);
  } catch (err) {
    console.log(`  C peer skipped: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  }
}

async function rssBench(size: number, bricksArg: string, threads: number): Promise<void> {
  const shape: Shape3 = [size, size, size];
  const path = join(outDir, `rss-${size}.ome.zarr`);
  rmSync(path, { recursive: true, force: true });
  console.log(`\npeak RSS: writing a ${size}^3 uint16 store blockwise (${((size ** 3 * 2) / 2 ** 30).toFixed(1)} GiB) ...`);
  const t0 = performance.now();
  await writeBigStore(path, size);
  console.log(`  written in ${fmt((performance.now() - t0) / 1000, 1)} s`);
  const nBricks = brickGrid(shape).length;
  const count = bricksArg === 'all' ? nBricks : Math.min(nBricks, Number(bricksArg));
  const tsxCli = join(dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist', 'cli.mjs');
  const r = spawnSync(process.execPath, [tsxCli, join(here, 'run.ts'), 'features', '--rss-child', path, String(count), String(threads)], {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  rmSync(path, { recursive: true, force: true });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !line.startsWith('{')) {
    console.log(`  child failed: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    return;
  }
  const res = JSON.parse(line) as { vmHwmKiB: number; seconds: number; bricks: number; voxels: number; maxInFlight: number };
  console.log(
    `  default bank, ${threads} threads, ${res.bricks} of ${nBricks} bricks (${(res.voxels / 1e6).toFixed(1)} M voxels) in ${fmt(res.seconds, 1)} s` +
      ` (${fmt(res.voxels / res.seconds / 1e6, 3)} M voxels/s), max ${res.maxInFlight} bricks in flight`,
  );
  console.log(`  peak RSS (VmHWM of the child): ${fmt(res.vmHwmKiB / 2 ** 20)} GiB (target < 1.5 GiB)`);
}

/** Child process of rssBench: stream `count` bricks, discard features, print VmHWM. */
async function rssChild(args: string[]): Promise<void> {
  const [path, countArg, threadsArg] = args;
  const { openVolume } = await import('../lib/volume/zarr-store-node');
  const store = await openVolume(path!);
  const bricks = brickGrid(store.meta.shape).slice(0, Number(countArg));
  const t = performance.now();
  const res = await streamFeatures(path!, defaultFeatureSet(store.meta.spacingUm), { threads: Number(threadsArg), bricks, onBrick: () => {} });
  const seconds = (performance.now() - t) / 1000;
  const status = readFileSync('/proc/self/status', 'utf8');
  const vmHwmKiB = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  console.log(JSON.stringify({ vmHwmKiB, seconds, bricks: res.bricks, voxels: res.voxels, maxInFlight: res.maxInFlight }));
}
