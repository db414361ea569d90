/**
 * Deleting a project removes only folders petromap wrote inside the workspace (reviewer R4): a
 * dataset row whose id was edited in SQLite (`../../victim`) took a folder outside the workspace with
 * it; now dataset folders go by the dataset delete's rule (an id petromap makes, what petromap wrote
 * in it) and the project folder only under a project id petromap makes. Real SQLite, real files.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createCaller } from '@/server/routers/_app';
import { DATASET_MARKER, removeDatasetFolderOf, removeProjectFolder } from '@/server/storage/sweep';
import { tempWorkspace, type TempWorkspace } from './temp-workspace';

let t: TempWorkspace | undefined;
afterEach(() => {
  t?.cleanup();
  t = undefined;
  vi.restoreAllMocks();
});

describe('deleting a project', () => {
  it('leaves a folder outside the workspace that an edited dataset id names, and removes its own folders', async () => {
    t = tempWorkspace({ prefix: 'petromap-projdel-' });
    const { svc, root } = t;
    vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    // the user's folder next to the workspace
    const victim = path.join(root, '..', `${path.basename(root)}-victim`);
    mkdirSync(victim, { recursive: true });
    writeFileSync(path.join(victim, 'thesis.docx'), 'precious');
    try {
      const p = svc.repo.createProject('Rock', 'mineralogy');
      const rel = path.relative(path.join(root, 'datasets'), victim); // ../../<name>-victim
      svc.repo.insertDataset({ id: rel, projectId: p.id, name: 'x', kind: 'volume', status: 'ready', relPath: 'datasets/x/volume.ome.zarr', info: null });
      // and a dataset of its own, as an import leaves it
      const own = 'd0123456789';
      mkdirSync(path.join(root, 'datasets', own, 'volume.ome.zarr'), { recursive: true });
      writeFileSync(path.join(root, 'datasets', own, DATASET_MARKER), '{}\n');
      svc.repo.insertDataset({ id: own, projectId: p.id, name: 'v', kind: 'volume', status: 'ready', relPath: `datasets/${own}/volume.ome.zarr`, info: null });
      mkdirSync(path.join(svc.ws.projectDir(p.id), 'prediction'), { recursive: true });

      await createCaller({ svc }).projects.delete({ id: p.id });

      expect(readFileSync(path.join(victim, 'thesis.docx'), 'utf8')).toBe('precious');
      expect(svc.repo.project(p.id)).toBeUndefined();
      expect(existsSync(path.join(root, 'datasets', own))).toBe(false);
      expect(existsSync(svc.ws.projectDir(p.id))).toBe(false);
    } finally {
      rmSync(victim, { recursive: true, force: true });
    }
  });

  it('removes no folder under a name that is not an id petromap makes', async () => {
    t = tempWorkspace({ prefix: 'petromap-projdel-' });
    const { root } = t;
    const mine = path.join(root, 'projects', 'notes');
    mkdirSync(mine, { recursive: true });
    writeFileSync(path.join(mine, 'a.txt'), 'mine');
    expect(await removeProjectFolder(root, 'notes')).toBe(false);
    expect(await removeProjectFolder(root, '..')).toBe(false);
    expect(await removeDatasetFolderOf(root, '../projects/notes')).toBe(false);
    expect(existsSync(path.join(mine, 'a.txt'))).toBe(true);
    expect(existsSync(path.join(root, 'petromap.db'))).toBe(true);
  });
});
