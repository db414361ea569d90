/**
 * Issue 18, bad input: an interior scan outside the volume and voxel sizes whose ratio contradicts
 * the images are clear errors; a class no interior covers is reported, not an error. Also the CLI.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main, parseUpscaleArgs } from '../../../lib/cli/upscale';
import { isPetromapError } from '../../../lib/errors';
import { registerInterior } from '../../../lib/registration/register-3d';
import { MultiscaleField } from '../../../lib/synthetic/multiscale/fields';
import { defaultInteriors, writeMultiscaleSample, type MultiscaleTruth } from '../../../lib/synthetic/multiscale/write-multiscale-node';
import type { Vec3 } from '../../../lib/upscale/interior-pose';
import { openVolume } from '../../../lib/volume/zarr-store-node';

describe('petromap upscale: bad input', () => {
  let dir = '';
  let truth: MultiscaleTruth;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'petromap-upscale-bad-'));
    const shape: Vec3 = [40, 48, 48];
    const field = new MultiscaleField({ seed: 3, shape, ratio: 4 });
    const [a] = defaultInteriors(field, 96);
    // the first lies in the upper layer only (low-res z 2..14; the layers meet below z 16); the second
    // claims 2.6 µm voxels, they are 2 µm (8 µm / 4)
    const upper = { centre: [8, 20, a!.centre[2]] as Vec3, angleDeg: 3, shape: [48, 80, 80] as Vec3 };
    truth = await writeMultiscaleSample(dir, { seed: 3, ratio: 4, shape, interiors: [upper, { ...a!, declaredVoxelUm: 2.6 }] });
  }, 120_000);
  afterAll(async () => { if (dir) await rm(dir, { recursive: true, force: true }); });

  it('refuses an interior scan placed outside the volume', async () => {
    const vol = await openVolume(truth.paths.volume), it0 = await openVolume(truth.interiors[0]!.path);
    const err = await registerInterior(vol, it0, { start: { centre: [-20, 20, 20] }, interiorName: 'core-A.ome.zarr' }).catch((e: unknown) => e);
    expect(isPetromapError(err, 'InvalidInput')).toBe(true);
    expect((err as Error).message).toMatch(/core-A\.ome\.zarr .* lies outside/);
  });

  it('refuses voxel sizes whose ratio contradicts the registration', async () => {
    const vol = await openVolume(truth.paths.volume), bad = await openVolume(truth.interiors[1]!.path);
    const t = truth.interiors[1]!;
    const err = await registerInterior(vol, bad, { start: { centre: t.pose.centre.map((c) => c + 3) as Vec3, angleDeg: t.pose.angleDeg + 5 } }).catch((e: unknown) => e);
    expect(isPetromapError(err, 'Unprocessable')).toBe(true);
    expect((err as Error).message).toMatch(/voxel sizes contradict/);
  });

  it('CLI: reports a class no interior covers, with every other figure', async () => {
    const out = join(dir, 'out');
    const t = truth.interiors[0]!;
    const logs: string[] = [];
    const orig = console.log;
    console.log = (m: string) => logs.push(m);
    try {
      await main(['--volume', truth.paths.volume, '--classes', truth.paths.classes, '--interior', `${t.path}@${t.pose.centre.map((c) => (c + 3).toFixed(1)).join(',')},${t.pose.angleDeg - 6}`,
        '--out', out, '--class-names', '1=high porosity,2=low porosity,3=fracture', '--formats', 'nrrd,tiff']);
    } finally { console.log = orig; }
    expect(logs.join('\n')).toMatch(/low porosity: Class "low porosity" \([\d.]+ % of the sample\) has no high-resolution measurement/);
    const csv = await readFile(join(out, 'classes.csv'), 'utf8');
    expect(csv).toMatch(/\r\n2,low porosity,\d+,[\d.]+,no,0,0,/);
    const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8')) as { total: { coveredFraction: number }; statements: string[] };
    expect(report.total.coveredFraction).toBeLessThan(1);
    expect(report.statements).toHaveLength(1);
    for (const f of ['composite-porosity.nrrd', 'composite-porosity.tif', 'depth.csv', 'footprints.csv']) await expect(readFile(join(out, f))).resolves.toBeTruthy();
  }, 120_000);

  it('CLI: a clear message for missing options and bad positions (more in tests/lib/cli/upscale-args)', () => {
    const base = ['--volume', truth.paths.volume, '--classes', truth.paths.classes, '--out', join(dir, 'o')];
    expect(() => parseUpscaleArgs(base)).toThrow(/--interior is required/);
    expect(() => parseUpscaleArgs([...base, '--interior', `${truth.interiors[0]!.path}@1,2`])).toThrow(/z,y,x/);
  });
});
