/**
 * The issue-19 table of `npm run bench -- register`: distorted (shear, stretch, partial coverage) and stitched
 * maps, petromap's automatic model choice beside native elastix AffineTransform started from petromap's similarity.
 * A mosaic field that could not be placed (refine-fields.ts markUnplaced) gives no training labels:
 * its row also prints the error of the labels that train, beside the whole map's.
 * `npm run bench -- register-distorted [table|iou|mosaics|affine-held|fresh|decompose] [--seeds 11,12,13] [--model-seeds 1,2,3]`: the table
 * alone, or the 3D mean IoU of the whole mineralogy run with a distorted map against the same
 * sample's undistorted map (issue 19: within 0.01), on each sample seed given (default 11), both
 * maps trained with each model seed (default 1): the difference per model seed, its mean and spread.
 * `npm run bench -- register-distorted mosaics`: the stitched mosaics over several seeds per size
 * (MOSAIC_SEEDS: the table's three tuned the field rules, the others are held out), whole map and
 * the labels that train, with the mean per size.
 * `npm run bench -- register-distorted affine-held`: the held-out distorted maps of the kept affine's
 * polish (bench/_affine-held.ts); `... fresh`: the fresh maps (AFFINE_FRESH there).
 * `npm run bench -- register-distorted decompose [name part]`: where each distorted map's error comes
 * from (the slab, the area, the criterion's own optimum; bench/_affine-decompose.ts).
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SANDSTONE_CLASSES } from '../lib/classes';
import { confusionMetrics } from '../lib/classify/model';
import { runMineralogy } from '../lib/pipeline/run-mineralogy';
import { classMapFromNames } from '../lib/registration/transfer-labels';
import { openVolume, writeDenseVolume } from '../lib/volume/zarr-store-node';
import { applyAffine2to3, composeAffine2to3, type Affine2 } from '../lib/coords';
import { movingImage } from '../lib/registration/moving-image';
import { registerEdsToVolume } from '../lib/registration/register-eds';
import { registrationErrorAt } from '../lib/registration/quality';
import { edsPointToVoxel, fieldAt } from '../lib/registration/refine-fields';
import { generateSandstone } from '../lib/synthetic';
import { distortEdsMap, type EdsDistortion } from '../lib/synthetic/eds';
import { decompose } from './_affine-decompose';
import { AFFINE_FRESH, affineHeldOut, DISTORTED } from './_affine-held';
import { ELASTIX, nativeElastix } from './_native-elastix';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (e: { mean: number; max: number }) => `${e.mean.toFixed(2)}/${e.max.toFixed(2)}`;


/**
 * Mosaics per size, ≤ 3 px stitching errors unless `none`: [cols, rows, sample seed, pixel ratio,
 * coverage, offsets seed]. 'tuned': the bench table's three (and their maps without offsets), on
 * which the field rules were chosen; 'held out' were not used to choose them; 'fresh' were made at
 * stop 31 (they chose the basin centre's second fit only), 'after' once its rule was chosen; the
 * stop-32 rule (refine-fields.ts placeBelowNoise) was found on 'fresh' and 'after' maps, 'after 32'
 * were made once it was fixed.
 */
