/**
 * `npm run bench -- pipeline [--shape z,y,x]... [--style a|b] [--prior-shift] [--match-shares | --no-match-shares] [--ensemble m] [--threads n] [--no-peer] [--no-oracle] [--seed s]
 *   [--features classifier|default] [--filters gaussian,dog,...] [--sigmas 0.7,1,...] [--large-filters gaussian,dog] [--feature-version 1|2|3] [--no-guard] [--same-bank] [--hidden 64,64] [--class-weights none|balanced|sqrt] [--brick z,y,x] [--ladder] [--no-boundary] [--max-partial n] [--footprint sd] [--verbose] [--keep] [--quality-dump dir]`
 * The whole mineral-mapping chain on synthetic sandstones:
 *   - petromap: register (automatic) -> surface labels -> train (MLP, default feature bank, mirrored
 *     surface) -> predict the whole volume blockwise -> report, via runMineralogy
 *   - peer: bench/peers/sklearn_pipeline.py (scikit-image multiscale_basic_features + scikit-learn
 *     RandomForest, 100 trees) trained on the SAME registered labelled voxels, predicting the volume
 *     (registration time is petromap's; the peer has no registration of its own)
 *   - petromap-oracle: same model, trained on the 3D truth (upper bound), on the classifier bank
 *     also when --sigmas / --large-filters change petromap's
 *   - --same-bank: the oracle and the ladder train on petromap's bank (e.g. --feature-version 3) instead
 *   - with --ladder, where the gap to the oracle comes from: the same model trained on the truth at
 *     the voxels petromap labelled, on the truth at every voxel of that layer, and on the truth of
 *     one layer in the middle of the volume (label error, then boundary voxels, then the surface)
 * Prints 3D per-class IoU below the surface vs truth, wall time per stage, peak RSS and ratios.
 * Targets (issues 15 and 17): petromap mean IoU >= the peer's and within 0.01 of the oracle, clay IoU
 * >= 0.58; end-to-end <= 0.25 of the peer's time.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { SANDSTONE_CLASSES } from '../lib/classes';
import { confusionMetrics, disposeModel, trainClassifier } from '../lib/classify/model';
import { saveModel } from '../lib/classify/model-io-node';
import { qualityDumpHook } from '../lib/classify/quality-estimate';
import { predictVolume } from '../lib/classify/predict-node';
import { buildTrainingSet, featureFnFor, surfaceLabelVoxels, type LabelledVoxel } from '../lib/classify/training-set';
import { rng } from '../lib/classify/rng';
import { defaultFeatureSet } from '../lib/features';
import { CLASSIFIER_SIGMAS_VOX, classifierFeatureSet } from '../lib/classify/feature-sets';
import type { FeatureSet, FeatureVersion, FilterName } from '../lib/features/types';
import type { DepthTransferOptions } from '../lib/pipeline/depth-transfer';
import { runMineralogy } from '../lib/pipeline/run-mineralogy';
import type { SurfacePlane } from '../lib/classify/mirror';
import { measureEdgeProfile } from '../lib/classify/surface-edge';
import { classMapFromNames, transferLabels } from '../lib/registration/transfer-labels';
import { generateSandstone } from '../lib/synthetic';
import { generateStyleB } from '../lib/synthetic/style-b/generate';
import type { Shape3 } from '../lib/volume/types';
import { openVolume, writeDenseVolume } from '../lib/volume/zarr-store-node';

const run_ = promisify(execFile);
const PEER = join(dirname(fileURLToPath(import.meta.url)), 'peers', 'sklearn_pipeline.py');
const PY = '/usr/bin/python3';
/** python -c: run the script given next with its arguments, then print its CPU seconds (own threads + waited children) to stderr */
const PEER_CPU_WRAPPER = [
  'import atexit, resource, runpy, sys',
  'def cpu():',
  '    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)',
  "    sys.stderr.write('PEER-CPU %.3f\\n' % (s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime))",
  'atexit.register(cpu)',
  'sys.argv = sys.argv[1:]',
  "runpy.run_path(sys.argv[0], run_name='__main__')",
].join('\n');
const CLASSES = [1, 2, 3, 4, 5];
const NAMES = SANDSTONE_CLASSES.filter((c) => c.code > 0).map((c) => c.name);

