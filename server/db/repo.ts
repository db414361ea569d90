/**
 * Typed access to projects, datasets, jobs and per-project artifacts. The only module that
 * writes SQL outside migrations.
 */
import { randomBytes } from 'node:crypto';
import type { Db } from './index';
import { decodeProjectState, encodeProjectState, type ProjectState, type ProjectStateKey } from './project-state';

export type ProjectKind = 'mineralogy' | 'lithology';
export type DatasetKind = 'volume' | 'eds';
export type DatasetStatus = 'importing' | 'ready' | 'failed';
/** The polished face of the sample an EDS map shows (issue 15 §1); null: volumes, and maps imported before faces (the top). */
export type DatasetFace = 'top' | 'bottom';
export type JobState = 'queued' | 'running' | 'done' | 'failed' | 'cancelled' | 'interrupted';

export interface Project {
  id: string;
  name: string;
  kind: ProjectKind;
  createdAt: Date;
}

export interface DatasetRecord {
  id: string;
  projectId: string;
  name: string;
  kind: DatasetKind;
  status: DatasetStatus;
  relPath: string;
  info: unknown;
  error: string | null;
  createdAt: Date;
  /** EDS maps: the face it shows (null = top, as every map imported before) */
  face?: DatasetFace | null;
}

export interface JobRecord {
  id: string;
  projectId: string | null;
  kind: string;
  state: JobState;
  progress: number;
  message: string | null;
  error: string | null;
  params: unknown;
  result: unknown;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

export const newId = (prefix: string) => `${prefix}${randomBytes(5).toString('hex')}`;

const json = (s: string | null): unknown => (s == null ? null : JSON.parse(s));
const date = (n: number | null) => (n == null ? null : new Date(n));

// rows come back from better-sqlite3 untyped
const toProject = (r: any): Project => ({ id: r.id, name: r.name, kind: r.kind, createdAt: new Date(r.created_at) });
const toDataset = (r: any): DatasetRecord => ({
  id: r.id, projectId: r.project_id, name: r.name, kind: r.kind, status: r.status, relPath: r.rel_path,
  info: json(r.info), error: r.error, createdAt: new Date(r.created_at), face: r.face ?? null,
});
const toJob = (r: any): JobRecord => ({
  id: r.id, projectId: r.project_id, kind: r.kind, state: r.state, progress: r.progress, message: r.message,
  error: r.error, params: json(r.params), result: json(r.result), createdAt: new Date(r.created_at),
  startedAt: date(r.started_at), finishedAt: date(r.finished_at),
});

export class Repo {
  constructor(readonly db: Db) {}

  // projects
  listProjects(): (Project & { datasetCount: number })[] {
    return this.db
      .prepare(`SELECT p.*, (SELECT COUNT(*) FROM datasets d WHERE d.project_id = p.id AND d.status = 'ready') AS n
                FROM projects p ORDER BY p.created_at DESC`)
      .all()
      .map((r: any) => ({ ...toProject(r), datasetCount: r.n as number }));
  }
  project(id: string): Project | undefined {
    const r = this.db.prepare('SELECT * FROM projects WHERE id = ?').get(id);
    return r ? toProject(r) : undefined;
  }
  projectByName(name: string): Project | undefined {
    const r = this.db.prepare('SELECT * FROM projects WHERE name = ? ORDER BY created_at LIMIT 1').get(name);
    return r ? toProject(r) : undefined;
  }
  createProject(name: string, kind: ProjectKind): Project {
    const p: Project = { id: newId('p'), name, kind, createdAt: new Date() };
    this.db.prepare('INSERT INTO projects (id, name, kind, created_at) VALUES (?, ?, ?, ?)').run(p.id, name, kind, p.createdAt.getTime());
    return p;
  }
  deleteProject(id: string): void {
    this.db.prepare('DELETE FROM projects WHERE id = ?').run(id);
  }

