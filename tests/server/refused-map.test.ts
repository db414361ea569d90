/**
 * A wrong map given as the bottom face (issue 15 §1, what a user expects): lib refuses it in the
 * automatic registration, named by the name the user uploaded it under (not the file inside its
 * zip); it does not become the project's bottom map, so the map before it stays the bottom map
 * with its accepted registration, and Train keeps both faces. Marking it as the bottom face again
 * (to place it with landmarks) makes it the bottom map. Deleting a map removes what belonged to it
 * (its registration, its overlay file, its refusal) and nothing else, and of its folder only what
 * petromap wrote there. Training on both faces names each map as uploaded too. Real SQLite, worker threads, ITK-Wasm; no elastix run (the registrations
 * before are the generator's truth, stored as the Correlate step stores them).
 */
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Services } from '@/server/services';
import { projectDatasets } from '@/server/pipeline/project-inputs';
import { acceptedBottomRegistration } from '@/server/pipeline/train-model';
import type { RegistrationRecord } from '@/server/pipeline/correlate';
import { createCaller } from '@/server/routers/_app';
import { generateTwoFaceSandstone, type TwoFaceSample } from '@/lib/synthetic/two-faces';
import type { MineralMap } from '@/lib/eds/types';
import type { Affine2to3 } from '@/lib/coords';
import { addEdsDataset, addVolumeDataset, tempWorkspace } from './temp-workspace';

let root: string;
let svc: Services;
let caller: ReturnType<typeof createCaller>;
let projectId: string;
let volumeId: string;
let s: TwoFaceSample;
const ids: Record<string, string> = {};

/** `marked`: the folder carries petromap's marker, as every import writes it (false: imported by a petromap before the marker) */
async function addEds(map: MineralMap, name: string, face: 'bottom' | null, marked = true) {
  return (await addEdsDataset(svc, projectId, map, { name, face, marked })).id;
}

/** A registration as the Correlate step stores it, at the generator's true pose. */
function registration(edsId: string, edsToVoxel: number[], miAfter: number): RegistrationRecord {
  const surface = { a: 0, b: 0, c: 5, tiltDeg: 0, azimuthDeg: 0, residualRms: 0.1, inlierFraction: 1, threshold: 0.5 };
  return {
    volumeId, edsId, edsToSlab: [1, 0, 0, 0, 1, 0], edsToVoxel: edsToVoxel as Affine2to3, slabToVoxel: [0, 0, 5, 0, 1, 0, 1, 0, 0], surface,
    quality: { miBefore: miAfter, miAfter, scoreAfter: 0.6, coverage: 1, initialisation: 'automatic', refinedBy: 'ratio' },
    landmarks: [], source: 'auto', accepted: true, createdAt: Date.now(), overlay: { id: 7, width: 4, height: 4 },
  };
}

