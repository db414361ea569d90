/**
 * `petromap upscale --out` replaces only what petromap wrote (reviewer R4: it removed another tool's
 * composite.ome.zarr with its files and wrote over an NRRD from another program under
 * composite-porosity.nrrd). Another program's file or folder under an output name is refused in
 * words before any work, left as it was; running again into the same folder replaces the run's own
 * outputs. Real files; the interiors' registrations are given (hiToLow), so no registration runs.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPetromapError } from '../../../lib/errors';
import { MultiscaleField } from '../../../lib/synthetic/multiscale/fields';
import { defaultInteriors, writeMultiscaleSample } from '../../../lib/synthetic/multiscale/write-multiscale-node';
import { poseAffine, type Vec3 } from '../../../lib/upscale/interior-pose';
import { UPSCALE_RECORD } from '../../../lib/upscale/output-guard-node';
import { runUpscale, type UpscaleInput } from '../../../lib/upscale/run-upscale-node';

let dir: string;
let input: (out: string) => UpscaleInput;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'petromap-upscale-guard-'));
  const shape: Vec3 = [48, 56, 56];
  const field = new MultiscaleField({ seed: 1, shape, ratio: 4 });
  const truth = await writeMultiscaleSample(dir, { seed: 1, ratio: 4, shape, interiors: defaultInteriors(field, 96) });
  input = (out) => ({
    volumePath: truth.paths.volume, classesPath: truth.paths.classes, classNames: { 1: 'a', 2: 'b', 3: 'c' }, outDir: out, formats: ['nrrd', 'tiff'],
    interiors: truth.interiors.map((t) => ({ path: t.path, hiToLow: poseAffine(t.pose, t.shape) })),
  });
}, 120_000);
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const refusal = (p: Promise<unknown>) => p.then(() => null, (e: unknown) => e as Error);

describe('petromap upscale into a folder that already holds files', () => {
  it("refuses another tool's Zarr store and NRRD under its output names, before any work, and leaves them", async () => {
    const out = join(dir, 'theirs');
    mkdirSync(join(out, 'composite.ome.zarr'), { recursive: true });
    writeFileSync(join(out, 'composite.ome.zarr', 'zarr.json'), '{"zarr_format":3,"node_type":"group","attributes":{"made by":"Dragonfly"}}');
    writeFileSync(join(out, 'composite.ome.zarr', 'segmentation-notes.txt'), 'three weeks of manual segmentation');
    writeFileSync(join(out, 'composite-porosity.nrrd'), 'NRRD0004\n# the porosity map from Avizo\n');
    writeFileSync(join(out, 'classes.csv'), 'mineral,area\nquartz,12\n');
    const err = await refusal(runUpscale(input(out)));
    expect(isPetromapError(err, 'Conflict')).toBe(true);
    expect(err!.message).toBe(
      'The output folder theirs already holds composite.ome.zarr, composite-porosity.nrrd and classes.csv, under the names petromap upscale writes, but petromap did not write them '
      + "(another program's files, or changed since petromap wrote them); petromap will not replace them. Nothing was written: move them elsewhere, or choose another output folder (--out).",
    );
    expect(readFileSync(join(out, 'composite.ome.zarr', 'segmentation-notes.txt'), 'utf8')).toBe('three weeks of manual segmentation');
    expect(readFileSync(join(out, 'composite-porosity.nrrd'), 'utf8')).toContain('Avizo');
    expect(readFileSync(join(out, 'classes.csv'), 'utf8')).toContain('quartz');
    for (const f of ['composite-porosity.tif', 'depth.csv', 'report.json', UPSCALE_RECORD]) expect(existsSync(join(out, f))).toBe(false);
  });

  it('running again replaces its own outputs; a TIFF replaced by another program since is refused', async () => {
    const out = join(dir, 'again');
    const first = await runUpscale(input(out));
    expect(existsSync(join(out, UPSCALE_RECORD))).toBe(true);
    const second = await runUpscale(input(out));
    expect(second.total.value).toBeCloseTo(first.total.value, 10);
    // its own NRRD, recognised by its header also without the record
    await rm(join(out, UPSCALE_RECORD));
    await runUpscale({ ...input(out), formats: ['nrrd'] });
    // a TIFF is recognised by the record only: another program's TIFF under the name is refused
    writeFileSync(join(out, 'composite-porosity.tif'), 'II*\0 a stack saved by Fiji');
    const err = await refusal(runUpscale(input(out)));
    expect(isPetromapError(err, 'Conflict')).toBe(true);
    expect(err!.message).toMatch(/^The output folder again already holds composite-porosity\.tif, under the name petromap upscale writes, but petromap did not write it /);
    expect(readFileSync(join(out, 'composite-porosity.tif'), 'utf8')).toContain('Fiji');
  }, 120_000);
});
