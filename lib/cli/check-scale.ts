/**
 * `petromap check-scale`: which EDS pixel size fits the scan? Runs the automatic pose search over
 * scale factors of the given pixel size (lib/registration/scale-search.ts) and prints the pixel
 * size at which the map matches best, beside the given one, and whether the given one is plausible.
 * A thin adapter over lib/registration, in the argument style of `petromap register`.
 */
import { invalidInput, isPetromapError } from '../errors';
import type { MineralMap } from '../eds/types';
import { parseCommandArgs } from './args';
import { isStoredMineralMap, readEdsInput } from './eds-input';
import { shellWord } from './next-step';
import { progressBar } from './progress';
import { faceView } from '../registration/face';
import { openVolumeInput } from '../registration/read-inputs-node';
import { DISTINCT_RATIO, PLAUSIBLE_FACTOR, searchMapScale, type ScaleSearchResult } from '../registration/scale-search';
import { cliVoxelSizeAdvice, warnIfSpacingAssumed, type SpacingSource } from './voxel-size';

export const USAGE = `usage: petromap check-scale --volume <store.ome.zarr|file|folder> --map <map.png|TIMA folder|folder from import-eds> [legend.csv] [--pixel-um <µm>]
    [--face top|bottom] [--range <low>,<high>] [--json]
  Finds the EDS pixel size at which the map matches the polished surface best: the automatic pose search of
  petromap register (shift, rotation, handedness) is run at pixel sizes from --range × the given one (default
  0.5,2: half to twice, in 5 % steps, then 1 % steps around the best), and prints "the map matches best at X µm per
  pixel (given Y)". The given pixel size is called plausible when the best one is within ${Math.round(100 * PLAUSIBLE_FACTOR)} % of it;
  if not, check the EDS export's calibration, and register at the size found with the command it prints (petromap register
  ... --find-pixel-size: the same search, then the registration starts from the pose found at that size; a registration
  given only --pixel-um X searches its pose again and can land far off on a small map). When no
  pixel size gives a distinct match (the map's best pose under ${DISTINCT_RATIO} times the next different one), it says so
  and tells no pixel size.
  --map, --eds  the EDS map, as petromap register reads it (a folder from import-eds carries its pixel size; --pixel-um
                then checks another one instead)
  --pixel-um    the pixel size to check (µm; default: the map's own)
  --face        which polished face the map shows (top, default, or bottom), as in petromap register
  --json        the result as JSON on stdout (no progress bar): { givenPixelUm, pixelUm, factor, distinct, distinctRatio,
                plausible, score, givenScore, scoreRatio, samples: [{ factor, pixelUm, mi, chance, score, stage }], skippedPixelUm,
                volume, map }. distinct: false when no pixel size places the map (another sample's map, the other face)
  Takes 5-11 times the CPU of one registration (the pose search at ~30 pixel sizes).`;

const SPEC = {
  usage: USAGE,
  options: {
    volume: { kind: 'path', must: 'exist', required: true, what: 'volume' },
    map: { kind: 'path', must: 'exist', what: 'EDS map' },
    eds: { kind: 'path', must: 'exist', what: 'EDS map' },
    'pixel-um': { kind: 'number', min: 0, exclusiveMin: true, unit: 'µm' },
    face: { kind: 'string', choices: ['top', 'bottom'] },
    range: { kind: 'string' },
    json: { kind: 'flag' },
  },
  positionals: { max: 1, name: 'legend CSV' },
} as const;

/** Checks every argument before any work. */
export function parseCheckScaleArgs(argv: string[]) {
  const { values: a, positionals } = parseCommandArgs(argv, SPEC);
  if (a.map !== undefined && a.eds !== undefined) throw invalidInput('Give the EDS map once: --map or --eds, not both.');
  const map = a.map ?? a.eds;
  if (map === undefined) throw invalidInput('--map is required (the EDS map whose pixel size to check). usage: petromap check-scale --volume <store> --map <map> [legend.csv] [--pixel-um <µm>]');
  return { ...a, map, range: parseScaleRange(a.range, '--range'), legend: positionals[0], face: a.face ?? 'top' };
}