interface Args { shapes: Shape3[]; threads?: number; peer: boolean; oracle: boolean; seeds: number[]; keep: boolean; verbose: boolean; features: 'default' | 'classifier'; filters?: string[]; hidden?: number[]; classWeights?: 'none' | 'balanced' | 'sqrt'; brick?: Shape3; ladder: boolean; boundary: boolean; maxPartial?: number; footprint?: number; priorShift?: boolean; matchShares?: boolean; ensemble?: number; style: 'a' | 'b'; qualityDump?: string; depthTransfer?: DepthTransferOptions; sigmas?: number[]; largeFilters?: string[]; featureVersion?: FeatureVersion; sameBank?: boolean; guard: boolean }

function parse(argv: string[]): Args {
  const a: Args = { style: 'a', shapes: [], peer: true, oracle: true, seeds: [11], keep: false, verbose: false, features: 'classifier', ladder: false, boundary: true, guard: true };
  for (let i = 0; i < argv.length; i++) {
    const f = argv[i];
    if (f === '--shape') a.shapes.push(argv[++i]!.split(',').map(Number) as Shape3);
    else if (f === '--threads') a.threads = Number(argv[++i]);
    else if (f === '--no-peer') a.peer = false;
    else if (f === '--no-oracle') a.oracle = false;
    else if (f === '--no-guard') a.guard = false;
    else if (f === '--seed' || f === '--seeds') a.seeds = argv[++i]!.split(',').map(Number);
    else if (f === '--keep') a.keep = true;
    else if (f === '--quality-dump') a.qualityDump = argv[++i];
    else if (f === '--verbose') a.verbose = true;
    else if (f === '--ladder') a.ladder = true;
    else if (f === '--no-boundary') a.boundary = false;
    else if (f === '--max-partial') a.maxPartial = Number(argv[++i]);
    else if (f === '--footprint') a.footprint = Number(argv[++i]);
    else if (f === '--prior-shift') a.priorShift = true;
    else if (f === '--no-match-shares') a.matchShares = false;
    else if (f === '--match-shares') a.matchShares = true;
    else if (f === '--depth-transfer') a.depthTransfer = { ...a.depthTransfer, mode: argv[++i] as DepthTransferOptions['mode'] };
    else if (f === '--dt-tiles') a.depthTransfer = { ...a.depthTransfer, tiles: Number(argv[++i]) };
    else if (f === '--dt-per-class') a.depthTransfer = { ...a.depthTransfer, perClass: Number(argv[++i]) };
    else if (f === '--style') a.style = argv[++i] === 'b' ? 'b' : 'a';
    else if (f === '--ensemble') a.ensemble = Number(argv[++i]);
    else if (f === '--features') a.features = argv[++i] === 'default' ? 'default' : 'classifier';
    else if (f === '--filters') a.filters = argv[++i]!.split(',');
    else if (f === '--large-filters') a.largeFilters = argv[++i]!.split(',');
    else if (f === '--sigmas') a.sigmas = argv[++i]!.split(',').map(Number);
    else if (f === '--feature-version') a.featureVersion = Number(argv[++i]) as FeatureVersion;
    else if (f === '--same-bank') a.sameBank = true;
    else if (f === '--hidden') a.hidden = argv[++i]!.split(',').map(Number);
    else if (f === '--class-weights') a.classWeights = argv[++i] as Args['classWeights'];
    else if (f === '--brick') a.brick = argv[++i]!.split(',').map(Number) as Shape3;
  }
  if (!a.shapes.length) a.shapes = [[128, 192, 192], [160, 256, 256]];
  return a;
}

