/**
 * Issue 18, `--pores`: an interior segmented by a pore label volume (painted / trained pore and
 * solid) instead of the grey threshold. With the generator's true pore labels the porosity is at
 * least as close to the truth as the threshold's; labels that cannot be the interior's are refused
 * before any work, and the files of an earlier run stay as they were.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPetromapError } from '../../../lib/errors';
import { MultiscaleField } from '../../../lib/synthetic/multiscale/fields';
import { defaultInteriors, writeMultiscaleSample, type MultiscaleTruth } from '../../../lib/synthetic/multiscale/write-multiscale-node';
import { poseAffine, type Vec3 } from '../../../lib/upscale/interior-pose';
import { runUpscale, type UpscaleInterior, type UpscaleResult } from '../../../lib/upscale/run-upscale-node';
import { createVolume } from '../../../lib/volume/zarr-store-node';

describe('petromap upscale --pores', () => {
  let dir = '';
  let truth: MultiscaleTruth;
  const field = { seed: 5, ratio: 4, shape: [32, 40, 40] as Vec3 };
  // the true poses: this test is about the segmentation, not the registration
  const at = (t: MultiscaleTruth['interiors'][number], extra: Partial<UpscaleInterior> = {}): UpscaleInterior => ({ path: t.path, hiToLow: poseAffine(t.pose, t.shape), ...extra });
  const run = (out: string, interiors: UpscaleInterior[]) => runUpscale({ volumePath: truth.paths.volume, classesPath: truth.paths.classes, outDir: join(dir, out), formats: [], interiors });
  let byThreshold: UpscaleResult, byLabels: UpscaleResult;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'petromap-upscale-pores-'));
    // a noisy interior scan (σ 0.2 of the grain grey; the default 0.04 thresholds to the truth exactly)
    truth = await writeMultiscaleSample(dir, { ...field, hiNoise: 0.2, poreLabels: true, interiors: defaultInteriors(new MultiscaleField(field), 64) });
    byThreshold = await run('threshold', truth.interiors.map((t) => at(t)));
    byLabels = await run('labels', truth.interiors.map((t) => at(t, { poreLabels: { path: t.poresPath!, poreCodes: [1] } })));
  }, 120_000);
  afterAll(async () => { if (dir) await rm(dir, { recursive: true, force: true }); });

  it('true pore labels: porosity per class and of the whole sample at least as close to the truth as the threshold', async () => {
    expect(byLabels.interiors.map((i) => i.segmentation)).toEqual(['labels', 'labels']);
    expect(byThreshold.interiors.map((i) => i.segmentation)).toEqual(['otsu', 'otsu']);
    const err = (r: UpscaleResult) => truth.classes.map((c) => Math.abs(r.classes.find((x) => x.code === c.code)!.porosity!.value - c.porosity));
    const eL = err(byLabels), eT = err(byThreshold);
    const tL = Math.abs(byLabels.total.value - truth.totalPorosity), tT = Math.abs(byThreshold.total.value - truth.totalPorosity);
    console.log(`class porosity error, labels ${eL.map((e) => e.toFixed(4)).join(' / ')} vs threshold ${eT.map((e) => e.toFixed(4)).join(' / ')}; total ${tL.toFixed(4)} vs ${tT.toFixed(4)}`);
    for (const e of eL) expect(e).toBeLessThanOrEqual(0.02);
    expect(Math.max(...eL)).toBeLessThanOrEqual(Math.max(...eT));
    expect(tL).toBeLessThanOrEqual(Math.max(tT, 0.002));
    expect(byLabels.total.low).toBeLessThanOrEqual(truth.totalPorosity);
    expect(byLabels.total.high).toBeGreaterThanOrEqual(truth.totalPorosity);
    // footprint by footprint: the labels' porosity is the truth of that low-res voxel (to the pose's
    // nearest-voxel sampling), and closer than the threshold's
    const f = new MultiscaleField(field);
    const fpErr = async (out: string) => {
      const rows = (await readFile(join(dir, out, 'footprints.csv'), 'utf8')).trim().split(/\r?\n/).slice(1).map((l) => l.split(',').map(Number));
      return rows.reduce((s, [z, y, x, , , p]) => s + Math.abs(p! - f.porosityAt(z!, y!, x!)), 0) / rows.length;
    };
    const [fL, fT] = [await fpErr('labels'), await fpErr('threshold')];
    console.log(`mean footprint porosity error, labels ${fL.toFixed(4)} vs threshold ${fT.toFixed(4)}`);
    expect(fL).toBeLessThan(0.01);
    expect(fL).toBeLessThan(fT);
  });

  it('refuses labels of another shape, a grey scan given as labels, and codes no voxel carries; earlier results stay', async () => {
    const report = await readFile(join(dir, 'labels', 'report.json'), 'utf8');
    const t = truth.interiors[0]!;
    const small = join(dir, 'small-pores.ome.zarr');
    await createVolume(small, { shape: [t.shape[0] - 8, t.shape[1], t.shape[2]], spacingUm: [2, 2, 2], originUm: [0, 0, 0], dtype: 'uint8', channels: ['pores'] });
    const refused = async (pores: UpscaleInterior['poreLabels'], re: RegExp) => {
      const err = await run('labels', [at(t, { poreLabels: pores })]).catch((e: unknown) => e);
      expect(isPetromapError(err, 'InvalidInput'), String(err)).toBe(true);
      expect((err as Error).message).toMatch(re);
      expect((err as Error).message).not.toMatch(/\/tmp\//);
    };
    await refused({ path: small, poreCodes: [1] }, /pore labels small-pores\.ome\.zarr \(56 × 64 × 64 voxels\) do not have the shape of interior scan interior-1\.ome\.zarr \(64 × 64 × 64\)/);
    await refused({ path: t.path, poreCodes: [1] }, /hold uint16 values, not labels/);
    await refused({ path: t.poresPath!, poreCodes: [7] }, /mark no voxel of interior scan interior-1\.ome\.zarr as pore \(pore code 7\)/);
    expect(await readFile(join(dir, 'labels', 'report.json'), 'utf8')).toBe(report);
  });
});
