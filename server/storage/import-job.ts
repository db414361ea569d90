/**
 * Imports run as jobs (issue 12): the upload route only streams the body to tmp/upload-* and
 * starts an 'import' job. The job runs on the runner's 'compute' queue (one heavy job at a time)
 * and does the file work in a worker thread (server/jobs/tasks.ts `importDataset`) with a heap
 * limit, so a hostile file can neither take the web server's memory nor its event loop. Only when
 * the files are in place is the dataset row written; a failed job leaves no row, no dataset
 * folder, no unpacked zip and no upload file, and its error is one line naming the file.
 *
 * An EDS zip holding a TIMA project with several datasets (issue 16) imports nothing: the job ends
 * with `{ pick: { upload, datasets } }`, keeping the upload as tmp/pick-…, and the user's choice
 * (datasets.importTimaDataset) starts a second import job on that file with `dataset` set. A kept
 * upload nobody picks from goes with the start-up sweep of tmp/ or datasets.discardTimaUpload.
 */
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { PetromapError, isPetromapError, notFound } from '@/lib/errors';
import { safeMessage } from '@/lib/limits';
import { newId, type JobRecord, type Repo } from '../db/repo';
import type { JobRunner } from '../jobs/runner';
import { runTask } from '../jobs/run-task';
import type { TimaChoice } from './datasets';
import type { Workspace } from './workspace';

/** Heap of the import worker. Decoded pixels live in ArrayBuffers, which V8 does not count here: lib/limits' decode budgets bound those. */
export const IMPORT_HEAP_MB = 1024;

export interface ImportJobArgs {
  projectId: string;
  kind: 'volume' | 'eds';
  /** the user's file name */
  name: string;
  /** the uploaded file under the workspace's tmp/; the job owns it and removes it */
  file: string;
  spacingUm?: [number, number, number];
  pixelSizeUm?: number;
  /** TIMA project zips: the dataset to import (id or sample name) */
  dataset?: string;
  /** EDS maps: the polished face it shows (issue 15 §1); unset = top */
  face?: 'top' | 'bottom';
}

/** The result of an import job that waits for the user's choice of a TIMA dataset. */
export interface TimaPickResult {
  pick: {
    /** the kept upload's file name under tmp/ */
    upload: string;
    datasets: TimaChoice[];
  };
}

/** Kept uploads awaiting a choice: Workspace.tmpPath('pick') + '.zip'. */
export const PICK_UPLOAD = /^pick-[0-9a-z]{6,12}-[0-9a-f]{8}\.zip$/;

/** The job's error: one line, no paths of the machine, naming the file. */
export function importFailure(err: unknown, name: string): PetromapError {
  if (isPetromapError(err, 'Aborted')) return err;
  const raw = err instanceof Error ? err.message : String(err);
  if (isPetromapError(err) && /ran out of the memory it is allowed/.test(raw)) {
    return new PetromapError('Unprocessable', `${name} needed more memory to import than an import may use (${IMPORT_HEAP_MB} MB); the file is damaged or too large to import in one piece, nothing was stored.`);
  }
  let msg = safeMessage(raw, 420);
  if (!msg.includes(name)) msg = `${name}: ${msg}`;
  if (isPetromapError(err)) return new PetromapError(err._tag, msg);
  console.error(`petromap: importing ${name} failed:`, err);
  return new PetromapError('Unprocessable', `Importing ${msg.startsWith(`${name}: `) ? msg : `${name} failed: ${msg}`}`);
}

export function startImportJob(svc: { repo: Repo; ws: Workspace; jobs: JobRunner }, a: ImportJobArgs): JobRecord {
  const { repo, ws, jobs } = svc;
  return jobs.start('import', a.projectId, { kind: a.kind, name: a.name, ...(a.dataset ? { dataset: a.dataset } : {}), ...(a.face === 'bottom' ? { face: a.face } : {}) }, async ({ signal, onProgress }) => {
    const id = newId('d');
    const datasetDir = ws.datasetDir(id);
    const unpackDir = ws.tmpPath('unzip');
    try {
      onProgress(0, `importing ${a.name}`);
      const r = await runTask(
        'importDataset',
        { kind: a.kind, name: a.name, file: a.file, datasetDir, unpackDir, spacingUm: a.spacingUm, pixelSizeUm: a.pixelSizeUm, dataset: a.dataset },
        { signal, onProgress, resourceLimits: { maxOldGenerationSizeMb: IMPORT_HEAP_MB } },
      );
      if (!repo.project(a.projectId)) throw notFound(`The project was deleted while ${a.name} was importing; nothing was stored.`);
      if (r.pick) {
        // keep the upload for the user's choice (the finally below removes a.file, now gone)
        const kept = ws.tmpPath('pick') + '.zip';
        await rename(a.file, kept);
        onProgress(1, `${a.name} holds ${r.pick.length} TIMA datasets: choose one`);
        return { pick: { upload: path.basename(kept), datasets: r.pick } } satisfies TimaPickResult;
      }
      const d = repo.insertDataset({ id, projectId: a.projectId, name: r.displayName ?? a.name, kind: a.kind, status: 'ready', relPath: ws.rel(path.join(/*turbopackIgnore: true*/ datasetDir, r.inner)), info: r.info, face: a.kind === 'eds' && a.face === 'bottom' ? 'bottom' : null });
      onProgress(1, `imported ${a.name}`);
      return { datasetId: d.id };
    } catch (err) {
      // the worker cleans up after itself, but not when it was killed (heap limit, terminate)
      await rm(datasetDir, { recursive: true, force: true });
      throw importFailure(err, a.name);
    } finally {
      await rm(unpackDir, { recursive: true, force: true });
      await rm(a.file, { force: true });
    }
  });
}