beforeAll(async () => {
  ({ root, svc } = tempWorkspace({ prefix: 'petromap-refused-map-' }));
  const { ws, repo } = svc;
  caller = createCaller({ svc });
  s = generateTwoFaceSandstone({ shape: [48, 112, 112], seed: 4, grainDiameterVox: 14 });
  projectId = repo.createProject('Two faces, one wrong', 'mineralogy').id;
  volumeId = (await addVolumeDataset(svc, projectId, s.volume, { name: 'core.nrrd', chunk: [32, 64, 64] })).id;
  ids.top = await addEds(s.eds, 'top.zip', null);
  ids.bottom = await addEds({ ...s.bottom.eds, source: 'eds-map.png' }, 'core-4-bottom.zip', 'bottom', false);
  repo.setArtifact(projectId, 'registration', registration(ids.top, s.truth.edsToVoxel, 0.5));
  repo.setArtifact(projectId, 'bottomRegistration', registration(ids.bottom, s.bottom.edsToVoxel, 0.45));
  mkdirSync(ws.projectDir(projectId), { recursive: true });
  writeFileSync(path.join(ws.projectDir(projectId), 'eds-on-slab-bottom.u8'), new Uint8Array(20));
  writeFileSync(path.join(ws.projectDir(projectId), 'eds-on-slab.u8'), new Uint8Array(20));
}, 120_000);
afterAll(() => {
  svc?.repo.db.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('a wrong map given as the bottom face', () => {
  it('is refused, named as uploaded; the bottom face keeps the map before it and its accepted registration', async () => {
    const before = { top: svc.repo.artifact(projectId, 'registration'), bottom: svc.repo.artifact(projectId, 'bottomRegistration') };
    // a map whose minerals name no class of this project (the file inside its zip: eds-map.png)
    const wrong: MineralMap = { ...s.bottom.eds, source: 'eds-map.png', legend: s.bottom.eds.legend.map((p, k) => ({ ...p, name: `Unobtainium ${k}` })) };
    ids.wrong = await addEds(wrong, 'core-4-top-again.zip', 'bottom');
    // until its registration is tried it is the newest bottom map: the one Correlate shows
    expect(projectDatasets(svc, projectId).bottomEds?.id).toBe(ids.wrong);
    expect(acceptedBottomRegistration(svc, projectId)).toBeUndefined();

    const j = await svc.jobs.wait((await caller.correlate.autoRegister({ projectId, face: 'bottom' })).jobId);
    expect(j.state).toBe('failed');
    expect(j.error).toMatch(/^The second EDS map \(core-4-top-again\.zip\), bottom face: none of its minerals \(Unobtainium 0/);
    expect(j.error).not.toMatch(/eds-map\.png/);
    expect(j.error).toMatch(/core-4-top-again\.zip is not used as the bottom face's map: core-4-bottom\.zip is again, with its registration \(accepted\)\.$/);

    // nothing stored before is lost, and the earlier registration is the current one again
    expect(svc.repo.artifact(projectId, 'registration')).toEqual(before.top);
    expect(svc.repo.artifact(projectId, 'bottomRegistration')).toEqual(before.bottom);
    expect(projectDatasets(svc, projectId).bottomEds?.id).toBe(ids.bottom);
    expect(acceptedBottomRegistration(svc, projectId)?.edsId).toBe(ids.bottom);
    const st = await caller.correlate.state({ projectId, face: 'bottom' });
    expect(st.eds?.name).toBe('core-4-bottom.zip');
    expect(st.registration?.accepted).toBe(true);
    expect(st.faces).toEqual({ top: { name: 'top.zip', accepted: true }, bottom: { name: 'core-4-bottom.zip', accepted: true } });
    // the Data step lists it, refused, with lib's reason
    const row = (await caller.datasets.list({ projectId })).find((d) => d.id === ids.wrong)!;
    expect(row.refused).toMatch(/none of its minerals/);
    expect((await caller.datasets.list({ projectId })).find((d) => d.id === ids.bottom)!.refused).toBeNull();
  }, 120_000);

  it('marked as the bottom face again (to place it with landmarks), it is the bottom map; marked top, it is not', async () => {
    await caller.datasets.setFace({ id: ids.wrong, face: 'bottom' });
    expect(projectDatasets(svc, projectId).bottomEds?.id).toBe(ids.wrong);
    expect(svc.repo.artifact(projectId, 'refusedMaps')?.[ids.wrong]).toBeUndefined();
    // the earlier map's registration is still stored: it shows again once that map is the bottom map
    await caller.datasets.setFace({ id: ids.wrong, face: 'top' });
    expect(projectDatasets(svc, projectId).bottomEds?.id).toBe(ids.bottom);
    expect(acceptedBottomRegistration(svc, projectId)?.edsId).toBe(ids.bottom);
  });
});

describe('training on both faces', () => {
  it('names each face\'s map as uploaded, not by the file inside its zip', async () => {
    // the map whose minerals name no class, placed as the bottom face (its landmark registration accepted): training stops at its labels
    const saved = svc.repo.artifact(projectId, 'bottomRegistration')!;
    await caller.datasets.setFace({ id: ids.wrong, face: 'bottom' });
    svc.repo.setArtifact(projectId, 'bottomRegistration', registration(ids.wrong, s.bottom.edsToVoxel, 0.45));
    try {
      expect((await caller.train.state({ projectId })).trainFaces).toEqual(['top', 'bottom']);
      const j = await svc.jobs.wait((await caller.train.start({ projectId, epochs: 1 })).jobId);
      expect(j.state).toBe('failed');
      expect(j.error).toMatch(/No surface voxel received a label from The EDS map core-4-top-again\.zip \(bottom face\)/);
      expect(j.error).not.toMatch(/eds-map\.png/);
      expect(svc.repo.artifact(projectId, 'model')).toBeUndefined();
    } finally {
      const prep = svc.repo.artifact(projectId, 'trainPrepareJob');
      if (prep) await svc.jobs.wait(prep.id);
      svc.repo.setArtifact(projectId, 'bottomRegistration', saved);
      await caller.datasets.setFace({ id: ids.wrong, face: 'top' });
    }
  }, 120_000);
});

describe('deleting a map', () => {
  it('removes what belonged to that map only: not the registration of another map', async () => {
    // its folder carries petromap's marker: removed whole, with what a job of petromap's wrote into it
    writeFileSync(path.join(svc.ws.datasetDir(ids.wrong), 'cache-0.bin'), 'x');
    await caller.datasets.delete({ id: ids.wrong });
    expect(svc.repo.artifact(projectId, 'bottomRegistration')?.edsId).toBe(ids.bottom);
    expect(existsSync(path.join(svc.ws.projectDir(projectId), 'eds-on-slab-bottom.u8'))).toBe(true);
    expect(existsSync(svc.ws.datasetDir(ids.wrong))).toBe(false);
  });

  it('removes its registration and overlay (no stale row), keeps the top face\'s, and of its folder only what petromap wrote', async () => {
    // a folder imported before petromap wrote its marker: a file someone put in it stays, with the folder
    writeFileSync(path.join(svc.ws.datasetDir(ids.bottom), 'notes-of-the-lab.txt'), 'mapped 2026-11-30\n');
    await caller.datasets.delete({ id: ids.bottom });
    expect(svc.repo.artifact(projectId, 'bottomRegistration')).toBeUndefined();
    expect(existsSync(path.join(svc.ws.projectDir(projectId), 'eds-on-slab-bottom.u8'))).toBe(false);
    expect(svc.repo.artifact(projectId, 'registration')?.edsId).toBe(ids.top);
    expect(existsSync(path.join(svc.ws.projectDir(projectId), 'eds-on-slab.u8'))).toBe(true);
    expect(readdirSync(svc.ws.datasetDir(ids.bottom))).toEqual(['notes-of-the-lab.txt']);
    expect(projectDatasets(svc, projectId).bottomEds).toBeUndefined();
    expect((await caller.correlate.state({ projectId, face: 'bottom' })).faces.bottom).toBeNull();
  });
});