/** The search's default factors of the given pixel size. */
export const DEFAULT_SCALE_RANGE: [number, number] = [0.5, 2];

/** A range of factors "<low>,<high>" (low in 0.1–1, high in 1–10), or the default when absent. */
export function parseScaleRange(text: string | undefined, flag: string): [number, number] {
  if (text === undefined) return [...DEFAULT_SCALE_RANGE];
  const m = /^\s*([\d.]+)\s*,\s*([\d.]+)\s*$/.exec(text);
  const lo = m ? Number(m[1]) : NaN, hi = m ? Number(m[2]) : NaN;
  if (!(lo > 0 && lo <= 1 && hi >= 1 && hi <= 10 && lo >= 0.1)) {
    throw invalidInput(`${flag} must be <low>,<high>: factors of the given pixel size with low in 0.1–1 and high in 1–10 (e.g. 0.5,2), not "${text}".`);
  }
  return [lo, hi];
}

const um = (x: number) => `${+x.toPrecision(3)} µm`;

/** The inputs as check-scale was given them, for the register command that uses what it found. */
export interface CheckScaleInputs { volume: string; map: string; legend?: string; pixelUm?: number; face?: string; range?: [number, number] }

/** The register command that registers at the pixel size check-scale finds, from the pose found there (the same search again). */
export function registerAtFoundCommand(i: CheckScaleInputs): string {
  return `petromap register --volume ${shellWord(i.volume)} --map ${shellWord(i.map)}${i.legend ? ` ${shellWord(i.legend)}` : ''}` +
    `${i.pixelUm !== undefined ? ` --pixel-um ${i.pixelUm}` : ''}${i.face === 'bottom' ? ' --face bottom' : ''} --find-pixel-size` +
    `${i.range && (i.range[0] !== DEFAULT_SCALE_RANGE[0] || i.range[1] !== DEFAULT_SCALE_RANGE[1]) ? ` --pixel-size-range ${i.range.join(',')}` : ''}`;
}

/** The line check-scale prints: the best pixel size beside the given one, and what to do. */
export function checkScaleSummary(r: Pick<ScaleSearchResult, 'pixelUm' | 'givenPixelUm' | 'factor' | 'plausible' | 'scoreRatio' | 'skipped' | 'distinct' | 'distinctRatio'>, range: [number, number],
  o: { registering?: boolean; inputs?: CheckScaleInputs } = {}): string {
  const pct = Math.round(100 * Math.abs(r.factor - 1));
  const head = `the map matches best at ${um(r.pixelUm)} per pixel (given ${um(r.givenPixelUm)})`;
  const edge = Math.abs(Math.log(r.factor / range[0])) < 0.03 || Math.abs(Math.log(r.factor / range[1])) < 0.03;
  const givenSkipped = r.skipped.some((k) => Math.abs(Math.log(k)) < 1e-9);
  const [kLo, kHi] = [Math.min(...r.skipped), Math.max(...r.skipped)];
  const sizes = kLo === kHi ? `The pixel size ${um(kLo * r.givenPixelUm)}${givenSkipped ? ' (the given one) was' : ' was'}` : `Pixel sizes ${um(kLo * r.givenPixelUm)}–${um(kHi * r.givenPixelUm)}${givenSkipped ? ' (the given one among them)' : ''} were`;
  const skipped = r.skipped.length ? ` ${sizes} not tried: the search there would need more memory than it may use.` : '';
  // the given size's own match, or that it was not tried
  const there = givenSkipped ? 'the given size was not tried' : `the match there scores ${(100 * r.scoreRatio).toFixed(0)} % of the best`;
  const registering = ` Registering at ${um(r.pixelUm)} per pixel, from the pose found there.`;
  const atEdge = edge ? ` The best lies at the edge of the sizes tried (${um(range[0] * r.givenPixelUm)}–${um(range[1] * r.givenPixelUm)}): the map may not show this sample, or its pixel size lies further off (--range).` : '';
  if (!r.distinct) {
    return `${head}, but no pixel size gives a distinct match (its best pose scores only ${r.distinctRatio.toFixed(2)} times the next different pose; a match scores ${DISTINCT_RATIO} or more): ` +
      `the map may not show this face of this sample (try --face bottom), or its pixel size lies outside ${um(range[0] * r.givenPixelUm)}–${um(range[1] * r.givenPixelUm)}. The pixel size cannot be told from this search; place the map with 3 landmark pairs.${skipped}`;
  }
  if (r.plausible) {
    return `${head}: the given pixel size is plausible (${pct} % off, within the ${Math.round(100 * PLAUSIBLE_FACTOR)} % the search tells apart); ${there}.${skipped}${o.registering ? registering : ''}`;
  }
  const then = o.registering
    ? registering
    : ` Check the EDS export's pixel size (a binned export, the calibration of another magnification); if ${um(r.pixelUm)} is right, register at it, starting from the pose found here` +
      (o.inputs ? ` (the same search, then the registration): ${registerAtFoundCommand(o.inputs)}` : ' (petromap register ... --find-pixel-size)') +
      ` (--pixel-um ${+r.pixelUm.toPrecision(4)} alone searches the pose again and can land far off on a small map).`;
  return `${head}: the given pixel size looks wrong (${pct} % off; ${there}).${then}${atEdge}${skipped}`;
}

