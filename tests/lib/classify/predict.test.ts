import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { argmaxClasses, confusionMetrics, predictRows, trainClassifier } from '../../../lib/classify/model';
import { loadModel, saveModel } from '../../../lib/classify/model-io-node';
import { mirrorAboveSurface } from '../../../lib/classify/mirror';
import { predictVolume, runsOf } from '../../../lib/classify/predict-node';
import { buildTrainingSet, featureFnFor, surfaceLabelVoxels } from '../../../lib/classify/training-set';
import { isPetromapError } from '../../../lib/errors';
import { featuresForBox } from '../../../lib/features';
import { openVolume, writeDenseVolume } from '../../../lib/volume/zarr-store-node';
import { TEST_SET } from './helpers';
import { fixture } from './sample';


const tmp = mkdtempSync(join(tmpdir(), 'petromap-predict-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const here = fileURLToPath(new URL('.', import.meta.url));
const BRICK: [number, number, number] = [16, 32, 32];

function runChild(storePath: string, modelDir: string, outDir: string, killAfterMarkers?: number): Promise<{ code: number | null; signal: string | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'predict-child.ts'), storePath, modelDir, outDir, BRICK.join(',')], { cwd: join(here, '../../..'), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    let timer: NodeJS.Timeout | undefined;
    if (killAfterMarkers) {
      timer = setInterval(() => {
        const dir = join(outDir, 'bricks');
        const n = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.done')).length : 0;
        if (n >= killAfterMarkers) child.kill('SIGKILL');
      }, 20);
    }
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (timer) clearInterval(timer);
      if (code && code !== 0) reject(new Error(`child failed (${code}): ${stderr}`));
      else resolve({ code, signal, stdout });
    });
  });
}

