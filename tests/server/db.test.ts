import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDb } from '@/server/db';
import { MIGRATIONS } from '@/server/db/migrations';
import { Repo } from '@/server/db/repo';
import { JobRunner } from '@/server/jobs/runner';
import { PetromapError, throwIfAborted } from '@/lib/errors';

const dirs: string[] = [];
function tmpDb() {
  const d = mkdtempSync(path.join(os.tmpdir(), 'petromap-db-'));
  dirs.push(d);
  return path.join(d, 'petromap.db');
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('SQLite store', () => {
  it('applies migrations once and keeps data across reopen', () => {
    const file = tmpDb();
    const db = openDb(file);
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    const repo = new Repo(db);
    const p = repo.createProject('Berea core 3', 'mineralogy');
    db.close();
    const repo2 = new Repo(openDb(file));
    expect(repo2.project(p.id)?.name).toBe('Berea core 3');
    expect(repo2.listProjects()[0].datasetCount).toBe(0);
  });

  it('marks jobs left running by a stopped server as interrupted, never loses them', () => {
    const file = tmpDb();
    const repo = new Repo(openDb(file));
    const p = repo.createProject('x', 'lithology');
    repo.insertJob({ id: 'j1', projectId: p.id, kind: 'predict', params: {} });
    repo.updateJob('j1', { state: 'running', progress: 0.4, started: true });
    repo.db.close();
    const again = new Repo(openDb(file));
    expect(again.interruptStaleJobs()).toBe(1);
    const j = again.job('j1')!;
    expect(j.state).toBe('interrupted');
    expect(j.progress).toBeCloseTo(0.4);
    expect(j.error).toMatch(/server stopped/);
  });

  it('deleting a project deletes its datasets, jobs and artifacts', () => {
    const repo = new Repo(openDb(tmpDb()));
    const p = repo.createProject('x', 'mineralogy');
    repo.insertDataset({ id: 'd1', projectId: p.id, name: 'v.nrrd', kind: 'volume', status: 'ready', relPath: 'datasets/d1', info: null });
    repo.setArtifact(p.id, 'inputs', { volumeId: 'd1' });
    repo.deleteProject(p.id);
    expect(repo.dataset('d1')).toBeUndefined();
    expect(repo.artifact(p.id, 'inputs')).toBeUndefined();
  });
});

describe('job runner', () => {
  it('runs jobs in order with progress, result and a readable failure', async () => {
    const repo = new Repo(openDb(tmpDb()));
    const runner = new JobRunner(repo);
    const seen: number[] = [];
    runner.events.on('job', (e) => e.state === 'running' && seen.push(e.progress));
    const a = runner.start('a', null, {}, async ({ onProgress }) => {
      onProgress(0.5, 'half');
      return { n: 42 };
    });
    const b = runner.start('b', null, {}, async () => {
      throw new PetromapError('Unprocessable', 'The EDS map does not overlap the volume.');
    });
    const ja = await runner.wait(a.id);
    const jb = await runner.wait(b.id);
    expect(ja.state).toBe('done');
    expect(ja.result).toEqual({ n: 42 });
    expect(seen).toContain(0.5);
    expect(jb.state).toBe('failed');
    expect(jb.error).toBe('The EDS map does not overlap the volume.');
  });

  it('cancels a running job', async () => {
    const repo = new Repo(openDb(tmpDb()));
    const runner = new JobRunner(repo);
    const j = runner.start('slow', null, {}, async ({ signal }) => {
      for (;;) {
        throwIfAborted(signal);
        await new Promise((r) => setTimeout(r, 10));
      }
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(runner.cancel(j.id)).toBe(true);
    const done = await runner.wait(j.id);
    expect(done.state).toBe('cancelled');
  });
});
