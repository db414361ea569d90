/**
 * The workspace folder (PETROMAP_DATA): petromap.db, datasets/<id>/, projects/<id>/, tmp/.
 * Paths are built here from ids; the client never sends a path.
 */
import { mkdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

export class Workspace {
  constructor(readonly root: string) {
    // Workspace paths are runtime data, never part of the build: every path below is built from
    // the root with a turbopackIgnore hint so that output file tracing does not take in the
    // workspace (issue 20; next.config.mjs also excludes ./data from tracing).
    for (const d of ['datasets', 'projects', 'tmp']) mkdirSync(path.join(/*turbopackIgnore: true*/ root, d), { recursive: true });
  }
  get dbFile() {
    return path.join(/*turbopackIgnore: true*/ this.root, 'petromap.db');
  }
  /** absolute path of a path stored relative to the workspace */
  abs(rel: string) {
    const p = path.resolve(/*turbopackIgnore: true*/ this.root, rel);
    if (!p.startsWith(this.root + path.sep)) throw new Error(`path outside the workspace: ${rel}`);
    return p;
  }
  rel(abs: string) {
    return path.relative(this.root, abs);
  }
  datasetDir(id: string) {
    return path.join(/*turbopackIgnore: true*/ this.root, 'datasets', id);
  }
  projectDir(id: string) {
    return path.join(/*turbopackIgnore: true*/ this.root, 'projects', id);
  }
  /** a fresh name under tmp/ (same file system as the destination, so rename is atomic) */
  tmpPath(stem: string) {
    return path.join(/*turbopackIgnore: true*/ this.root, 'tmp', `${stem}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`);
  }
  async cleanTmp() {
    await rm(path.join(/*turbopackIgnore: true*/ this.root, 'tmp'), { recursive: true, force: true });
    mkdirSync(path.join(/*turbopackIgnore: true*/ this.root, 'tmp'), { recursive: true });
  }
}