/** The map whose pixel size is searched: a stored map carries its pixel size, and --pixel-um checks another one, applied after reading. */
export async function readMapToCheck(a: { map: string; legend?: string; 'pixel-um'?: number }): Promise<MineralMap> {
  if (isStoredMineralMap(a.map) && a['pixel-um'] !== undefined) {
    if (a.legend !== undefined) throw invalidInput(`${a.map} is a map imported with "petromap import-eds": it carries its own legend; leave the legend out.`);
    return { ...(await readEdsInput(a.map, undefined, undefined, { flag: '--map' })), pixelSizeUm: a['pixel-um'] };
  }
  return readEdsInput(a.map, a.legend, a['pixel-um'], { flag: '--map' });
}

export async function main(argv: string[]): Promise<void> {
  try {
    const a = parseCheckScaleArgs(argv);
    const map = await readMapToCheck(a);
    const quiet = a.json ? undefined : progressBar('import');
    const opened = await openVolumeInput(a.volume, { onProgress: quiet });
    const voxelSizeAssumed = (opened.store as SpacingSource).spacingAssumed === true;
    warnIfSpacingAssumed('check-scale', { path: a.volume, meta: opened.store.meta, spacingAssumed: voxelSizeAssumed }, 'the pixel size found rests on that voxel size');
    const onProgress = a.json ? undefined : progressBar('check-scale');
    const r = await searchMapScale(faceView(opened.store, a.face), map, { range: a.range, onProgress, voxelSizeAssumed })
      .catch((err: unknown) => { onProgress?.done(); throw cliVoxelSizeAdvice(err); })
      .finally(() => opened.close());
    onProgress?.done();
    if (a.json) {
      console.log(JSON.stringify({
        givenPixelUm: r.givenPixelUm, pixelUm: r.pixelUm, factor: r.factor, distinct: r.distinct, distinctRatio: r.distinctRatio, plausible: r.plausible, score: r.score, givenScore: r.givenScore, scoreRatio: r.scoreRatio,
        samples: r.samples.map((s) => ({ ...s, pixelUm: s.factor * r.givenPixelUm, mi: Number.isFinite(s.mi) ? s.mi : null, chance: Number.isFinite(s.chance) ? s.chance : null, score: Number.isFinite(s.score) ? s.score : null })),
        skippedPixelUm: r.skipped.map((k) => k * r.givenPixelUm), volume: a.volume, map: a.map,
      }, null, 2));
    } else console.log(checkScaleSummary(r, a.range, { inputs: { volume: a.volume, map: a.map, legend: a.legend, pixelUm: a['pixel-um'], face: a.face, range: a.range } }));
  } catch (err) {
    console.error(`petromap check-scale: ${isPetromapError(err) || err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  }
}
