/**
 * The output folder of `petromap run`, checked before any work: a run never mixes its files with
 * those of an earlier run, never writes into a user's folder, and never writes into its inputs (a
 * volume store it references, the EDS map folder). A folder it starts carries the `.petromap`
 * marker (kind "run") and `run.json`, which records where the volume came from.
 */
import { lstat, mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join, relative, resolve, isAbsolute } from 'node:path';
import { PetromapError } from '../errors';
import { FOLDER_MARKER, writeFolderMarker } from '../output-folder-node';

/** Files an earlier `petromap run` leaves in its folder (any of them means "used"). */
const RUN_FILES = ['run.json', 'report.json', 'registration.json', 'model', 'prediction', 'volume.ome.zarr'];

const inside = (child: string, parent: string) => {
  const r = relative(resolve(parent), resolve(child));
  return r === '' || (!r.startsWith('..') && !isAbsolute(r));
};

/** Refuses (Conflict) an `--out` that is, or lies inside, one of the inputs (a store, a model or map folder). */
export function checkOutsideInputs(out: string, inputs: { flag: string; path: string }[]): void {
  for (const i of inputs) {
    if (inside(out, i.path)) {
      throw new PetromapError('Conflict', `--out ${out} lies inside the input ${i.path} (${i.flag}); petromap never writes into its inputs. Choose an output folder elsewhere.`);
    }
  }
}

/** What a run stopped at the registration leaves (lib/cli/run.ts): reused by the next run on the same --out. */
const STOPPED_RUN_FILES = /^(run\.json|registration(-\d+)?\.json|volume\.ome\.zarr)$/;

/** A folder that holds only a run stopped before training on a doubtful registration: its run.json, or undefined. */
async function stoppedRun(out: string, entries: string[]): Promise<RunRecord | undefined> {
  if (!entries.includes(FOLDER_MARKER) || !entries.includes('run.json')) return undefined;
  if (!entries.every((e) => e === FOLDER_MARKER || STOPPED_RUN_FILES.test(e))) return undefined;
  const rec = await readFile(join(out, 'run.json'), 'utf8').then((t) => JSON.parse(t) as RunRecord, () => undefined);
  return rec?.stoppedAt === 'registration' && !rec.finishedAt ? rec : undefined;
}

/**
 * Refuses (Conflict) an `--out` that exists and is not an empty folder, or that lies inside one of
 * the inputs. Reads only folder listings (and a stopped run's run.json): answers in milliseconds,
 * before the inputs are read. A folder holding only a run that stopped before training on a doubtful
 * registration ("run again with --accept-registration") is not refused: its record is returned and
 * the run reuses the folder (reuseStoppedRun).
 */
export async function checkRunOutFolder(out: string, inputs: { flag: string; path: string }[]): Promise<RunRecord | undefined> {
  checkOutsideInputs(out, inputs);
  const st = await lstat(out).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw err;
  });
  if (!st) return undefined;
  if (st.isSymbolicLink()) throw new PetromapError('Conflict', `--out ${out} is a link; give a new or empty folder.`);
  if (!st.isDirectory()) throw new PetromapError('Conflict', `--out ${out} is an existing file; give a new or empty folder.`);
  const entries = await readdir(out);
  if (!entries.length) return undefined;
  const stopped = await stoppedRun(out, entries);
  if (stopped) return stopped;
  const earlier = entries.filter((e) => RUN_FILES.includes(e));
  if (earlier.length) {
    const finished = entries.includes('report.json');
    const reuse = entries.includes('volume.ome.zarr') ? ` (its imported volume can be reused: --volume ${join(out, 'volume.ome.zarr')})` : '';
    throw new PetromapError(
      'Conflict',
      `--out ${out} already holds ${finished ? 'the results of an earlier run' : 'an earlier run that did not finish'} (${earlier.slice(0, 4).join(', ')}); ` +
        `nothing was done. Choose a new --out folder, or delete that one first${reuse}.`,
    );
  }
  if (entries.includes(FOLDER_MARKER)) {
    throw new PetromapError('Conflict', `--out ${out} is a folder petromap wrote for something else (a stored map or model: ${entries.filter((e) => e !== FOLDER_MARKER).slice(0, 3).join(', ')}); give a new or empty folder.`);
  }
  throw new PetromapError('Conflict', `--out ${out} already holds other files (${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}, e.g. ${entries[0]!.slice(0, 60)}); petromap writes a run only into a new or empty folder.`);
}

/**
 * Clear a folder that held only a run stopped at its registration for the new run: its registration
 * files go (the new run writes its own); its imported volume stays when it was imported from the
 * same file (`volumeFrom`, resolved) and the new run imports again, else it goes too. Returns
 * whether the imported volume is kept.
 */
export async function reuseStoppedRun(out: string, stopped: RunRecord, volumeFrom: string | undefined): Promise<boolean> {
  const entries = await readdir(out);
  for (const e of entries) if (/^registration(-\d+)?\.json$/.test(e)) await rm(join(out, e), { force: true });
  const keep = !!volumeFrom && !stopped.volume.referenced && stopped.volume.importedFrom === volumeFrom && entries.includes('volume.ome.zarr');
  if (!keep && entries.includes('volume.ome.zarr')) await rm(join(out, 'volume.ome.zarr'), { recursive: true, force: true });
  return keep;
}

export interface RunRecord {
  /** the volume store the run read: `referenced` = the user's store, read only; else imported into <out>/volume.ome.zarr */
  volume: { store: string; referenced: boolean; importedFrom?: string };
  eds: string;
  startedAt: string;
  finishedAt?: string;
  args: string[];
  /** the run stopped before training on a registration nothing confirms: the next run on this --out reuses the folder */
  stoppedAt?: 'registration';
  exports?: { format: string; path: string; bytes: number }[];
}

/** Create the run folder (marker first, so a failed run is recognised as one) and write run.json. */
export async function startRunFolder(out: string, record: RunRecord): Promise<void> {
  await mkdir(out, { recursive: true });
  await writeFolderMarker(out, 'run');
  await writeRunRecord(out, record);
}

export async function writeRunRecord(out: string, record: RunRecord): Promise<void> {
  const { writeTextAtomic } = await import('../report/export-node'); // loaded once the checks have passed
  await writeTextAtomic(join(out, 'run.json'), JSON.stringify(record, null, 2) + '\n');
}
