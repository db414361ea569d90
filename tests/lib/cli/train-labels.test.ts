/**
 * Issue 15: `petromap train --volume <store> --labels <label volume> --classes names.csv`, then
 * `petromap predict`: the headless Annotate workflow on a synthetic lithology volume (high/low
 * porosity, fractures) with painted-like labels on two slices, scored against its ground truth.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { confusionMetrics } from '../../../lib/classify/model';
import { main as predictMain } from '../../../lib/cli/predict';
import { main as trainMain, parseClassNamesCsv } from '../../../lib/cli/train';
import { isPetromapError } from '../../../lib/errors';
import { generateLithology, paintedLabels } from '../../../lib/synthetic/lithology';
import { writeNrrd } from '../../../lib/synthetic/nrrd-writer-node';
import type { Shape3 } from '../../../lib/volume/types';
import { openVolume, writeDenseVolume } from '../../../lib/volume/zarr-store-node';

const tmp = mkdtempSync(join(tmpdir(), 'petromap-cli-labels-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function capture(fn: () => Promise<number>): Promise<{ code: number; json: Record<string, unknown> }> {
  const lines: string[] = [];
  const spy = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    const code = await fn();
    return { code, json: JSON.parse(lines.join('\n')) };
  } finally {
    spy.mockRestore();
    err.mockRestore();
  }
}

describe('petromap train --labels', () => {
  it('trains on a label volume (NRRD) with class names from a CSV, and predict maps the facies', async () => {
    const shape: Shape3 = [32, 80, 80];
    const s = generateLithology({ shape, seed: 4 });
    const vol = join(tmp, 'scan.ome.zarr');
    await writeDenseVolume(vol, s.volume, { chunk: [32, 80, 80] });
    const painted = paintedLabels(s.truth, shape, { perClass: 600, seed: 4 });
    const labelsFile = join(tmp, 'labels.nrrd');
    await writeNrrd(labelsFile, { meta: { ...s.volume.meta, dtype: 'uint8' }, data: painted });
    writeFileSync(join(tmp, 'names.csv'), 'code,name\n1,high porosity\n2,low porosity\n3,fracture\n');
    const model = join(tmp, 'model');
    const t = await capture(() => trainMain(['--volume', vol, '--labels', labelsFile, '--classes', join(tmp, 'names.csv'), '--epochs', '15', '--out', model]));
    expect(t.code).toBe(0);
    expect((t.json.classes as { name: string }[]).map((c) => c.name)).toEqual(['high porosity', 'low porosity', 'fracture']);
    expect(t.json.labelledVoxels).toBe(painted.reduce((a, v) => a + (v ? 1 : 0), 0));
    expect(t.json.labelledVoxels).toBeGreaterThan(1200);
    const p = await capture(() => predictMain(['--volume', vol, '--model', model, '--out', join(tmp, 'pred'), '--threads', '1']));
    expect(p.code).toBe(0);
    // the label codes with the names they were trained under (predict printed codes only)
    expect(p.json.classNames).toEqual({ 1: 'high porosity', 2: 'low porosity', 3: 'fracture' });
    const pred = await (await openVolume(String(p.json.labelsPath))).readBlock({ start: [0, 0, 0], shape });
    const m = confusionMetrics(s.truth, pred as Uint8Array, [1, 2, 3]);
    // every voxel of a small volume (facies boundaries and fracture walls included) from 1800
    // painted voxels: 0.45 here (one class everywhere would score about 0.16)
    expect(m.meanIoU).toBeGreaterThan(0.38);
    expect(m.perClass[0]!.iou).toBeGreaterThan(0.4);
    expect(m.perClass[1]!.iou).toBeGreaterThan(0.4);
    expect(m.perClass[2]!.iou).toBeGreaterThan(0.25);
  });

  it('refuses labels that do not fit the scan or are not class codes, and bad class tables', async () => {
    const vol = join(tmp, 'scan.ome.zarr');
    const small = join(tmp, 'small.nrrd');
    await writeNrrd(small, { meta: { shape: [4, 8, 8], spacingUm: [2, 2, 2], originUm: [0, 0, 0], dtype: 'uint8', channels: ['labels'] }, data: new Uint8Array(256).fill(1) });
    const e1 = await trainMain(['--volume', vol, '--labels', small, '--out', join(tmp, 'm2')]).catch((e) => e);
    expect(isPetromapError(e1, 'InvalidInput')).toBe(true);
    expect(e1.message).toMatch(/small\.nrrd is 4 x 8 x 8 voxels .* but the scan is 32 x 80 x 80/);
    const frac = join(tmp, 'frac.nrrd');
    const f = new Float32Array(32 * 80 * 80);
    f[5] = 1.5;
    await writeNrrd(frac, { meta: { shape: [32, 80, 80], spacingUm: [2, 2, 2], originUm: [0, 0, 0], dtype: 'float32', channels: ['labels'] }, data: f });
    const e2 = await trainMain(['--volume', vol, '--labels', frac, '--out', join(tmp, 'm3')]).catch((e) => e);
    expect(e2.message).toMatch(/value 1\.5 at voxel \(z 0, y 0, x 5\) is not a class code/);
    const e3 = await trainMain(['--volume', vol, '--labels', join(tmp, 'none.nrrd')]).catch((e) => e);
    expect(e3.message).toMatch(/label volume .*none\.nrrd does not exist/);
    const e4 = await trainMain(['--volume', vol, '--labels', small, '--eds', small]).catch((e) => e);
    expect(e4.message).toMatch(/either --labels .* or --eds/);
    expect(() => parseClassNamesCsv('1,quartz\nx,clay\n', 'n.csv')).toThrow(/n\.csv line 2: class code "x" must be a whole number 1\.\.255/);
    expect(parseClassNamesCsv('# lithology\ncode;name\n1;"high porosity"\n3\tfracture\n', 'n.csv')).toEqual({ 1: 'high porosity', 3: 'fracture' });
  });
});
