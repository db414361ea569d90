/**
 * `petromap predict --mirror auto|none`: a model trained at a polished surface mirrors the volume
 * above it, a plane in its training scan's voxels, so another scan of the rock (same voxel size,
 * another size) is refused by default (naming the scan, not its path, and the way out); with
 * --mirror none it is predicted without the mirror and the command says the layer below the
 * surface may read much worse. Real CLI train and predict, real stores.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { isPetromapError } from '../../../lib/errors';
import { main as predictMain } from '../../../lib/cli/predict';
import { main as trainMain } from '../../../lib/cli/train';
import { generateSandstone } from '../../../lib/synthetic';
import { openVolume, writeDenseVolume } from '../../../lib/volume/zarr-store-node';
import { capture, cliTempDir, writeSampleAtTruth } from './cli-session';

const tmp = cliTempDir('petromap-predict-mirror-');

it('another scan of the rock at the same voxel size: refused by default with the way out, predicted with --mirror none', async () => {
  const sample = generateSandstone({ shape: [16, 48, 48], seed: 3, grainDiameterVox: 10 });
  const { vol, mapDir } = await writeSampleAtTruth(tmp, sample, 'scan-A.ome.zarr');
  const [nz, ny, nx] = sample.volume.meta.shape;
  const model = join(tmp, 'model');
  expect((await capture(() => trainMain(['--volume', vol, '--eds', mapDir, '--registration', join(tmp, 'reg.json'), '--epochs', '2', '--out', model]))).code).toBe(0);
  // the same rock scanned taller: the scan above, then itself again below (same voxel size)
  const tall = new (sample.volume.data.constructor as Uint16ArrayConstructor)(2 * nz * ny * nx);
  tall.set(sample.volume.data as Uint16Array);
  tall.set(sample.volume.data as Uint16Array, nz * ny * nx);
  const other = join(tmp, 'scan-tall.ome.zarr');
  await writeDenseVolume(other, { meta: { ...sample.volume.meta, shape: [2 * nz, ny, nx] }, data: tall }, { chunk: [16, 48, 48] });

  const refused = await capture(() => predictMain(['--volume', other, '--model', model, '--out', join(tmp, 'pred-auto'), '--threads', '1'])).catch((e: unknown) => e);
  expect(isPetromapError(refused, 'Conflict')).toBe(true);
  const said = (refused as Error).message;
  // the scan by its name (before: its full path), and the way out (before: none but training again)
  expect(said).toMatch(/; scan-tall\.ome\.zarr is 32 × 48 × 48 voxels\. The model mirrors the volume above the polished surface it found in scan-A\.ome\.zarr/);
  expect(said).not.toContain(tmp);
  expect(said).toMatch(/Or, for a scan of the same rock at this voxel size: --mirror none \(no mirror: the rock within a few filter widths of the surface then reads much worse\)\.$/);
  expect(existsSync(join(tmp, 'pred-auto', 'labels.ome.zarr'))).toBe(false);

  const out = join(tmp, 'pred-none');
  const r = await capture(() => predictMain(['--volume', other, '--model', model, '--out', out, '--threads', '1', '--mirror', 'none']));
  expect(r.code, r.err).toBe(0);
  expect(r.err).toMatch(/--mirror none: the volume above the polished surface is not mirrored as in training, so the rock within a few filter widths of the surface \(about 8 voxels in our tests\) can read much worse than deeper/);
  const j = JSON.parse(r.out) as { labelsPath: string; bricksTotal: number; bricksDone: number; bricksSkipped: number };
  expect(j.bricksDone + j.bricksSkipped).toBe(j.bricksTotal);
  expect((await openVolume(j.labelsPath)).meta.shape).toEqual([2 * nz, ny, nx]);

  await expect(predictMain(['--volume', other, '--model', model, '--out', out, '--mirror', 'sideways'])).rejects.toThrow(/--mirror must be auto, none, not "sideways"/);
});
