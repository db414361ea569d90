/**
 * A throw-away workspace for the server tests: a temp folder with its SQLite database and the
 * services the routes and jobs take (as server/services.ts builds them, without the workspace lock
 * and the demo project); `cleanup` removes the folder. tempProject adds one project to it;
 * addVolumeDataset and addEdsDataset put ready datasets in a project as an import leaves them.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDb } from '@/server/db';
import { newId, Repo, type DatasetFace, type DatasetRecord, type ProjectKind } from '@/server/db/repo';
import { JobRunner } from '@/server/jobs/runner';
import type { Services } from '@/server/services';
import { edsInfo } from '@/server/storage/datasets';
import { DATASET_MARKER } from '@/server/storage/sweep';
import { Workspace } from '@/server/storage/workspace';
import { saveMineralMap } from '@/lib/eds/store-node';
import type { MineralMap } from '@/lib/eds/types';
import type { DenseVolume, Shape3 } from '@/lib/volume/types';
import { writeDenseVolume } from '@/lib/volume/zarr-store-node';

export interface TempWorkspace {
  /** the workspace folder (PETROMAP_DATA) */
  root: string;
  ws: Workspace;
  repo: Repo;
  svc: Services;
  /** removes the folder */
  cleanup: () => void;
}

export interface TempWorkspaceOptions {
  /** start of the temp folder's name, to tell the tests' leftovers apart */
  prefix?: string;
  /** default 1 GiB */
  maxUploadBytes?: number;
}

export function tempWorkspace(opts: TempWorkspaceOptions = {}): TempWorkspace {
  const root = mkdtempSync(path.join(os.tmpdir(), opts.prefix ?? 'petromap-ws-'));
  const ws = new Workspace(root);
  const repo = new Repo(openDb(ws.dbFile));
  const svc: Services = { env: { dataDir: root, maxUploadBytes: opts.maxUploadBytes ?? 2 ** 30, demo: false }, ws, repo, jobs: new JobRunner(repo) };
  return { root, ws, repo, svc, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

export type TempProject = TempWorkspace & { projectId: string };

/** A temp workspace holding one empty project (mineralogy unless `kind` says otherwise). */
export function tempProject(name: string, opts: TempWorkspaceOptions & { kind?: ProjectKind } = {}): TempProject {
  const t = tempWorkspace(opts);
  return { ...t, projectId: t.repo.createProject(name, opts.kind ?? 'mineralogy').id };
}

/** A new dataset folder; `marked`: with petromap's marker, as every import since issue 12 writes it. */
function newDatasetDir(svc: Services, marked: boolean) {
  const id = newId('d');
  const dir = svc.ws.datasetDir(id);
  if (marked) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, DATASET_MARKER), '{}\n');
  }
  return { id, dir };
}

/** `volume` as a ready volume dataset of the project: an OME-Zarr store of `chunk` with its pyramid. */
export async function addVolumeDataset(svc: Services, projectId: string, volume: DenseVolume, opts: { name: string; chunk: Shape3; marked?: boolean }): Promise<DatasetRecord> {
  const { id, dir } = newDatasetDir(svc, opts.marked ?? false);
  const store = path.join(dir, 'volume.ome.zarr');
  const w = await writeDenseVolume(store, volume, { chunk: opts.chunk });
  return svc.repo.insertDataset({ id, projectId, name: opts.name, kind: 'volume', status: 'ready', relPath: svc.ws.rel(store), info: { meta: volume.meta, levels: w.levels } });
}

/** `map` as a ready EDS map dataset of the project (of `face`; none: the top, as a map imported before faces). */
export async function addEdsDataset(svc: Services, projectId: string, map: MineralMap, opts: { name: string; face?: DatasetFace | null; marked?: boolean }): Promise<DatasetRecord> {
  const { id, dir } = newDatasetDir(svc, opts.marked ?? false);
  const eds = path.join(dir, 'eds');
  await saveMineralMap(eds, map);
  return svc.repo.insertDataset({ id, projectId, name: opts.name, kind: 'eds', status: 'ready', relPath: svc.ws.rel(eds), info: edsInfo(map), face: opts.face });
}
