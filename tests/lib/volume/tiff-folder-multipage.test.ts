/**
 * A folder given as a slice stack whose TIFF holds several pages (a scan saved as one stack, or
 * petromap's own labels.tif beside a prediction) was read as ONE slice, the first page of each
 * file, without a word: `petromap info` and `import` said shape [1, y, x]. Now refused, naming the
 * file to give instead.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { exportVolume } from '../../../lib/report/export-node';
import { describeVolumeFile } from '../../../lib/volume/import-node';
import type { Shape3 } from '../../../lib/volume/types';
import { createVolume } from '../../../lib/volume/zarr-store-node';
import { cliTempDir } from '../cli/cli-session';

const tmp = cliTempDir('petromap-tiff-folder-pages-');

it('a folder whose TIFF holds several pages is refused, naming the file; the file itself reads as the volume', async () => {
  const shape: Shape3 = [5, 6, 8];
  const s = await createVolume(path.join(tmp, 'v.ome.zarr'), { shape, spacingUm: [2, 2, 2], originUm: [0, 0, 0], dtype: 'uint8', channels: ['label'] }, { chunk: shape });
  await s.writeBlock({ start: [0, 0, 0], shape }, new Uint8Array(240).fill(3));
  mkdirSync(path.join(tmp, 'stack'));
  const file = path.join(tmp, 'stack', 'scan.tif');
  await exportVolume(s, 'tiff', file);
  await expect(describeVolumeFile(path.join(tmp, 'stack'))).rejects.toThrow(/^stack\/scan\.tif holds 5 pages: a multi-page TIFF is a volume by itself, not a slice of the folder\. Give that file \(scan\.tif\) instead of its folder\.$/);
  expect((await describeVolumeFile(file)).shape).toEqual([5, 6, 8]);
});
