/**
 * `petromap register --volume <dir|file> --map <map.png> <legend.csv> --pixel-um <µm>
 *   [--landmarks pairs.json] [--companion BSE] [--model similarity|affine] [--out registration.json]`
 * Registers an EDS mineral map onto the polished surface inside an XRM volume and writes the
 * transform (edsToVoxel, edsToSlab, surface plane) and quality figures as JSON.
 * A thin adapter over lib/registration: on failure it prints the message and sets exit code 1.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { isPetromapError, invalidInput } from '../errors';
import { progressBar } from './progress';
import { registerEdsToVolume } from '../registration/register-eds';
import { openVolumeInput, readMineralMapInput } from '../registration/read-inputs-node';
import type { LandmarkPair } from '../registration/types';

const USAGE =
  'usage: petromap register --volume <store.ome.zarr|file|folder> --map <map.png|TIMA folder> [legend.csv] [--pixel-um <µm>] ' +
  '[--landmarks pairs.json] [--companion BSE] [--model similarity|affine] [--out registration.json]';

interface Args {
  volume?: string;
  map: string[];
  pixelUm?: number;
  landmarks?: string;
  companion?: string;
  model?: 'similarity' | 'affine';
  out: string;
}

export function parseRegisterArgs(argv: string[]): Args {
  const a: Args = { map: [], out: 'registration.json' };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw invalidInput(`${flag} needs a value. ${USAGE}`);
      return v;
    };
    if (flag === '--volume') a.volume = value();
    else if (flag === '--map') while (argv[i + 1] !== undefined && !argv[i + 1].startsWith('--')) a.map.push(argv[++i]);
    else if (flag === '--pixel-um') a.pixelUm = Number(value());
    else if (flag === '--landmarks') a.landmarks = value();
    else if (flag === '--companion') a.companion = value();
    else if (flag === '--out') a.out = value();
    else if (flag === '--model') {
      const m = value();
      if (m !== 'similarity' && m !== 'affine') throw invalidInput(`--model must be similarity or affine, not ${m}.`);
      a.model = m;
    } else throw invalidInput(`Unknown option ${flag}. ${USAGE}`);
  }
  if (!a.volume) throw invalidInput(`--volume is required. ${USAGE}`);
  if (a.map.length !== 2) throw invalidInput(`--map needs the map PNG and its legend CSV. ${USAGE}`);
  return a;
}

async function readLandmarks(path: string): Promise<LandmarkPair[]> {
  const json = JSON.parse(await readFile(path, 'utf8')) as unknown;
  const list = Array.isArray(json) ? json : (json as { landmarks?: unknown }).landmarks;
  if (!Array.isArray(list)) throw invalidInput(`Landmarks ${path}: expected a JSON array of { eds: [u, v], slab: [u, v] | voxel: [z, y, x] }.`);
  return list as LandmarkPair[];
}

export async function main(argv: string[]): Promise<void> {
  try {
    const a = parseRegisterArgs(argv);
    if (!a.volume) throw invalidInput(`--volume is required. ${USAGE}`);
    if (!a.map.length) throw invalidInput(`--map is required. ${USAGE}`);
    const map = await readMineralMapInput(a.map[0], a.map[1], a.pixelUm);
    const opened = await openVolumeInput(a.volume, { onProgress: progressBar('import') });
    const volume = opened.store;
    const landmarks = a.landmarks ? await readLandmarks(a.landmarks) : undefined;
    const onProgress = progressBar('register');
    const r = await registerEdsToVolume(volume, map, { landmarks, companion: a.companion, model: a.model, onProgress }).finally(() => opened.close());
    onProgress.done();
    const { slab: _slab, ...registration } = r;
    const out = { ...registration, surface: { ...r.surface, heightMap: undefined }, volume: a.volume, map: a.map[0] };
    const tmp = `${a.out}.tmp-${process.pid}`;
    await writeFile(tmp, JSON.stringify(out, null, 2) + '\n');
    await rename(tmp, a.out);
    console.log(`registered ${a.map[0]} onto ${a.volume}: coverage ${(100 * r.quality.coverage).toFixed(0)} %, ` +
      `MI ${r.quality.miBefore.toFixed(3)} -> ${r.quality.miAfter.toFixed(3)}; written ${a.out}`);
  } catch (err) {
    console.error(`petromap register: ${isPetromapError(err) || err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  }
}
