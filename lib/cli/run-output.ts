/**
 * The output folder of `petromap run`, checked before any work: a run never mixes its files with
 * those of an earlier run, never writes into a user's folder, and never writes into its inputs (a
 * volume store it references, the EDS map folder). A folder it starts carries the `.petromap`
 * marker (kind "run") and `run.json`, which records where the volume came from.
 */
import { lstat, mkdir, readdir } from 'node:fs/promises';
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

/**
 * Refuses (Conflict) an `--out` that exists and is not an empty folder, or that lies inside one of
 * the inputs. Reads only folder listings: answers in milliseconds, before the inputs are read.
 */
export async function checkRunOutFolder(out: string, inputs: { flag: string; path: string }[]): Promise<void> {
  checkOutsideInputs(out, inputs);
  const st = await lstat(out).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw err;
  });
  if (!st) return;
  if (st.isSymbolicLink()) throw new PetromapError('Conflict', `--out ${out} is a link; give a new or empty folder.`);
  if (!st.isDirectory()) throw new PetromapError('Conflict', `--out ${out} is an existing file; give a new or empty folder.`);
  const entries = await readdir(out);
  if (!entries.length) return;
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

export interface RunRecord {
  /** the volume store the run read: `referenced` = the user's store, read only; else imported into <out>/volume.ome.zarr */
  volume: { store: string; referenced: boolean; importedFrom?: string };
  eds: string;
  startedAt: string;
  finishedAt?: string;
  args: string[];
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
