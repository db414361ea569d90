/**
 * `npm run bench -- quality <dir> [--temperature t] [--no-ceilings] [--no-shift] [--match text]`
 * The 3D quality estimate (lib/classify/quality-estimate) re-read from the files that
 * `bench pipeline --quality-dump <dir>` writes (one per run: the model's probabilities on the depth
 * sample and on the held-out surface rows, the truth at the sampled voxels, the true 3D IoU of the
 * whole volume). For each run, with the shipped rule or the variant asked for:
 *   - estimate - true 3D mean IoU of the whole volume (the acceptance figure, target within 0.05);
 *   - estimate - true mean IoU of the sampled voxels (what the rule can reach on its sample: the
 *     rest is the sample's own luck);
 *   - per class: estimate - truth on the sample, the model's share of the sample beside the EDS map's.
 * No training or prediction: seconds per run, so rules can be compared on many runs.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { confusionMetrics } from '../lib/classify/mlp';
import { DEPTH_TEMPERATURE, estimateFromProbabilities } from '../lib/classify/quality-estimate';
import { classCeilings, classIndices, finiteMean } from '../lib/classify/quality-measures';

interface Dump {
  style: string; shape: number[]; seed: number; truth: number; truthPerClass: number[]; classes: number[];
  truthAt: number[]; pMain: number[]; pHeld: number[]; yHeld: number[]; trainPrior: number[]; labelShares: number[] | null;
}

const f3 = (v: number) => (Number.isFinite(v) ? `${v >= 0 ? '+' : ''}${v.toFixed(3)}` : '—');

export async function run(argv: string[]): Promise<void> {
  const dir = argv.find((a, i) => !a.startsWith('--') && !argv[i - 1]?.startsWith('--'));
  if (!dir) throw new Error('usage: bench quality <dir written by bench pipeline --quality-dump> [--temperature t] [--no-ceilings] [--no-shift] [--match text]');
  const opt = (name: string) => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : undefined; };
  const T = Number(opt('--temperature') ?? DEPTH_TEMPERATURE);
  const ceilingsOn = !argv.includes('--no-ceilings'), shiftOn = !argv.includes('--no-shift');
  const match = opt('--match') ?? '';
  const files = readdirSync(dir).filter((f) => f.startsWith('quality-') && f.endsWith('.json') && f.includes(match)).sort();
  console.log(`rule: temperature ${T}, class ceilings ${ceilingsOn ? 'on' : 'off'}, label shift ${shiftOn ? 'on' : 'off'}; ${files.length} runs in ${dir}`);
  const errs: number[] = [];
  for (const f of files) {
    const d = JSON.parse(readFileSync(join(dir, f), 'utf8')) as Dump;
    const K = d.classes.length;
    const p = Float32Array.from(d.pMain), pHeld = Float32Array.from(d.pHeld);
    const ceilings = ceilingsOn && d.labelShares && d.yHeld.length ? classCeilings(pHeld, classIndices(Uint8Array.from(d.yHeld), d.classes), K, T) : null;
    const est = estimateFromProbabilities(p, K, { temperature: T, trainPrior: shiftOn ? d.trainPrior : undefined, shares: shiftOn ? d.labelShares : null, ceilings });
    // truth on the sampled voxels (0 = above the surface: left out), against the model's argmax
    const n = p.length / K, t: number[] = [], pr: number[] = [];
    const predicted = new Array<number>(K).fill(0);
    for (let i = 0; i < n; i++) {
      let b = 0;
      for (let k = 1; k < K; k++) if (p[i * K + k]! > p[i * K + b]!) b = k;
      predicted[b]!++;
      if (d.truthAt[i]) { t.push(d.truthAt[i]!); pr.push(d.classes[b]!); }
    }
    const sample = confusionMetrics(t, pr, d.classes);
    const e = finiteMean(est);
    errs.push(e - d.truth);
    console.log(`${d.style.toUpperCase()} ${d.shape.join('x')} seed ${d.seed}: estimate ${e.toFixed(3)}, true 3D ${d.truth.toFixed(3)} (${f3(e - d.truth)}), sampled voxels' truth ${sample.meanIoU.toFixed(3)} (${f3(e - sample.meanIoU)}); ${n} voxels`);
    console.log(`  per class (estimate - sample truth | model share vs EDS share | ceiling): ${d.classes.map((c, k) => `${c}: ${f3(est[k]! - sample.perClass[k]!.iou)} | ${(predicted[k]! / n).toFixed(3)} vs ${d.labelShares ? d.labelShares[k]!.toFixed(3) : '—'} | ${ceilings ? ceilings[k]!.toFixed(2) : '—'}`).join('; ')}`);
  }
  if (errs.length) console.log(`\nestimate - true 3D mean IoU: max |error| ${Math.max(...errs.map(Math.abs)).toFixed(3)}, within 0.05 on ${errs.filter((x) => Math.abs(x) <= 0.05).length}/${errs.length}`);
}