const MOSAIC_SEEDS: { set: 'tuned' | 'held out' | 'fresh' | 'after' | 'after 32'; cols: number; rows: number; seed: number; ratio: number; coverage: number; mseed?: number; none?: boolean }[] = [
  { set: 'tuned', cols: 3, rows: 2, seed: 8, ratio: 0.7, coverage: 0.9 },
  { set: 'tuned', cols: 3, rows: 3, seed: 6, ratio: 0.5, coverage: 0.8 },
  { set: 'tuned', cols: 4, rows: 4, seed: 20, ratio: 0.7, coverage: 0.9, mseed: 2 },
  { set: 'tuned', cols: 3, rows: 3, seed: 6, ratio: 0.5, coverage: 0.8, none: true },
  { set: 'tuned', cols: 4, rows: 4, seed: 20, ratio: 0.7, coverage: 0.9, mseed: 2, none: true },
  ...([[10, 0.7, 0.9, 3], [13, 0.7, 0.9, 4], [16, 0.6, 0.9, 5]] as const).map(([seed, ratio, coverage, mseed]) => ({ set: 'held out' as const, cols: 3, rows: 2, seed, ratio, coverage, mseed })),
  ...([[9, 0.5, 0.8, 3], [7, 0.5, 0.85, 4], [12, 0.5, 0.8, 5], [15, 0.55, 0.85, 6]] as const).map(([seed, ratio, coverage, mseed]) => ({ set: 'held out' as const, cols: 3, rows: 3, seed, ratio, coverage, mseed })),
  ...([[5, 0.7, 0.9, 3], [9, 0.7, 0.9, 4], [14, 0.6, 0.9, 5], [11, 0.7, 0.9, 6], [16, 0.65, 0.9, 7]] as const).map(([seed, ratio, coverage, mseed]) => ({ set: 'held out' as const, cols: 4, rows: 4, seed, ratio, coverage, mseed })),
  ...([[3, 2, 10, 0.7, 0.9, 3], [3, 3, 9, 0.5, 0.8, 3], [4, 4, 5, 0.7, 0.9, 3], [4, 4, 11, 0.7, 0.9, 6]] as const).map(([cols, rows, seed, ratio, coverage, mseed]) => ({ set: 'held out' as const, cols, rows, seed, ratio, coverage, mseed, none: true })),
  // made at stop 31 after the fields' basin centre (field-basin.ts) was chosen on the tuned maps; they chose its second fit (FIELD_BASIN_ROUNDS)
  ...([[4, 4, 21, 0.7, 0.9, 8], [4, 4, 22, 0.65, 0.9, 9], [4, 4, 23, 0.7, 0.9, 10], [4, 4, 24, 0.6, 0.9, 11], [4, 4, 25, 0.7, 0.9, 12], [4, 4, 26, 0.65, 0.9, 13],
    [3, 3, 17, 0.5, 0.8, 8], [3, 3, 18, 0.55, 0.85, 9], [3, 3, 19, 0.5, 0.8, 10], [3, 2, 25, 0.7, 0.9, 8], [3, 2, 27, 0.65, 0.9, 9]] as const)
    .map(([cols, rows, seed, ratio, coverage, mseed]) => ({ set: 'fresh' as const, cols, rows, seed, ratio, coverage, mseed })),
  // made at stop 31 after its rule was chosen
  ...([[27, 0.7, 14], [28, 0.65, 15], [29, 0.7, 16], [30, 0.6, 17], [31, 0.7, 18], [32, 0.65, 19], [33, 0.7, 20], [34, 0.6, 21]] as const)
    .map(([seed, ratio, mseed]) => ({ set: 'after' as const, cols: 4, rows: 4, seed, ratio, coverage: 0.9, mseed })),
  // made at stop 32 after its rule (a field whose precision cannot be measured takes its match, refine-fields.ts) was chosen
  ...([[35, 0.7, 22], [36, 0.65, 23], [37, 0.7, 24], [38, 0.6, 25], [39, 0.7, 26], [40, 0.65, 27], [41, 0.7, 28], [42, 0.6, 29], [43, 0.7, 30], [44, 0.65, 31]] as const)
    .map(([seed, ratio, mseed]) => ({ set: 'after 32' as const, cols: 4, rows: 4, seed, ratio, coverage: 0.9, mseed })),
];

