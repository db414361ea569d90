/**
 * The composite model: every voxel of the large scan gets a porosity from its lithology class and
 * its grey value through that class's calibration (calibrate.ts), with an uncertainty (1 σ: the
 * residual spread about the line and the calibration's own bootstrap spread at that grey value).
 * Voxels of a class no interior scan covers (and unlabelled voxels) get NaN: no claim is made.
 * Written blockwise (slabs of whole chunks, one sequential writer) to a float32 OME-Zarr store with
 * channels (porosity, uncertainty); the sums for the sample-level figures are taken on the way.
 *
 * Total porosity's 95 % interval: percentiles of the bootstrap totals Σ_c n_c (α*_c + β*_c ḡ_c) / N,
 * widened in quadrature by the segmentation's systematic error (1.96 σ, fully correlated between
 * classes) and the residuals.
 */
import { throwIfAborted, type StageOptions } from '../errors';
import type { VolumeStore } from '../volume/store';
import type { Shape3 } from '../volume/types';
import { createVolume, PyramidSlabWriter } from '../volume/zarr-store-node';
import type { ClassCalibration } from './calibrate';

export interface Interval { value: number; low: number; high: number }

export interface CompositeClass {
  code: number;
  voxels: number;
  meanGrey: number;
  /** mean composite porosity of the class with its 95 % interval; null when not covered */
  porosity: Interval | null;
}

export interface CompositeResult {
  path: string;
  classes: CompositeClass[];
  /** over the covered voxels */
  total: Interval & { coveredVoxels: number; coveredFraction: number };
  /** per low-res z slice: mean porosity of its covered voxels (NaN when none) and covered fraction */
  depth: { z: number; porosity: number; covered: number }[];
}

interface Cal { alpha: number; beta: number; res2: number; va: number; vb: number; cab: number }

function moments(c: ClassCalibration): Cal {
  const n = c.draws.length;
  let ma = 0, mb = 0;
  for (const d of c.draws) { ma += d.alpha / n; mb += d.beta / n; }
  let va = 0, vb = 0, cab = 0;
  for (const d of c.draws) { va += (d.alpha - ma) ** 2; vb += (d.beta - mb) ** 2; cab += (d.alpha - ma) * (d.beta - mb); }
  const k = Math.max(1, n - 1);
  return { alpha: c.alpha, beta: c.beta, res2: c.residualStd ** 2, va: va / k, vb: vb / k, cab: cab / k };
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(p * (sorted.length - 1))))]!;

export async function buildComposite(
  volume: VolumeStore, classes: VolumeStore, calibrations: ClassCalibration[], outPath: string, opts: StageOptions & { chunk?: Shape3 } = {},
): Promise<CompositeResult> {
  const { signal } = opts;
  const [nz, ny, nx] = volume.meta.shape, plane = ny * nx;
  const cal: (Cal | undefined)[] = new Array(256);
  for (const c of calibrations) cal[c.code] = moments(c);
  const chunk: Shape3 = opts.chunk ?? [32, 64, 64]; // an even z chunk (clipped to the volume by the store) streams the pyramid
  const store = await createVolume(outPath, { ...volume.meta, dtype: 'float32', channels: ['porosity', 'uncertainty'] }, { chunk, spacingAssumed: volume.spacingAssumed });
  const wp = new PyramidSlabWriter(store, 0), wu = new PyramidSlabWriter(store, 1);
  const n = new Float64Array(256), sg = new Float64Array(256), sp = new Float64Array(256);
  const depth: CompositeResult['depth'] = [];
  for (let z0 = 0; z0 < nz; z0 += chunk[0]) {
    throwIfAborted(signal);
    const dz = Math.min(chunk[0], nz - z0), box = { start: [z0, 0, 0] as Shape3, shape: [dz, ny, nx] as Shape3 };
    const g = await volume.readBlockF32(box, { signal });
    const k = await classes.readBlock(box, { signal });
    const por = new Float32Array(g.length), unc = new Float32Array(g.length);
    for (let a = 0; a < dz; a++) {
      let zs = 0, zn = 0;
      for (let i = a * plane; i < (a + 1) * plane; i++) {
        const code = k[i]!, c = cal[code], v = g[i]!;
        n[code]++; sg[code] += v;
        if (!c || code === 0) { por[i] = NaN; unc[i] = NaN; continue; }
        const p = Math.min(1, Math.max(0, c.alpha + c.beta * v));
        por[i] = p; sp[code] += p; zs += p; zn++;
        unc[i] = Math.sqrt(c.res2 + c.va + 2 * v * c.cab + v * v * c.vb);
      }
      depth.push({ z: z0 + a, porosity: zn ? zs / zn : NaN, covered: zn / plane });
    }
    await wp.push(z0, dz, por);
    await wu.push(z0, dz, unc);
    opts.onProgress?.((z0 + dz) / nz, `composite slice ${z0 + dz} of ${nz}`);
  }
  await wp.finish();
  await wu.finish();
  return { path: outPath, ...summarise(calibrations, n, sg, sp, nz * plane), depth };
}

function summarise(calibrations: ClassCalibration[], n: Float64Array, sg: Float64Array, sp: Float64Array, total: number) {
  const byCode = new Map(calibrations.map((c) => [c.code, c]));
  const classes: CompositeClass[] = [];
  let covered = 0, sum = 0, seg = 0, res = 0;
  const draws = Math.max(1, ...calibrations.map((c) => c.draws.length));
  const totals = new Float64Array(draws);
  for (let code = 1; code < 256; code++) {
    if (!n[code]) continue;
    const c = byCode.get(code);
    const meanGrey = sg[code]! / n[code]!;
    if (!c) { classes.push({ code, voxels: n[code]!, meanGrey, porosity: null }); continue; }
    const value = sp[code]! / n[code]!;
    const boot = c.draws.map((d) => d.alpha + d.beta * meanGrey).sort((a, b) => a - b);
    const half = (percentile(boot, 0.975) - percentile(boot, 0.025)) / 2;
    const hw = Math.sqrt(half ** 2 + (1.96 * c.segmentationShift) ** 2 + (4 * c.residualStd ** 2) / n[code]!);
    classes.push({ code, voxels: n[code]!, meanGrey, porosity: { value, low: value - hw, high: value + hw } });
    covered += n[code]!; sum += sp[code]!; seg += n[code]! * c.segmentationShift; res += n[code]! * c.residualStd ** 2;
    for (let b = 0; b < draws; b++) { const d = c.draws[b % c.draws.length]!; totals[b] += n[code]! * (d.alpha + d.beta * meanGrey); }
  }
  const value = covered ? sum / covered : NaN;
  const sorted = Array.from(totals, (t) => t / Math.max(1, covered)).sort((a, b) => a - b);
  const half = sorted.length > 1 ? (percentile(sorted, 0.975) - percentile(sorted, 0.025)) / 2 : 0;
  const hw = covered ? Math.sqrt(half ** 2 + ((1.96 * seg) / covered) ** 2 + (4 * res) / covered ** 2) : NaN;
  return { classes, total: { value, low: value - hw, high: value + hw, coveredVoxels: covered, coveredFraction: covered / total } };
}
