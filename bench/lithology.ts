/**
 * `npm run bench -- lithology [--case lithology|pores] [--style sandstone|carbonate|both] [--shape z,y,x] [--seeds 1,2,3] [--per-class 10,40,150,500,2000]
 *   [--variants 'name={train options json};...' | --compare-ple] [--hidden 48,48] [--epochs n] [--class-weights sqrt|balanced|none]
 *   [--ple bins (0 = off)] [--input-dropout rate (0 = off)] [--refit-min-epochs n] [--feature-version 1|2] [--model-seeds 1,2,..] [--prior-shift] [--painted-prior on|off] [--stroke-gaps on|off | --compare-gaps | --compare-balance] [--no-peer] [--keep]`
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
 * `--per-class` takes a list: each seed's volume and features are made once, then every label count
 * is painted, trained (every `--variants` MLP, e.g. `--compare-ple` = the defaults and the model
 * before the encoding) and scored, the forest beside it; a table per label count at the end.
 * `--model-seeds`: every variant trained with each of these model seeds on the same labels (rows
 * `<variant>#<seed>`), to tell the spread across model seeds from the spread across label draws.
 * `--input-dropout r`: dropout on the MLP's inputs (default: lib/classify/ple PLE_GUARD's painted rule, 0.6 on the
 * few-labels network from 100 per class, 0.4 with a feature's bins together below 1000 per class; off on a volume under 64
 * voxels in any extent, PLE_GUARD.inputDropoutMinExtentVox: force it there with the rate); a variant's JSON may
 * hold `"inputDropout": 0` to compare without it on the same labels.
 * `--stroke-gaps on|off`: lib/classify/stroke-gaps (the unpainted voxels between strokes of two classes trained in a
 * second fit; default on); `--compare-gaps`: variants MLP (default) and no-gaps on the same labels; a variant's JSON may
 * hold `"strokeGaps": false` or the gap options (`"strokeGaps": {"balance": false}`: each gap correction the likelier of
 * its two classes, not split half and half where the first model read an edge as a thinner-painted class);
 * `--compare-balance`: variants MLP (default) and unbalanced on the same labels.
 * `--painted-prior on|off`: force lib/classify/painted-prior's step (default: where it applies, 40 to under 1000 painted voxels per class); a variant's
 * JSON may hold `"paintedPrior": false` to compare both on the same labels.
 * `--style`: the lithology generator: `sandstone` (default; lib/synthetic/lithology, two sandstone facies
 * and planar fractures) or `carbonate` (lib/synthetic/lithology-carbonate, written apart from it: a vuggy
 * limestone and a crystalline dolostone in beds, curved fractures with tips and varying aperture, another
 * scanner model), or `both` (each seed run in each style; rows and tables per style).
 * `--case pores`: the e2e-08-like pore/solid speckle (lib/synthetic/pore-speckle: single painted
 * voxels on one slice, 64³), where few painted labels once collapsed (issue 15 §3).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { argmaxClasses, confusionMetrics, disposeModel, predictRows, type TrainOptions } from '../lib/classify/model';
import { loadModel } from '../lib/classify/model-io-node';
import type { StrokeGapOptions } from '../lib/classify/stroke-gaps';
import { strokeFeatureSet } from '../lib/classify/strokes';
import { featuresForBox } from '../lib/features';
import { trainFromLabels } from '../lib/pipeline/train-from-labels';
import { generateLithology, LITHOLOGY_CLASSES, paintedLabels } from '../lib/synthetic/lithology';
import { generateCarbonateLithology } from '../lib/synthetic/lithology-carbonate';
import { poreSolidCase } from '../lib/synthetic/pore-speckle';
import type { DenseVolume, Shape3 } from '../lib/volume/types';
import { openVolume, writeDenseVolume } from '../lib/volume/zarr-store-node';

const run_ = promisify(execFile);
const PEER = join(dirname(fileURLToPath(import.meta.url)), 'peers', 'sklearn_rf_rows.py');
const PY = '/usr/bin/python3';
const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

interface Variant { name: string; train: Args['train'] }
type Style = 'sandstone' | 'carbonate';
interface Args {
  shape: Shape3; seeds: number[]; perClass: number[]; peer: boolean; keep: boolean; priorShift?: boolean; case: 'lithology' | 'pores';
  styles: Style[];
  /** trainFromLabels paintedPrior (undefined: its default) */
  paintedPrior?: boolean;
  /** trainFromLabels strokeGaps (undefined: its default) */
  strokeGaps?: boolean | StrokeGapOptions;
  train: Omit<TrainOptions, 'signal' | 'onProgress' | 'onEpoch' | 'seed'>; variants: Variant[]; featureVersion?: 1 | 2;
  /** model seeds per variant on the same labels (default: the label seed itself); each adds a row `<variant>#<model seed>` */
  modelSeeds?: number[];
}

