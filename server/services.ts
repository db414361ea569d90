/**
 * One set of server services per process (database, workspace, job runner), kept on globalThis
 * so Next's dev reloads do not open a second database connection.
 */
import { openDb } from './db';
import { acquireWorkspaceLock } from './db/lock';
import { Repo } from './db/repo';
import { serverEnv, type ServerEnv } from './env';
import { JobRunner } from './jobs/runner';
import { Workspace } from './storage/workspace';
import { sweepWorkspace } from './storage/sweep';

export interface Services {
  env: ServerEnv;
  ws: Workspace;
  repo: Repo;
  jobs: JobRunner;
}

const g = globalThis as unknown as { __petromap?: Services };

export function services(): Services {
  if (g.__petromap) return g.__petromap;
  const env = serverEnv();
  const ws = new Workspace(env.dataDir);
  // one server per workspace: a second one refuses here, before it touches jobs or files (db/lock.ts)
  acquireWorkspaceLock(ws.root);
  const repo = new Repo(openDb(ws.dbFile));
  const stale = repo.interruptStaleJobs();
  if (stale) console.warn(`petromap: ${stale} job(s) were interrupted by the last shutdown`);
  // leftovers of a killed run (tmp/upload-*, *.partial-*, dataset folders with no row): listed
  // now, before any job can start, and removed in the background
  void sweepWorkspace(ws.root, { hasDataset: (id) => !!repo.dataset(id) }).then((removed) => {
    if (removed.length) console.warn(`petromap: removed ${removed.length} leftover(s) of an interrupted run (${removed.slice(0, 5).join(', ')}${removed.length > 5 ? ', …' : ''})`);
  });
  const jobs = new JobRunner(repo);
  g.__petromap = { env, ws, repo, jobs };
  // a volume switch that stopped half way (the last run was killed during it) is finished now, each
  // under its project's lock (loaded here only: the switch's module sits above this one)
  const svc = g.__petromap;
  void import('./pipeline/switch-volume').then((m) => m.finishPendingSwitches(svc)).then((n) => {
    if (n) console.warn(`petromap: finished ${n} volume switch(es) that the last run left half way`);
  }).catch((err) => console.error('petromap: finishing unfinished volume switches:', err));
  return g.__petromap;
}
