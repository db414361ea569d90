/**
 * One set of server services per process (database, workspace, job runner), kept on globalThis
 * so Next's dev reloads do not open a second database connection.
 */
import { openDb } from './db';
import { Repo } from './db/repo';
import { serverEnv, type ServerEnv } from './env';
import { JobRunner } from './jobs/runner';
import { Workspace } from './storage/workspace';

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
  const repo = new Repo(openDb(ws.dbFile));
  const stale = repo.interruptStaleJobs();
  if (stale) console.warn(`petromap: ${stale} job(s) were interrupted by the last shutdown`);
  const jobs = new JobRunner(repo);
  g.__petromap = { env, ws, repo, jobs };
  return g.__petromap;
}