/** `--variants 'name={json};name2={json}'`: MLP variants (train options on top of the flags), each trained on the same labels. */
function variants(spec: string): Variant[] {
  return spec.split(';').filter(Boolean).map((v) => {
    const k = v.indexOf('=');
    return { name: v.slice(0, k), train: JSON.parse(v.slice(k + 1)) as Args['train'] };
  });
}

function parse(argv: string[]): Args {
  const a: Args = { shape: [64, 128, 128], seeds: [1, 2, 3], perClass: [2000], peer: true, keep: false, case: 'lithology', styles: ['sandstone'], train: {}, variants: [{ name: 'MLP', train: {} }] };
  for (let i = 0; i < argv.length; i++) {
    const f = argv[i];
    if (f === '--shape') a.shape = argv[++i]!.split(',').map(Number) as Shape3;
    else if (f === '--seeds') a.seeds = argv[++i]!.split(',').map(Number);
    else if (f === '--per-class') a.perClass = argv[++i]!.split(',').map(Number);
    else if (f === '--case') a.case = argv[++i] as Args['case'];
    else if (f === '--style') {
      const v = argv[++i];
      if (v !== 'sandstone' && v !== 'carbonate' && v !== 'both') throw new Error(`bench lithology: --style is sandstone, carbonate or both, not ${String(v)}`);
      a.styles = v === 'both' ? ['sandstone', 'carbonate'] : [v];
    }
    else if (f === '--feature-version') a.featureVersion = Number(argv[++i]) as 1 | 2;
    else if (f === '--variants') a.variants = variants(argv[++i]!);
    else if (f === '--compare-ple') a.variants = variants('MLP={};pre-PLE={"ple":0,"refitMinEpochs":0}');
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
    else if (f === '--input-dropout') a.train.inputDropout = Number(argv[++i]);
    else if (f === '--prior-shift') a.priorShift = true;
    else if (f === '--painted-prior') a.paintedPrior = argv[++i] === 'on';
    else if (f === '--stroke-gaps') a.strokeGaps = argv[++i] === 'on';
    else if (f === '--compare-gaps') a.variants = variants('MLP={};no-gaps={"strokeGaps":false}');
    else if (f === '--compare-balance') a.variants = variants('MLP={};unbalanced={"strokeGaps":{"balance":false}}');
    else if (f === '--refit') a.train.refit = true;
    else if (f === '--ple') a.train.ple = Number(argv[++i]);
    else if (f === '--refit-min-epochs') a.train.refitMinEpochs = Number(argv[++i]);
    else if (f === '--model-seeds') a.modelSeeds = argv[++i]!.split(',').map(Number);
    else if (f === '--no-peer') a.peer = false;
    else if (f === '--keep') a.keep = true;
    else throw new Error(`bench lithology: unknown option ${f}`);
  }
  if (a.case !== 'lithology' && a.case !== 'pores') throw new Error(`bench lithology: --case is lithology or pores, not ${String(a.case)}`);
  return a;
}

interface Score { meanIoU: number; iou: number[]; seconds: number; shares: number[]; heldOut?: number }
interface Row { style: Style; seed: number; perClass: number; painted: number[]; scores: Map<string, Score> }

