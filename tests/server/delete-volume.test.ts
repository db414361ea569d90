/**
 * Deleting an XRM volume removes what belonged to that volume in its project, and only that: the
 * registrations made on it (either face) with their overlay files, the surface slabs found in it,
 * the strokes painted on it and the lithology map of it, the whole-volume prediction of it with its
 * statistics and 3D-view file, its place as a Multi-scale interior, and the user's pick of it. What
 * belongs to another volume of the project, the EDS maps and the trained model stay. Of its folder
 * only what petromap wrote goes (a marked folder whole; an unmarked one keeps a file someone else
 * put there, with the folder): the start-up sweep's rule, as for maps. Real SQLite; no job runs.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '@/server/db/repo';
import type { Services } from '@/server/services';
import { projectDatasets } from '@/server/pipeline/project-inputs';
import type { RegistrationRecord } from '@/server/pipeline/correlate';
import { createCaller } from '@/server/routers/_app';
import type { Affine2to3 } from '@/lib/coords';
import type { VolumeMeta } from '@/lib/volume/types';
import { addVolumeDataset, tempWorkspace } from './temp-workspace';

let root: string;
let svc: Services;
let caller: ReturnType<typeof createCaller>;
const meta: VolumeMeta = { shape: [8, 16, 16], spacingUm: [2, 2, 2], originUm: [0, 0, 0], dtype: 'uint8', channels: ['grey'] };

/** A volume dataset as an import leaves it (`marked`: with petromap's marker, as every import since issue 12 writes it). */
async function addVolume(projectId: string, name: string, marked = true) {
  return (await addVolumeDataset(svc, projectId, { meta, data: new Uint8Array(8 * 16 * 16).fill(90) }, { name, chunk: [8, 16, 16], marked })).id;
}

function registration(volumeId: string, edsId: string): RegistrationRecord {
  const surface = { a: 0, b: 0, c: 2, tiltDeg: 0, azimuthDeg: 0, residualRms: 0.1, inlierFraction: 1, threshold: 0.5 };
  return {
    volumeId, edsId, edsToSlab: [1, 0, 0, 0, 1, 0], edsToVoxel: [2, 0, 0, 0, 1, 0, 1, 0, 0] as Affine2to3, slabToVoxel: [0, 0, 2, 0, 1, 0, 1, 0, 0], surface,
    quality: { miBefore: 0.5, miAfter: 0.5, scoreAfter: 0.6, coverage: 1, initialisation: 'automatic', refinedBy: 'ratio' },
    landmarks: [], source: 'auto', accepted: true, createdAt: Date.now(), overlay: { id: 1, width: 4, height: 4 },
  };
}

/** A file petromap writes in the project folder (`rel` inside it) */
function put(projectId: string, rel: string, text = 'x') {
  const f = path.join(svc.ws.projectDir(projectId), rel);
  mkdirSync(path.dirname(f), { recursive: true });
  writeFileSync(f, text);
  return f;
}

