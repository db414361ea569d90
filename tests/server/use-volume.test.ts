/**
 * Choosing which of a project's XRM volumes its steps use (datasets.useVolume): what was derived
 * from the volume used before (registrations with their overlays, slabs, the model, the prediction
 * with its Results files, the painted strokes' record) is set aside with it, and comes back
 * unchanged when that volume is chosen again; nothing of it is used for the chosen volume. The
 * confirmation's plan (datasets.volumeSwitch) says so first. Refused while a job of the project
 * runs, for an EDS map, and for a lithology project's placed interior scan; a Multi-scale composite
 * model made on the large scan is named, kept, and current again when that scan is back. Real SQLite; no job runs.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '@/server/db/repo';
import type { Services } from '@/server/services';
import { projectDatasets } from '@/server/pipeline/project-inputs';
import { acceptedRegistration, projectModel } from '@/server/pipeline/train-model';
import type { RegistrationRecord } from '@/server/pipeline/correlate';
import { createCaller } from '@/server/routers/_app';
import { addMapRow, addSmallVolume, modelSummary, putProjectFile, registrationRecord } from './switch-fixtures';
import { tempWorkspace, type TempWorkspace } from './temp-workspace';

let t: TempWorkspace;
let root: string;
let svc: Services;
let caller: ReturnType<typeof createCaller>;

const addVolume = (projectId: string, name: string) => addSmallVolume(svc, projectId, name);

const addMap = (projectId: string, name: string) => addMapRow(svc, projectId, name);

const registration = (volumeId: string, edsId: string, landmarks = 0): RegistrationRecord =>
  registrationRecord(volumeId, edsId, { createdAt: Date.now(), landmarks });
const model = modelSummary;
const put = (projectId: string, rel: string, text: string) => putProjectFile(svc, projectId, rel, text);
const slab = (volumeId: string) => JSON.stringify({ volumeId, width: 4, height: 4, slabToVoxel: [0, 0, 2, 0, 1, 0, 1, 0, 0], normal: [1, 0, 0], sampleDepthsVox: [0], surface: registration(volumeId, 'x').surface });

beforeAll(() => {
  t = tempWorkspace({ prefix: 'petromap-use-volume-' });
  ({ root, svc } = t);
  caller = createCaller({ svc });
});
afterAll(() => {
  svc?.repo.db.close();
  t?.cleanup();
});

describe('choosing the volume a project uses', () => {
  it('sets aside what was derived from the volume left, brings it back when it is chosen again, and says so first', async () => {
    const projectId = svc.repo.createProject('Two scans of one core', 'mineralogy').id;
    const a = await addVolume(projectId, 'scan-A.nrrd');
    const b = await addVolume(projectId, 'scan-B.nrrd');
    const top = addMap(projectId, 'top-map.zip');
    // work done on A: a registration with landmarks and its overlay, the slab, a model, a prediction with its Results files, strokes
    const regA = registration(a, top, 4);
    svc.repo.setArtifact(projectId, 'registration', regA);
    const overlay = put(projectId, 'eds-on-slab.u8', 'overlay of A');
    const slabFiles = [put(projectId, 'slab.json', slab(a)), put(projectId, 'slab.f32', 'slab of A')];
    const modelA = model(projectId, 'j0');
    svc.repo.setArtifact(projectId, 'model', modelA);
    svc.repo.setArtifact(projectId, 'trainHistory', { jobId: 'j0', epochs: modelA.history, maxEpochs: null });
    const modelFile = put(projectId, 'model-j0/model.json', '{"of":"A"}');
    svc.repo.setArtifact(projectId, 'predictionRun', { modelCreatedAt: modelA.createdAt, volumeId: a });
    svc.repo.setArtifact(projectId, 'prediction', { createdAt: 6, modelCreatedAt: modelA.createdAt, jobId: 'j1', classes: [1, 2], seconds: 1, shape: [8, 16, 16] });
    const predFile = put(projectId, 'prediction/labels.ome.zarr/zarr.json', '{"of":"A"}');
    const overview = put(projectId, 'results/labels-3d.nii', 'A in 3D');
    const strokes = { volumeId: a, relPath: path.join('projects', projectId, `annotations-${a}.ome.zarr`), shape: [8, 16, 16] as [number, number, number], counts: { 1: 3, 2: 1200 }, updatedAt: 1 };
    svc.repo.setArtifact(projectId, 'annotations', strokes);
    const strokesFile = put(projectId, `annotations-${a}.ome.zarr/zarr.json`, '{}');
    expect(projectDatasets(svc, projectId).volume?.id).toBe(a);

    // the confirmation's plan names what goes aside with A
    const plan = await caller.datasets.volumeSwitch({ projectId, id: b });
    expect(plan).toMatchObject({ from: { id: a, name: 'scan-A.nrrd' }, to: { id: b, name: 'scan-B.nrrd' }, same: false, back: [], blockedBy: null });
    expect(plan.aside).toEqual([
      "the accepted registration of the top face's map top-map.zip (4 landmark pairs)",
      "the model trained 2026-12-07 14:05 UTC (it learnt this volume's grey values)",
      'the whole-volume prediction with its Results statistics',
      '1,203 painted voxels',
    ]);

    expect((await caller.datasets.useVolume({ projectId, id: b })).changed).toBe(true);
    expect(projectDatasets(svc, projectId).volume?.id).toBe(b);
    // nothing of A is used for B: no registration, model, prediction or strokes; their files left the live places
    for (const k of ['registration', 'model', 'trainHistory', 'prediction', 'predictionRun', 'annotations'] as const) expect(svc.repo.artifact(projectId, k), k).toBeUndefined();
    for (const f of [overlay, ...slabFiles, modelFile, predFile, overview]) expect(existsSync(f), f).toBe(false);
    expect(() => acceptedRegistration(svc, projectId)).toThrow(/no accepted registration/);
    expect(projectModel(svc, projectId)).toBeUndefined();
    expect(existsSync(strokesFile)).toBe(true); // named by A's id: stays where it is
    expect((await caller.datasets.list({ projectId })).filter((d) => d.inUse).map((d) => d.id).sort()).toEqual([b, top].sort());

    // work on B, then back to A: A's work comes back unchanged, B's goes aside
    svc.repo.setArtifact(projectId, 'registration', registration(b, top));
    put(projectId, 'eds-on-slab.u8', 'overlay of B');
    const back = await caller.datasets.volumeSwitch({ projectId, id: a });
    expect(back.aside).toEqual(["the accepted registration of the top face's map top-map.zip"]);
    expect(back.back).toEqual(["the accepted registration of the top face's map top-map.zip", 'the model trained 2026-12-07 14:05 UTC', 'the whole-volume prediction with its Results statistics', '1,203 painted voxels']);
    await caller.datasets.useVolume({ projectId, id: a });
    expect(projectDatasets(svc, projectId).volume?.id).toBe(a);
    expect(svc.repo.artifact(projectId, 'registration')).toEqual(regA);
    expect(svc.repo.artifact(projectId, 'model')).toEqual(modelA);
    expect(svc.repo.artifact(projectId, 'annotations')).toEqual(strokes);
    expect(svc.repo.artifact(projectId, 'predictionRun')?.volumeId).toBe(a);
    expect(readFileSync(overlay, 'utf8')).toBe('overlay of A');
    expect(readFileSync(slabFiles[1]!, 'utf8')).toBe('slab of A');
    expect(readFileSync(modelFile, 'utf8')).toBe('{"of":"A"}');
    expect(readFileSync(predFile, 'utf8')).toBe('{"of":"A"}');
    expect(readFileSync(overview, 'utf8')).toBe('A in 3D');
    expect(projectModel(svc, projectId)?.summary.jobId).toBe('j0');
    expect(existsSync(path.join(svc.ws.projectDir(projectId), `switched-${a}`))).toBe(false);
    expect(existsSync(path.join(svc.ws.projectDir(projectId), `switched-${b}`, 'overlay-top.u8'))).toBe(true);
    // choosing the volume in use changes nothing
    expect((await caller.datasets.useVolume({ projectId, id: a })).changed).toBe(false);

    // deleting A (in use): B takes its place with what was set aside for it
    await caller.datasets.delete({ id: a });
    expect(projectDatasets(svc, projectId).volume?.id).toBe(b);
    expect(svc.repo.artifact(projectId, 'registration')?.volumeId).toBe(b);
    expect(readFileSync(overlay, 'utf8')).toBe('overlay of B');
    expect(existsSync(path.join(svc.ws.projectDir(projectId), `switched-${b}`))).toBe(false);
  });

  it('is refused while a job of the project runs, for an EDS map, and for a placed interior scan; names and keeps a Multi-scale composite model', async () => {
    const projectId = svc.repo.createProject('Busy project', 'mineralogy').id;
    const a = await addVolume(projectId, 'scan-A.nrrd');
    const b = await addVolume(projectId, 'scan-B.nrrd');
    const top = addMap(projectId, 'top-map.zip');
    svc.repo.setArtifact(projectId, 'registration', registration(a, top));
    const job = svc.repo.insertJob({ id: newId('j'), projectId, kind: 'predict', params: {} });
    svc.repo.updateJob(job.id, { state: 'running', progress: 0.42, started: true });
    expect((await caller.datasets.volumeSwitch({ projectId, id: b })).blockedBy).toBe('the whole-volume prediction is running (42 %): switch when it has finished, or cancel it on the Jobs page.');
    await expect(caller.datasets.useVolume({ projectId, id: b })).rejects.toThrow(/cannot switch to scan-B\.nrrd now: the whole-volume prediction is running \(42 %\)/);
    expect(projectDatasets(svc, projectId).volume?.id).toBe(a);
    expect(svc.repo.artifact(projectId, 'registration')?.volumeId).toBe(a);
    svc.repo.updateJob(job.id, { state: 'done', finished: true });

    await expect(caller.datasets.useVolume({ projectId, id: top })).rejects.toThrow(/top-map\.zip is an EDS map, not an XRM volume/);
    await expect(caller.datasets.useVolume({ projectId, id: 'dnothere' })).rejects.toThrow(/There is no dataset dnothere in this project/);
    const other = svc.repo.createProject('Another project', 'mineralogy').id;
    await expect(caller.datasets.useVolume({ projectId: other, id: b })).rejects.toThrow(/There is no dataset .* in this project/);
    await expect(caller.datasets.useVolume({ projectId, id: '../x' })).rejects.toThrow(/not a dataset id/);

    const lith = svc.repo.createProject('Lithology', 'lithology').id;
    const plug = await addVolume(lith, 'plug.nrrd');
    const interior = await addVolume(lith, 'interior-hr.nrrd');
    const rescan = await addVolume(lith, 'plug-rescan.nrrd');
    await caller.multiscale.place({ projectId: lith, datasetId: interior, centre: [4, 8, 8], angleDeg: 0 });
    await expect(caller.datasets.useVolume({ projectId: lith, id: interior })).rejects.toThrow(/interior-hr\.nrrd is placed as an interior scan on Multi-scale/);
    // a composite model computed on the large scan: named in the plan, kept (read as made on plug.nrrd), current again when plug.nrrd is back
    const state = JSON.parse(readFileSync(path.join(svc.ws.projectDir(lith), 'multiscale', 'state.json'), 'utf8'));
    put(lith, 'multiscale/state.json', JSON.stringify({ ...state, result: { scanId: plug, predictionJobId: 'j7', at: 1 } }));
    put(lith, 'multiscale/run/report.json', '{}');
    svc.repo.setArtifact(lith, 'lithologyPrediction', { volumeId: plug, relPath: path.join('projects', lith, `lithology-${plug}`, 'labels.ome.zarr'), jobId: 'j7', classes: [], strokeCounts: {}, heldOutAccuracy: null, perClass: [], fractions: {}, createdAt: 1 });
    expect((await caller.multiscale.state({ projectId: lith })).result?.stale).toBe(false);
    expect((await caller.datasets.volumeSwitch({ projectId: lith, id: rescan })).aside).toEqual([
      'the lithology map predicted from the strokes', 'the Multi-scale composite model (kept on Multi-scale, marked as made on plug.nrrd)',
    ]);
    await caller.datasets.useVolume({ projectId: lith, id: rescan });
    expect((await caller.multiscale.state({ projectId: lith })).result?.stale).toBe(true);
    await caller.datasets.useVolume({ projectId: lith, id: plug });
    expect((await caller.multiscale.state({ projectId: lith })).result?.stale).toBe(false);
  });

  it('reads a set-aside record it did not write as absent and moves nothing outside the project', async () => {
    const projectId = svc.repo.createProject('Edited record', 'mineralogy').id;
    const a = await addVolume(projectId, 'scan-A.nrrd');
    const b = await addVolume(projectId, 'scan-B.nrrd');
    const outside = path.join(root, 'outside');
    mkdirSync(outside, { recursive: true });
    writeFileSync(path.join(outside, 'keep.txt'), 'not petromap\'s');
    // a record for B naming a model whose job id walks out of the project, and a registration of the wrong shape
    put(projectId, `switched-${b}/state.json`, JSON.stringify({ model: { ...model(projectId, '../../outside'), modelRel: '../../outside' }, registration: { volumeId: b } }));
    put(projectId, `switched-${b}/model/model.json`, '{}');
    expect((await caller.datasets.volumeSwitch({ projectId, id: b })).back).toEqual([]);
    await caller.datasets.useVolume({ projectId, id: b });
    expect(svc.repo.artifact(projectId, 'model')).toBeUndefined();
    expect(svc.repo.artifact(projectId, 'registration')).toBeUndefined();
    expect(readFileSync(path.join(outside, 'keep.txt'), 'utf8')).toBe('not petromap\'s');
    expect(projectDatasets(svc, projectId).volume?.id).toBe(b);
    expect(a).not.toBe(b);
  });
});
