/**
 * ImageJ saves a stack of more than 4 GiB as one page directory followed by every slice back to
 * back (its description says images=N). Such a file (here a small one written the same way) is
 * read slice after slice from that run, with the description's voxel size; one whose slices are
 * cut short is still refused as truncated.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeVolumeFile, importVolume } from '../../../lib/volume/import-node';
import { openVolume } from '../../../lib/volume/zarr-store-node';
import { tiffBytes } from './fixtures';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'petromap-imagej-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const [Z, Y, X] = [12, 10, 14];
const slice = (z: number) => Uint16Array.from({ length: Y * X }, (_, i) => z * 1000 + i);
const DESC = `ImageJ=1.54f\nimages=${Z}\nslices=${Z}\nunit=micron\nspacing=3\nloop=false\n`;

/** page 1's directory (its one strip is slice 0, at the end of the file), then slices 1.. appended */
function imagejLarge(slices = Z): Buffer {
  const head = tiffBytes([slice(0)], Y, X, { description: DESC, xResolution: 0.5 });
  return Buffer.concat([head, ...Array.from({ length: slices - 1 }, (_, k) => Buffer.from(slice(k + 1).buffer))]);
}

describe('ImageJ stacks saved as one run of slices', () => {
  it('reads every slice of the run, with the ImageJ voxel size', async () => {
    const file = path.join(dir, 'big-stack.tif');
    fs.writeFileSync(file, imagejLarge());
    const d = await describeVolumeFile(file);
    expect(d.shape).toEqual([Z, Y, X]);
    expect(d.notes.join(' ')).toMatch(/ImageJ stack of 12 slices stored one after another/);
    const store = path.join(dir, 'big-stack.ome.zarr');
    const meta = await importVolume(file, store);
    expect(meta.spacingUm).toEqual([3, 2, 2]);
    const v = await (await openVolume(store)).readBlock({ start: [0, 0, 0], shape: [Z, Y, X] });
    let wrong = 0;
    for (let z = 0; z < Z; z++) for (let i = 0; i < Y * X; i++) if (v[z * Y * X + i] !== z * 1000 + i) wrong++;
    expect(wrong).toBe(0);
  });

  it('a run cut short is refused as truncated, nothing written', async () => {
    const file = path.join(dir, 'cut.tif');
    fs.writeFileSync(file, imagejLarge(Z - 3));
    const store = path.join(dir, 'cut.ome.zarr');
    await expect(importVolume(file, store)).rejects.toThrow(/cut\.tif is truncated: it should hold 12 slices \(ImageJ header\) but only 1 page\(s\) can be found/);
    expect(fs.existsSync(store)).toBe(false);
  });
});
