/**
 * `npm run bench -- quality <dir> [--temperature t] [--census w] [--outside-weight w] [--no-ceilings] [--no-shift] [--match text] [--fit-seeds 14,15]`
 * The 3D quality estimate (lib/classify/quality-estimate) re-read from the files that
 * `bench pipeline --quality-dump <dir>` writes (one per run: the model's probabilities on the depth
 * sample and on the held-out surface rows, the truth at the sampled voxels, the true 3D IoU of the
 * whole volume). For each run, with the shipped rule or the variant asked for:
 *   - estimate - true 3D mean IoU of the whole volume (the acceptance figure, target within 0.05);
 *   - estimate - true mean IoU of the sampled voxels (what the rule can reach on its sample: the
 *     rest is the sample's own luck);
 *   - per class: estimate - truth on the sample, the model's share of the sample beside the EDS map's.
 * Runs of the --fit-seeds (default 14,15: the seeds the rule's constants were fitted on) are
 * summed up apart from the others (the check), and per class against the whole volume's truth.
 * With --grid, the temperature x census weight grid is scored on both sets (the fit picks the
 * smallest largest error over the fit runs; the check set is shown, not used).
 * Each run's error is also checked against the estimate's stated range (estimateMargin of the
 * share of depth voxels outside the training range). Dumps written before the out-of-range flags
 * were kept (`outside`) are read without them.
 * No training or prediction: seconds per run, so rules can be compared on many runs.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { confusionMetrics } from '../lib/classify/mlp';
import { CENSUS_WEIGHT, DEPTH_TEMPERATURE, estimateFromProbabilities, estimateMargin, OUT_OF_RANGE_WEIGHT } from '../lib/classify/quality-estimate';
import { classCeilings, classIndices, finiteMean } from '../lib/classify/quality-measures';

interface Dump {
  style: string; shape: number[]; seed: number; truth: number; truthPerClass: number[]; classes: number[];
  truthAt: number[]; pMain: number[]; pHeld: number[]; yHeld: number[]; trainPrior: number[]; labelShares: number[] | null; outside?: number[];
}
interface Rule { T: number; census: number; ceilings: boolean; shift: boolean; outsideWeight: number }

const f3 = (v: number) => (Number.isFinite(v) ? `${v >= 0 ? '+' : ''}${v.toFixed(3)}` : '—');

function estimate(d: Dump, r: Rule): number[] {
  const K = d.classes.length;
  const pHeld = Float32Array.from(d.pHeld);
  const ceilings = r.ceilings && d.labelShares && d.yHeld.length ? classCeilings(pHeld, classIndices(Uint8Array.from(d.yHeld), d.classes), K, r.T) : null;
  return estimateFromProbabilities(Float32Array.from(d.pMain), K, { temperature: r.T, trainPrior: r.shift ? d.trainPrior : undefined, shares: r.shift ? d.labelShares : null, ceilings, census: r.census, outside: d.outside, outsideWeight: r.outsideWeight });
}

function summary(label: string, errs: number[]): string {
  return errs.length ? `${label}: max |error| ${Math.max(...errs.map(Math.abs)).toFixed(3)}, within 0.05 on ${errs.filter((x) => Math.abs(x) <= 0.05).length}/${errs.length}` : `${label}: no runs`;
}

export async function run(argv: string[]): Promise<void> {
  const dir = argv.find((a, i) => !a.startsWith('--') && !argv[i - 1]?.startsWith('--'));
  if (!dir) throw new Error('usage: bench quality <dir written by bench pipeline --quality-dump> [--temperature t] [--census w] [--outside-weight w] [--no-ceilings] [--no-shift] [--match text] [--fit-seeds 14,15] [--grid]');
  const opt = (name: string) => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : undefined; };
  const rule: Rule = { T: Number(opt('--temperature') ?? DEPTH_TEMPERATURE), census: Number(opt('--census') ?? CENSUS_WEIGHT), ceilings: !argv.includes('--no-ceilings'), shift: !argv.includes('--no-shift'), outsideWeight: Number(opt('--outside-weight') ?? OUT_OF_RANGE_WEIGHT) };
  const match = opt('--match') ?? '';
  const fitSeeds = new Set((opt('--fit-seeds') ?? '14,15').split(',').map(Number));
  const files = readdirSync(dir).filter((f) => f.startsWith('quality-') && f.endsWith('.json') && f.includes(match)).sort();
  const dumps = files.map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as Dump);
  console.log(`rule: temperature ${rule.T}, class ceilings ${rule.ceilings ? 'on' : 'off'}, label shift ${rule.shift ? 'on' : 'off'}, census weight ${rule.census}, out-of-range weight ${rule.outsideWeight}; ${files.length} runs in ${dir}`);
  const errs = { fit: [] as number[], check: [] as number[] };
  const inRange = { fit: [0, 0], check: [0, 0] };
  const perClass = { fit: [] as number[][], check: [] as number[][] };
  for (const d of dumps) {
    const K = d.classes.length;
    const p = Float32Array.from(d.pMain);
    const est = estimate(d, rule);
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
    const set = fitSeeds.has(d.seed) ? 'fit' : 'check';
    errs[set].push(e - d.truth);
    const outShare = d.outside?.length ? d.outside.reduce((a, b) => a + b, 0) / d.outside.length : NaN;
    const margin = estimateMargin(outShare);
    inRange[set][0]! += Math.abs(e - d.truth) <= margin ? 1 : 0;
    inRange[set][1]!++;
    perClass[set].push(est.map((v, k) => v - d.truthPerClass[k]!));
    console.log(`${d.style.toUpperCase()} ${d.shape.join('x')} seed ${d.seed}${set === 'fit' ? ' (fit)' : ''}: estimate ${e.toFixed(3)}, true 3D ${d.truth.toFixed(3)} (${f3(e - d.truth)}), sampled voxels' truth ${sample.meanIoU.toFixed(3)} (${f3(e - sample.meanIoU)}); ${n} voxels, outside the training range ${(100 * outShare).toFixed(1)} %, stated range ±${margin.toFixed(3)}${Math.abs(e - d.truth) <= margin ? '' : ' MISSED'}`);
    console.log(`  per class (estimate - sample truth | model share vs EDS share): ${d.classes.map((c, k) => `${c}: ${f3(est[k]! - sample.perClass[k]!.iou)} | ${(predicted[k]! / n).toFixed(3)} vs ${d.labelShares ? d.labelShares[k]!.toFixed(3) : '—'}`).join('; ')}`);
  }
  console.log('\nestimate - true 3D mean IoU');
  console.log(`  ${summary(`fit runs (seeds ${[...fitSeeds].join(', ')})`, errs.fit)}`);
  console.log(`  ${summary('check runs (the other seeds)', errs.check)}`);
  console.log(`  within the stated range (estimateMargin): fit ${inRange.fit[0]}/${inRange.fit[1]}, check ${inRange.check[0]}/${inRange.check[1]}`);
  for (const set of ['fit', 'check'] as const) {
    const rows = perClass[set];
    if (!rows.length || !dumps[0]) continue;
    const stat = dumps[0].classes.map((c, k) => {
      const v = rows.map((r) => r[k]!).filter(Number.isFinite);
      return `${c}: mean ${f3(finiteMean(v))}, ${f3(Math.min(...v))}..${f3(Math.max(...v))}`;
    });
    console.log(`  per class, estimate - true 3D IoU of the class (${set} runs): ${stat.join('; ')}`);
  }
  if (argv.includes('--grid')) {
    console.log('\ngrid (temperature x census weight): largest |error| on the fit runs / on the check runs');
    const censuses = [0, 0.25, 0.5, 0.75, 1];
    console.log('   T   ' + censuses.map((c) => `census ${c}`.padStart(15)).join(''));
    let best = { fit: Infinity, T: NaN, census: NaN };
    for (let T = 0.45; T <= 0.801; T += 0.05) {
      const cells = censuses.map((census) => {
        const r = { ...rule, T, census };
        const m = (set: 'fit' | 'check') => Math.max(...dumps.filter((d) => (set === 'fit') === fitSeeds.has(d.seed)).map((d) => Math.abs(finiteMean(estimate(d, r)) - d.truth)));
        const fit = m('fit'), check = m('check');
        if (fit < best.fit - 1e-9) best = { fit, T, census };
        return `${fit.toFixed(3)} / ${check.toFixed(3)}`.padStart(15);
      });
      console.log(`  ${T.toFixed(2)} ${cells.join('')}`);
    }
    console.log(`  smallest largest fit error: ${best.fit.toFixed(3)} at temperature ${best.T.toFixed(2)}, census weight ${best.census}`);
  }
}
