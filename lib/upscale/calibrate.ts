/**
 * Per lithology class, from the footprint measurements of every interior scan:
 *   - porosity of the footprints: mean, standard deviation, histogram (20 bins over 0..1);
 *   - the partial-volume calibration φ = α + β·grey (least squares over the footprints), its
 *     residual spread and the uncertainty of (α, β) by a block bootstrap (blocks of 4³ low-res
 *     voxels, so neighbouring footprints, correlated by the scan's blur, are drawn together);
 *   - the segmentation's systematic share: the larger of the mean porosity change when the threshold
 *     moves ±δ and a boundary misplacement of SEGMENTATION_EPS_VOX (1 σ) over the pore surface
 *     (Δφ = ε·S_V, S_V from the chords): sharp scans show no voxels near the threshold, yet their
 *     boundaries are only known to a fraction of a voxel.
 * A class with fewer than MIN_FOOTPRINTS footprints or no grey spread keeps β = 0 (its mean);
 * a class with none is reported as not covered.
 */
import { mulberry32 } from '../synthetic/prng';
import type { Footprint } from './measure-interior';

export const MIN_FOOTPRINTS = 30;
export const HIST_BINS = 20;
export const BOOTSTRAP = 200;
/** 1 σ uncertainty of the pore boundary's position, interior voxels */
export const SEGMENTATION_EPS_VOX = 0.02;

export interface ClassCalibration {
  code: number;
  footprints: number;
  /** interior voxels the figures rest on */
  hiVoxels: number;
  mean: number;
  std: number;
  histogram: number[];
  alpha: number;
  beta: number;
  /** residual standard deviation of φ about the line */
  residualStd: number;
  r2: number;
  /** bootstrap draws of (α, β) */
  draws: { alpha: number; beta: number }[];
  /** 1 σ systematic porosity error of the segmentation (see the module comment) */
  segmentationShift: number;
  greyMin: number;
  greyMax: number;
}

function fit(fp: Footprint[]) {
  const n = fp.length;
  let sg = 0, sp = 0;
  for (const f of fp) { sg += f.grey; sp += f.porosity; }
  const mg = sg / n, mp = sp / n;
  let sgg = 0, sgp = 0, spp = 0;
  for (const f of fp) { sgg += (f.grey - mg) ** 2; sgp += (f.grey - mg) * (f.porosity - mp); spp += (f.porosity - mp) ** 2; }
  const useSlope = n >= MIN_FOOTPRINTS && sgg > 1e-9 * Math.max(1, mg * mg) * n;
  const beta = useSlope ? sgp / sgg : 0;
  const alpha = mp - beta * mg;
  const sse = Math.max(0, spp - beta * sgp);
  return { alpha, beta, mp, spp, sse, n };
}

export function calibrateClass(code: number, fp: Footprint[], opts: { seed?: number; surfacePerVoxel?: number } = {}): ClassCalibration {
  const seed = opts.seed ?? 1;
  const f0 = fit(fp);
  const hist = new Array<number>(HIST_BINS).fill(0);
  let hiVoxels = 0, gmin = Infinity, gmax = -Infinity, shift = 0;
  for (const f of fp) {
    hist[Math.min(HIST_BINS - 1, Math.floor(f.porosity * HIST_BINS))]++;
    hiVoxels += f.voxels; gmin = Math.min(gmin, f.grey); gmax = Math.max(gmax, f.grey);
    shift += (f.porosityHi - f.porosityLo) / 2;
  }
  // block bootstrap over 4³ blocks of low-res voxels
  const blocks = new Map<string, Footprint[]>();
  for (const f of fp) {
    const k = `${f.z >> 2},${f.y >> 2},${f.x >> 2}`;
    if (!blocks.has(k)) blocks.set(k, []);
    blocks.get(k)!.push(f);
  }
  const list = [...blocks.values()];
  const rng = mulberry32(seed * 7331 + code);
  const draws: { alpha: number; beta: number }[] = [];
  for (let b = 0; b < BOOTSTRAP && list.length > 1; b++) {
    const sample: Footprint[] = [];
    for (let i = 0; i < list.length; i++) sample.push(...list[Math.floor(rng() * list.length)]!);
    const r = fit(sample);
    draws.push({ alpha: r.alpha, beta: r.beta });
  }
  const n = fp.length;
  return {
    code, footprints: n, hiVoxels, mean: f0.mp, std: n > 1 ? Math.sqrt(f0.spp / (n - 1)) : 0, histogram: hist,
    alpha: f0.alpha, beta: f0.beta, residualStd: n > 2 ? Math.sqrt(f0.sse / (n - 2)) : 0, r2: f0.spp > 0 ? 1 - f0.sse / f0.spp : 0,
    draws: draws.length ? draws : [{ alpha: f0.alpha, beta: f0.beta }],
    segmentationShift: Math.max(n ? shift / n : 0, SEGMENTATION_EPS_VOX * (opts.surfacePerVoxel ?? 0)), greyMin: gmin, greyMax: gmax,
  };
}
