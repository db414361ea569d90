/**
 * `npm run bench -- auto-context [--shape z,y,x]... [--style a|b] [--seeds 11,12,13] [--sigmas 1,2.5]`
 * Auto-context (lib/classify/auto-context: a second MLP on [features, stage-1 probabilities
 * smoothed at each sigma], trained on the same surface rows with out-of-fold stage-1
 * probabilities), measured against stage 1: runMineralogy as `bench pipeline` runs it gives stage 1
 * (its training set is kept through trainingSetHook, its model and prediction are read back); stage
 * 2 is trained by trainAutoContext and predicts the whole volume brick by brick
 * (predictBrickAutoContext, fused). Prints the 3D IoU below the surface of both, the held-out
 * surface IoU of both, each one's class shares in depth against the EDS map's, and the CPU per
 * voxel of a stage-1 brick pass and of the two-stage pass on the same bricks.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { chunkGrid } from '../lib/features';
import { predictBrickAutoContext, trainAutoContext } from '../lib/classify/auto-context';
import { disposeModel, validate } from '../lib/classify/model';
import { loadModel } from '../lib/classify/model-io-node';
import { featureSource, predictBrick } from '../lib/classify/predict-brick';
import type { TrainingSet } from '../lib/classify/training-set';
import { runMineralogy } from '../lib/pipeline/run-mineralogy';
import { edsClassShares, trainingSetHook } from '../lib/pipeline/train-from-labels';
import type { Box3 } from '../lib/volume/types';
import { openVolume } from '../lib/volume/zarr-store-node';
import { phantomArgs, writePhantom } from './_phantom-run';
import { iou3d } from './pipeline';

const cpu = (t: NodeJS.CpuUsage) => { const c = process.cpuUsage(t); return (c.user + c.system) / 1e6; };

/** Class shares of the labelled voxels (label != 0), in `classes` order; L1 distance to `ref`. */
function shares(lab: Uint8Array, classes: number[], ref: Map<number, number>) {
  const n = new Map<number, number>();
  let t = 0;
  for (const v of lab) if (v) { n.set(v, (n.get(v) ?? 0) + 1); t++; }
  const s = classes.map((c) => (n.get(c) ?? 0) / Math.max(1, t));
  const rt = classes.reduce((a, c) => a + (ref.get(c) ?? 0), 0) || 1;
  return { s, l1: classes.reduce((a, c, k) => a + Math.abs(s[k]! - (ref.get(c) ?? 0) / rt), 0) };
}

