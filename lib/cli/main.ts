/**
 * `petromap <command> [...]`: dispatches to one module per command, each a thin adapter over lib/.
 * Errors print one line `petromap <command>: <message>` and exit with code 1.
 */
import { isPetromapError } from '../errors';

type Main = (argv: string[]) => Promise<number | void>;

const COMMANDS: Record<string, { about: string; load: () => Promise<{ main: Main }> }> = {
  synth: { about: 'write a synthetic sandstone sample with ground truth', load: () => import('./synth') },
  import: { about: 'import an XRM volume (TIFF, NRRD, MHA/MHD, NIfTI, Zeiss TXM, raw) into a chunked OME-Zarr store', load: () => import('./import') },
  'import-eds': { about: 'import an EDS mineral map (colour map + legend, label image, TESCAN TIMA export)', load: () => import('./import-eds') },
  info: { about: 'describe a volume file or store', load: () => import('./info') },
  register: { about: 'register an EDS map onto the sample surface inside a volume', load: () => import('./register') },
  train: { about: 'train a classifier on registered EDS labels or on a label volume (--labels)', load: () => import('./train') },
  predict: { about: 'classify a whole volume with a trained model (resumable)', load: () => import('./predict') },
  run: { about: 'the whole chain: import, register, train, predict, report', load: () => import('./run') },
  worker: { about: 'take prediction bricks from Redis (PETROMAP_REDIS_URL) on this machine', load: () => import('./worker') },
  workers: { about: 'list the workers connected to Redis (PETROMAP_REDIS_URL)', load: () => import('./workers') },
};

export function usage(): string {
  const w = Math.max(...Object.keys(COMMANDS).map((k) => k.length));
  return [
    'petromap: 3D mineral maps from XRM volumes and EDS maps',
    '',
    'usage: petromap <command> [options]   (petromap <command> --help for its options)',
    '',
    ...Object.entries(COMMANDS).map(([k, c]) => `  ${k.padEnd(w)}  ${c.about}`),
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    console.log(usage());
    return cmd ? 0 : 1;
  }
  const c = COMMANDS[cmd];
  if (!c) {
    console.error(`petromap: unknown command "${cmd}".\n\n${usage()}`);
    return 1;
  }
  try {
    const mod = await c.load();
    if (rest.includes('--help') || rest.includes('-h')) {
      const u = (mod as { USAGE?: string }).USAGE;
      if (u) {
        console.log(u);
        return 0;
      }
    }
    const code = await mod.main(rest);
    return typeof code === 'number' ? code : typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    const msg = isPetromapError(err) ? err.message : err instanceof Error ? err.message : String(err);
    console.error(`petromap ${cmd}: ${msg.split('\n')[0]}`);
    if (!isPetromapError(err) && process.env.PETROMAP_DEBUG) console.error(err);
    return 1;
  }
}
