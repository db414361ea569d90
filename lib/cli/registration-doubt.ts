/**
 * Words for a registration nothing confirms (lib/cli/register.ts and run.ts), in a module of its own
 * so that run loads no registration code before its options are checked.
 */
import { isPetromapError } from '../errors';
import type { Registration } from '../registration/types';

/**
 * Above this held-out patch error (voxels) an automatic registration is not taken as confirmed. On 73
 * automatic registrations (styles A and B, rigid, distorted and mosaic maps, an independent rock), the
 * 37 right ones (under 2 voxels off) read at most 0.88 and the 36 wrong ones (a pixel size x0.6-0.8 or
 * x1.2-1.5, the bottom face given as top, a map of another sample: 52-105 voxels off) at least 0.95
 * or could not be measured. A narrow margin: a warning, not a refusal.
 */
export const DOUBT_HELD_OUT_VOX = 0.9;

/**
 * A registration nothing confirms: no landmarks, and a held-out alignment error above
 * DOUBT_HELD_OUT_VOX, or too few map patches on the volume for its
 * alignment error to be measured. On an independent test rock this is what a wrong --pixel-um (1.5x:
 * 46 % of the map on the volume, 65 voxels off) and a map of the bottom face given as the top (48 %,
 * 73 voxels off) gave, while the right map measured 17 patches at 0.42 voxel; before, both ended with
 * "next: train on it". The warning names the sizes to compare, or undefined when the error was measured.
 */
export function unverifiedRegistration(r: Pick<Registration, 'model' | 'modelChoice' | 'quality'>,
  o: { mapPx: [number, number]; mapPixelUm: number; volumeUm: [number, number]; face: string }): string | undefined {
  if (r.quality.landmarkResiduals?.length) return undefined;
  const held = r.modelChoice?.heldOutRmsVox[r.model ?? 'similarity'];
  const measured = held != null && Number.isFinite(held);
  if (measured && held <= DOUBT_HELD_OUT_VOX) return undefined;
  const um = (v: number) => `${+v.toPrecision(3)}`;
  const why = measured
    ? `the map patches held out of its fit agree with it only to ${held.toFixed(2)} voxel (right registrations of our test rocks read 0.88 or less, wrong ones 0.95–4.1)`
    : 'its alignment error could not be measured (too few map patches lie on the volume)';
  return `warning: nothing confirms this registration: ${why} and ${(100 * r.quality.coverage).toFixed(0)} % of the map lies on the volume. ` +
    `At ${um(o.mapPixelUm)} µm per pixel the map is ${um(o.mapPx[0] * o.mapPixelUm)} x ${um(o.mapPx[1] * o.mapPixelUm)} µm; the volume's ${o.face} face is ${um(o.volumeUm[0])} x ${um(o.volumeUm[1])} µm. ` +
    'A wrong EDS pixel size (--pixel-um, as the EDS software reports it), a wrong voxel size of the scan (petromap import --spacing) or a map of the other face (--face bottom for the bottom face) registers like this, with a map placed far off. ' +
    'Check them, or place the map with landmark pairs (--landmarks pairs.json), before training on it.';
}

/**
 * The surface finder's refusal in command-line words: it ends "give the surface plane explicitly",
 * which the command line has no option for. Says instead what a user can do: import the scan
 * uncropped (air above the polished face), or name the other face.
 */
export function cliSurfaceAdvice(err: unknown, face: string): unknown {
  if (!isPetromapError(err)) return err;
  const tail = /;?\s*(otherwise )?give the surface plane explicitly\./;
  if (!tail.test(err.message)) return err;
  const other = face === 'either'
    ? 'The top face needs air in the first slices, the bottom face (--face bottom) air in the last.'
    : face === 'bottom'
    ? 'For --face bottom the air must lie below the sample (the last slices); a map of the top face needs --face top.'
    : 'For the top face (the default) the air must lie above the sample, in the first slices; if the scan has the polished face at its last slices, give --face bottom.';
  err.message = err.message.replace(tail, '.') +
    ` The command line finds the polished face from the air next to it: import the scan with some air above that face (not cropped at or below it). ${other}`;
  return err;
}
