/**
 * Start-up sweep of what a killed server left behind (issue 12): upload and unzip temp files under
 * tmp/, `*.partial-*` / `*.old-*` / `.*.tmp-*` leftovers of the atomic writers inside dataset and
 * project folders (the lithology map's `.tmp-<job>` / `.old-<job>` folders among them), and dataset
 * folders that have no database row (an import killed before its row was written).
 *
 * Only what petromap wrote is touched: names built by petromap (Workspace.tmpPath, newId, the
 * importers' temp suffixes), and a dataset folder only when it carries petromap's marker file or
 * holds nothing but what petromap writes there. Anything else in the workspace (a user's own
 * folder, a file of another program) stays.
 *
 * The listing is synchronous and happens before the first await, so calling this at start-up,
 * before any job runs, can never race an import that starts afterwards.
 */
import { readdirSync, type Dirent } from 'node:fs';
import { rm, rmdir } from 'node:fs/promises';
import path from 'node:path';

/** Marker file petromap writes first into every dataset folder it creates. */
export const DATASET_MARKER = '.petromap-dataset';

/** Workspace.tmpPath(stem): `<stem>-<base36 time>-<8 hex>` plus the upload's extension. */
const TMP_NAME = /^[a-z][a-z0-9-]{0,40}-[0-9a-z]{6,12}-[0-9a-f]{8}(\.[a-z0-9.]{1,12})?$/i;
const DATASET_ID = /^d[0-9a-f]{10}$/;
const PROJECT_ID = /^p[0-9a-f]{10}$/;
/** temp names of petromap's atomic writers (import-node, store-node, annotate, model-io, writeFileAtomic) */
const LEFTOVER = /\.(partial|old|tmp)-[A-Za-z0-9-]{1,64}$/;
/** what petromap itself puts in a dataset folder */
const DATASET_CONTENT = /^(\.petromap-dataset|volume\.ome\.zarr|eds|(volume\.ome\.zarr|eds)\.(partial|old)-[A-Za-z0-9-]{1,64}|\.eds\.tmp-[A-Za-z0-9-]{1,64})$/;

export interface SweepOptions {
  /** does the database have a dataset row with this id */
  hasDataset(id: string): boolean;
}

function list(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

/** What the sweep would remove (absolute paths). Synchronous. */
export function planSweep(root: string, opts: SweepOptions): string[] {
  const out: string[] = [];
  const tmp = path.join(/*turbopackIgnore: true*/ root, 'tmp');
  for (const e of list(tmp)) if (TMP_NAME.test(e.name)) out.push(path.join(/*turbopackIgnore: true*/ tmp, e.name));

  const datasets = path.join(/*turbopackIgnore: true*/ root, 'datasets');
  for (const e of list(datasets)) {
    const dir = path.join(/*turbopackIgnore: true*/ datasets, e.name);
    if (!e.isDirectory() || !DATASET_ID.test(e.name)) continue;
    const inside = list(dir);
    if (!opts.hasDataset(e.name)) {
      const marked = inside.some((f) => f.name === DATASET_MARKER && f.isFile());
      if (marked || inside.every((f) => DATASET_CONTENT.test(f.name))) out.push(dir);
      continue;
    }
    for (const f of inside) if (LEFTOVER.test(f.name)) out.push(path.join(/*turbopackIgnore: true*/ dir, f.name));
  }

  const projects = path.join(/*turbopackIgnore: true*/ root, 'projects');
  for (const e of list(projects)) {
    if (!e.isDirectory() || !PROJECT_ID.test(e.name)) continue;
    const dir = path.join(/*turbopackIgnore: true*/ projects, e.name);
    for (const f of list(dir)) {
      const p = path.join(/*turbopackIgnore: true*/ dir, f.name);
      if (LEFTOVER.test(f.name)) out.push(p);
      else if (f.isDirectory() && !/\.zarr$/.test(f.name)) {
        for (const g of list(p)) if (LEFTOVER.test(g.name)) out.push(path.join(/*turbopackIgnore: true*/ p, g.name));
      }
    }
  }
  return out;
}

/** Removes the leftovers; returns the workspace-relative paths removed. */
export async function sweepWorkspace(root: string, opts: SweepOptions): Promise<string[]> {
  const plan = planSweep(root, opts);
  const removed: string[] = [];
  for (const p of plan) {
    try {
      await rm(p, { recursive: true, force: true });
      removed.push(path.relative(root, p));
    } catch (err) {
      console.warn(`petromap: could not remove the leftover ${path.relative(root, p)}: ${(err as Error).message}`);
    }
  }
  return removed;
}

/** Is `id` a dataset id petromap makes (Repo newId('d')): the only names of dataset folders it removes. */
export const isDatasetId = (id: string) => DATASET_ID.test(id);
/** Is `id` a project id petromap makes (Repo newId('p')): the only names of project folders it removes. */
export const isProjectId = (id: string) => PROJECT_ID.test(id);

/**
 * Remove the folder of dataset `id` under `root`/datasets by removeDatasetFolder's rule. An id that
 * is not one petromap makes (a row edited in SQLite, e.g. `../../thesis`) names no folder of
 * petromap's: nothing is removed, false returned. The id is checked, not the path built from it.
 */
export async function removeDatasetFolderOf(root: string, id: string): Promise<boolean> {
  if (!isDatasetId(id)) return false;
  return removeDatasetFolder(path.join(/*turbopackIgnore: true*/ root, 'datasets', id));
}

/**
 * Remove a deleted project's folder `root`/projects/<id> (everything in it is petromap's: its steps'
 * records, models, predictions). An id that is not one petromap makes removes nothing (false).
 */
export async function removeProjectFolder(root: string, id: string): Promise<boolean> {
  if (!isProjectId(id)) return false;
  await rm(path.join(/*turbopackIgnore: true*/ root, 'projects', id), { recursive: true, force: true });
  return true;
}

/**
 * Remove a deleted dataset's folder, by the sweep's rule: whole when it carries petromap's marker
 * (petromap made it); else (a folder imported before the marker) only what petromap writes there
 * (the stored volume or map, the importers' temp names), so anything else someone put in it stays,
 * with the folder. Returns whether the folder is gone. A missing folder is gone.
 */
export async function removeDatasetFolder(dir: string): Promise<boolean> {
  if (!DATASET_ID.test(path.basename(dir))) return false;
  const inside = list(dir);
  const marked = inside.some((f) => f.name === DATASET_MARKER && f.isFile());
  for (const f of inside) {
    if (marked || DATASET_CONTENT.test(f.name) || LEFTOVER.test(f.name)) await rm(path.join(/*turbopackIgnore: true*/ dir, f.name), { recursive: true, force: true });
  }
  try {
    await rmdir(dir);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT';
  }
}
