/**
 * Schema migrations, applied in order; PRAGMA user_version records how many ran.
 * Append new migrations; never edit one that has shipped.
 */
export const MIGRATIONS: string[] = [
  `
  CREATE TABLE projects (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('mineralogy', 'lithology')),
    created_at INTEGER NOT NULL
  );
  CREATE TABLE datasets (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('volume', 'eds')),
    status TEXT NOT NULL CHECK (status IN ('importing', 'ready', 'failed')),
    rel_path TEXT NOT NULL,
    info TEXT,
    error TEXT,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX datasets_project ON datasets(project_id);
  CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    project_id TEXT REFERENCES projects(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled', 'interrupted')),
    progress REAL NOT NULL DEFAULT 0,
    message TEXT,
    error TEXT,
    params TEXT,
    result TEXT,
    created_at INTEGER NOT NULL,
    started_at INTEGER,
    finished_at INTEGER
  );
  CREATE INDEX jobs_project ON jobs(project_id);
  CREATE TABLE artifacts (
    project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (project_id, key)
  );
  `,
  // issue 15 §1: an EDS map shows one polished face of the sample; NULL (every map imported before) = the top face
  `
  ALTER TABLE datasets ADD COLUMN face TEXT CHECK (face IS NULL OR face IN ('top', 'bottom'));
  `,
];
