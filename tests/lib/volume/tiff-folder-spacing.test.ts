/**
 * Issue 15: a folder of TIFF slices taken n apart must not silently get z spacing = pixel width.
 * The z spacing comes from --spacing, ImageJ's spacing=, or the file-name numbering; otherwise the
 * import is refused with a message asking for --spacing. The "pixel width was used for z" note is
 * not shown when --spacing is given.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPetromapError } from '../../../lib/errors';
import { describeVolumeFile, importVolume } from '../../../lib/volume/import-node';
import { writeTiff } from './fixtures';

const ny = 6, nx = 5;
const IJ = 'ImageJ=1.54f\nunit=micron\n';
let dir = '';
beforeAll(async () => void (dir = await mkdtemp(path.join(tmpdir(), 'petromap-zsp-'))));
afterAll(() => rm(dir, { recursive: true, force: true }));

async function stack(name: string, files: string[], opts: { description?: string; xResolution?: number } = { description: IJ, xResolution: 0.5 }) {
  const d = path.join(dir, name);
  await mkdir(d);
  for (const [i, f] of files.entries()) await writeTiff(path.join(d, f), [new Uint8Array(ny * nx).fill(i * 10)], ny, nx, opts);
  return d;
}

describe('z spacing of a TIFF slice folder', () => {
  it('slices numbered every 50 get 50 pixel widths in z, with a note', async () => {
    const d = await stack('every50', [0, 50, 100, 150].map((k) => `scan_${String(k).padStart(4, '0')}.tif`));
    const desc = await describeVolumeFile(d);
    expect(desc.spacingUm).toEqual([100, 2, 2]);
    expect(desc.notes.join(' ')).toMatch(/numbered every 50: z spacing = 50 pixel widths = 100 µm/);
    expect(desc.notes.join(' ')).not.toMatch(/pixel width was used for z/);
    const meta = await importVolume(d, path.join(dir, 'every50.ome.zarr'));
    expect(meta.spacingUm).toEqual([100, 2, 2]);
  });

  it('consecutive numbers: z = pixel width, said in a note; ImageJ spacing= wins', async () => {
    const d = await stack('consecutive', ['s1.tif', 's2.tif', 's3.tif']);
    const desc = await describeVolumeFile(d);
    expect(desc.spacingUm).toEqual([2, 2, 2]);
    expect(desc.notes.join(' ')).toMatch(/numbered consecutively/);
    const ij = await stack('imagej', ['a_0.tif', 'a_50.tif'], { description: `${IJ}spacing=7\n`, xResolution: 0.5 });
    expect((await describeVolumeFile(ij)).spacingUm).toEqual([7, 2, 2]);
  });

  it('refuses a stack whose slice distance cannot be told, unless --spacing is given (then no pixel-width note)', async () => {
    const d = await stack('names', ['top.tif', 'middle.tif', 'bottom.tif']);
    const err = await describeVolumeFile(d).catch((e) => e);
    expect(isPetromapError(err, 'InvalidInput')).toBe(true);
    expect(err.message).toMatch(/distance between the 3 slices is unknown \(the file names carry no slice numbers.*--spacing z,y,x/);
    const uneven = await stack('uneven', ['s_0.tif', 's_50.tif', 's_70.tif']);
    expect((await describeVolumeFile(uneven).catch((e) => e)).message).toMatch(/not evenly spaced \(steps 50, 20\)/);
    const gapNoPixel = await stack('gap-nopixel', ['s_0.tif', 's_50.tif'], {});
    expect((await describeVolumeFile(gapNoPixel).catch((e) => e)).message).toMatch(/numbered every 50 but the TIFFs give no pixel size/);
    const given = await describeVolumeFile(d, { spacingUm: [100, 2, 2] });
    expect(given.spacingUm).toEqual([100, 2, 2]);
    expect(given.notes.join(' ')).not.toMatch(/pixel width/);
    const meta = await importVolume(uneven, path.join(dir, 'uneven.ome.zarr'), { spacingUm: [60, 2, 2] });
    expect(meta.spacingUm).toEqual([60, 2, 2]);
  });

  it('a multi-page TIFF without slice spacing: the pixel-width note goes when --spacing is given', async () => {
    const f = path.join(dir, 'stack.tif');
    await writeTiff(f, [new Uint8Array(ny * nx), new Uint8Array(ny * nx)], ny, nx, { description: IJ, xResolution: 0.5 });
    expect((await describeVolumeFile(f)).notes.join(' ')).toMatch(/pixel width was used for z/);
    expect((await describeVolumeFile(f, { spacingUm: [10, 2, 2] })).notes.join(' ')).not.toMatch(/pixel width/);
  });
});
