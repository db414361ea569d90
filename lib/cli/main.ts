/**
 * `petromap <command> [...]`: dispatches to one module per command, each a thin adapter over lib/.
 * Errors print one line `petromap <command>: <message>` and exit with code 1.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isPetromapError } from '../errors';

type Main = (argv: string[]) => Promise<number | void>;

const COMMANDS: Record<string, { about: string; load: () => Promise<{ main: Main }> }> = {
  synth: { about: 'write a synthetic sandstone sample with ground truth', load: () => import('./synth') },
  import: { about: 'import an XRM volume (TIFF, NRRD, MHA/MHD, NIfTI, Zeiss TXM, raw) into a chunked OME-Zarr store', load: () => import('./import') },
  'import-eds': { about: 'import an EDS mineral map (colour map + legend, label image, TESCAN TIMA export)', load: () => import('./import-eds') },
  info: { about: 'describe a volume file or store, a model folder or an EDS map folder', load: () => import('./info') },
  register: { about: 'register an EDS map onto the sample surface inside a volume', load: () => import('./register') },
  'check-scale': { about: 'find the EDS pixel size at which the map matches the scan best (a wrong one misplaces the registration)', load: () => import('./check-scale') },
  train: { about: 'train a classifier on registered EDS labels or on a label volume (--labels)', load: () => import('./train') },
  predict: { about: 'classify a whole volume with a trained model (resumable)', load: () => import('./predict') },
  run: { about: 'the whole chain: import, register, train, predict, report', load: () => import('./run') },
  worker: { about: 'take prediction bricks from Redis (PETROMAP_REDIS_URL) on this machine', load: () => import('./worker') },
  workers: { about: 'list the workers connected to Redis (PETROMAP_REDIS_URL)', load: () => import('./workers') },
  upscale: { about: 'register high-resolution interior scans, measure porosity per lithology class, write the composite model', load: () => import('./upscale') },
};

export function usage(): string {
  const w = Math.max(...Object.keys(COMMANDS).map((k) => k.length));
  return [
    'petromap: 3D mineral maps from XRM volumes and EDS maps',
    '',
    'usage: petromap <command> [options]   (petromap <command> --help for its options and its JSON output)',
    '',
    ...Object.entries(COMMANDS).map(([k, c]) => `  ${k.padEnd(w)}  ${c.about}`),
    '',
    'Getting started: a synthetic sample, then the whole chain on it (synth prints the run line for its files):',
    '  petromap synth demo',
    '  petromap run --volume demo/volume.nrrd --eds demo/eds-map.png --legend demo/eds-legend.csv --pixel-um 2.5 --out demo-run',
    'With your own data: the same run with your scan and EDS map (a TESCAN TIMA export folder brings its legend and',
    'pixel size; a map image needs --legend and --pixel-um), or step by step: import, import-eds, register, train, predict.',
  ].join('\n');
}

/** The text `petromap <cmd> --help` prints: the module's USAGE (every command exports one). */
export async function commandUsage(cmd: string): Promise<string | undefined> {
  const c = COMMANDS[cmd];
  if (!c) return undefined;
  const u = ((await c.load()) as { USAGE?: string }).USAGE;
  return u ?? `usage: petromap ${cmd} [options]\n  ${c.about}`;
}

export const commandNames = (): string[] => Object.keys(COMMANDS);

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    const u = cmd === 'help' && rest[0] ? await commandUsage(rest[0]) : undefined;
    console.log(u ?? usage());
    return cmd ? 0 : 1;
  }
  const c = COMMANDS[cmd];
  if (!c) {
    console.error(`petromap: unknown command "${cmd}".\n\n${usage()}`);
    return 1;
  }
  try {
    // --help anywhere (before any option is checked): the command's usage, exit 0
    if (rest.includes('--help') || rest.includes('-h')) {
      console.log(await commandUsage(cmd));
      return 0;
    }
    const mod = await c.load();
    const code = await mod.main(rest);
    return typeof code === 'number' ? code : typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    const msg = isPetromapError(err) ? err.message : err instanceof Error ? err.message : String(err);
    console.error(`petromap ${cmd}: ${msg.split('\n')[0]}`);
    if (!isPetromapError(err) && process.env.PETROMAP_DEBUG) console.error(err);
    return 1;
  }
}

// started as a script (npx tsx lib/cli/main.ts <command> ...) it runs like bin/petromap.mjs; before, it
// printed nothing and exited 0. Imported (by the bin, the tests) nothing runs.
if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = await main(process.argv.slice(2));
}