  // datasets
  listDatasets(projectId: string): DatasetRecord[] {
    return this.db.prepare('SELECT * FROM datasets WHERE project_id = ? ORDER BY created_at').all(projectId).map(toDataset);
  }
  dataset(id: string): DatasetRecord | undefined {
    const r = this.db.prepare('SELECT * FROM datasets WHERE id = ?').get(id);
    return r ? toDataset(r) : undefined;
  }
  insertDataset(d: Omit<DatasetRecord, 'createdAt' | 'error'> & { error?: string | null }): DatasetRecord {
    const createdAt = new Date();
    this.db
      .prepare('INSERT INTO datasets (id, project_id, name, kind, status, rel_path, info, error, created_at, face) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(d.id, d.projectId, d.name, d.kind, d.status, d.relPath, d.info == null ? null : JSON.stringify(d.info), d.error ?? null, createdAt.getTime(), d.face ?? null);
    return { ...d, error: d.error ?? null, createdAt, face: d.face ?? null };
  }
  /** Which face an EDS map shows (null: the top, as maps imported before faces). */
  setDatasetFace(id: string, face: DatasetFace | null): void {
    this.db.prepare("UPDATE datasets SET face = ? WHERE id = ? AND kind = 'eds'").run(face, id);
  }
  updateDataset(id: string, patch: { status?: DatasetStatus; info?: unknown; error?: string | null }): void {
    const cur = this.dataset(id);
    if (!cur) return;
    this.db
      .prepare('UPDATE datasets SET status = ?, info = ?, error = ? WHERE id = ?')
      .run(patch.status ?? cur.status, JSON.stringify(patch.info ?? cur.info ?? null), patch.error === undefined ? cur.error : patch.error, id);
  }
  deleteDataset(id: string): void {
    this.db.prepare('DELETE FROM datasets WHERE id = ?').run(id);
  }

  // jobs
  /** The newest 200 jobs, of one project and/or in the given states when asked (filtered before the limit). */
  listJobs(projectId?: string, states?: readonly string[]): JobRecord[] {
    const where: string[] = [];
    const args: string[] = [];
    if (projectId) { where.push('project_id = ?'); args.push(projectId); }
    if (states?.length) { where.push(`state IN (${states.map(() => '?').join(', ')})`); args.push(...states); }
    const sql = `SELECT * FROM jobs${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC LIMIT 200`;
    return this.db.prepare(sql).all(...args).map(toJob);
  }
  job(id: string): JobRecord | undefined {
    const r = this.db.prepare('SELECT * FROM jobs WHERE id = ?').get(id);
    return r ? toJob(r) : undefined;
  }
  insertJob(j: { id: string; projectId: string | null; kind: string; params: unknown }): JobRecord {
    const now = Date.now();
    this.db
      .prepare(`INSERT INTO jobs (id, project_id, kind, state, progress, params, created_at) VALUES (?, ?, ?, 'queued', 0, ?, ?)`)
      .run(j.id, j.projectId, j.kind, JSON.stringify(j.params ?? null), now);
    return this.job(j.id)!;
  }
  updateJob(id: string, p: Partial<Pick<JobRecord, 'state' | 'progress' | 'message' | 'error' | 'result'>> & { started?: boolean; finished?: boolean }): void {
    const sets: string[] = [];
    const vals: unknown[] = [];
    if (p.state !== undefined) (sets.push('state = ?'), vals.push(p.state));
    if (p.progress !== undefined) (sets.push('progress = ?'), vals.push(p.progress));
    if (p.message !== undefined) (sets.push('message = ?'), vals.push(p.message));
    if (p.error !== undefined) (sets.push('error = ?'), vals.push(p.error));
    if (p.result !== undefined) (sets.push('result = ?'), vals.push(JSON.stringify(p.result)));
    if (p.started) (sets.push('started_at = ?'), vals.push(Date.now()));
    if (p.finished) (sets.push('finished_at = ?'), vals.push(Date.now()));
    if (!sets.length) return;
    this.db.prepare(`UPDATE jobs SET ${sets.join(', ')} WHERE id = ?`).run(...vals, id);
  }
  /** On start-up: jobs that were running or queued when the server stopped. */
  interruptStaleJobs(): number {
    return this.db
      .prepare(`UPDATE jobs SET state = 'interrupted', error = 'The server stopped while this job was running; start it again to resume.', finished_at = ? WHERE state IN ('running', 'queued')`)
      .run(Date.now()).changes;
  }

  // artifacts: small JSON documents per project, one schema per key (project-state.ts)
  private readonly unreadable = new Set<string>();
  /**
   * The project's state under `key`, parsed with its schema. A stored value that does not parse
   * (written by an older petromap, edited by hand) reads as absent, so the page offers to redo
   * the step; it is reported once (console.warn) per stored value.
   */
  artifact<K extends ProjectStateKey>(projectId: string, key: K): ProjectState[K] | undefined {
    const r = this.db.prepare('SELECT value, updated_at FROM artifacts WHERE project_id = ? AND key = ?').get(projectId, key) as { value: string; updated_at: number } | undefined;
    if (!r) return undefined;
    const d = decodeProjectState(key, r.value);
    if (d.ok) return d.value;
    const seen = `${projectId}\0${key}\0${r.updated_at}`;
    if (!this.unreadable.has(seen)) {
      this.unreadable.add(seen);
      console.warn(`petromap: project ${projectId}: the stored '${key}' cannot be read and is ignored (${d.reason}); redo that step to replace it.`);
    }
    return undefined;
  }
  /** Store the project's state under `key`; a value of the wrong shape throws (a programming error). */
  setArtifact<K extends ProjectStateKey>(projectId: string, key: K, value: ProjectState[K]): void {
    const text = encodeProjectState(key, value);
    this.db
      .prepare('INSERT INTO artifacts (project_id, key, value, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT(project_id, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at')
      .run(projectId, key, text, Date.now());
  }
  deleteArtifact(projectId: string, key: ProjectStateKey): void {
    this.db.prepare('DELETE FROM artifacts WHERE project_id = ? AND key = ?').run(projectId, key);
  }
}
