/**
 * `npm run bench -- two-faces [--shape z,y,x] [--seeds 11,12,13] [--threads n] [--cap-control] [--no-two] [--keep]`
 * What a second EDS section adds (issue 15 §1): a synthetic sandstone mapped on its top AND bottom
 * face (lib/synthetic/two-faces.ts), run through the one pipeline (runMineralogy, automatic
 * registration, default features and training) twice on the same volume: with the top map only,
 * and with the top map plus the bottom face's map (moreMaps). Prints the bottom map's registration
 * error against the generator's truth, the 3D per-class IoU of both runs over every rock voxel and
 * over the lower half of the volume (nearer the bottom face), and a summary per seed.
 * --cap-control adds a top-only run with twice the per-class cap (8000), as many labelled voxels
 * as the two faces are allowed: is the gain more labels of the classes one face already has, or
 * labels one face does not have? --no-two skips the two runs above (with --cap-control: the control only).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SANDSTONE_CLASSES } from '../lib/classes';
import { confusionMetrics } from '../lib/classify/model';
import { runMineralogy, type RunMineralogyResult } from '../lib/pipeline/run-mineralogy';
import { registrationError } from '../lib/registration/quality';
import { classMapFromNames } from '../lib/registration/transfer-labels';
import { generateTwoFaceSandstone } from '../lib/synthetic/two-faces';
import type { Shape3 } from '../lib/volume/types';
import { openVolume, writeDenseVolume } from '../lib/volume/zarr-store-node';

const CLASSES = [1, 2, 3, 4, 5];
const NAMES = SANDSTONE_CLASSES.filter((c) => c.code > 0).map((c) => c.name);
const fmt = (v: number, d = 3) => (Number.isFinite(v) ? v.toFixed(d) : '—');

function parse(argv: string[]) {
  const a = { shape: [128, 192, 192] as Shape3, seeds: [11, 12, 13], threads: undefined as number | undefined, keep: false, capControl: false, two: true };
  for (let i = 0; i < argv.length; i++) {
    const f = argv[i];
    if (f === '--shape') a.shape = argv[++i]!.split(',').map(Number) as Shape3;
    else if (f === '--seed' || f === '--seeds') a.seeds = argv[++i]!.split(',').map(Number);
    else if (f === '--threads') a.threads = Number(argv[++i]);
    else if (f === '--keep') a.keep = true;
    else if (f === '--cap-control') a.capControl = true;
    else if (f === '--no-two') a.two = false;
    else throw new Error(`bench two-faces: unknown option ${f}`);
  }
  return a;
}

/** 3D IoU per class over rock voxels (truth != 0) with z in [z0, z1). */
function iou3d(truth: Uint8Array, pred: ArrayLike<number>, shape: Shape3, z0 = 0, z1 = shape[0]) {
  const t: number[] = [], p: number[] = [];
  const plane = shape[1] * shape[2];
  for (let i = z0 * plane; i < z1 * plane; i++) if (truth[i]) { t.push(truth[i]!); p.push(pred[i]!); }
  return confusionMetrics(t, p, CLASSES);
}

