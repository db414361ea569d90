/**
 * A prediction folder is resumed (and its labels exported) whatever path names the same store: the
 * absolute path "petromap run" records, a relative one, one with "..", a link. Before, predict.json
 * recorded the path as typed and any other spelling of the same store was refused as "made with
 * another model or settings" (found running predict --export on a run's own volume and model).
 */
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main as predictMain } from '../../../lib/cli/predict';
import { main as trainMain } from '../../../lib/cli/train';
import { generateSandstone } from '../../../lib/synthetic';
import { capture, cliTempDir, writeSampleAtTruth } from './cli-session';

const tmp = cliTempDir('petromap-predict-path-');

describe('petromap predict: the same store under another path', () => {
  it('resumes and exports a finished prediction given the store by a relative, ".." or linked path', async () => {
    const sample = generateSandstone({ shape: [16, 48, 48], seed: 3, grainDiameterVox: 10 });
    const { vol, mapDir } = await writeSampleAtTruth(tmp, sample);
    const model = join(tmp, 'model');
    expect((await capture(() => trainMain(['--volume', vol, '--eds', mapDir, '--registration', join(tmp, 'reg.json'), '--epochs', '2', '--out', model]))).code).toBe(0);
    const out = join(tmp, 'pred');
    const first = await capture(() => predictMain(['--volume', vol, '--model', model, '--out', out, '--threads', '1']));
    expect(first.code).toBe(0);
    mkdirSync(join(tmp, 'sub'));
    symlinkSync(vol, join(tmp, 'link.ome.zarr'));
    for (const other of [join(tmp, 'sub', '..', 'v.ome.zarr'), join(tmp, 'link.ome.zarr')]) {
      const again = await capture(() => predictMain(['--volume', other, '--model', model, '--out', out, '--threads', '1', '--export', 'nrrd']));
      expect(again.code, again.err).toBe(0);
      const j = JSON.parse(again.out) as { bricksDone: number; bricksSkipped: number; bricksTotal: number; exported: string };
      expect([j.bricksSkipped, j.bricksDone]).toEqual([j.bricksTotal, 0]); // nothing predicted again
      expect(j.exported).toMatch(/labels\.nrrd$/);
    }
  });
});
