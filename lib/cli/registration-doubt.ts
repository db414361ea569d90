/**
 * Words for a registration nothing confirms (lib/cli/register.ts and run.ts), in a module of its own
 * so that run loads no registration code before its options are checked.
 */
import { isPetromapError, unprocessable, type PetromapError } from '../errors';
import type { Registration } from '../registration/types';
import { shellWord } from './next-step';

/**
 * Above this held-out patch error (voxels) an automatic registration WITHOUT a stored confidence is
 * not taken as confirmed (the rule before lib/registration/confidence.ts; registrations computed now
 * carry their confidence, which decides). On 73 automatic registrations the 37 right ones read at
 * most 0.88 and the 36 wrong ones at least 0.95 or could not be measured.
 */
export const DOUBT_HELD_OUT_VOX = 0.9;

type Doubted = Pick<Registration, 'model' | 'modelChoice' | 'quality'>;
export interface DoubtSizes {
  mapPx: [number, number]; mapPixelUm: number; volumeUm: [number, number]; face: string;
  /** the inputs as given, for the petromap check-scale line (lib/cli/check-scale.ts) that finds the pixel size the map fits best */
  inputs?: { volume: string; map: string; legend?: string; pixelUm?: number };
}

/** The command that measures which EDS pixel size the map matches best (engineer P's scale search). */
export function checkScaleLine(o: DoubtSizes): string {
  const i = o.inputs;
  if (!i) return '';
  return ` To measure which pixel size the map matches best: petromap check-scale --volume ${shellWord(i.volume)} --map ${shellWord(i.map)}` +
    `${i.legend ? ` ${shellWord(i.legend)}` : ''}${i.pixelUm !== undefined ? ` --pixel-um ${i.pixelUm}` : ''}${o.face === 'bottom' ? ' --face bottom' : ''}.`;
}

/**
 * Why a registration is not confirmed, in plain words, or undefined when it is: its stored
 * confidence (lib/registration/confidence.ts) when it has one; else the rule before it (no
 * landmarks and a held-out patch error above DOUBT_HELD_OUT_VOX or not measured).
 */
function doubt(r: Doubted): string | undefined {
  const c = r.quality.confidence;
  if (c) return c.verdict === 'doubtful' ? c.reason.replace(/\.$/, '') : undefined;
  if (r.quality.landmarkResiduals?.length) return undefined;
  // a per-field registration: its fields' residual is not held out; the global model's error is (the smaller of the two, not knowing which one the fields sat on)
  const ho = r.modelChoice?.heldOutRmsVox;
  const held = r.model === 'fields' ? (ho?.similarity != null && ho.affine != null ? Math.min(ho.similarity, ho.affine) : ho?.similarity ?? ho?.affine) : ho?.[r.model ?? 'similarity'];
  const measured = held != null && Number.isFinite(held);
  if (measured && held <= DOUBT_HELD_OUT_VOX) return undefined;
  return measured
    ? `the map patches held out of its fit agree with it only to ${held.toFixed(2)} voxel (right registrations of our test rocks read 0.88 or less, wrong ones 0.95–4.1)`
    : 'its alignment error could not be measured (too few map patches lie on the volume)';
}

const um = (v: number) => `${+v.toPrecision(3)}`;
/** the measurements behind a doubt and the sizes to compare */
const doubtFacts = (why: string, r: Doubted, o: DoubtSizes) =>
  `${why}; ${(100 * r.quality.coverage).toFixed(0)} % of the map lies on the volume. ` +
  `At ${um(o.mapPixelUm)} µm per pixel the map is ${um(o.mapPx[0] * o.mapPixelUm)} x ${um(o.mapPx[1] * o.mapPixelUm)} µm; the volume's ${o.face} face is ${um(o.volumeUm[0])} x ${um(o.volumeUm[1])} µm. ` +
  'A wrong EDS pixel size (--pixel-um, as the EDS software reports it), a wrong voxel size of the scan (petromap import --spacing) or a map of the other face (--face bottom for the bottom face) registers like this, with a map placed far off; ' +
  'so does a map that covers too little of the scanned surface.' + checkScaleLine(o);

/**
 * A registration nothing confirms: its stored confidence is doubtful (or, without one, no landmarks
 * and a held-out error above DOUBT_HELD_OUT_VOX or not measured). On an independent test rock a
 * wrong --pixel-um (1.5x: 65 voxels off) and a map of the bottom face given as the top (73 voxels
 * off) registered like this and ended with "next: train on it". The warning names the sizes to
 * compare, or undefined when the registration is confirmed.
 */
export function unverifiedRegistration(r: Doubted, o: DoubtSizes): string | undefined {
  const why = doubt(r);
  if (!why) return undefined;
  return `warning: nothing confirms this registration: ${doubtFacts(why, r, o)} ` +
    'Check them, or place the map with landmark pairs (--landmarks pairs.json), before training on it.';
}

/**
 * `petromap run` on a doubtful registration: the error that stops it before training (exit code 1),
 * or undefined when the registration is confirmed. The registration is written already (`file`).
 */
export function doubtfulRegistrationStop(r: Doubted, o: DoubtSizes & { file: string; again?: string[] }): PetromapError | undefined {
  const why = doubt(r);
  if (!why) return undefined;
  return unprocessable(`stopped before training: nothing confirms the registration of the EDS map: ${doubtFacts(why, r, o)} ` +
    `Check --pixel-um, the scan's voxel size and --face, or place the map with landmark pairs (--landmarks pairs.json), and run again. ` +
    `The registration is written to ${o.file}. ` +
    (o.again
      ? `If you checked it and it is right, train on it with (the same --out: a folder holding only a run stopped here is reused): petromap run ${o.again.map(shellWord).join(' ')}`
      : 'If you checked it and it is right, run again with --accept-registration to train on it.'), { details: { confidence: r.quality.confidence ?? null } });
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
