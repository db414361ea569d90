/**
 * The predict job checks a model row against the volume with the model's own mirror (its folder's,
 * as predictVolume takes it): a model trained without a mirrored surface is not refused
 * for a scan of another shape at the same voxel size; one that mirrors at its training surface is,
 * in words, before the prediction in place is given up. Real SQLite, real store and job runner.
 */
import { afterAll, expect, it } from 'vitest';
import { startPredict } from '@/server/pipeline/train';
import { modelSummary, putProjectFile } from './switch-fixtures';
import { addVolumeDataset, tempProject } from './temp-workspace';

const t = tempProject('Own mirror');
const { svc, projectId } = t;
afterAll(() => {
  svc.repo.db.close();
  t.cleanup();
});

it('a model without a mirrored surface predicts a taller scan of the same voxel size; one with it is refused and the prediction stays', async () => {
  const vol = await addVolumeDataset(svc, projectId, { meta: { shape: [8, 16, 16], spacingUm: [2, 2, 2], originUm: [0, 0, 0], dtype: 'uint8', channels: ['grey'] }, data: new Uint8Array(8 * 16 * 16).fill(90) }, { name: 'scan-B.nrrd', chunk: [8, 16, 16] });
  svc.repo.setArtifact(projectId, 'inputs', { volumeId: vol.id });
  const trainedOn = { volume: 'scan-A.nrrd', volumeId: 'dA', shape: [4, 16, 16] as [number, number, number], spacingUm: [2, 2, 2] as [number, number, number], featureVersion: 1 };
  const prediction = { createdAt: 6, modelCreatedAt: 1, jobId: 'j1', classes: [1, 2], seconds: 1, shape: [8, 16, 16] as [number, number, number] };
  svc.repo.setArtifact(projectId, 'prediction', prediction);
  svc.repo.setArtifact(projectId, 'model', { ...modelSummary(projectId, 'j3'), trainedOn });
  putProjectFile(svc, projectId, 'model-j3/model.json', '{"mirrorSurface":{"a":0,"b":0,"c":2}}');
  const mirrored = await svc.jobs.wait(startPredict(svc, projectId).id);
  expect(mirrored.state).toBe('failed');
  expect(mirrored.error).toMatch(/scan-B\.nrrd is 8 × 16 × 16 voxels\. The model mirrors the volume above the polished surface it found in scan-A\.nrrd/);
  expect(svc.repo.artifact(projectId, 'prediction')).toEqual(prediction);

  // a folder without mirrorSurface (predictVolume predicts it without the mirror); before: refused the same (mirrors: true whatever the model)
  putProjectFile(svc, projectId, 'model-j3/model.json', '{}');
  const plain = await svc.jobs.wait(startPredict(svc, projectId).id);
  // past the geometry check: the prediction in place is given up for the new one (this folder's model.json is no model: it fails there)
  expect(plain.error ?? '').not.toMatch(/mirrors the volume above|trained on scan-A/);
  expect(svc.repo.artifact(projectId, 'predictionRun')).toEqual({ modelCreatedAt: modelSummary(projectId, 'j3').createdAt, volumeId: vol.id });
});
