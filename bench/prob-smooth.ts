/**
 * `npm run bench -- prob-smooth [--shape z,y,x]... [--style a|b] [--seeds 11,12,13] [--no-oracle] [--variants g0.5,g0.75,g1,g1.5,m1]`
 * Spatial regularisation of the prediction, measured on the whole volume: runMineralogy as
 * `bench pipeline` runs it (surface-trained) and petromap's oracle (same model on the 3D truth),
 * then each model's stored class probabilities (uint8) are smoothed in 3D (gN: Gaussian sigma N,
 * mN: box mean of radius N; bias: class weights matching the EDS map's class shares, hbias: their square roots (half the
 * log-weights), bias-gN: both)
 * before the argmax, and the 3D IoU below the surface is compared.
 * Also prints the smoothing's cost in ns per voxel (all classes, one thread).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { argmaxChannels, smoothChannels, type ProbSmoothing } from '../lib/classify/prob-smooth';
import { runMineralogy } from '../lib/pipeline/run-mineralogy';
import { edsClassShares } from '../lib/pipeline/train-from-labels';
import type { Shape3 } from '../lib/volume/types';
import { openVolume } from '../lib/volume/zarr-store-node';
import { phantomArgs, writePhantom } from './_phantom-run';
import { iou3d, oracleVoxels, trainOn } from './pipeline';

const parseVariant = (v: string): ProbSmoothing => (v[0] === 'm' ? { kind: 'mean', radius: Number(v.slice(1)) } : { kind: 'gaussian', sigma: Number(v.slice(1)) });

/**
 * Class weights w (probabilities times w before the argmax) that make the argmax's class shares
 * over the sample's voxels match `shares` (the EDS map's area fractions = volume fractions).
 */
function shareWeights(ch: Float32Array[], codes: number[], shares: Map<number, number>): number[] {
  const K = ch.length, n = ch[0]!.length;
  const t = codes.map((c) => shares.get(c) ?? 0);
  const ts = t.reduce((a, b) => a + b, 0) || 1;
  const w = new Array<number>(K).fill(1);
  for (let it = 0; it < 40; it++) {
    const q = new Array<number>(K).fill(0);
    let m = 0;
    for (let i = 0; i < n; i += 5) {
      let b = -1, best = 0;
      for (let k = 0; k < K; k++) { const v = ch[k]![i]! * w[k]!; if (v > best) { best = v; b = k; } }
      if (b >= 0) { q[b]!++; m++; }
    }
    for (let k = 0; k < K; k++) if (t[k]! > 0) w[k] = w[k]! * Math.sqrt((t[k]! / ts) / Math.max(q[k]! / Math.max(1, m), 1e-5));
  }
  return w;
}

