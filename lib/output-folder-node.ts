/**
 * Output folders petromap creates (a stored mineral map, a saved classifier) carry a marker file,
 * `.petromap`, so that replacing one never deletes a folder petromap did not write (issue 12: a
 * user's `--out` folder with their own files in it). Writers call `checkReplaceableFolder` before
 * writing and `writeFolderMarker` into the temp folder they then rename into place.
 */
import { lstat, readdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { PetromapError } from './errors';

export const FOLDER_MARKER = '.petromap';

/** What a folder holds, written into its marker (for humans; only the file's presence is checked). */
export async function writeFolderMarker(dir: string, kind: string): Promise<void> {
  await writeFile(join(/*turbopackIgnore: true*/ dir, FOLDER_MARKER), JSON.stringify({ writer: 'petromap', kind, version: 1 }) + '\n');
}

/**
 * Refuses (Conflict) to replace `dir` unless it does not exist, is an empty folder, carries the
 * petromap marker, or holds only files petromap itself writes there (`ownFile`, for folders saved
 * before the marker existed). Returns whether something is there to replace.
 */
export async function checkReplaceableFolder(dir: string, what: string, ownFile: (name: string) => boolean): Promise<boolean> {
  const st = await lstat(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw err;
  });
  if (!st) return false;
  const name = basename(dir);
  if (st.isSymbolicLink()) throw new PetromapError('Conflict', `${what}: ${name} is a link, not a folder petromap wrote; petromap will not replace it. Choose another output folder.`);
  if (!st.isDirectory()) throw new PetromapError('Conflict', `${what}: ${name} is an existing file, not a folder petromap wrote; petromap will not replace it. Choose another output folder.`);
  const entries = await readdir(dir);
  if (entries.length === 0 || entries.includes(FOLDER_MARKER) || entries.every(ownFile)) return entries.length > 0;
  throw new PetromapError(
    'Conflict',
    `${what}: the folder ${name} already holds files petromap did not write (${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}, e.g. ${(entries.find((e) => !ownFile(e)) ?? entries[0]).slice(0, 60)}); petromap will not replace it. Choose a new or empty output folder.`,
  );
}
