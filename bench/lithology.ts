/**
 * `npm run bench -- lithology [--shape z,y,x] [--seeds 1,2,3] [--per-class 2000] [--hidden 48,48]
 *   [--epochs n] [--class-weights sqrt|balanced|none] [--ple bins (0 = off)] [--refit-min-epochs n] [--no-peer] [--keep]`
 * Painted labels on lithology (issue 15 §3): synthetic lithology volumes (lib/synthetic/lithology:
 * high / low porosity sandstone facies and open fractures) with painted-like labels (brush dabs on
 * two slices, `--per-class` voxels per class), classified two ways on the SAME features and labels:
 *   - petromap: lib/pipeline trainFromLabels (the Annotate / `petromap train --labels` path, its
 *     defaults), the saved model applied to the feature rows of every voxel;
 *   - peer: scikit-learn RandomForestClassifier(100 trees) (bench/peers/sklearn_rf_rows.py, Debian
 *     python3-sklearn) trained on the same painted voxels' feature rows, predicting every row.
 * The features are petromap's stroke feature set (lib/classify/strokes), computed once on the whole
 * volume. Prints IoU per class and mean IoU vs the truth of every voxel, per seed and the median.
 * Target: petromap's mean IoU >= the random forest's.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { argmaxClasses, confusionMetrics, disposeModel, predictRows, type TrainOptions } from '../lib/classify/model';
import { loadModel } from '../lib/classify/model-io-node';
import { strokeFeatureSet } from '../lib/classify/strokes';
import { featuresForBox } from '../lib/features';
import { trainFromLabels } from '../lib/pipeline/train-from-labels';
import { generateLithology, LITHOLOGY_CLASSES, paintedLabels } from '../lib/synthetic/lithology';
import type { Shape3 } from '../lib/volume/types';
import { openVolume, writeDenseVolume } from '../lib/volume/zarr-store-node';

const run_ = promisify(execFile);
const PEER = join(dirname(fileURLToPath(import.meta.url)), 'peers', 'sklearn_rf_rows.py');
const PY = '/usr/bin/python3';
const CODES = LITHOLOGY_CLASSES.map((c) => c.code);
const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

interface Args { shape: Shape3; seeds: number[]; perClass: number; peer: boolean; keep: boolean; priorShift?: boolean; train: Omit<TrainOptions, 'signal' | 'onProgress' | 'onEpoch' | 'seed'> }

function parse(argv: string[]): Args {
  const a: Args = { shape: [64, 128, 128], seeds: [1, 2, 3], perClass: 2000, peer: true, keep: false, train: {} };
  for (let i = 0; i < argv.length; i++) {
    const f = argv[i];
    if (f === '--shape') a.shape = argv[++i]!.split(',').map(Number) as Shape3;
    else if (f === '--seeds') a.seeds = argv[++i]!.split(',').map(Number);
    else if (f === '--per-class') a.perClass = Number(argv[++i]);
    else if (f === '--hidden') a.train.hidden = argv[++i]!.split(',').map(Number);
    else if (f === '--epochs') a.train.epochs = Number(argv[++i]);
    else if (f === '--class-weights') a.train.classWeights = argv[++i] as 'sqrt';
    else if (f === '--ensemble') a.train.ensemble = Number(argv[++i]);
    else if (f === '--dropout') a.train.dropout = Number(argv[++i]);
    else if (f === '--patience') a.train.patience = Number(argv[++i]);
    else if (f === '--l2') a.train.l2 = Number(argv[++i]);
    else if (f === '--clip') a.train.clipInputs = Number(argv[++i]);
    else if (f === '--lr') a.train.learningRate = Number(argv[++i]);
    else if (f === '--noise') a.train.inputNoise = Number(argv[++i]);
    else if (f === '--prior-shift') a.priorShift = true;
    else if (f === '--refit') a.train.refit = true;
    else if (f === '--ple') a.train.ple = Number(argv[++i]);
    else if (f === '--refit-min-epochs') a.train.refitMinEpochs = Number(argv[++i]);
    else if (f === '--no-peer') a.peer = false;
    else if (f === '--keep') a.keep = true;
    else throw new Error(`bench lithology: unknown option ${f}`);
  }
  return a;
}

interface Score { meanIoU: number; iou: number[]; seconds: number }

export async function run(argv: string[]): Promise<void> {
  const a = parse(argv);
  const names = LITHOLOGY_CLASSES.map((c) => c.name);
  console.log(`bench lithology: ${a.shape.join('x')}, seeds ${a.seeds.join(', ')}, ${a.perClass} painted voxels per class on 2 slices; petromap MLP (trainFromLabels defaults${Object.keys(a.train).length ? ` + ${JSON.stringify(a.train)}` : ''}) vs scikit-learn RandomForest(100) on the same stroke features and labels`);
  const rows: { seed: number; mlp: Score; rf?: Score }[] = [];
  for (const seed of a.seeds) {
    const dir = await mkdtemp(join(tmpdir(), 'petromap-bench-litho-'));
    try {
      const s = generateLithology({ shape: a.shape, seed });
      const painted = paintedLabels(s.truth, a.shape, { perClass: a.perClass, seed });
      const volPath = join(dir, 'scan.ome.zarr');
      await writeDenseVolume(volPath, s.volume);
      const labPath = join(dir, 'labels.ome.zarr');
      await writeDenseVolume(labPath, { meta: { ...s.volume.meta, dtype: 'uint8', channels: ['labels'] }, data: painted });
      const store = await openVolume(volPath);
      const set = strokeFeatureSet(store.meta.spacingUm);
      const feats = await featuresForBox(store, { start: [0, 0, 0], shape: a.shape }, set);
      const n = a.shape[0] * a.shape[1] * a.shape[2];
      // petromap: the one training path, then the saved model on every voxel's features
      let t = Date.now();
      const tr = await trainFromLabels(volPath, { kind: 'strokes', strokes: await openVolume(labPath) }, join(dir, 'model'), { featureSet: set, train: a.train, seed, priorShift: a.priorShift });
      const tm = await loadModel(join(dir, 'model'));
      const pred = argmaxClasses(await predictRows(tm, feats.data, n), tm.classes);
      disposeModel(tm);
      const mlp = score(s.truth, pred, (Date.now() - t) / 1000);
      const q = tr.quality;
      if (q) console.log(`  quality estimate (no truth): 3D mean IoU ${q.meanIoU.toFixed(3)} vs true ${mlp.meanIoU.toFixed(3)}; surface held-out ${q.surfaceMeanIoU.toFixed(3)}, half-models: cross ${q.crossHalf.toFixed(3)}, depth agreement ${q.depthAgreement.toFixed(3)}; confidence surface ${q.surfaceConfidence.toFixed(3)} depth ${q.depthConfidence.toFixed(3)}; outside training range ${(100 * q.outOfRange).toFixed(1)} %`);
      let rf: Score | undefined;
      if (a.peer) {
        await writeFile(join(dir, 'x.f32'), Buffer.from(feats.data.buffer, feats.data.byteOffset, feats.data.byteLength));
        const lines: string[] = [];
        for (let i = 0; i < n; i++) if (painted[i]) lines.push(`${i}\t${painted[i]}`);
        await writeFile(join(dir, 'train.tsv'), lines.join('\n') + '\n');
        t = Date.now();
        await run_(PY, [PEER, join(dir, 'x.f32'), `${n},${feats.nFeatures}`, join(dir, 'train.tsv'), join(dir, 'rf.u8'), String(seed)], { maxBuffer: 1 << 24 });
        rf = score(s.truth, new Uint8Array(await readFile(join(dir, 'rf.u8'))), (Date.now() - t) / 1000);
      }
      rows.push({ seed, mlp, rf });
      const fmt = (sc: Score) => `mean IoU ${sc.meanIoU.toFixed(3)} (${sc.iou.map((v, k) => `${names[k]} ${v.toFixed(3)}`).join(', ')}) ${sc.seconds.toFixed(1)} s`;
      console.log(`seed ${seed}: petromap MLP ${fmt(mlp)}`);
      if (rf) console.log(`        RandomForest ${fmt(rf)}   MLP - RF ${(mlp.meanIoU - rf.meanIoU >= 0 ? '+' : '')}${(mlp.meanIoU - rf.meanIoU).toFixed(3)}`);
    } finally {
      if (!a.keep) await rm(dir, { recursive: true, force: true });
      else console.log(`  kept ${dir}`);
    }
  }
  const med = (f: (r: (typeof rows)[number]) => number | undefined) => median(rows.map(f).filter((v): v is number => v !== undefined));
  console.log(`\nmedian over ${rows.length} seeds:`);
  console.log(`| classifier | mean IoU | ${names.join(' | ')} |`);
  console.log(`| --- | --- | ${names.map(() => '---').join(' | ')} |`);
  console.log(`| petromap MLP | ${med((r) => r.mlp.meanIoU).toFixed(3)} | ${CODES.map((_, k) => med((r) => r.mlp.iou[k]).toFixed(3)).join(' | ')} |`);
  if (a.peer) {
    console.log(`| scikit-learn RF | ${med((r) => r.rf?.meanIoU).toFixed(3)} | ${CODES.map((_, k) => med((r) => r.rf?.iou[k]).toFixed(3)).join(' | ')} |`);
    const d = med((r) => r.mlp.meanIoU - r.rf!.meanIoU);
    console.log(`median MLP - RF mean IoU ${d >= 0 ? '+' : ''}${d.toFixed(3)} (target >= 0): ${d >= 0 ? 'meets' : 'MISSES'}`);
  }
}

function score(truth: Uint8Array, pred: Uint8Array, seconds: number): Score {
  const m = confusionMetrics(truth, pred, CODES);
  return { meanIoU: m.meanIoU, iou: m.perClass.map((c) => c.iou), seconds };
}
