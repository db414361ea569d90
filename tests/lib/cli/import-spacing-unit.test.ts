/**
 * `petromap import --spacing` (and `import-eds --pixel-um`) in another unit: a size read from the file outside 0.01 µm – 1 mm got
 * a note to check the unit, a typed one did not (found as a new user: --spacing 0.002,0.002,0.002,
 * the voxel size in mm, imported at 0.002 µm without a word, and every figure in µm after it would
 * be 1000× too small). Now it gets the note with the value in µm it likely meant; the import goes on.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { encode } from 'fast-png';
import { givenSpacingNote } from '../../../lib/cli/spacing-option';
import { pixelSizeNote } from '../../../lib/cli/import-eds';
import { main } from '../../../lib/cli/main';
import { capture, cliTempDir } from './cli-session';

const tmp = cliTempDir('petromap-import-spacing-');

it('a typed voxel size in mm (or nm) gets a note naming the µm value; a size in µm does not', async () => {
  const raw = path.join(tmp, 'scan.raw');
  writeFileSync(raw, new Uint8Array(4 * 8 * 8).fill(100));
  const imp = (spacing: string, out: string) => capture(() => main(['import', raw, '--raw-shape', '4,8,8', '--raw-dtype', 'uint8', '--spacing', spacing, '--out', path.join(tmp, out)]));
  const mm = await imp('0.002,0.002,0.0025', 'mm.ome.zarr');
  expect(mm.code, mm.err).toBe(0);
  expect(mm.err).toContain('petromap import: note: --spacing 0.002,0.002,0.0025 is read in µm: smaller than 0.01 µm, unusual for XRM or micro-CT. If it is in mm, import again with --spacing 2,2,2.5 (µm).\n');
  expect(JSON.parse(mm.out).meta.spacingUm).toEqual([0.002, 0.002, 0.0025]); // said, not changed
  const um = await imp('2,2,2.5', 'um.ome.zarr');
  expect(um.code, um.err).toBe(0);
  expect(um.err).not.toMatch(/note: --spacing/);
  expect(givenSpacingNote([2000, 2000, 2000])).toBe('--spacing 2000,2000,2000 is read in µm: larger than 1 mm, unusual for XRM or micro-CT. If it is in nm, import again with --spacing 2,2,2 (µm).');
  expect(givenSpacingNote([0.05, 0.05, 0.05])).toBeUndefined(); // nano-CT
});

it('import-eds: a --pixel-um in mm gets the same note; a pixel size in µm does not', async () => {
  const Q = [236, 220, 180], K = [0, 0, 0];
  writeFileSync(path.join(tmp, 'm.png'), encode({ width: 2, height: 2, data: Uint8Array.from([Q, Q, Q, K].flat()), channels: 3, depth: 8 }));
  writeFileSync(path.join(tmp, 'legend.csv'), 'name,r,g,b\nQuartz,236,220,180\n');
  const imp = (px: string, out: string) => capture(() => main(['import-eds', path.join(tmp, 'm.png'), '--legend', path.join(tmp, 'legend.csv'), '--pixel-um', px, '--out', path.join(tmp, out)]));
  const mm = await imp('0.0016', 'map-mm');
  expect(mm.code, mm.err).toBe(0);
  expect(mm.err).toContain('petromap import-eds: note: --pixel-um 0.0016 is read in µm: smaller than 0.01 µm, unusual for an EDS map. If it is in mm, import again with --pixel-um 1.6.\n');
  const um = await imp('1.6', 'map-um');
  expect(um.code, um.err).toBe(0);
  expect(um.err).not.toMatch(/note: --pixel-um/);
  expect(pixelSizeNote(2500, true)).toBe('--pixel-um 2500 is read in µm: larger than 1 mm, unusual for an EDS map. If it is in nm, import again with --pixel-um 2.5.');
  expect(pixelSizeNote(0.001, false)).toMatch(/^the map's pixel size, 0\.001 µm, is smaller than 0\.01 µm, unusual for an EDS map\. Check it/);
});
