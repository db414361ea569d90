/**
 * Cluster test/bench fixture: a workspace with a chunked volume (the small synthetic sandstone of
 * tests/lib/classify/sample.ts, tiled by reflection to the wanted shape: generating a 160x256x256
 * sandstone takes ~16 s, tiling ~0.2 s) and a model trained (10 epochs) on the small sample's
 * surface labels with the cheap TEST_SET bank or a given feature set (bench).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join, relative } from 'node:path';
import { trainClassifier } from '../../lib/classify/model';
import { saveModel } from '../../lib/classify/model-io-node';
import { buildTrainingSet, featureFnFor, surfaceLabelVoxels } from '../../lib/classify/training-set';
import type { FeatureSet } from '../../lib/features';
import type { DenseVolume, Shape3 } from '../../lib/volume/types';
import { writeDenseVolume } from '../../lib/volume/zarr-store-node';
import { TEST_SET } from '../lib/classify/helpers';
import { fixture } from '../lib/classify/sample';

const reflect = (i: number, n: number) => {
  const p = i % (2 * n);
  return p < n ? p : 2 * n - 1 - p;
};

/** `vol` repeated by reflection (d c b a | a b c d) to `shape`. */
export function tiledVolume(vol: DenseVolume, shape: Shape3): DenseVolume {
  const [sz, sy, sx] = vol.meta.shape;
  const [nz, ny, nx] = shape;
  const src = vol.data as Uint16Array;
  const out = new Uint16Array(nz * ny * nx);
  const xs = Int32Array.from({ length: nx }, (_, x) => reflect(x, sx));
  let i = 0;
  for (let z = 0; z < nz; z++) {
    const zz = reflect(z, sz);
    for (let y = 0; y < ny; y++) {
      const row = (zz * sy + reflect(y, sy)) * sx;
      for (let x = 0; x < nx; x++) out[i++] = src[row + xs[x]!]!;
    }
  }
  return { meta: { ...vol.meta, shape }, data: out };
}

export interface ClusterFixture {
  workspace: string;
  storePath: string;
  modelDir: string;
}

/** Writes volume.ome.zarr and model/ under `workspace`; `features`: the model's feature set (default TEST_SET). */
export async function makeClusterFixture(workspace: string, shape: Shape3, opts: { chunk?: Shape3; features?: FeatureSet } = {}): Promise<ClusterFixture> {
  mkdirSync(workspace, { recursive: true });
  const { sample, surfaceLabels } = fixture();
  const storePath = join(workspace, 'volume.ome.zarr');
  const modelDir = join(workspace, 'model');
  await writeDenseVolume(storePath, tiledVolume(sample.volume, shape), { chunk: opts.chunk ?? [64, 64, 64] });
  // a real (small) training run, so the outputs compress like a real prediction's
  const set = opts.features ?? TEST_SET;
  const small = await writeDenseVolume(join(workspace, 'train.ome.zarr'), sample.volume, { chunk: [32, 64, 64] });
  const ts = await buildTrainingSet(small, surfaceLabelVoxels(surfaceLabels, sample.volume.meta.shape), {
    features: featureFnFor(set), featureSet: set, mirrorSurface: sample.truth.surface, maxPerClass: 2000,
  });
  const tm = await trainClassifier(ts, { epochs: 10 });
  await saveModel(modelDir, tm, { classNames: ts.classes.map((c) => ['air', 'pore', 'quartz', 'feldspar', 'clay', 'pyrite'][c]!) });
  return { workspace, storePath, modelDir };
}

/** Every file under the three output stores of a prediction: relative path -> bytes (chunks and metadata). */
export function outputFiles(outDir: string): Map<string, Buffer> {
  const m = new Map<string, Buffer>();
  const walk = (d: string) => {
    for (const f of readdirSync(d)) {
      const p = join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      // a store's zarr.json holds the random id it got at its creation (storeId): the rest must match byte for byte
      else m.set(relative(outDir, p), f === 'zarr.json' ? Buffer.from(readFileSync(p, 'utf8').replace(/"storeId": "[0-9a-f-]+"/, '"storeId": "-"')) : readFileSync(p));
    }
  };
  for (const s of ['labels.ome.zarr', 'probabilities.ome.zarr', 'uncertainty.ome.zarr']) walk(join(outDir, s));
  return m;
}

/** One line of a worker's `--log json` output. */
export interface WorkerEvent { t: number; event: string; worker?: string; kind?: string; runId?: string; box?: string; attempt?: number; ms?: number; voxels?: number; [k: string]: unknown }
export interface WorkerProc { child: ChildProcess; events: WorkerEvent[]; stderr: string; ready: Promise<void> }

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Starts `petromap worker --threads 1 --log json` (plus `extra` flags); `ready` resolves on its ready event. */
export function startWorker(redisUrl: string, workspace: string, extra: string[] = []): WorkerProc {
  const child = spawn(process.execPath, ['bin/petromap.mjs', 'worker', '--threads', '1', '--workspace', workspace, '--redis', redisUrl, '--log', 'json', ...extra], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const p: WorkerProc = { child, events: [], stderr: '', ready: Promise.resolve() };
  let buf = '';
  p.ready = new Promise((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (!line.startsWith('{')) continue;
        const e = JSON.parse(line) as WorkerEvent;
        p.events.push(e);
        if (e.event === 'ready') resolve();
      }
    });
    child.stderr!.on('data', (d) => (p.stderr += d));
    child.on('exit', (code) => reject(new Error(`worker exited (${code}) before it was ready: ${p.stderr.slice(-500)}`)));
  });
  return p;
}