/** 3D IoU per class over rock voxels (truth != 0, i.e. below the surface). */
export function iou3d(truth: Uint8Array, pred: ArrayLike<number>) {
  const t: number[] = [], p: number[] = [];
  for (let i = 0; i < truth.length; i++) if (truth[i]) { t.push(truth[i]); p.push(pred[i]); }
  return confusionMetrics(t, p, CLASSES);
}

const fmt = (v: number, d = 3) => (Number.isFinite(v) ? v.toFixed(d) : '—');
let peakRss = 0;
const rssTimer = () => setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 200);

/** Random rock voxels of the whole volume with their true class (the oracle's labels). */
export function oracleVoxels(truth: Uint8Array, shape: Shape3): LabelledVoxel[] {
  const rand = rng(5);
  const vox: LabelledVoxel[] = [];
  const [, ny, nx] = shape;
  for (let k = 0; k < 200_000; k++) {
    const i = Math.floor(rand() * truth.length);
    if (!truth[i]) continue;
    vox.push({ z: Math.floor(i / (nx * ny)), y: Math.floor(i / nx) % ny, x: i % nx, cls: truth[i] });
  }
  return vox;
}

/** petromap's model (same features, mirroring, caps and training) on the given labels; 3D IoU of its prediction. */
export async function trainOn(name: string, vox: LabelledVoxel[], volumePath: string, truth: Uint8Array, shape: Shape3, dir: string, threads: number | undefined, surface: { a: number; b: number; c: number }, set: FeatureSet, brick?: Shape3, o: { predictMirror?: SurfacePlane; edgeCorrection?: boolean } = {}) {
  const t0 = Date.now();
  const store = await openVolume(volumePath);
  const ts = await buildTrainingSet(store, vox, { features: featureFnFor(set), featureSet: set, mirrorSurface: surface, edgeCorrection: o.edgeCorrection, maxPerClass: 4000, brick: [64, 64, 64] });
  const tm = await trainClassifier(ts, {});
  await saveModel(join(dir, `${name}-model`), tm, { classNames: tm.classes.map((c) => NAMES[c - 1]!) });
  disposeModel(tm);
  const r = await predictVolume(volumePath, join(dir, `${name}-model`), join(dir, `${name}-pred`), { threads, brick, pyramids: false, mirrorSurface: o.predictMirror });
  const lab = await (await openVolume(r.labelsPath)).readBlock({ start: [0, 0, 0], shape });
  return { m: iou3d(truth, lab), lab, seconds: (Date.now() - t0) / 1000, counts: ts.counts };
}

/** Mean IoU of rock voxels in bins of depth below the surface plane (voxels). */
function iouByDepth(truth: Uint8Array, pred: ArrayLike<number>, shape: Shape3, surface: { a: number; b: number; c: number }, edges: number[]): number[] {
  const [nz, ny, nx] = shape;
  const bins = edges.map(() => ({ t: [] as number[], p: [] as number[] }));
  for (let z = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) {
    const i = (z * ny + y) * nx + x;
    if (!truth[i]) continue;
    const d = z - (surface.a * x + surface.b * y + surface.c);
    let b = -1;
    for (let k = 0; k < edges.length; k++) if (d >= edges[k]!) b = k;
    if (b < 0) continue;
    bins[b]!.t.push(truth[i]!); bins[b]!.p.push(pred[i]!);
  }
  return bins.map((q) => (q.t.length ? confusionMetrics(q.t, q.p, CLASSES).meanIoU : NaN));
}

/**
 * The labelled layer's voxels with their true class: at petromap's voxels, at every voxel of the
 * layer, and on the same layer moved to mid-depth (plane `midPlane`, parallel to the surface).
 */
