/**
 * `petromap import --spacing` in another unit: a size read from the file outside 0.01 µm – 1 mm got
 * a note to check the unit, a typed one did not (found as a new user: --spacing 0.002,0.002,0.002,
 * the voxel size in mm, imported at 0.002 µm without a word, and every figure in µm after it would
 * be 1000× too small). Now it gets the note with the value in µm it likely meant; the import goes on.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { givenSpacingNote } from '../../../lib/cli/import';
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
