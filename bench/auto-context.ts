/**
 * `npm run bench -- auto-context [--shape z,y,x]... [--style a|b] [--seeds 11,12,13] [--sigmas 1,2.5]`
 * Auto-context (ilastik's second stage), measured: runMineralogy as `bench pipeline` runs it gives
 * stage 1 (its training set is kept through trainingSetHook, its prediction's probabilities are
 * read back); a second MLP of the same shape is trained on [features, stage-1 probabilities
 * smoothed at each sigma] on the same rows. The training rows' stage-1 probabilities come from two
 * fold models (train rows split by 32-voxel tiles in a checkerboard; each row gets the model that
 * did not see its tile), held-out rows from stage 1 (it never saw them). Stage 2 then predicts the
 * whole volume (features + smoothed stage-1 probabilities of the whole volume, TF.js rows) and its
 * 3D IoU below the surface is compared with stage 1's.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { featuresForBox } from '../lib/features';
import { classifierFeatureSet } from '../lib/classify/feature-sets';
import { disposeModel, predictRows, trainClassifier, type TrainedModel } from '../lib/classify/model';
import { pickRows } from '../lib/classify/model';
import { featureSource, predictBrick } from '../lib/classify/predict-brick';
import { argmaxChannels, smoothChannels, smoothingHalo } from '../lib/classify/prob-smooth';
import type { FeatureRows, PartialRows, TrainingSet } from '../lib/classify/training-set';
import { runMineralogy } from '../lib/pipeline/run-mineralogy';
import { trainingSetHook } from '../lib/pipeline/train-from-labels';
import { classMapFromNames } from '../lib/registration/transfer-labels';
import { generateSandstone } from '../lib/synthetic';
import { generateStyleB } from '../lib/synthetic/style-b/generate';
import type { Box3, Shape3 } from '../lib/volume/types';
import { openVolume, writeDenseVolume } from '../lib/volume/zarr-store-node';
import { iou3d } from './pipeline';
import { readProbs } from './prob-smooth';

const fold = (p: Int32Array, i: number) => ((p[3 * i + 1]! >> 5) + (p[3 * i + 2]! >> 5)) & 1;

function pickPartial(r: PartialRows, keep: (i: number) => boolean, nF: number, K: number): PartialRows {
  const idx = [...Array(r.n).keys()].filter(keep);
  const x = new Float32Array(idx.length * nF), t = new Float32Array(idx.length * K), pos = new Int32Array(idx.length * 3);
  idx.forEach((i, j) => {
    x.set(r.x.subarray(i * nF, (i + 1) * nF), j * nF);
    t.set(r.target.subarray(i * K, (i + 1) * K), j * K);
    pos.set(r.positions.subarray(3 * i, 3 * i + 3), 3 * j);
  });
  return { x, n: idx.length, positions: pos, target: t };
}

/** Smoothed probability volumes of one region: [sigma][class] Float32Array over `region`. */
type Smoothed = Float32Array[][];

function smoothAll(ch: Float32Array[], shape: Shape3, sigmas: number[]): Smoothed {
  return sigmas.map((s) => {
    const c2 = ch.map((c) => c.slice());
    smoothChannels(c2, shape, { kind: 'gaussian', sigma: s });
    return c2;
  });
}

/** Rows x + the smoothed values at each row's position (from `sm` over `region`, or `pick` chooses per row). */
function augment(x: Float32Array, n: number, nF: number, pos: Int32Array, pick: (i: number) => { sm: Smoothed; region: Box3 }): Float32Array {
  const first = pick(0);
  const extra = first ? first.sm.length * first.sm[0]!.length : 0;
  const out = new Float32Array(n * (nF + extra));
  for (let i = 0; i < n; i++) {
    out.set(x.subarray(i * nF, (i + 1) * nF), i * (nF + extra));
    const { sm, region } = pick(i);
    const [z0, y0, x0] = region.start, [, ry, rx] = region.shape;
    const v = ((pos[3 * i]! - z0) * ry + (pos[3 * i + 1]! - y0)) * rx + (pos[3 * i + 2]! - x0);
    let o = i * (nF + extra) + nF;
    for (const s of sm) for (const c of s) out[o++] = c[v]!;
  }
  return out;
}

