/**
 * Issue 15 §1 in the web app's server: a project with the EDS maps of two faces. The map of the
 * bottom face is a dataset marked 'bottom' (SQLite migration 2: a face column; maps imported
 * before read as top maps); each face is found, registered, shown and accepted on its own
 * (correlate.* with `face`); Train takes the labels of every accepted face (lib trainFromLabels
 * with both maps). A wrong bottom map is refused in lib's words, and nothing stored before is lost.
 * Real SQLite, real worker threads, real ITK-Wasm.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decode } from 'fast-png';
import { openDb } from '@/server/db';
import { MIGRATIONS } from '@/server/db/migrations';
import { Repo } from '@/server/db/repo';
import type { Services } from '@/server/services';
import { defaultClassFor, projectDatasets } from '@/server/pipeline/project-inputs';
import { reportCsv } from '@/server/pipeline/results-export';
import { createCaller } from '@/server/routers/_app';
import { generateSandstone } from '@/lib/synthetic';
import { generateTwoFaceSandstone, type TwoFaceSample } from '@/lib/synthetic/two-faces';
import type { MineralMap } from '@/lib/eds/types';
import { addEdsDataset, addVolumeDataset, tempWorkspace } from './temp-workspace';

describe('SQLite migration 2 (the face of an EDS map)', () => {
  it('keeps a project of the version before unchanged: its map is the top map, its registration reads as stored', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'petromap-migrate-'));
    try {
      const file = path.join(dir, 'petromap.db');
      // a database written by the petromap before faces (user_version 1)
      const old = new Database(file);
      old.exec(MIGRATIONS[0]!);
      old.pragma('user_version = 1');
      old.prepare("INSERT INTO projects (id, name, kind, created_at) VALUES ('p1', 'Old core', 'mineralogy', 1)").run();
      old.prepare("INSERT INTO datasets (id, project_id, name, kind, status, rel_path, info, created_at) VALUES ('d1', 'p1', 'v.nrrd', 'volume', 'ready', 'datasets/d1', NULL, 1)").run();
      old.prepare("INSERT INTO datasets (id, project_id, name, kind, status, rel_path, info, created_at) VALUES ('d2', 'p1', 'map.zip', 'eds', 'ready', 'datasets/d2', NULL, 2)").run();
      old.prepare("INSERT INTO artifacts (project_id, key, value, updated_at) VALUES ('p1', 'inputs', '{\"edsId\":\"d2\"}', 3)").run();
      old.close();

      const db = openDb(file);
      expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
      const repo = new Repo(db);
      expect(repo.dataset('d2')?.face).toBeNull();
      const svc = { repo } as unknown as Services;
      const d = projectDatasets(svc, 'p1');
      expect([d.volume?.id, d.eds?.id, d.bottomEds]).toEqual(['d1', 'd2', undefined]);
      // the face column refuses anything but top / bottom
      expect(() => db.prepare("UPDATE datasets SET face = 'side' WHERE id = 'd2'").run()).toThrow(/CHECK/);
      repo.setDatasetFace('d2', 'bottom');
      expect(projectDatasets(svc, 'p1').eds).toBeUndefined();
      expect(projectDatasets(svc, 'p1').bottomEds?.id).toBe('d2');
      db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

let root: string;
let svc: Services;
let caller: ReturnType<typeof createCaller>;
let projectId: string;
let s: TwoFaceSample;

async function addEds(map: MineralMap, name: string, face: 'top' | 'bottom' | null) {
  return (await addEdsDataset(svc, projectId, map, { name, face })).id;
}

async function waitJob(jobId: string) {
  const j = await svc.jobs.wait(jobId);
  return j;
}

beforeAll(async () => {
  ({ root, svc } = tempWorkspace({ prefix: 'petromap-two-faces-' }));
  const { ws, repo } = svc;
  caller = createCaller({ svc });
  (globalThis as unknown as { __petromap?: Services }).__petromap = svc; // the PNG routes call services()
  // the sample of lib's two-face pipeline test (tests/lib/pipeline/two-faces.test.ts)
  s = generateTwoFaceSandstone({ shape: [48, 112, 112], seed: 4, grainDiameterVox: 14 });
  projectId = repo.createProject('Two faces', 'mineralogy').id;
  await addVolumeDataset(svc, projectId, s.volume, { name: 'core.nrrd', chunk: [32, 64, 64] });
  await addEds(s.eds, 'top.zip', null);
  mkdirSync(ws.projectDir(projectId), { recursive: true });
  writeFileSync(path.join(ws.projectDir(projectId), 'truth.json'), JSON.stringify({ edsToVoxel: s.truth.edsToVoxel, bottom: { edsToVoxel: s.bottom.edsToVoxel } }));
  // this machine's feature throughput (the Train page's time estimate) as if measured: its measurement is tested in train.test.ts, not here
  repo.setArtifact(projectId, 'featureThroughput', { unitsPerSec: 2e7, measuredAt: Date.now() });
}, 120_000);
afterAll(() => {
  delete (globalThis as unknown as { __petromap?: Services }).__petromap;
  svc?.repo.db.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('a project with the EDS maps of its top and bottom faces', () => {
  it('has no bottom face until a map is marked as one; asking for it says what to do', async () => {
    const st = await caller.correlate.state({ projectId, face: 'bottom' });
    expect(st.eds).toBeNull();
    expect(st.faces.bottom).toBeNull();
    await expect(caller.correlate.autoRegister({ projectId, face: 'bottom' })).rejects.toThrow(/no EDS map of the bottom face yet.*Data step/);
    // the top face reads as a one-map project always did
    expect((await caller.correlate.state({ projectId })).eds?.name).toBe('top.zip');
  });

  it('refuses to register the bottom map automatically before the top map is registered', async () => {
    await addEds(s.bottom.eds, 'bottom.zip', 'bottom');
    await expect(caller.correlate.autoRegister({ projectId, face: 'bottom' })).rejects.toThrow(/Register the top face's EDS map first/);
  });

  it('registers each face on its own, against the truth, and Train takes both faces\' labels', async () => {
    const top = await waitJob((await caller.correlate.autoRegister({ projectId })).jobId);
    expect(top.state, top.error ?? '').toBe('done');
    await caller.correlate.accept({ projectId });
    const bottom = await waitJob((await caller.correlate.autoRegister({ projectId, face: 'bottom' })).jobId);
    expect(bottom.state, bottom.error ?? '').toBe('done');

    const st = await caller.correlate.state({ projectId, face: 'bottom' });
    expect(st.eds?.name).toBe('bottom.zip');
    expect(st.slab).not.toBeNull();
    const reg = st.registration!;
    // against the generator's truth, in the volume's own voxels (the top's acceptance threshold: 0.5 voxel mean)
    expect(reg.truthError!.meanVox).toBeLessThan(0.5);
    console.log(`bottom face 48x112x112 seed 4: ${reg.truthError!.meanVox.toFixed(3)} / ${reg.truthError!.maxVox.toFixed(3)} voxel (mean / max), MI ${reg.quality.miAfter?.toFixed(3)}`);
    // each face shown on its own: the bottom slab and overlay are the bottom's files
    const topSt = await caller.correlate.state({ projectId });
    expect(topSt.registration!.edsToVoxel).not.toEqual(reg.edsToVoxel);
    expect(topSt.faces).toEqual({ top: { name: 'top.zip', accepted: true }, bottom: { name: 'bottom.zip', accepted: false } });
    const png = async (route: 'slab.png' | 'eds-on-slab.png', q: string) => {
      const mod = (route === 'slab.png' ? await import('@/app/api/projects/[projectId]/slab.png/route') : await import('@/app/api/projects/[projectId]/eds-on-slab.png/route')) as
        { GET: (r: Request, c: { params: Promise<Record<string, string>> }) => Promise<Response> };
      const res = await mod.GET(new Request(`http://x/api/projects/${projectId}/${route}${q}`), { params: Promise.resolve({ projectId }) });
      expect(res.status).toBe(200);
      return decode(new Uint8Array(await res.arrayBuffer()));
    };
    const [slabTop, slabBottom] = [await png('slab.png', ''), await png('slab.png', '?face=bottom')];
    expect(slabBottom.width).toBe(st.slab!.width);
    expect(Buffer.from(slabBottom.data).equals(Buffer.from(slabTop.data))).toBe(false);
    expect((await png('eds-on-slab.png', '?face=bottom&mode=labels')).width).toBe(st.slab!.width);

    // Train waits for the bottom face's acceptance to take it
    expect((await caller.train.state({ projectId })).trainFaces).toEqual(['top']);
    const topOnly = svc.repo.artifact(projectId, 'trainPrepareJob')!.id;
    const counting = svc.jobs.isActive(topOnly);
    await caller.correlate.accept({ projectId, face: 'bottom' });
    expect((await caller.train.state({ projectId })).trainFaces).toEqual(['top', 'bottom']);
    // the label count of the top face alone is not needed any more: stopped if it still ran (a count of both faces replaces it)
    const ended = await svc.jobs.wait(topOnly);
    if (counting) expect(ended.state).toBe('cancelled');
    await caller.train.setFeatureSet({ projectId, specs: [{ filter: 'intensity', sigmaUm: 0 }, { filter: 'gaussian', sigmaUm: 2 * s.volume.meta.spacingUm[2] }, { filter: 'hessianEigen', sigmaUm: 2 * s.volume.meta.spacingUm[2] }] });
    // what is checked here (both faces' labels and held-out tiles, each face's shares on Results) does not depend on the model's accuracy: few epochs
    const tj = await waitJob((await caller.train.start({ projectId, epochs: 3 })).jobId);
    expect(tj.state, tj.error ?? '').toBe('done');
    const model = svc.repo.artifact(projectId, 'model')!;
    expect(model.faces).toEqual(['top', 'bottom']);
    // held-out tiles on both faces: held-out voxels near the top and near the bottom of the volume
    expect(model.counts.reduce((a, c) => a + c.heldOut, 0)).toBeGreaterThan(0);
    expect((await caller.train.state({ projectId })).model?.faces).toEqual(['top', 'bottom']);

    // Results: each face's 2D EDS shares beside the 3D ones (both faces were trained on), and in the modal CSV
    const pj = await waitJob((await caller.train.predict({ projectId })).jobId);
    expect(pj.state, pj.error ?? '').toBe('done');
    let rs = await caller.results.state({ projectId });
    if (rs.stats.status === 'pending') {
      await svc.jobs.wait(rs.stats.jobId!);
      rs = await caller.results.state({ projectId });
    }
    expect(rs.stats.status).toBe('ready');
    expect(rs.modalFaces).toMatchObject({ top: 'top.zip', bottom: 'bottom.zip' });
    // against the bottom map's own pixels, class by mineral name
    const cls = new Map(s.bottom.eds.legend.map((p) => [p.id, defaultClassFor(p.name)]));
    const px = new Map<number, number>();
    for (const id of s.bottom.eds.labels) {
      const c = cls.get(id);
      if (c != null && rs.modal.some((m) => m.code === c)) px.set(c, (px.get(c) ?? 0) + 1);
    }
    const total = [...px.values()].reduce((a, b) => a + b, 0);
    for (const m of rs.modal) expect(m.edsBottomPct).toBeCloseTo((100 * (px.get(m.code) ?? 0)) / total, 3);
    expect(rs.modal.map((m) => m.edsBottomPct)).not.toEqual(rs.modal.map((m) => m.edsAreaPct));
    // the depth profile marks the bottom face at its depth below the top face: against the rock the generator put in the centre column
    const [nz, ny, nx] = s.volume.meta.shape;
    let rock = 0;
    for (let z = 0; z < nz; z++) if (s.truthLabels[(z * ny + (ny >> 1)) * nx + (nx >> 1)]) rock++;
    const dz = s.volume.meta.spacingUm[0];
    console.log(`bottom face depth at the centre: ${rs.depth!.bottomFaceUm!.toFixed(1)} µm, rock in the centre column ${rock * dz} µm`);
    expect(Math.abs(rs.depth!.bottomFaceUm! - rock * dz)).toBeLessThan(1.5 * dz);
    const csv = (await reportCsv(svc, projectId, 'modal')).csv.trim().split('\r\n');
    expect(csv[0]).toBe('class,name,voxels,volume_percent,top_eds_pixels,top_eds_area_percent,bottom_eds_pixels,bottom_eds_area_percent');
    const q = rs.modal.find((m) => m.name === 'quartz')!;
    expect(Number(csv.find((l) => l.startsWith(`${q.code},`))!.split(',')[7])).toBeCloseTo(q.edsBottomPct!, 3);
  }, 600_000);

  it('refuses a wrong bottom map in words and keeps what was stored before', async () => {
    const before = {
      bottom: svc.repo.artifact(projectId, 'bottomRegistration'),
      top: svc.repo.artifact(projectId, 'registration'),
      model: svc.repo.artifact(projectId, 'model'),
    };
    // the map of another sample (its EDS map has the same size from a thinner volume: only the map is used)
    const other = generateSandstone({ shape: [16, 112, 112], seed: 104, grainDiameterVox: 14 });
    await addEds({ ...other.eds, source: 'other.png' }, 'other-sample.zip', 'bottom');
    const j = await waitJob((await caller.correlate.autoRegister({ projectId, face: 'bottom' })).jobId);
    expect(j.state).toBe('failed');
    // named as the user uploaded it, not by the file inside its zip (other.png)
    expect(j.error).toMatch(/^The second EDS map \(other-sample\.zip\), bottom face does not match the bottom face of the volume.*Is it a map of this sample/);
    expect(j.error).toMatch(/other-sample\.zip is not used as the bottom face's map: bottom\.zip is again, with its registration \(accepted\)\.$/);
    expect(svc.repo.artifact(projectId, 'bottomRegistration')).toEqual(before.bottom);
    expect(svc.repo.artifact(projectId, 'registration')).toEqual(before.top);
    expect(svc.repo.artifact(projectId, 'model')).toEqual(before.model);
    // the refused map is not the bottom map: the earlier one is, with its accepted registration, and Train keeps both faces
    const st = await caller.correlate.state({ projectId, face: 'bottom' });
    expect(st.eds?.name).toBe('bottom.zip');
    expect(st.registration?.accepted).toBe(true);
    expect((await caller.train.state({ projectId })).trainFaces).toEqual(['top', 'bottom']);
  }, 300_000);
});
