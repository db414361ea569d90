/**
 * A scan with no air above the polished face (cropped below it) is refused by the surface finder with
 * "... give the surface plane explicitly", which the command line has no option for. register and
 * run now say what a user can do instead: import the scan uncropped, or name the other face. Found
 * on an independent test rock whose scan was cropped 12 slices down.
 */
import { describe, expect, it } from 'vitest';
import { cliSurfaceAdvice } from '../../../lib/cli/registration-doubt';
import { detectSurface } from '../../../lib/registration/detect-surface';
import { unprocessable } from '../../../lib/errors';
import { generateSandstone } from '../../../lib/synthetic';

describe('register/run: no air above the polished face', () => {
  it('replaces "give the surface plane explicitly" with what the command line can do', async () => {
    // a sandstone cropped below its surface: rock from the first slice on
    const s = generateSandstone({ shape: [24, 48, 48], seed: 4, grainDiameterVox: 8 });
    const [nz, ny, nx] = s.volume.meta.shape;
    const from = 12;
    const data = s.volume.data.slice(from * ny * nx);
    const cropped = { ...s.volume, meta: { ...s.volume.meta, shape: [nz - from, ny, nx] as [number, number, number] }, data };
    let err: unknown;
    try {
      await detectSurface(cropped as never);
    } catch (e) {
      err = e;
    }
    expect(String((err as Error)?.message)).toMatch(/give the surface plane explicitly/);
    const msg = (cliSurfaceAdvice(err, 'top') as Error).message;
    expect(msg).not.toMatch(/explicitly/);
    expect(msg).toMatch(/import the scan with some air above that face.*--face bottom/);
    expect((cliSurfaceAdvice(unprocessable('x; give the surface plane explicitly.'), 'bottom') as Error).message).toMatch(/^x\. .*air must lie below the sample.*--face top/);
    const other = unprocessable('something else');
    expect((cliSurfaceAdvice(other, 'top') as Error).message).toBe('something else');
  });
});
