/**
 * The project's model row records the volume it was trained on (`trainedOn`): it is stored and read
 * back; a row written before the record (none) reads as it did; a row whose record is damaged keeps
 * the model (the record reads as unknown) instead of losing the whole row. Real SQLite.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { modelSummary } from './switch-fixtures';
import { tempProject } from './temp-workspace';

const t = tempProject('Model row');
const { svc, projectId } = t;
afterAll(() => {
  svc.repo.db.close();
  t.cleanup();
});

const setRaw = (value: unknown) =>
  svc.repo.db.prepare('UPDATE artifacts SET value = ? WHERE project_id = ? AND key = ?').run(JSON.stringify(value), projectId, 'model');

describe('the model row', () => {
  const on = { volume: 'scan-A.nrrd', volumeId: 'd1', shape: [8, 16, 16] as [number, number, number], spacingUm: [2, 2, 2.5] as [number, number, number], featureVersion: 2 };

  it('keeps the volume it was trained on (before: the field was dropped on write)', () => {
    svc.repo.setArtifact(projectId, 'model', { ...modelSummary(projectId, 'j1'), trainedOn: on });
    expect(svc.repo.artifact(projectId, 'model')?.trainedOn).toEqual(on);
  });

  it('an older row without it reads as before; a damaged record reads as unknown, the model stays', () => {
    const old = modelSummary(projectId, 'j2');
    setRaw(old);
    expect(svc.repo.artifact(projectId, 'model')).toEqual(old);
    setRaw({ ...old, trainedOn: { volume: 'scan-A.nrrd', shape: 'big' } });
    const row = svc.repo.artifact(projectId, 'model');
    expect(row?.jobId).toBe('j2');
    expect(row?.trainedOn).toBeUndefined();
  });
});
