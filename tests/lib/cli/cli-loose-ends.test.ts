/**
 * The loose ends a new user met on the command line (engineer N's trial, stop 30):
 * - train's note on unnamed label codes said "names no class 5; they are called…" for one code;
 * - register's success line was long, full of jargon (F, eta^2) and printed "MI 0.652 -> 0.652";
 * - a NIfTI voxel size of 0.003 mm (float32) was printed as 3.000000026077032 µm;
 * - a prediction's stores did not carry `spacingAssumed` from their scan, so `info` on them did not warn;
 * - scripts/e2e.mjs kept its own copy of the build staleness check (scripts/build-stale.mjs).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { capture, cliTempDir } from './cli-session';
import { main } from '../../../lib/cli/main';
import { unnamedClassesNote } from '../../../lib/cli/train';
import { writeNifti, writeMeta } from '../volume/fixtures';

const tmp = cliTempDir('petromap-cli-loose-');


/** 6 x 16 x 16 uint8: air (10) above two grey phases in stripes along x. */
function scanVoxels(): Uint8Array {
  const v = new Uint8Array(6 * 16 * 16);
  for (let i = 0; i < v.length; i++) v[i] = i < 2 * 256 ? 10 : (i % 16) < 8 ? 80 : 200;
  return v;
}

describe('the CLI loose ends a new user met', () => {
  it("train's note on unnamed label codes: 'it is' for one code, 'they are' for several", () => {
    expect(unnamedClassesNote('names.csv', [5])).toBe('names.csv gives no name for label code 5; it is called "class 5".');
    expect(unnamedClassesNote('names.csv', [5, 7, 9])).toBe('names.csv gives no name for label codes 5, 7 and 9; they are called "class 5", "class 7" and "class 9".');
  });

  it('register says in one plain line the model, the alignment error and where the figures are; no MI before -> after, no F or eta', async () => {
    const demo = path.join(tmp, 'demo'), store = path.join(tmp, 'demo.ome.zarr');
    const s = await capture(() => main(['synth', demo, '--options', '{"shape":[24,64,64],"seed":4,"grainDiameterVox":12}']));
    expect(s.code, s.err).toBe(0);
    const px = String(JSON.parse(s.out).eds.pixelSizeUm);
    expect((await capture(() => main(['import', path.join(demo, 'volume.nrrd'), '--out', store]))).code).toBe(0);
    const out = path.join(tmp, 'reg.json');
    const r = await capture(() => main(['register', '--volume', store, '--map', path.join(demo, 'eds-map.png'), path.join(demo, 'eds-legend.csv'), '--pixel-um', px, '--out', out]));
    expect(r.code, r.err).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines).toHaveLength(1);
    const line = lines[0]!;
    const reg = JSON.parse(readFileSync(out, 'utf8'));
    const held = reg.modelChoice.heldOutRmsVox[reg.model] as number;
    expect(line).toContain(`: ${reg.model} model (`);
    expect(line).toContain(`alignment error ${held.toFixed(2)} voxel = `);
    expect(line).toContain(`details (every figure, why this model): ${out} or --json; transform: `);
    const words = line.replace(/\S*petromap-cli-loose-\S*/g, ''); // the line besides its file names
    expect(words).not.toMatch(/\bMI\b|->|\beta|\bF \d/);
    expect(words.length).toBeLessThan(260); // short enough to read
  }, 90_000);

  it('a float32 NIfTI voxel size of 0.003 mm is shown as 3 µm by import and info; the store keeps the exact value', async () => {
    const nii = path.join(tmp, 'scan.nii'), store = path.join(tmp, 'nifti.ome.zarr');
    await writeNifti(nii, scanVoxels(), [6, 16, 16], [0.003, 0.003, 0.0007]);
    const f = await capture(() => main(['info', nii]));
    expect(f.code, f.err).toBe(0);
    expect(JSON.parse(f.out).spacingUm).toEqual([3, 3, 0.7]);
    const i = await capture(() => main(['import', nii, '--out', store]));
    expect(i.code, i.err).toBe(0);
    expect(JSON.parse(i.out).meta.spacingUm).toEqual([3, 3, 0.7]);
    const s = await capture(() => main(['info', store]));
    expect(JSON.parse(s.out).meta.spacingUm).toEqual([3, 3, 0.7]);
    const stored = JSON.parse(readFileSync(path.join(store, 'zarr.json'), 'utf8')).attributes.petromap.meta.spacingUm as number[];
    expect(stored[0]).toBe(Math.fround(0.003) * 1000);
    expect(stored[0]).not.toBe(3);
  }, 60_000);

  it('a prediction of a scan whose voxel size was assumed is marked assumed too: info on its labels warns', async () => {
    const raw = path.join(tmp, 'scan.raw'), store = path.join(tmp, 'assumed.ome.zarr');
    const v = scanVoxels();
    writeFileSync(raw, v);
    expect((await capture(() => main(['import', raw, '--raw-shape', '6,16,16', '--raw-dtype', 'uint8', '--out', store]))).code).toBe(0);
    // labels: air 1, the two grey phases 2 and 3, every voxel labelled
    const labels = path.join(tmp, 'labels.mha');
    await writeMeta(labels, v.map((g) => (g === 10 ? 1 : g === 80 ? 2 : 3)), [6, 16, 16], [1, 1, 1]);
    const model = path.join(tmp, 'model');
    const t = await capture(() => main(['train', '--volume', store, '--labels', labels, '--epochs', '2', '--out', model]));
    expect(t.code, t.err).toBe(0);
    const pred = path.join(tmp, 'pred');
    const p = await capture(() => main(['predict', '--volume', store, '--model', model, '--out', pred]));
    expect(p.code, p.err).toBe(0);
    for (const out of ['labels', 'probabilities', 'uncertainty']) {
      const i = await capture(() => main(['info', path.join(pred, `${out}.ome.zarr`)]));
      expect(i.code, i.err).toBe(0);
      expect(JSON.parse(i.out).spacingAssumed, out).toBe(true);
      expect(i.err).toMatch(new RegExp(`warning: the voxel size of ${out}\\.ome\\.zarr \\(1 µm\\) was assumed at import`));
    }
  }, 120_000);

  it('scripts/e2e.mjs uses the staleness check of scripts/build-stale.mjs, not a copy of it', () => {
    const e2e = readFileSync(path.join(__dirname, '../../../scripts/e2e.mjs'), 'utf8');
    expect(e2e).toMatch(/import \{ buildState \} from '\.\/build-stale\.mjs'/);
    expect(e2e).not.toMatch(/function newestMtime/);
  });
});