/** The stored probabilities (0..1) and the channel -> class code map (read off the stored labels). */
export async function readProbs(dir: string, shape: Shape3) {
  const box = { start: [0, 0, 0] as Shape3, shape };
  const ps = await openVolume(join(dir, 'probabilities.ome.zarr'));
  const lab = (await (await openVolume(join(dir, 'labels.ome.zarr'))).readBlock(box)) as Uint8Array;
  const ch: Float32Array[] = [];
  for (let c = 0; c < ps.meta.channels.length; c++) {
    const u = (await ps.readBlock(box, { channel: c })) as Uint8Array;
    const f = new Float32Array(u.length);
    for (let i = 0; i < u.length; i++) f[i] = u[i]! / 255;
    ch.push(f);
  }
  // channel k -> the label most often stored where k is the largest
  const am = argmaxChannels(ch);
  const votes = ch.map(() => new Map<number, number>());
  for (let i = 0; i < lab.length; i += 7) if (am[i]! < 255 && lab[i]) votes[am[i]!]!.set(lab[i]!, (votes[am[i]!]!.get(lab[i]!) ?? 0) + 1);
  const codes = votes.map((m) => [...m.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 0);
  return { ch, codes, lab };
}

function labelsOf(ch: Float32Array[], codes: number[]): Uint8Array {
  const am = argmaxChannels(ch);
  for (let i = 0; i < am.length; i++) am[i] = am[i] === 255 ? 0 : codes[am[i]!]!;
  return am;
}

export async function run(argv: string[]): Promise<void> {
  let oracle = true;
  let variants = ['g0.5', 'g0.75', 'g1', 'g1.5', 'm1'];
  const { shapes, style, seeds } = phantomArgs(argv, (f, next) => {
    if (f === '--no-oracle') oracle = false;
    else if (f === '--variants') variants = next().split(',');
  });
  const rows: string[] = [];
  for (const seed of seeds) for (const shape of shapes) {
    const dir = await mkdtemp(join(tmpdir(), 'petromap-bench-smooth-'));
    try {
      const { sample, volumePath, classMap, set } = await writePhantom(dir, style, shape, seed);
      const shares = edsClassShares(sample.eds, classMap);
      const r = await runMineralogy(volumePath, sample.eds, classMap, join(dir, 'petromap'), { featureSet: set, register: { inWorker: false } });
      const runs: [string, string][] = [['surface', join(dir, 'petromap', 'prediction')]];
      if (oracle) {
        await trainOn('oracle', oracleVoxels(sample.truthLabels, shape), volumePath, sample.truthLabels, shape, dir, undefined, r.registration.surface, set);
        runs.push(['oracle', join(dir, 'oracle-pred')]);
      }
      const res: Record<string, Record<string, number>> = {};
      for (const [name, pdir] of runs) {
        const { ch, codes, lab } = await readProbs(pdir, shape);
        const base = iou3d(sample.truthLabels, lab);
        const q = iou3d(sample.truthLabels, labelsOf(ch, codes));
        res[name] = { stored: base.meanIoU, uint8: q.meanIoU, clay: base.perClass[3]?.iou ?? NaN };
        console.log(`${style.toUpperCase()} ${shape.join('x')} s${seed} ${name}: stored labels ${base.meanIoU.toFixed(4)} (per class ${base.perClass.map((c) => c.iou.toFixed(3)).join(' ')}), argmax of uint8 probabilities ${q.meanIoU.toFixed(4)}`);
        for (const v of variants) {
          const c2 = ch.map((c) => c.slice());
          const t0 = process.cpuUsage();
          const half = v.startsWith('hbias');
          const [sv, bias] = v.startsWith('bias') ? [v.slice(5), true] : half ? [v.slice(6), true] : [v, false];
          if (sv) smoothChannels(c2, shape, parseVariant(sv));
          if (bias) {
            const w = shareWeights(c2, codes, shares).map((x) => (half ? Math.sqrt(x) : x));
            c2.forEach((c, k) => { for (let i = 0; i < c.length; i++) c[i] = c[i]! * w[k]!; });
            console.log(`  ${v}: class weights ${w.map((x) => x.toFixed(2)).join(' ')} (classes ${codes.join(' ')}; EDS shares ${codes.map((c) => (shares.get(c) ?? 0).toFixed(3)).join(' ')})`);
          }
          const cu = process.cpuUsage(t0);
          const m = iou3d(sample.truthLabels, labelsOf(c2, codes));
          res[name]![v] = m.meanIoU;
          res[name]![`${v}-clay`] = m.perClass[3]?.iou ?? NaN;
          console.log(`  ${v}: ${m.meanIoU.toFixed(4)} (${(m.meanIoU - q.meanIoU >= 0 ? '+' : '')}${(m.meanIoU - q.meanIoU).toFixed(4)}; per class ${m.perClass.map((c) => c.iou.toFixed(3)).join(' ')}), smoothing ${(((cu.user + cu.system) * 1e3) / (shape[0] * shape[1] * shape[2])).toFixed(1)} ns/voxel CPU, load ${loadavg()[0]!.toFixed(1)}`);
        }
      }
      const s = res.surface!, o = res.oracle;
      rows.push(`| ${style.toUpperCase()} | ${shape.join('x')} | ${seed} | ${s.uint8!.toFixed(3)} | ${variants.map((v) => `${(s[v]! - s.uint8!).toFixed(3)}`).join(' / ')} | ${o ? o.uint8!.toFixed(3) : '—'} | ${o ? variants.map((v) => `${(o[v]! - o.uint8!).toFixed(3)}`).join(' / ') : '—'} | ${o ? (o.uint8! - s.uint8!).toFixed(3) : '—'} → ${o ? variants.map((v) => (o[v]! - s[v]!).toFixed(3)).join(' / ') : '—'} | clay ${s.clay!.toFixed(3)} → ${variants.map((v) => s[`${v}-clay`]!.toFixed(3)).join(' / ')} |`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  console.log(`\n| style | shape | seed | surface | gain ${variants.join(' / ')} | oracle | oracle gain | gap → gap smoothed | clay |`);
  for (const r of rows) console.log(r);
}