async function probsOf(tm: TrainedModel, src: Parameters<typeof predictBrick>[1], region: Box3, mirror: TrainingSet['mirrorSurface']): Promise<Float32Array[]> {
  const o = await predictBrick(tm, src, region, mirror);
  return o.probabilities.map((u) => Float32Array.from(u, (v) => v / 255));
}

export async function run(argv: string[]): Promise<void> {
  const shapes: Shape3[] = [];
  let style: 'a' | 'b' = 'a', seeds = [11], sigmas = [1, 2.5];
  for (let i = 0; i < argv.length; i++) {
    const f = argv[i];
    if (f === '--shape') shapes.push(argv[++i]!.split(',').map(Number) as Shape3);
    else if (f === '--style') style = argv[++i] === 'b' ? 'b' : 'a';
    else if (f === '--seeds' || f === '--seed') seeds = argv[++i]!.split(',').map(Number);
    else if (f === '--sigmas') sigmas = argv[++i]!.split(',').map(Number);
  }
  if (!shapes.length) shapes.push([96, 160, 160]);
  const rows: string[] = [];
  for (const seed of seeds) for (const shape of shapes) {
    const dir = await mkdtemp(join(tmpdir(), 'petromap-bench-autoctx-'));
    try {
      const sample = style === 'b' ? generateStyleB({ shape, seed }) : generateSandstone({ shape, seed });
      const volumePath = join(dir, 'volume.ome.zarr');
      await writeDenseVolume(volumePath, sample.volume);
      const classMap = classMapFromNames(sample.eds.legend, sample.truth.mineralToClass);
      const set = classifierFeatureSet(sample.volume.meta.spacingUm, {});
      let ts: TrainingSet | null = null;
      trainingSetHook.fn = (t) => (ts = t);
      const r = await runMineralogy(volumePath, sample.eds, classMap, join(dir, 'petromap'), { featureSet: set, register: { inWorker: false } });
      trainingSetHook.fn = null;
      const t1 = ts as unknown as TrainingSet;
      const nF = t1.nFeatures, K = t1.classes.length;
      const store = await openVolume(volumePath);
      const mirror = t1.mirrorSurface;
      const src = featureSource(store, mirror);
      const cpu0 = process.cpuUsage();
      // stage 1 of the whole volume, as stored (uint8), smoothed
      const whole: Box3 = { start: [0, 0, 0], shape };
      const p1 = await readProbs(join(dir, 'petromap', 'prediction'), shape);
      const s1 = iou3d(sample.truthLabels, p1.lab);
      const smWhole = smoothAll(p1.ch, shape, sigmas);
      // fold models on the training rows' slab
      const halo = Math.max(...sigmas.map((s) => smoothingHalo({ kind: 'gaussian', sigma: s })));
      let zMin = Infinity, zMax = -Infinity;
      for (const rr of [t1.train, t1.partial].filter(Boolean) as (FeatureRows | PartialRows)[]) for (let i = 0; i < rr.n; i++) { zMin = Math.min(zMin, rr.positions[3 * i]!); zMax = Math.max(zMax, rr.positions[3 * i]!); }
      const z0 = Math.max(0, zMin - halo), z1 = Math.min(shape[0] - 1, zMax + halo);
      const slab: Box3 = { start: [z0, 0, 0], shape: [z1 - z0 + 1, shape[1], shape[2]] };
      const foldSm: Smoothed[] = [];
      for (const f of [0, 1]) {
        const tf: TrainingSet = { ...t1, train: pickRows(t1.train, (i) => fold(t1.train.positions, i) === f, nF), partial: t1.partial && pickPartial(t1.partial, (i) => fold(t1.partial!.positions, i) === f, nF, K) };
        const m = await trainClassifier(tf, { seed: 1 + f });
        try {
          foldSm.push(smoothAll(await probsOf(m, src, slab, mirror), slab.shape, sigmas));
        } finally {
          disposeModel(m);
        }
      }
      const oof = (pos: Int32Array) => (i: number) => ({ sm: foldSm[1 - fold(pos, i)]!, region: slab });
      const nF2 = nF + K * sigmas.length;
      const t2: TrainingSet = {
        ...t1,
        nFeatures: nF2,
        featureNames: [...t1.featureNames, ...sigmas.flatMap((s) => t1.classes.map((c) => `p${c} s${s}`))],
        train: { ...t1.train, x: augment(t1.train.x, t1.train.n, nF, t1.train.positions, oof(t1.train.positions)) },
        heldOut: { ...t1.heldOut, x: augment(t1.heldOut.x, t1.heldOut.n, nF, t1.heldOut.positions, () => ({ sm: smWhole, region: whole })) },
        partial: t1.partial && { ...t1.partial, x: augment(t1.partial.x, t1.partial.n, nF, t1.partial.positions, oof(t1.partial.positions)) },
        featureSet: undefined,
      };
      const tm2 = await trainClassifier(t2, { seed: 3 });
      const cpuTrain = process.cpuUsage(cpu0);
      // stage 2 over the whole volume, in slabs of 16 z
      const lab2 = new Uint8Array(shape[0] * shape[1] * shape[2]);
      const cpu1 = process.cpuUsage();
      for (let z = 0; z < shape[0]; z += 16) {
        const box: Box3 = { start: [z, 0, 0], shape: [Math.min(16, shape[0] - z), shape[1], shape[2]] };
        const n = box.shape[0] * shape[1] * shape[2];
        const f = await featuresForBox(src, box, set);
        const pos = new Int32Array(n * 3);
        for (let i = 0; i < n; i++) { pos[3 * i] = z + Math.floor(i / (shape[1] * shape[2])); pos[3 * i + 1] = Math.floor(i / shape[2]) % shape[1]; pos[3 * i + 2] = i % shape[2]; }
        const x2 = augment(f.data, n, nF, pos, () => ({ sm: smWhole, region: whole }));
        const p = await predictRows(tm2, x2, n);
        const am = argmaxChannels(Array.from({ length: K }, (_, k) => Float32Array.from({ length: n }, (_, i) => p[i * K + k]!)));
        for (let i = 0; i < n; i++) lab2[z * shape[1] * shape[2] + i] = t1.classes[am[i]!] ?? 0;
      }
      const cpuPred = process.cpuUsage(cpu1);
      disposeModel(tm2);
      const s2 = iou3d(sample.truthLabels, lab2);
      const nv = shape[0] * shape[1] * shape[2];
      console.log(`${style.toUpperCase()} ${shape.join('x')} s${seed}: stage 1 ${s1.meanIoU.toFixed(4)} (${s1.perClass.map((c) => c.iou.toFixed(3)).join(' ')}); auto-context sigmas ${sigmas.join(',')} ${s2.meanIoU.toFixed(4)} (${s2.perClass.map((c) => c.iou.toFixed(3)).join(' ')}); extra training CPU ${((cpuTrain.user + cpuTrain.system) / 1e6).toFixed(1)} s; stage-2 pass (TF.js rows, features again) ${(((cpuPred.user + cpuPred.system) * 1e3) / nv).toFixed(0)} ns/voxel CPU; load ${loadavg()[0]!.toFixed(1)}`);
      rows.push(`| ${style.toUpperCase()} | ${shape.join('x')} | ${seed} | ${s1.meanIoU.toFixed(3)} | ${s2.meanIoU.toFixed(3)} | ${(s2.meanIoU - s1.meanIoU).toFixed(3)} | clay ${s1.perClass[3]?.iou.toFixed(3)} → ${s2.perClass[3]?.iou.toFixed(3)} |`);
    } finally {
      trainingSetHook.fn = null;
      await rm(dir, { recursive: true, force: true });
    }
  }
  console.log(`\n| style | shape | seed | stage 1 | auto-context (sigmas ${sigmas.join(', ')}) | gain | clay |`);
  for (const r of rows) console.log(r);
}
