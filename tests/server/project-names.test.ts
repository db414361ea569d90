/**
 * Two projects of one name would be told apart only by their ids: the home list, the jobs table and
 * downloads named after the project would show the same words for two samples. Creating a project
 * whose name is taken (case and spacing aside) is refused, naming the one that exists.
 * Real router, real SQLite.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCaller } from '@/server/routers/_app';
import { tempProject, type TempProject } from './temp-workspace';

let t: TempProject;
let caller: ReturnType<typeof createCaller>;

beforeAll(() => {
  t = tempProject('Berea core 3');
  caller = createCaller({ svc: t.svc });
});
afterAll(() => t.cleanup());

describe('project names', () => {
  it('a taken name is refused in words, and nothing is created', async () => {
    const before = t.svc.repo.listProjects().length;
    const err = await caller.projects.create({ name: '  berea CORE 3 ', kind: 'mineralogy' }).then(
      () => { throw new Error('the second project of one name should have been refused'); },
      (e: { code?: string; message: string }) => e,
    );
    expect(err.code).toBe('CONFLICT');
    expect(err.message).toMatch(/^Name: a project named "Berea core 3" already exists \(created \d{4}-\d\d-\d\d\)\. Open it from the project list, or give this one another name, e\.g\. "berea CORE 3 \(2\)"\.$/);
    expect(t.svc.repo.listProjects()).toHaveLength(before);
    const spaced = await caller.projects.create({ name: 'Berea  core\t3', kind: 'mineralogy' }).then(() => 'created', (e: { code?: string }) => e.code);
    expect(spaced, 'spaces inside the name aside too').toBe('CONFLICT');
  });

  it('another name is created', async () => {
    const p = await caller.projects.create({ name: 'Berea core 3 (2)', kind: 'lithology' });
    expect(p.name).toBe('Berea core 3 (2)');
    expect(t.svc.repo.project(p.id)?.kind).toBe('lithology');
  });
});