describe('predictVolume', () => {
  const { sample, surfaceLabels } = fixture();
  const storePath = join(tmp, 'volume.ome.zarr');
  const modelDir = join(tmp, 'model');
  const shape = sample.volume.meta.shape;
  const [nz, ny, nx] = shape;

  beforeAll(async () => {
    const store = await writeDenseVolume(storePath, sample.volume, { chunk: [32, 64, 64] });
    const ts = await buildTrainingSet(store, surfaceLabelVoxels(surfaceLabels, shape), { features: featureFnFor(TEST_SET), featureSet: TEST_SET, mirrorSurface: sample.truth.surface, maxPerClass: 2000 });
    const tm = await trainClassifier(ts, { epochs: 20 });
    await saveModel(modelDir, tm, { classNames: ts.classes.map((c) => ['air', 'pore', 'quartz', 'feldspar', 'clay', 'pyrite'][c]!) });
  });

  it('writes labels, probabilities and uncertainty that match whole-volume prediction, and classifies below the surface', async () => {
    const out = join(tmp, 'out-a');
    const progress: number[] = [];
    const r = await predictVolume(storePath, modelDir, out, { threads: 2, brick: BRICK, onProgress: (f) => progress.push(f) });
    expect(r.bricksDone + r.bricksSkipped).toBe(r.bricksTotal);
    expect(r.bricksTotal).toBe(Math.ceil(nz / 16) * Math.ceil(ny / 32) * Math.ceil(nx / 32));
    expect(progress.at(-1)).toBe(1);
    const labels = await openVolume(r.labelsPath);
    const probs = await openVolume(r.probabilitiesPath);
    const unc = await openVolume(r.uncertaintyPath);
    expect(labels.meta.dtype).toBe('uint8');
    expect(probs.meta.channels.length).toBe(r.classes.length);
    expect(labels.levels).toBeGreaterThan(1);
    const all = { start: [0, 0, 0] as [number, number, number], shape };
    const lab = (await labels.readBlock(all)) as Uint8Array;
    // whole volume in one go, same model, same mirrored features
    const tm = await loadModel(modelDir);
    const f = await featuresForBox(mirrorAboveSurface(await openVolume(storePath), tm.mirrorSurface!), all, TEST_SET);
    const p = await predictRows(tm, f.data, nz * ny * nx);
    const ref = argmaxClasses(p, tm.classes);
    const { a, b, c } = sample.truth.surface;
    let same = 0, n = 0;
    const truthBelow: number[] = [], predBelow: number[] = [];
    for (let z = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) {
      const i = (z * ny + y) * nx + x;
      if (z < a * x + b * y + c - 0.5) {
        expect(lab[i]).toBe(0); // air above the surface: no label
        continue;
      }
      n++;
      if (lab[i] === ref[i]) same++;
      if (z > c + 4) { truthBelow.push(sample.truthLabels[i]!); predBelow.push(lab[i]!); }
    }
    expect(same / n).toBeGreaterThan(0.999);
    const m = confusionMetrics(truthBelow, predBelow, [1, 2, 3, 4, 5]);
    expect(m.accuracy).toBeGreaterThan(0.45);
    expect(m.perClass[0]!.iou).toBeGreaterThan(0.4); // pores (measured 0.47 with this cheap bank)
    // probabilities sum to ~255 and uncertainty follows the top two
    const pr = await Promise.all(r.classes.map((_, k) => probs.readBlock({ start: [20, 40, 40], shape: [1, 1, 1] }, { channel: k })));
    const sum = pr.reduce((s, v) => s + v[0]!, 0);
    expect(Math.abs(sum - 255)).toBeLessThanOrEqual(r.classes.length);
    const top = pr.map((v) => v[0]!).sort((u, v) => v - u);
    const u = (await unc.readBlock({ start: [20, 40, 40], shape: [1, 1, 1] }))[0]!;
    expect(Math.abs(u - (255 - (top[0]! - top[1]!)))).toBeLessThanOrEqual(2);
  });

  it('resumes after SIGKILL and gives labels identical to an uninterrupted run', async () => {
    const full = join(tmp, 'out-full'), killed = join(tmp, 'out-killed');
    await runChild(storePath, modelDir, full);
    const first = await runChild(storePath, modelDir, killed, 2);
    expect(first.signal).toBe('SIGKILL');
    const markers = readdirSync(join(killed, 'bricks')).filter((f) => f.endsWith('.done')).length;
    expect(markers).toBeGreaterThanOrEqual(2);
    const second = await runChild(storePath, modelDir, killed);
    const res = JSON.parse(second.stdout.trim().split('\n').at(-1)!);
    expect(res.bricksSkipped).toBeGreaterThanOrEqual(markers);
    expect(res.bricksDone).toBeLessThan(res.bricksTotal);
    const all = { start: [0, 0, 0] as [number, number, number], shape };
    const a = (await (await openVolume(join(full, 'labels.ome.zarr'))).readBlock(all)) as Uint8Array;
    const b = (await (await openVolume(join(killed, 'labels.ome.zarr'))).readBlock(all)) as Uint8Array;
    expect(Buffer.from(b).equals(Buffer.from(a))).toBe(true);
    const a1 = await (await openVolume(join(full, 'labels.ome.zarr'))).readBlock({ start: [0, 0, 0], shape: (await openVolume(join(full, 'labels.ome.zarr'))).levelShape(1) }, { level: 1 });
    const b1 = await (await openVolume(join(killed, 'labels.ome.zarr'))).readBlock({ start: [0, 0, 0], shape: (await openVolume(join(killed, 'labels.ome.zarr'))).levelShape(1) }, { level: 1 });
    expect(Buffer.from(b1.buffer).equals(Buffer.from(a1.buffer))).toBe(true);
  });

  it('cancels, keeps finished bricks, and refuses to mix models in one output folder', async () => {
    const out = join(tmp, 'out-cancel');
    const ac = new AbortController();
    const err = await predictVolume(storePath, modelDir, out, { threads: 1, brick: BRICK, signal: ac.signal, onProgress: (f) => f > 0.1 && ac.abort() }).catch((e) => e);
    expect(isPetromapError(err, 'Aborted')).toBe(true);
    const err2 = await predictVolume(storePath, modelDir, out, { threads: 1, brick: [16, 16, 16] }).catch((e) => e);
    expect(isPetromapError(err2, 'Conflict')).toBe(true);
    expect(String(err2.message)).toMatch(/out-cancel/);
  });
});

describe('runsOf (the bricks of each prediction thread)', () => {
  it('hands out every brick exactly once, neighbours to the same worker, stealing when a run is done', () => {
    for (const [count, workers] of [[0, 2], [1, 2], [7, 2], [64, 2], [50, 3], [5, 4]] as const) {
      const todo = Array.from({ length: count }, (_, i) => i);
      const take = runsOf(todo, workers);
      const got: number[][] = Array.from({ length: workers }, () => []);
      // worker 0 is twice as fast as the others
      let live = workers;
      const done = new Set<number>();
      for (let step = 0; live > 0 && step < 10 * count + 10; step++) {
        for (let w = 0; w < workers; w++) {
          if (done.has(w) || (w > 0 && step % 2 === 1)) continue;
          const b = take(w);
          if (b === undefined) {
            done.add(w);
            live--;
          } else got[w]!.push(b);
        }
      }
      expect(got.flat().sort((a, b) => a - b)).toEqual(todo);
      // the first run of worker 0 is contiguous from 0
      if (count >= workers * 2) expect(got[0]!.slice(0, Math.floor(count / workers))).toEqual(todo.slice(0, Math.floor(count / workers)));
    }
  });
});
