/**
 * A throw-away workspace for the server tests: a temp folder with its SQLite database and the
 * services the routes and jobs take (as server/services.ts builds them, without the workspace lock
 * and the demo project); `cleanup` removes the folder. tempProject adds one project to it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDb } from '@/server/db';
import { Repo, type ProjectKind } from '@/server/db/repo';
import { JobRunner } from '@/server/jobs/runner';
import type { Services } from '@/server/services';
import { Workspace } from '@/server/storage/workspace';

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