beforeAll(() => {
  ({ root, svc } = tempWorkspace({ prefix: 'petromap-delete-volume-' }));
  caller = createCaller({ svc });
});
afterAll(() => {
  svc?.repo.db.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('deleting an XRM volume', () => {
  it('removes the registrations, slabs, prediction, strokes and pick made on it, and nothing of the project\'s other volume', async () => {
    const projectId = svc.repo.createProject('Two scans of one core', 'mineralogy').id;
    const a = await addVolume(projectId, 'scan-A.nrrd');
    const b = await addVolume(projectId, 'scan-B.nrrd', false);
    const top = newId('d');
    const bottom = newId('d');
    // the top face registered on A, the bottom face on B (what a user gets after switching scans half-way)
    svc.repo.setArtifact(projectId, 'registration', registration(a, top));
    svc.repo.setArtifact(projectId, 'bottomRegistration', registration(b, bottom));
    const overlayTop = put(projectId, 'eds-on-slab.u8');
    const overlayBottom = put(projectId, 'eds-on-slab-bottom.u8');
    const slab = (volumeId: string) => JSON.stringify({ volumeId, width: 4, height: 4, slabToVoxel: [0, 0, 2, 0, 1, 0, 1, 0, 0], normal: [1, 0, 0], sampleDepthsVox: [0], surface: registration(volumeId, top).surface });
    const slabTop = [put(projectId, 'slab.json', slab(a)), put(projectId, 'slab.f32')];
    const slabBottom = [put(projectId, 'slab-bottom.json', slab(b)), put(projectId, 'slab-bottom.f32')];
    svc.repo.setArtifact(projectId, 'labelCounts', { key: JSON.stringify([1, a, top, null]), counts: { 2: 10 }, boundary: 0 });
    // a prediction of A with its statistics' 3D-view file
    svc.repo.setArtifact(projectId, 'predictionRun', { modelCreatedAt: 5, volumeId: a });
    svc.repo.setArtifact(projectId, 'prediction', { createdAt: 6, modelCreatedAt: 5, jobId: 'j1', classes: [1, 2], seconds: 1, shape: [8, 16, 16] });
    const predFile = put(projectId, 'prediction/labels.ome.zarr/zarr.json', '{}');
    const overview = put(projectId, 'results/labels-3d.nii');
    // strokes painted on A, and on B (petromap's names carry the volume's id)
    svc.repo.setArtifact(projectId, 'annotations', { volumeId: a, relPath: path.join('projects', projectId, `annotations-${a}.ome.zarr`), shape: [8, 16, 16], counts: { 1: 3 }, updatedAt: 1 });
    const strokesA = put(projectId, `annotations-${a}.ome.zarr/zarr.json`, '{}');
    const strokesB = put(projectId, `annotations-${b}.ome.zarr/zarr.json`, '{}');
    const lithA = put(projectId, `lithology-${a}/labels.ome.zarr/zarr.json`, '{}');
    // the model stays: it classifies this sample's minerals and can predict another scan of it
    const modelFile = put(projectId, 'model-j0/model.json', '{}');
    svc.repo.setArtifact(projectId, 'inputs', { volumeId: a, edsId: top });
    // someone's own notes in the project folder
    const notes = put(projectId, 'notes.txt', 'scan A was the first scan\n');

    await caller.datasets.delete({ id: a });

    for (const k of ['registration', 'labelCounts', 'predictionRun', 'prediction', 'annotations'] as const) expect(svc.repo.artifact(projectId, k), k).toBeUndefined();
    for (const f of [overlayTop, ...slabTop, predFile, overview, strokesA, lithA]) expect(existsSync(f), f).toBe(false);
    expect(svc.repo.artifact(projectId, 'inputs')).toEqual({ edsId: top });
    // B's registration, overlay, slab and strokes stay; so do the model and a file petromap did not write
    expect(svc.repo.artifact(projectId, 'bottomRegistration')?.volumeId).toBe(b);
    for (const f of [overlayBottom, ...slabBottom, strokesB, modelFile, notes]) expect(existsSync(f), f).toBe(true);
    expect(projectDatasets(svc, projectId).volume?.id).toBe(b);
    expect(existsSync(svc.ws.datasetDir(a))).toBe(false);

    // B (imported before petromap marked its folders): its registration and slab go; a file someone put in its folder stays, with the folder
    writeFileSync(path.join(svc.ws.datasetDir(b), 'scan-log.txt'), 'Versa 520, 80 kV\n');
    await caller.datasets.delete({ id: b });
    expect(svc.repo.artifact(projectId, 'bottomRegistration')).toBeUndefined();
    for (const f of [overlayBottom, ...slabBottom, strokesB]) expect(existsSync(f), f).toBe(false);
    expect(readdirSync(svc.ws.datasetDir(b))).toEqual(['scan-log.txt']);
    expect(existsSync(notes)).toBe(true);
    expect(projectDatasets(svc, projectId).volume).toBeUndefined();
  });

  it('removes a Multi-scale interior scan from its placements, and keeps the large scan\'s', async () => {
    const projectId = svc.repo.createProject('Lithology with an interior', 'lithology').id;
    const scan = await addVolume(projectId, 'plug.nrrd');
    const interior = await addVolume(projectId, 'interior-hr.nrrd');
    const other = await addVolume(projectId, 'interior-2.nrrd');
    await caller.multiscale.place({ projectId, datasetId: interior, centre: [4, 8, 8], angleDeg: 0 });
    await caller.multiscale.place({ projectId, datasetId: other, centre: [4, 8, 8], angleDeg: 0 });
    const pores = put(projectId, `multiscale/pores-${interior}/pores.json`, '{}');
    await caller.datasets.delete({ id: interior });
    const st = await caller.multiscale.state({ projectId });
    expect(st.interiors.map((e) => e.datasetId)).toEqual([other]);
    expect(existsSync(pores)).toBe(false);
    expect(st.scan?.id).toBe(scan);
  });

  it('removes the Multi-scale composite model computed from the deleted scan or interior, and keeps one that did not use it', async () => {
    const projectId = svc.repo.createProject('Composite model', 'lithology').id;
    const scan = await addVolume(projectId, 'plug.nrrd');
    const used = await addVolume(projectId, 'interior-used.nrrd');
    const unused = await addVolume(projectId, 'interior-later.nrrd');
    await caller.multiscale.place({ projectId, datasetId: used, centre: [4, 8, 8], angleDeg: 0 });
    await caller.multiscale.place({ projectId, datasetId: unused, centre: [4, 8, 8], angleDeg: 0 });
    /** a stored result as startUpscale leaves it: its record and run folder */
    const storeResult = (interiorIds?: string[]) => {
      const state = JSON.parse(readFileSync(path.join(svc.ws.projectDir(projectId), 'multiscale', 'state.json'), 'utf8'));
      state.result = { scanId: scan, predictionJobId: 'j7', at: 1, ...(interiorIds ? { interiorIds } : {}) };
      put(projectId, 'multiscale/state.json', JSON.stringify(state));
      return put(projectId, 'multiscale/run/report.json', '{}');
    };
    const report = storeResult([used]);
    // an interior placed after the result: deleting it leaves the result
    await caller.datasets.delete({ id: unused });
    expect(existsSync(report)).toBe(true);
    expect(JSON.parse(readFileSync(path.join(svc.ws.projectDir(projectId), 'multiscale', 'state.json'), 'utf8')).result?.scanId).toBe(scan);
    // the interior it measured: the result goes with it
    await caller.datasets.delete({ id: used });
    expect(existsSync(report)).toBe(false);
    expect((await caller.multiscale.state({ projectId })).result).toBeNull();
    // the large scan it was computed from: the result goes with it, as the scan's prediction does
    const report2 = storeResult();
    await caller.datasets.delete({ id: scan });
    expect(existsSync(report2)).toBe(false);
    expect(JSON.parse(readFileSync(path.join(svc.ws.projectDir(projectId), 'multiscale', 'state.json'), 'utf8')).result).toBeNull();
  });
});
