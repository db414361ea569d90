/**
 * Issue 18 acceptance on synthetic truth (2 seeds × ratios 4× and 8×): interior scans registered
 * from starts off by ~10 low-res voxels and ~10°, porosity per class and of the whole sample
 * against the generator's exact porosity; the registration's truth-free error estimate against the
 * true error.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { rmsPoseDistance } from '../../../lib/registration/register-3d';
import { MultiscaleField } from '../../../lib/synthetic/multiscale/fields';
import { defaultInteriors, perturbedStart, writeMultiscaleSample } from '../../../lib/synthetic/multiscale/write-multiscale-node';
import { poseAffine, type Vec3 } from '../../../lib/upscale/interior-pose';
import { runUpscale } from '../../../lib/upscale/run-upscale-node';

const NAMES = { 1: 'high porosity', 2: 'low porosity', 3: 'fracture' };

describe('petromap upscale on synthetic multi-scale samples', () => {
  const dirs: string[] = [];
  afterAll(async () => { for (const d of dirs) await rm(d, { recursive: true, force: true }); });

  for (const ratio of [4, 8]) for (const seed of [1, 2]) {
    it(`ratio ${ratio}×, seed ${seed}: registration ≤ 0.5 voxel, porosity per class ±0.02, total ±0.01 inside its interval`, { timeout: 600_000 }, async () => {
      const dir = await mkdtemp(join(tmpdir(), 'petromap-upscale-'));
      dirs.push(dir);
      const shape: Vec3 = [48, 56, 56];
      const field = new MultiscaleField({ seed, shape, ratio });
      const truth = await writeMultiscaleSample(dir, { seed, ratio, shape, interiors: defaultInteriors(field, ratio === 4 ? 96 : 176) });
      const r = await runUpscale({
        volumePath: truth.paths.volume, classesPath: truth.paths.classes, classNames: NAMES, outDir: join(dir, 'out'), formats: ['nrrd'],
        interiors: truth.interiors.map((t, k) => ({ path: t.path, start: perturbedStart(t, seed * 10 + k) })),
      });
      const errors = truth.interiors.map((t, k) => rmsPoseDistance(r.interiors[k]!.hiToLow, poseAffine(t.pose, t.shape), t.shape));
      const perClass = truth.classes.map((c) => ({ code: c.code, truth: c.porosity, est: r.classes.find((x) => x.code === c.code)?.porosity?.value }));
      const estimates = r.interiors.map((i) => i.quality!.errorEstimateVox);
      console.log(`ratio ${ratio} seed ${seed}: registration RMS error ${errors.map((e) => e.toFixed(3)).join(', ')} voxels (estimate ${estimates.map((e) => e.toFixed(3)).join(', ')}); ` +
        perClass.map((c) => `class ${c.code} ${c.est?.toFixed(4)} (truth ${c.truth.toFixed(4)})`).join(', ') +
        `; total ${r.total.value.toFixed(4)} [${r.total.low.toFixed(4)}, ${r.total.high.toFixed(4)}] (truth ${truth.totalPorosity.toFixed(4)})`);
      for (const e of errors) expect(e).toBeLessThanOrEqual(0.5);
      // the truth-free error estimate (split halves) is within a factor of 3 of the true error
      // (measured: 0.44–1.24× the true error on these eight interiors; it tends to be low)
      errors.forEach((e, k) => {
        expect(estimates[k]).toBeGreaterThanOrEqual(e / 3);
        expect(estimates[k]).toBeLessThanOrEqual(3 * e);
      });
      for (const c of perClass) expect(Math.abs(c.est! - c.truth)).toBeLessThanOrEqual(0.02);
      expect(r.total.coveredFraction).toBe(1);
      expect(Math.abs(r.total.value - truth.totalPorosity)).toBeLessThanOrEqual(0.01);
      expect(r.total.low).toBeLessThanOrEqual(truth.totalPorosity);
      expect(r.total.high).toBeGreaterThanOrEqual(truth.totalPorosity);
      expect(r.statements).toEqual([]);
    });
  }
});