export async function run(argv: string[]): Promise<void> {
  let sigmas = [1, 2.5];
  const { shapes, style, seeds } = phantomArgs(argv, (f, next) => {
    if (f === '--sigmas') sigmas = next().split(',').map(Number);
  });
  const rows: string[] = [];
  for (const seed of seeds) for (const shape of shapes) {
    const dir = await mkdtemp(join(tmpdir(), 'petromap-bench-autoctx-'));
    try {
      const { sample, volumePath, classMap, set } = await writePhantom(dir, style, shape, seed);
      let ts: TrainingSet | null = null;
      trainingSetHook.fn = (t) => (ts = t);
      const r = await runMineralogy(volumePath, sample.eds, classMap, join(dir, 'petromap'), { featureSet: set, register: { inWorker: false } });
      trainingSetHook.fn = null;
      const t1 = ts as unknown as TrainingSet;
      const stage1 = await loadModel(r.modelDir);
      const store = await openVolume(volumePath);
      const mirror = t1.mirrorSurface;
      const src = featureSource(store, mirror);
      const c0 = process.cpuUsage();
      const ctx = await trainAutoContext(t1, src, { sigmas, seed: 42 });
      const trainCpu = cpu(c0);
      const v1 = await validate(stage1, t1.heldOut), v2 = await validate(ctx.model, ctx.heldOut);
      const lab1 = (await (await openVolume(r.prediction.labelsPath)).readBlock({ start: [0, 0, 0], shape })) as Uint8Array;
      const lab2 = new Uint8Array(lab1.length);
      const lab1b = new Uint8Array(lab1.length);
      let cpu1 = 0, cpu2 = 0;
      for (const box of chunkGrid(shape, [64, 128, 128])) {
        let t = process.cpuUsage();
        const o1 = await predictBrick(stage1, src, box, mirror);
        cpu1 += cpu(t);
        t = process.cpuUsage();
        const o2 = await predictBrickAutoContext(stage1, ctx, src, box, mirror);
        cpu2 += cpu(t);
        const put = (dst: Uint8Array, l: Uint8Array, b: Box3) => {
          let i = 0;
          for (let z = 0; z < b.shape[0]; z++) for (let y = 0; y < b.shape[1]; y++) {
            const d = ((b.start[0] + z) * shape[1] + b.start[1] + y) * shape[2] + b.start[2];
            dst.set(l.subarray(i, i + b.shape[2]), d);
            i += b.shape[2];
          }
        };
        put(lab1b, o1.labels, box);
        put(lab2, o2.labels, box);
      }
      disposeModel(ctx.model);
      disposeModel(stage1);
      const s1 = iou3d(sample.truthLabels, lab1), s2 = iou3d(sample.truthLabels, lab2);
      const eds = edsClassShares(sample.eds, classMap);
      const sh1 = shares(lab1, t1.classes, eds), sh2 = shares(lab2, t1.classes, eds);
      const same = lab1.every((v, i) => v === lab1b[i]);
      const nv = shape[0] * shape[1] * shape[2];
      console.log(`${style.toUpperCase()} ${shape.join('x')} s${seed}: stage 1 ${s1.meanIoU.toFixed(4)} (${s1.perClass.map((c) => c.iou.toFixed(3)).join(' ')}); auto-context sigmas ${sigmas.join(',')} ${s2.meanIoU.toFixed(4)} (${s2.perClass.map((c) => c.iou.toFixed(3)).join(' ')})`);
      console.log(`  held-out surface mean IoU ${v1.meanIoU.toFixed(3)} -> ${v2.meanIoU.toFixed(3)}; class shares in depth ${sh1.s.map((x) => x.toFixed(3)).join(' ')} -> ${sh2.s.map((x) => x.toFixed(3)).join(' ')} (EDS ${t1.classes.map((c) => (eds.get(c) ?? 0).toFixed(3)).join(' ')}; L1 ${sh1.l1.toFixed(3)} -> ${sh2.l1.toFixed(3)})`);
      console.log(`  CPU: stage-2 training ${trainCpu.toFixed(1)} s; prediction (one thread, bricks 64x128x128) stage 1 ${((cpu1 * 1e9) / nv).toFixed(0)} ns/voxel, two stages ${((cpu2 * 1e9) / nv).toFixed(0)} ns/voxel (${(cpu2 / cpu1).toFixed(2)}x); stage-1 bricks = stored labels: ${same}; load ${loadavg()[0]!.toFixed(1)}`);
      rows.push(`| ${style.toUpperCase()} | ${shape.join('x')} | ${seed} | ${s1.meanIoU.toFixed(3)} | ${s2.meanIoU.toFixed(3)} | ${(s2.meanIoU - s1.meanIoU).toFixed(3)} | ${s1.perClass[3]?.iou.toFixed(3)} → ${s2.perClass[3]?.iou.toFixed(3)} | ${v1.meanIoU.toFixed(3)} → ${v2.meanIoU.toFixed(3)} | ${sh1.l1.toFixed(3)} → ${sh2.l1.toFixed(3)} | ${(cpu2 / cpu1).toFixed(2)}× |`);
    } finally {
      trainingSetHook.fn = null;
      await rm(dir, { recursive: true, force: true });
    }
  }
  console.log(`\n| style | shape | seed | stage 1 | auto-context (sigmas ${sigmas.join(', ')}) | gain | clay | held-out surface IoU | share L1 to EDS | prediction CPU |`);
  for (const r of rows) console.log(r);
}