export async function run(argv: string[]): Promise<void> {
  const a = parse(argv);
  const summary: { seed: number; regMean: number; regMax: number; one: number; two: number; oneLow: number; twoLow: number; oneS: number; twoS: number; cap: number }[] = [];
  for (const seed of a.seeds) {
    const dir = await mkdtemp(join(tmpdir(), 'petromap-bench-two-faces-'));
    try {
      const shape = a.shape;
      console.log(`\n--- synthetic sandstone with two mapped faces ${shape.join('x')}, seed ${seed} ---`);
      const s = generateTwoFaceSandstone({ shape, seed });
      const volumePath = join(dir, 'volume.ome.zarr');
      await writeDenseVolume(volumePath, s.volume);
      const classMap = classMapFromNames(s.eds.legend, s.truth.mineralToClass);
      const runOnce = async (name: string, two: boolean, maxPerClass?: number) => {
        const t0 = Date.now(), c0 = process.cpuUsage();
        const r: RunMineralogyResult = await runMineralogy(volumePath, s.eds, classMap, join(dir, name), {
          threads: a.threads, register: { inWorker: false }, maxPerClass,
          moreMaps: two ? [{ map: s.bottom.eds, classMap: classMapFromNames(s.bottom.eds.legend, s.truth.mineralToClass), face: 'bottom' }] : undefined,
        });
        const cpu = process.cpuUsage(c0);
        const lab = await (await openVolume(r.prediction.labelsPath)).readBlock({ start: [0, 0, 0], shape });
        const all = iou3d(s.truthLabels, lab, shape), low = iou3d(s.truthLabels, lab, shape, shape[0] >> 1);
        console.log(`${name}: ${r.labelledVoxels} labelled voxels, ${r.boundaryVoxels} boundary voxels, held-out accuracy ${fmt(r.validation.accuracy)} mean IoU ${fmt(r.validation.meanIoU)}; ` +
          `stages (s) ${Object.entries(r.seconds).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}; main-thread CPU ${((cpu.user + cpu.system) / 1e6).toFixed(0)} s, wall ${((Date.now() - t0) / 1000).toFixed(0)} s`);
        return { r, all, low };
      };
      const cap = a.capControl ? await runOnce('top face only, cap 8000 per class', false, 8000) : undefined;
      if (cap) console.log(`top only, cap 8000: 3D mean IoU ${fmt(cap.all.meanIoU)} (${cap.all.perClass.map((c, k) => `${NAMES[k]} ${fmt(c.iou)}`).join(', ')}); lower half ${fmt(cap.low.meanIoU)}`);
      if (!a.two) {
        summary.push({ seed, regMean: NaN, regMax: NaN, one: NaN, two: NaN, oneLow: NaN, twoLow: NaN, oneS: NaN, twoS: NaN, cap: cap?.all.meanIoU ?? NaN });
        continue;
      }
      const one = await runOnce('top face only', false);
      const two = await runOnce('top + bottom faces', true);
      const reg = two.r.moreRegistrations![0]!;
      const e = registrationError(reg.edsToVoxel, s.bottom.edsToVoxel, s.bottom.eds.width, s.bottom.eds.height, shape);
      const et = registrationError(two.r.registration.edsToVoxel, s.truth.edsToVoxel, s.eds.width, s.eds.height, shape);
      console.log(`registration vs truth (voxels, mean / max): top ${fmt(et.mean)} / ${fmt(et.max)}, bottom ${fmt(e.mean)} / ${fmt(e.max)} (MI ${fmt(reg.quality.miAfter)} vs top ${fmt(two.r.registration.quality.miAfter)}, model ${reg.model ?? 'similarity'})`);
      console.log(`\n${'3D IoU vs truth'.padEnd(34)} ${NAMES.map((n) => n.padStart(8)).join(' ')}   meanIoU  accuracy`);
      for (const [name, m] of [['top face only', one.all], ['top + bottom faces', two.all], ['top only, lower half', one.low], ['top + bottom, lower half', two.low]] as const) {
        console.log(`${name.padEnd(34)} ${m.perClass.map((c) => fmt(c.iou).padStart(8)).join(' ')}   ${fmt(m.meanIoU).padStart(7)}  ${fmt(m.accuracy).padStart(8)}`);
      }
      summary.push({ seed, regMean: e.mean, regMax: e.max, one: one.all.meanIoU, two: two.all.meanIoU, oneLow: one.low.meanIoU, twoLow: two.low.meanIoU, oneS: one.r.seconds.train, twoS: two.r.seconds.train, cap: cap?.all.meanIoU ?? NaN });
    } finally {
      if (!a.keep) await rm(dir, { recursive: true, force: true });
      else console.log(`kept ${dir}`);
    }
  }
  console.log(`\ntwo-faces summary ${a.shape.join('x')} | seed | bottom registration mean / max (voxel) | mean IoU top only | top + bottom | gain | lower half: top only | top + bottom | gain | train s one / two |${a.capControl ? ' top only, cap 8000 |' : ''}`);
  for (const r of summary) {
    console.log(`| ${r.seed} | ${fmt(r.regMean)} / ${fmt(r.regMax)} | ${fmt(r.one)} | ${fmt(r.two)} | ${fmt(r.two - r.one)} | ${fmt(r.oneLow)} | ${fmt(r.twoLow)} | ${fmt(r.twoLow - r.oneLow)} | ${r.oneS.toFixed(0)} / ${r.twoS.toFixed(0)} |${a.capControl ? ` ${fmt(r.cap)} |` : ''}`);
  }
}