/** The mosaics of MOSAIC_SEEDS registered with their field layout: whole map and the labels that train, mean per size and set. */
export async function mosaicSeeds() {
  console.log('\nissue 19: stitched mosaics over seeds (24 x 128 x 128, error mean/max voxel against the per-pixel truth)');
  const groups = new Map<string, { whole: number[]; train: number[]; cpu: number[] }>();
  for (const c of MOSAIC_SEEDS) {
    const s = generateSandstone({
      shape: [24, 128, 128], voxelUm: 2, seed: c.seed, surfaceDepthVox: 4 + (c.seed % 4), tiltDeg: 1 + (c.seed % 3), tiltAzimuthDeg: 37 * c.seed,
      eds: { rotationDeg: 53 * c.seed, pixelUm: 2 * c.ratio, mirrored: c.seed % 2 === 0, offsetVox: { x: ((c.seed * 7) % 11) - 5, y: ((c.seed * 5) % 9) - 4 } },
    });
    const m = distortEdsMap(s, { coverage: c.coverage, mosaic: { cols: c.cols, rows: c.rows, maxShiftPx: c.none ? 0 : 3, ...(c.mseed ? { seed: c.mseed } : {}) } });
    const t0 = process.cpuUsage();
    const r = await registerEdsToVolume(s.volume, m.eds, { inWorker: false, fields: m.fields!.map(({ shiftPx: _s, ...f }) => f) });
    const cpu = process.cpuUsage(t0);
    const at = (u: number, v: number) => edsPointToVoxel(r, u, v);
    const e = registrationErrorAt(at, m.truthAt, m.eds.width, m.eds.height, s.volume.meta.shape);
    const placed = registrationErrorAt(at, (u, v) => (r.fields && fieldAt(r.fields, u, v)?.unplaced ? [-1, -1, -1] : m.truthAt(u, v)), m.eds.width, m.eds.height, s.volume.meta.shape);
    const un = r.fields?.filter((f) => f.unplaced).map((f) => f.name) ?? [];
    const name = `${c.cols}x${c.rows}${c.none ? ' no offsets' : ''}`;
    const fmt3 = (x: { mean: number; max: number }) => `${x.mean.toFixed(3)}/${x.max.toFixed(2)}`;
    console.log(`${c.set.padEnd(8)} ${name.padEnd(15)} seed ${String(c.seed).padStart(2)}${c.mseed && !c.none ? ` offsets ${String(c.mseed).padStart(2)}` : '           '}  ${(r.model ?? '?').padEnd(10)} whole ${fmt3(e)}  train ${fmt3(placed)} (${((100 * placed.n) / e.n).toFixed(0)} %)${un.length ? `, ${un.join(', ')} not placed` : ''}  ${((cpu.user + cpu.system) / 1e6).toFixed(1)} CPU-s`);
    const g = groups.get(`${name} ${c.set}`) ?? { whole: [], train: [], cpu: [] };
    g.whole.push(e.mean); g.train.push(placed.mean); g.cpu.push((cpu.user + cpu.system) / 1e6);
    groups.set(`${name} ${c.set}`, g);
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  for (const [k, g] of groups) console.log(`mean ${k.padEnd(24)} (${g.whole.length}): whole ${mean(g.whole).toFixed(3)}, the labels that train ${mean(g.train).toFixed(3)} (max ${Math.max(...g.train).toFixed(3)}), ${mean(g.cpu).toFixed(1)} CPU-s`);
}

/** petromap auto (model kept, error, time) beside native elastix AffineTransform started from petromap's similarity. */
export async function distortedTable(peer: boolean, dir: string) {
  console.log('\nissue 19: distorted and stitched maps (24 x 128 x 128, error mean/max voxel against the per-pixel truth)');
  console.log('case                          petromap auto: model, err, ms   | similarity err | affine candidate err | native elastix affine from petromap similarity: err, ms | evidence (patch-shift F, whole-map eta^2 gain; fields fallen back)');
  const ratio: number[] = [];
  for (const c of DISTORTED) {
    const s = generateSandstone({
      shape: [24, 128, 128], voxelUm: 2, seed: c.seed, surfaceDepthVox: 4 + (c.seed % 4), tiltDeg: 1 + (c.seed % 3), tiltAzimuthDeg: 37 * c.seed,
      eds: { rotationDeg: 53 * c.seed, pixelUm: 2 * c.ratio, mirrored: c.seed % 2 === 0, offsetVox: { x: ((c.seed * 7) % 11) - 5, y: ((c.seed * 5) % 9) - 4 } },
    });
    const m = distortEdsMap(s, c.d);
    const fields = c.fields ? m.fields!.map(({ shiftPx: _s, ...f }) => f) : undefined;
    const t0 = performance.now();
    const r = await registerEdsToVolume(s.volume, m.eds, { inWorker: false, fields });
    const ms = performance.now() - t0;
    const errOf = (at: (u: number, v: number) => [number, number, number]) => registrationErrorAt(at, m.truthAt, m.eds.width, m.eds.height, s.volume.meta.shape);
    const affineErr = (a: Affine2) => errOf((u, v) => applyAffine2to3(composeAffine2to3(r.slabToVoxel, a), u, v));
    const e = errOf((u, v) => edsPointToVoxel(r, u, v));
    // a mosaic's fields that could not be placed give no training labels: the error of the labels that train
    const unplaced = r.fields?.filter((f) => f.unplaced) ?? [];
    const placed = unplaced.length ? registrationErrorAt((u, v) => edsPointToVoxel(r, u, v), (u, v) => (fieldAt(r.fields!, u, v)?.unplaced ? [-1, -1, -1] : m.truthAt(u, v)), m.eds.width, m.eds.height, s.volume.meta.shape) : undefined;
    const sim = r.candidates?.similarity.edsToSlab ?? r.edsToSlab;
    // the affine the choice judged, kept or not: tells a fit that misses from a choice that refuses
    const cand = r.candidates?.affine?.edsToSlab;
    let line = `${c.name.padEnd(29)} ${(r.model ?? '?').padEnd(10)} ${fmt(e)}  ${ms.toFixed(0).padStart(6)} | ${fmt(affineErr(sim))}      | ${cand ? fmt(affineErr(cand)) : 'n/a      '}            |`;
    if (peer) {
      const mov = movingImage(m.eds);
      const nat = await nativeElastix(await mkdtemp(join(dir, 'a')), r.slab, mov.grey, mov.width, mov.height, sim, 0, 'AffineTransform').catch(() => null);
      line += nat ? ` ${fmt(affineErr(nat.edsToSlab))}  ${nat.ms.toFixed(0)}` : ' failed';
      if (nat) ratio.push(ms / nat.ms);
    }
    const why = r.modelChoice?.reason ?? '';
    const fell = why.match(/; ([^;]*): no distinct match/)?.[1];
    line += ` | F ${why.match(/F (\d+\.\d)/)?.[1] ?? 'n/a'}, gain ${why.match(/whole-map gain (-?\d+\.\d+)/)?.[1] ?? 'n/a'}${fell ? `; ${fell} fell back` : ''}`;
    if (placed) line += `; ${unplaced.map((f) => f.name).join(', ')} not placed (labels left out): the labels that train ${fmt(placed)} over ${((100 * placed.n) / e.n).toFixed(0)} % of the map`;
    console.log(line);
  }
  if (ratio.length) console.log(`median petromap auto time / native elastix affine time = ${median(ratio).toFixed(2)} (petromap includes the surface-slab search from scratch)`);
}

/**
 * 3D mean IoU (rock voxels) of the whole mineralogy run (registration, training, prediction) on a
 * 64 x 160 x 160 sample: the map as acquired, and again with a 2 % shear and a 1 % stretch along u
 * (a 1 % area change). Issue 19: the distorted run within 0.01 of the undistorted one. One training
 * run moves the IoU by ~0.015 on its own, so each model seed (`--model-seeds`, the training's seed:
 * its voxel sample and the network's initialisation) trains both maps, and the difference is
 * reported per model seed, then as their mean and standard deviation (with the undistorted runs'
 * own spread beside it). Returns the per-model-seed differences.
 */
export async function distortedIoU(dir: string, seed = 11, modelSeeds: number[] = [1]): Promise<number[]> {
  await mkdir(dir, { recursive: true });
  const s = generateSandstone({ shape: [64, 160, 160], seed });
  const path = join(dir, 'volume.ome.zarr');
  await writeDenseVolume(path, s.volume);
  const classMap = classMapFromNames(s.eds.legend, s.truth.mineralToClass);
  const CLASSES = SANDSTONE_CLASSES.filter((c) => c.code > 0).map((c) => c.code);
  const maps = ([['undistorted', {}], ['2 % shear + 1 % stretch u', { shear: 0.02, stretch: [0.01, 0] }]] as [string, EdsDistortion][]).map(([name, d]) => ({ name, m: distortEdsMap(s, d) }));
  const deltas: number[] = [], bases: number[] = [];
  for (const ms of modelSeeds) {
    let base = NaN;
    for (const { name, m } of maps) {
      const t0 = performance.now();
      const r = await runMineralogy(path, m.eds, classMap, join(dir, `${name.replace(/\W+/g, '-')}-m${ms}`), { register: { inWorker: false }, seed: ms });
      const lab = await (await openVolume(r.prediction.labelsPath)).readBlock({ start: [0, 0, 0], shape: s.volume.meta.shape });
      const t: number[] = [], p: number[] = [];
      for (let i = 0; i < s.truthLabels.length; i++) if (s.truthLabels[i]) { t.push(s.truthLabels[i]); p.push(lab[i]); }
      const iou = confusionMetrics(t, p, CLASSES).meanIoU;
      const reg = r.registration;
      const e = registrationErrorAt((u, v) => edsPointToVoxel(reg, u, v), m.truthAt, m.eds.width, m.eds.height, s.volume.meta.shape);
      if (Number.isNaN(base)) { base = iou; bases.push(iou); } else deltas.push(iou - base);
      console.log(`model seed ${ms}  ${name.padEnd(28)} model ${(reg.model ?? '?').padEnd(10)} error ${fmt(e)} voxel, 3D mean IoU ${iou.toFixed(4)}${name === 'undistorted' ? '' : ` (${(iou - base).toFixed(4)} against undistorted; target within 0.01)`}, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    }
  }
  if (modelSeeds.length > 1) {
    const { mean, sd } = meanSd(deltas), u = meanSd(bases);
    console.log(`seed ${seed}: distorted - undistorted over ${deltas.length} model seeds: mean ${mean.toFixed(4)}, sd ${sd.toFixed(4)} (range ${Math.min(...deltas).toFixed(4)} .. ${Math.max(...deltas).toFixed(4)}); the undistorted runs alone: mean ${u.mean.toFixed(4)}, sd ${u.sd.toFixed(4)}`);
  }
  return deltas;
}

/** Mean and sample standard deviation (0 for one value). */
function meanSd(xs: number[]): { mean: number; sd: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return { mean, sd: xs.length > 1 ? Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (xs.length - 1)) : 0 };
}

export async function run(args: string[]): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'petromap-bench-register-distorted-'));
  const list = (flag: string, dflt: number[]) => {
    const at = args.indexOf(flag);
    if (at < 0) return dflt;
    const xs = (args[at + 1] ?? '').split(',').map(Number).filter((x) => Number.isInteger(x) && x > 0);
    if (!xs.length) throw new Error(`${flag} takes a comma-separated list of positive integers, e.g. ${flag} 1,2,3`);
    return xs;
  };
  const seeds = list('--seeds', [11]), modelSeeds = list('--model-seeds', [1]);
  try {
    if (args[0] === 'mosaics') return await mosaicSeeds();
    if (args[0] === 'affine-held') return await affineHeldOut();
    if (args[0] === 'decompose') return await decompose(args[1]);
    if (args[0] === 'fresh') return await affineHeldOut(AFFINE_FRESH, 'fresh distorted and rigid maps (seeds 71-80 of stop 29, 91-100 of stop 30)');
    if (args[0] !== 'iou') await distortedTable(existsSync(ELASTIX), dir);
    if (args[0] !== 'table') {
      const all: number[] = [];
      for (const seed of seeds) {
        console.log(`\nissue 19: 3D mean IoU of the whole run, 64 x 160 x 160 seed ${seed}, distorted map against the undistorted one, model seeds ${modelSeeds.join(',')}`);
        all.push(...(await distortedIoU(join(dir, `s${seed}`), seed, modelSeeds)));
        await rm(join(dir, `s${seed}`), { recursive: true, force: true });
      }
      if (all.length > 1) {
        const { mean, sd } = meanSd(all);
        console.log(`\nall ${all.length} runs (${seeds.length} samples x ${modelSeeds.length} model seeds): distorted - undistorted mean ${mean.toFixed(4)}, sd ${sd.toFixed(4)}, ${all.filter((x) => Math.abs(x) <= 0.01).length} of ${all.length} within 0.01`);
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