function ladderVoxels(used: LabelledVoxel[], truth: Uint8Array, shape: Shape3, surface: { a: number; b: number; c: number }) {
  const [nz, ny, nx] = shape;
  const cls = (z: number, y: number, x: number) => (z >= 0 && z < nz ? truth[(z * ny + y) * nx + x]! : 0);
  const same = used.map((v) => ({ ...v, cls: cls(v.z, v.y, v.x) })).filter((v) => v.cls > 0);
  const layer: LabelledVoxel[] = [], mid: LabelledVoxel[] = [];
  const zc = surface.a * (nx / 2) + surface.b * (ny / 2) + surface.c;
  const midPlane = { a: surface.a, b: surface.b, c: surface.c + Math.round((nz - zc) / 2) };
  for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) {
    const z = Math.round(surface.a * x + surface.b * y + surface.c + 0.5);
    if (cls(z, y, x)) layer.push({ z, y, x, cls: cls(z, y, x) });
    const zm = Math.round(midPlane.a * x + midPlane.b * y + midPlane.c + 0.5);
    if (cls(zm, y, x)) mid.push({ z: zm, y, x, cls: cls(zm, y, x) });
  }
  return { same, layer, mid, midPlane };
}

/** Voxels of `pool` capped per class at the counts of `like` (the same number of rows per class as a layer, drawn from all of 3D). */
function likeCounts(pool: LabelledVoxel[], like: LabelledVoxel[]): LabelledVoxel[] {
  const want = new Map<number, number>();
  for (const v of like) want.set(v.cls, (want.get(v.cls) ?? 0) + 1);
  const have = new Map<number, number>();
  return pool.filter((v) => {
    const h = have.get(v.cls) ?? 0;
    if (h >= (want.get(v.cls) ?? 0)) return false;
    have.set(v.cls, h + 1);
    return true;
  });
}