/** The volume, its truth and painted labels of one seed and label count (lithology facies, or the e2e-08-like pore/solid interior). */
function makeCase(a: Args, seed: number, style: Style) {
  if (a.case === 'pores') {
    const shape = poreSolidCase(seed, 1).shape;
    return { shape, classes: [{ code: 1, name: 'pore' }, { code: 2, name: 'solid' }], sample: (pc: number) => poreSolidCase(seed, pc) };
  }
  const s = style === 'carbonate' ? generateCarbonateLithology({ shape: a.shape, seed }) : generateLithology({ shape: a.shape, seed });
  return { shape: a.shape, classes: LITHOLOGY_CLASSES.map((c) => ({ code: c.code as number, name: c.name as string })), sample: (pc: number) => ({ volume: s.volume as DenseVolume, truth: s.truth, painted: paintedLabels(s.truth, a.shape, { perClass: pc, seed }) }) };
}

export async function run(argv: string[]): Promise<void> {
  const a = parse(argv);
  const what = a.case === 'pores' ? 'the e2e-08-like pore/solid interior (64³, single painted voxels on one slice)' : `${a.shape.join('x')} lithology (${a.styles.join(' and ')}), painted voxels on 2 slices`;
  if (a.case === 'pores') a.styles = ['sandstone'];
  console.log(`bench lithology: ${what}${a.featureVersion ? `, feature definition version ${a.featureVersion}` : ''}, seeds ${a.seeds.join(', ')}, ${a.perClass.join(' / ')} painted voxels per class; petromap MLP variants (trainFromLabels defaults${Object.keys(a.train).length ? ` + ${JSON.stringify(a.train)}` : ''}): ${a.variants.map((v) => `${v.name} ${JSON.stringify(v.train)}`).join(', ')}${a.peer ? ' vs scikit-learn RandomForest(100)' : ''} on the same stroke features and labels`);
  const rows: Row[] = [];
  let names: string[] = [];
  let codes: number[] = [];
  for (const style of a.styles) for (const seed of a.seeds) {
    const dir = await mkdtemp(join(tmpdir(), 'petromap-bench-litho-'));
    try {
      const c = makeCase(a, seed, style);
      names = c.classes.map((k) => k.name);
      codes = c.classes.map((k) => k.code);
      const first = c.sample(a.perClass[0]!);
      const volPath = join(dir, 'scan.ome.zarr');
      await writeDenseVolume(volPath, first.volume);
      const store = await openVolume(volPath);
      const set = a.featureVersion ? { ...strokeFeatureSet(store.meta.spacingUm), version: a.featureVersion } : strokeFeatureSet(store.meta.spacingUm);
      const feats = await featuresForBox(store, { start: [0, 0, 0], shape: c.shape }, set);
      const n = c.shape[0] * c.shape[1] * c.shape[2];
      if (a.peer) await writeFile(join(dir, 'x.f32'), Buffer.from(feats.data.buffer, feats.data.byteOffset, feats.data.byteLength));
      for (const pc of a.perClass) {
        const { truth, painted } = c.sample(pc);
        const labPath = join(dir, `labels-${pc}.ome.zarr`);
        await writeDenseVolume(labPath, { meta: { ...store.meta, dtype: 'uint8', channels: ['labels'] }, data: painted });
        const row: Row = { style, seed, perClass: pc, painted: codes.map((k) => painted.reduce((s, v) => s + (v === k ? 1 : 0), 0)), scores: new Map() };
        for (const v of a.variants) for (const ms of a.modelSeeds ?? [seed]) {
          // petromap: the one training path, then the saved model on every voxel's features
          const t = Date.now();
          const name = a.modelSeeds ? `${v.name}#${ms}` : v.name;
          const mdir = join(dir, `model-${pc}-${name}`);
          // a variant's `paintedPrior` and `strokeGaps` (true / false) are trainFromLabels' options, not training options
          const { paintedPrior, strokeGaps, ...train } = { ...a.train, ...v.train } as Args['train'] & { paintedPrior?: boolean; strokeGaps?: boolean | StrokeGapOptions };
          const tr = await trainFromLabels(volPath, { kind: 'strokes', strokes: await openVolume(labPath) }, mdir, { featureSet: set, train, seed: ms, priorShift: a.priorShift, paintedPrior: paintedPrior ?? a.paintedPrior, strokeGaps: strokeGaps ?? a.strokeGaps });
          const tm = await loadModel(mdir);
          const pred = argmaxClasses(await predictRows(tm, feats.data, n), tm.classes);
          disposeModel(tm);
          row.scores.set(name, { ...score(truth, pred, codes, (Date.now() - t) / 1000), heldOut: tr.validation.accuracy });
          await rm(mdir, { recursive: true, force: true });
        }
        if (a.peer) {
          const lines: string[] = [];
          for (let i = 0; i < n; i++) if (painted[i]) lines.push(`${i}\t${painted[i]}`);
          await writeFile(join(dir, 'train.tsv'), lines.join('\n') + '\n');
          const t = Date.now();
          await run_(PY, [PEER, join(dir, 'x.f32'), `${n},${feats.nFeatures}`, join(dir, 'train.tsv'), join(dir, 'rf.u8'), String(seed)], { maxBuffer: 1 << 24 });
          row.scores.set('RF', score(truth, new Uint8Array(await readFile(join(dir, 'rf.u8'))), codes, (Date.now() - t) / 1000));
        }
        rows.push(row);
        const fmt = (sc: Score) => `mean IoU ${sc.meanIoU.toFixed(3)} (${sc.iou.map((v, k) => `${names[k]} ${v.toFixed(3)}`).join(', ')}; shares ${sc.shares.map((v) => (100 * v).toFixed(1)).join(' / ')} %${sc.heldOut !== undefined ? `, held-out accuracy ${Number.isFinite(sc.heldOut) ? (100 * sc.heldOut).toFixed(0) : '-'} %` : ''}) ${sc.seconds.toFixed(1)} s`;
        console.log(`${a.styles.length > 1 || style !== 'sandstone' ? `${style}, ` : ''}seed ${seed}, ${pc} per class (painted ${row.painted.join(' / ')}; true shares ${codes.map((k) => (100 * share(truth, k)).toFixed(1)).join(' / ')} %):`);
        const rf = row.scores.get('RF');
        for (const [k, sc] of row.scores) console.log(`  ${k.padEnd(14)} ${fmt(sc)}${rf && k !== 'RF' ? `   - RF ${sign(sc.meanIoU - rf.meanIoU)}` : ''}`);
      }
    } finally {
      if (!a.keep) await rm(dir, { recursive: true, force: true });
      else console.log(`  kept ${dir}`);
    }
  }
  for (const style of a.styles) for (const pc of a.perClass) {
    const rs = rows.filter((r) => r.perClass === pc && r.style === style);
    const med = (f: (r: Row) => number | undefined) => median(rs.map(f).filter((v): v is number => v !== undefined));
    console.log(`\n${a.case === 'lithology' ? `${style}: ` : ''}${pc} painted voxels per class, median over ${rs.length} seeds:`);
    console.log(`| classifier | mean IoU | ${names.join(' | ')} | - RF (median of seeds) | - RF per seed |`);
    console.log(`| --- | --- | ${names.map(() => '---').join(' | ')} | --- | --- |`);
    for (const k of rs[0]!.scores.keys()) {
      const d = k !== 'RF' && a.peer ? med((r) => r.scores.get(k)!.meanIoU - r.scores.get('RF')!.meanIoU) : undefined;
      const per = k !== 'RF' && a.peer ? rs.map((r) => sign(r.scores.get(k)!.meanIoU - r.scores.get('RF')!.meanIoU)).join(' / ') : '';
      console.log(`| ${k} | ${med((r) => r.scores.get(k)!.meanIoU).toFixed(3)} | ${codes.map((_, j) => med((r) => r.scores.get(k)!.iou[j]).toFixed(3)).join(' | ')} | ${d === undefined ? '' : sign(d)} | ${per} |`);
    }
  }
}

const sign = (d: number) => `${d >= 0 ? '+' : ''}${d.toFixed(3)}`;
const share = (v: Uint8Array, code: number) => v.reduce((s, x) => s + (x === code ? 1 : 0), 0) / v.length;

function score(truth: Uint8Array, pred: Uint8Array, codes: number[], seconds: number): Score {
  const m = confusionMetrics(truth, pred, codes);
  return { meanIoU: m.meanIoU, iou: m.perClass.map((c) => c.iou), seconds, shares: codes.map((k) => share(pred, k)) };
}
