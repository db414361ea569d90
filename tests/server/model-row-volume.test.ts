/**
 * The project's model row records the volume it was trained on (`trainedOn`): it is stored and read
 * back; a row written before the record (none) reads as it did; a row whose record is damaged keeps
 * the model (the record reads as unknown) instead of losing the whole row; a prediction with a model
 * of another voxel size is refused in words before the prediction in place is given up. Real SQLite,
 * real store and job runner.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { startPredict } from '@/server/pipeline/train';
import { modelSummary, putProjectFile } from './switch-fixtures';
import { addVolumeDataset, tempProject } from './temp-workspace';

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

describe('predicting with the model row of another geometry', () => {
  it('the job refuses in words and the prediction in place stays (before: it was dropped, then the map came out wrong)', async () => {
    const vol = await addVolumeDataset(svc, projectId, { meta: { shape: [8, 16, 16], spacingUm: [2, 2, 2], originUm: [0, 0, 0], dtype: 'uint8', channels: ['grey'] }, data: new Uint8Array(8 * 16 * 16).fill(90) }, { name: 'scan-B.nrrd', chunk: [8, 16, 16] });
    svc.repo.setArtifact(projectId, 'inputs', { volumeId: vol.id });
    const row = { ...modelSummary(projectId, 'j3'), trainedOn: { volume: 'scan-A.nrrd', volumeId: 'dA', shape: [8, 16, 16] as [number, number, number], spacingUm: [1, 1, 1] as [number, number, number], featureVersion: 1 } };
    svc.repo.setArtifact(projectId, 'model', row);
    putProjectFile(svc, projectId, 'model-j3/model.json', '{}');
    const prediction = { createdAt: 6, modelCreatedAt: 1, jobId: 'j1', classes: [1, 2], seconds: 1, shape: [8, 16, 16] as [number, number, number] };
    svc.repo.setArtifact(projectId, 'prediction', prediction);
    const job = await svc.jobs.wait(startPredict(svc, projectId).id);
    expect(job.state).toBe('failed');
    expect(job.error).toMatch(/trained on scan-A\.nrrd \(8 × 16 × 16 voxels of 1 × 1 × 1 µm\); scan-B\.nrrd has voxels of 2 × 2 × 2 µm\..*train a model on scan-B\.nrrd/);
    expect(svc.repo.artifact(projectId, 'prediction')).toEqual(prediction);
  });
});