export async function run(argv: string[]): Promise<void> {
  const a = parse(argv);
  const timer = rssTimer();
  try {
    const summary: { shape: Shape3; seed: number; petromap: number; oracle: number; estimate: number; trainSeconds: number; trainCpu: number; wallRatio: number; cpuRatio: number }[] = [];
    for (const seed of a.seeds) for (const shape of a.shapes) {
      const dir = await mkdtemp(join(tmpdir(), 'petromap-bench-pipeline-'));
      try {
        console.log(`\n--- synthetic sandstone${a.style === 'b' ? ' style B (lib/synthetic/style-b)' : ''} ${shape.join('x')} (${((shape[0] * shape[1] * shape[2]) / 1e6).toFixed(1)} M voxels), seed ${seed} ---`);
        const sample = a.style === 'b' ? generateStyleB({ shape, seed }) : generateSandstone({ shape, seed });
        const volumePath = join(dir, 'volume.ome.zarr');
        await writeDenseVolume(volumePath, sample.volume);
        const classMap = classMapFromNames(sample.eds.legend, sample.truth.mineralToClass);
        peakRss = 0;
        const t0 = Date.now();
        let lastMsg = '';
        const onProgress = (f: number, m?: string) => {
          const msg = `${Math.floor(f * 20) * 5}% ${m?.replace(/[0-9]+/g, '#') ?? ''}`;
          if (msg !== lastMsg) console.log(`  [${((Date.now() - t0) / 1000).toFixed(1)} s] ${Math.round(100 * f)}% ${m ?? ''}`);
          lastMsg = msg;
        };
        const sp = sample.volume.meta.spacingUm;
        const set = a.features === 'default' ? defaultFeatureSet(sp)
          : classifierFeatureSet(sp, { filters: a.filters as FilterName[] | undefined, sigmasVox: a.sigmas, version: a.featureVersion });
        // petromap: lib's default bank for EDS labels unless one is asked for (--features default, --filters, --sigmas, --large-filters); the oracle and the ladder: the classifier bank (or the --features/--filters one)
        // --large-filters f,g: only these filters at the bank's scales above the --sigmas ones
        const large = a.largeFilters && a.sigmas ? classifierFeatureSet(sp, { filters: a.largeFilters as FilterName[], sigmasVox: CLASSIFIER_SIGMAS_VOX.filter((v) => v > Math.max(...a.sigmas!)) }).specs.slice(1) : [];
        const own = a.features === 'default' || a.filters || a.sigmas || a.featureVersion ? { ...set, specs: [...set.specs, ...large] } : undefined;
        const petSet = own ?? classifierFeatureSet(sp);
        const oracleSet = a.sameBank ? petSet : a.sigmas || a.featureVersion ? classifierFeatureSet(sp, { filters: a.filters as FilterName[] | undefined }) : set;
        console.log(`feature bank: petromap ${own ? a.features : 'EDS default'} (${petSet.specs.length} filters), oracle and ladder ${a.features} (${oracleSet.specs.length} filters), brick ${(a.brick ?? [64, 128, 128]).join('x')}`);
        let lastDump: unknown = null;
        qualityDumpHook.fn = a.qualityDump ? (d) => (lastDump = d) : null;
        const r = await runMineralogy(volumePath, sample.eds, classMap, join(dir, 'petromap'), { featureSet: own, brick: a.brick, train: { hidden: a.hidden, classWeights: a.classWeights, ensemble: a.ensemble }, priorShift: a.priorShift, matchEdsShares: a.matchShares, depthTransfer: a.depthTransfer, bankGuard: a.guard, threads: a.threads, register: { inWorker: false }, boundaryLabels: a.boundary, maxPartial: a.maxPartial, boundaryFootprintSd: a.footprint, onProgress: a.verbose ? onProgress : undefined });
        const total = (Date.now() - t0) / 1000;
        const petRss = peakRss;
        const lab = await (await openVolume(r.prediction.labelsPath)).readBlock({ start: [0, 0, 0], shape });
        const pm = iou3d(sample.truthLabels, lab);
        const rows: [string, ReturnType<typeof iou3d>, number][] = [['petromap', pm, total]];
        console.log(`petromap stages (s): ${Object.entries(r.seconds).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}; total ${total.toFixed(1)} s; peak RSS ${(petRss / 2 ** 20).toFixed(0)} MiB`);
        const cpuTotal = Object.values(r.cpuSeconds).reduce((x, y) => x + y, 0);
        console.log(`petromap CPU (s, all threads): ${Object.entries(r.cpuSeconds).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}; total ${cpuTotal.toFixed(1)} s; load ${loadavg()[0]!.toFixed(1)}`);
        console.log(`  train parts wall/CPU (s): ${r.trainProfile.map((p) => `${p.part} ${p.wall.toFixed(1)}/${p.cpu.toFixed(1)}`).join(', ')}`);
        console.log(`  training rows per class (available/train/held-out): ${r.trainingCounts.map((c) => `${NAMES[c.class - 1] ?? c.class} ${c.available}/${c.train}/${c.heldOut}`).join(', ')}; boundary voxels ${r.boundaryVoxels}`);
        console.log(`  labelled voxels ${r.labelledVoxels}, held-out accuracy ${fmt(r.validation.accuracy)}, registration coverage ${fmt(r.registration.quality.coverage, 2)}`);
        const bg = r.bankGuard;
        if (bg) console.log(`  bank guard (version ${bg.version} -> ${bg.fallbackVersion}): ${bg.fired ? 'FIRED, trained again' : 'kept'}; depth/map share ${bg.shares.map((s) => `${NAMES[s.class - 1] ?? s.class} ${fmt(s.depthShare, 4)}/${fmt(s.labelShare, 4)} (${fmt(s.depthShare / s.labelShare, 2)})`).join(', ')}`);
        const q = r.quality;
        if (q) console.log(`  3D quality estimate (no truth) ${fmt(q.meanIoU)} vs true 3D mean IoU ${fmt(pm.meanIoU)} (error ${fmt(q.meanIoU - pm.meanIoU)}, target within 0.05); surface held-out ${fmt(q.surfaceMeanIoU)}; half-models cross ${fmt(q.crossHalf)}, depth agreement ${fmt(q.depthAgreement)}; confidence surface ${fmt(q.surfaceConfidence)} depth ${fmt(q.depthConfidence)}; outside training range ${fmt(100 * q.outOfRange, 1)} %`);
        const qc = (q as { perClass?: import('../lib/classify/quality-estimate').ClassQuality[] } | null)?.perClass;
        if (a.qualityDump && lastDump) {
          const d = lastDump as import('../lib/classify/quality-estimate').QualityDump;
          const truthAt = d.voxels.filter((_, i) => i % 3 === 0).map((_, j) => sample.truthLabels[(d.voxels[3 * j]! * shape[1] + d.voxels[3 * j + 1]!) * shape[2] + d.voxels[3 * j + 2]!]!);
          const arr = (v: ArrayLike<number> | null) => (v ? Array.from(v, (x) => Math.round(x * 1e4) / 1e4) : null);
          await writeFile(join(a.qualityDump, `quality-${a.style}-${shape.join('x')}-s${seed}.json`), JSON.stringify({ style: a.style, shape, seed, truth: pm.meanIoU, truthPerClass: pm.perClass.map((c) => c.iou), classes: d.classes, voxels: d.voxels, truthAt, pMain: arr(d.pMain), pA: arr(d.pA), pB: arr(d.pB), pHeld: arr(d.pHeld), yHeld: Array.from(d.yHeld), trainPrior: d.trainPrior, labelShares: d.labelShares, outside: Array.from(d.outside), estimate: q }));
        }
        const qm = (q as { measures?: import('../lib/classify/quality-estimate').QualityMeasures } | null)?.measures;
        if (q && qm) {
          const m = qm;
          console.log(`  candidates (estimate - truth): temperature ${fmt(m.temperature, 2)}; expected IoU in depth raw ${fmt(q.depthConfidence)} (${fmt(q.depthConfidence - pm.meanIoU)}), temperature-scaled ${fmt(m.depthConfidenceT)} (${fmt(m.depthConfidenceT - pm.meanIoU)}); half-models' depth agreement ${fmt(q.depthAgreement - pm.meanIoU)}; model vs half-models in depth ${fmt(m.mainHalfDepth)} (${fmt(m.mainHalfDepth - pm.meanIoU)})`);
          // one line per run for fitting rules offline (scripts read QUALITY-JSON lines)
          console.log(`QUALITY-JSON ${JSON.stringify({ style: a.style, shape, seed, truth: pm.meanIoU, truthPerClass: pm.perClass.map((c) => c.iou), estimate: q, })}`);
        }
        if (q && qc && a.verbose) for (const c of qc) console.log(`    class ${c.class}: surface IoU ${fmt(c.surfaceIoU)} (${c.surfaceSupport} held-out voxels), half-models depth ${fmt(c.depthAgreement)} cross ${fmt(c.crossHalf)}, share in depth ${fmt(c.depthShare, 4)} vs EDS map ${fmt(c.labelShare, 4)}`);

        // the voxels runMineralogy labelled, rebuilt from its saved registration (the peer trains on the same)
        const reg = JSON.parse(await readFile(r.files.registration, 'utf8'));
        const used = surfaceLabelVoxels(transferLabels(sample.eds, reg, { width: reg.slabSize[0], height: reg.slabSize[1] }, classMap, { erodeRadius: 1 }), shape);
        let peerTotal = NaN, peerCpuTotal = NaN;
        if (a.peer && existsSync(PY)) {
          await writeFile(join(dir, 'labels.tsv'), used.map((v) => `${v.z} ${v.y} ${v.x} ${v.cls}`).join('\n') + '\n');
          const raw = sample.volume.data;
          await writeFile(join(dir, 'volume.raw'), Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength));
          const tp = Date.now();
          // the peer's CPU time (its threads and any worker processes) is printed to stderr at exit by this wrapper; the peer script is run unchanged
          const { stdout, stderr } = await run_(PY, ['-c', PEER_CPU_WRAPPER, PEER, join(dir, 'volume.raw'), shape.join(','), join(dir, 'labels.tsv'), join(dir, 'peer.raw')], { maxBuffer: 1 << 24 });
          const peerCpu = Number(/PEER-CPU ([0-9.]+)/.exec(stderr)?.[1] ?? NaN);
          peerTotal = (Date.now() - tp) / 1000 + r.seconds.register; // the peer reuses petromap's registration
          const ps = JSON.parse(stdout.trim().split('\n').at(-1)!);
          const peerLab = new Uint8Array(await readFile(join(dir, 'peer.raw')));
          rows.push(['peer (skimage+sklearn RF)', iou3d(sample.truthLabels, peerLab), peerTotal]);
          console.log(`peer stages (s): features ${ps.features.toFixed(1)}, train ${ps.train.toFixed(1)}, predict ${ps.predict.toFixed(1)}; total incl. petromap registration ${peerTotal.toFixed(1)} s; peak RSS ${ps.peakRssMiB.toFixed(0)} MiB; ${ps.nFeatures} features, ${ps.nLabels} labels`);
          peerCpuTotal = peerCpu + r.cpuSeconds.register;
          console.log(`peer CPU (s, all threads): ${peerCpu.toFixed(1)} + petromap registration ${r.cpuSeconds.register.toFixed(1)} = ${peerCpuTotal.toFixed(1)} s`);
        } else if (a.peer) console.log('peer skipped: /usr/bin/python3 missing');

        const train = (name: string, vox: LabelledVoxel[], surface: SurfacePlane = r.registration.surface, o?: Parameters<typeof trainOn>[10]) => trainOn(name, vox, volumePath, sample.truthLabels, shape, dir, a.threads, surface, oracleSet, a.brick, o);
        const EDGES = [-1, 2, 8, 24, 48];
        const byDepth: [string, number[]][] = [['petromap', iouByDepth(sample.truthLabels, lab, shape, r.registration.surface, EDGES)]];
        if (a.ladder) {
          const l = ladderVoxels(used, sample.truthLabels, shape, r.registration.surface);
          const wrong = used.length - used.filter((v) => sample.truthLabels[(v.z * shape[1] + v.y) * shape[2] + v.x] === v.cls).length;
          console.log(`ladder: ${used.length} EDS-labelled voxels, ${((100 * wrong) / used.length).toFixed(1)} % disagree with the truth; layer ${l.layer.length} voxels; mid layer ${(l.midPlane.c - r.registration.surface.c).toFixed(0)} voxels below the surface`);
          rows.push(['truth at the same voxels', (await train('same', l.same)).m, NaN]);
          const lay = await train('layer', l.layer);
          console.log(`  layer rows per class (available/train/held-out): ${lay.counts.map((c) => `${NAMES[c.class - 1]} ${c.available}/${c.train}/${c.heldOut}`).join(', ')}`);
          rows.push(['truth, whole surface layer', lay.m, NaN]);
          byDepth.push(['truth, surface layer', iouByDepth(sample.truthLabels, lay.lab, shape, r.registration.surface, EDGES)]);
          // the mid layer mirrored above its own plane (as the surface layer is, without the surface's edge): the mirror alone
          const edge = await measureEdgeProfile(await openVolume(volumePath), r.registration.surface);
          const predictMirror = edge ? { ...r.registration.surface, edge } : r.registration.surface;
          rows.push(['truth, mid layer mirrored', (await train('midm', l.mid, l.midPlane, { edgeCorrection: false, predictMirror })).m, NaN]);
          rows.push(['truth, one mid-depth layer', (await train('mid', l.mid)).m, NaN]);
          rows.push(['truth, 3D, layer counts', (await train('like', likeCounts(oracleVoxels(sample.truthLabels, shape), l.layer))).m, NaN]);
        }
        if (a.oracle) {
          const o = await train('oracle', oracleVoxels(sample.truthLabels, shape));
          rows.push(['petromap-oracle (3D truth)', o.m, o.seconds]);
          byDepth.push(['oracle', iouByDepth(sample.truthLabels, o.lab, shape, r.registration.surface, EDGES)]);
        }
        console.log(`mean IoU by depth below the surface (voxels) ${EDGES.map((e, k) => `[${e}, ${EDGES[k + 1] ?? '…'})`).join(' ')}: ${byDepth.map(([n, v]) => `${n} ${v.map((x) => fmt(x)).join(' / ')}`).join('; ')}`);
        console.log(`\n${'method'.padEnd(28)} ${NAMES.map((n) => n.padStart(8)).join(' ')}   meanIoU  accuracy  seconds`);
        for (const [name, m, s] of rows) {
          console.log(`${name.padEnd(28)} ${m.perClass.map((c) => fmt(c.iou).padStart(8)).join(' ')}   ${fmt(m.meanIoU).padStart(7)}  ${fmt(m.accuracy).padStart(8)}  ${(Number.isFinite(s) ? s.toFixed(1) : '—').padStart(7)}`);
        }
        if (a.verbose) for (const [name, m] of rows) {
          console.log(`\nconfusion of ${name} (rows: truth, columns: predicted, % of the truth class)\n${''.padEnd(10)}${NAMES.map((n) => n.slice(0, 8).padStart(9)).join('')}`);
          m.confusion.forEach((row, k) => {
            const t = row.reduce((x, y) => x + y, 0) || 1;
            console.log(`${NAMES[k]!.padEnd(10)}${row.map((v) => ((100 * v) / t).toFixed(1).padStart(9)).join('')}`);
          });
        }
        const peer = rows.find((x) => x[0].startsWith('peer'));
        const orc = rows.find((x) => x[0].startsWith('petromap-oracle'));
        if (peer) console.log(`ratios: mean IoU petromap - peer = ${fmt(pm.meanIoU - peer[1].meanIoU)} (target >= 0); time petromap / peer = ${fmt(total / peer[2], 2)} wall, ${fmt(cpuTotal / peerCpuTotal, 2)} CPU (target <= 0.25)`);
        if (orc) console.log(`        mean IoU oracle - petromap = ${fmt(orc[1].meanIoU - pm.meanIoU)} (target <= 0.01)`);
        summary.push({ shape, seed, petromap: pm.meanIoU, oracle: orc?.[1].meanIoU ?? NaN, estimate: q?.meanIoU ?? NaN, trainSeconds: r.seconds.train, trainCpu: r.cpuSeconds.train, wallRatio: total / peerTotal, cpuRatio: cpuTotal / peerCpuTotal });
      } finally {
        if (!a.keep) await rm(dir, { recursive: true, force: true });
        else console.log(`kept ${dir}`);
      }
    }
    if (summary.length > 1) {
      const med = (v: number[]) => { const s = v.filter(Number.isFinite).sort((x, y) => x - y); return s.length ? (s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2) : NaN; };
      console.log(`\nstyle ${a.style.toUpperCase()} summary | shape | seed | petromap | oracle | gap (target <= 0.01) | estimate - truth (target within 0.05) | train s wall / CPU | time / peer wall / CPU (target <= 0.25)`);
      for (const r of summary) console.log(`| ${r.shape.join('x')} | ${r.seed} | ${fmt(r.petromap)} | ${fmt(r.oracle)} | ${fmt(r.oracle - r.petromap)} | ${fmt(r.estimate - r.petromap)} | ${r.trainSeconds.toFixed(1)} / ${r.trainCpu.toFixed(1)} | ${fmt(r.wallRatio, 2)} / ${fmt(r.cpuRatio, 2)} |`);
      console.log(`| median | | ${fmt(med(summary.map((r) => r.petromap)))} | ${fmt(med(summary.map((r) => r.oracle)))} | ${fmt(med(summary.map((r) => r.oracle - r.petromap)))} | ${fmt(med(summary.map((r) => r.estimate - r.petromap)))} (within 0.05: ${summary.filter((r) => Math.abs(r.estimate - r.petromap) <= 0.05).length}/${summary.length}) | ${med(summary.map((r) => r.trainSeconds)).toFixed(1)} / ${med(summary.map((r) => r.trainCpu)).toFixed(1)} | ${fmt(med(summary.map((r) => r.wallRatio)), 2)} / ${fmt(med(summary.map((r) => r.cpuRatio)), 2)} |`);
    }
  } finally {
    clearInterval(timer);
  }
}
