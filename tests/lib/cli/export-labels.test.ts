/**
 * `--export` into the folder `petromap predict` keeps its labels in: <out>/labels.ome.zarr is the
 * OME-Zarr export already (before, `predict --export ome-zarr` was always refused, "the folder already
 * exists"), and running the same command again (the way to resume an interrupted one) replaces the
 * store folders an earlier export wrote, as it replaces labels.nrrd. A folder that is not an earlier
 * export is refused and left as it was.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { exportLabels } from '../../../lib/cli/export-labels';
import { isPetromapError } from '../../../lib/errors';
import type { Shape3 } from '../../../lib/volume/types';
import { createVolume, openVolume } from '../../../lib/volume/zarr-store-node';
import { cliTempDir } from './cli-session';

const tmp = cliTempDir('petromap-export-labels-');
const shape: Shape3 = [4, 6, 8];
const data = Uint8Array.from({ length: 4 * 6 * 8 }, (_, i) => 1 + (i % 3));

async function prediction(name: string) {
  const out = join(tmp, name);
  const labels = join(out, 'labels.ome.zarr');
  const s = await createVolume(labels, { shape, spacingUm: [2, 2, 2], originUm: [0, 0, 0], dtype: 'uint8', channels: ['label'] }, { chunk: [4, 6, 8], downsample: 'mode' });
  await s.writeBlock({ start: [0, 0, 0], shape }, data);
  return { out, labels };
}

it('predict\'s own labels store is the OME-Zarr export; a second export replaces the first one\'s folders', async () => {
  const { out, labels } = await prediction('pred');
  for (const round of [1, 2]) {
    const done = await exportLabels(labels, ['ome-zarr', 'ome-zarr-v2', 'nrrd'], out);
    expect(done.map((e) => [e.format, e.path, e.bytes]), `round ${round}`).toEqual([
      ['ome-zarr', join(out, 'labels.ome.zarr'), data.length],
      ['ome-zarr-v2', join(out, 'labels.v2.ome.zarr'), expect.any(Number)],
      ['nrrd', join(out, 'labels.nrrd'), expect.any(Number)],
    ]);
  }
  // the labels store is untouched, the v2 store and the NRRD hold the labels
  expect(Array.from((await (await openVolume(labels)).readBlock({ start: [0, 0, 0], shape })) as Uint8Array)).toEqual(Array.from(data));
  expect(JSON.parse(readFileSync(join(out, 'labels.v2.ome.zarr', '.zattrs'), 'utf8')).multiscales[0].version).toBe('0.4');
  const nrrd = readFileSync(join(out, 'labels.nrrd'));
  expect(Array.from(nrrd.subarray(nrrd.length - data.length))).toEqual(Array.from(data));
});

it('a folder of the export\'s name that no export wrote is refused and left as it was', async () => {
  const { out, labels } = await prediction('pred-other');
  mkdirSync(join(out, 'labels.v2.ome.zarr'));
  writeFileSync(join(out, 'labels.v2.ome.zarr', 'notes.txt'), 'mine');
  const err = await exportLabels(labels, ['ome-zarr-v2'], out).catch((e: unknown) => e);
  expect(isPetromapError(err, 'Conflict'), String(err)).toBe(true);
  expect(readFileSync(join(out, 'labels.v2.ome.zarr', 'notes.txt'), 'utf8')).toBe('mine');
});

it('a Zarr store another tool wrote under the export\'s name is refused and left as it was (its .zgroup and .zattrs were taken for an earlier export and the folder removed)', async () => {
  const { out, labels } = await prediction('pred-foreign');
  const v2 = join(out, 'labels.v2.ome.zarr');
  mkdirSync(join(v2, '0'), { recursive: true });
  writeFileSync(join(v2, '.zgroup'), '{"zarr_format":2}');
  writeFileSync(join(v2, '.zattrs'), JSON.stringify({ multiscales: [{ version: '0.4', metadata: { method: 'skimage.transform.downscale_local_mean' } }] }));
  writeFileSync(join(v2, 'my-segmentation.txt'), 'three weeks of work');
  // a v3 store of another tool where the OME-Zarr export of another prediction would go
  const other = join(tmp, 'pred-foreign-export');
  mkdirSync(join(other, 'labels.ome.zarr'), { recursive: true });
  writeFileSync(join(other, 'labels.ome.zarr', 'zarr.json'), JSON.stringify({ zarr_format: 3, node_type: 'group', attributes: { ome: { version: '0.5' } } }));
  for (const [fmt, dir, file] of [['ome-zarr-v2', out, join(v2, 'my-segmentation.txt')], ['ome-zarr', other, join(other, 'labels.ome.zarr', 'zarr.json')]] as const) {
    const before = readFileSync(file, 'utf8');
    const err = await exportLabels(labels, [fmt], dir).catch((e: unknown) => e);
    expect(isPetromapError(err, 'Conflict'), `${fmt}: ${String(err)}`).toBe(true);
    expect(readFileSync(file, 'utf8')).toBe(before);
  }
  // an export of petromap's own there is replaced, as before
  const again = await exportLabels(labels, ['ome-zarr'], join(tmp, 'pred-own-export')).then(() => exportLabels(labels, ['ome-zarr'], join(tmp, 'pred-own-export')));
  expect(again.map((e) => e.format)).toEqual(['ome-zarr']);
});
