/**
 * Correlate (issue 13: no heavy work inside requests): the surface slab is found by a job whose
 * result is stored (slab.json + slab.f32) and reported as pending meanwhile; requests (state,
 * fitLandmarks, slab.png, eds-on-slab.png) only read stored artifacts; auto-register reuses the
 * stored slab instead of extracting it again, and computes it once itself when there is none.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { decode } from 'fast-png';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyAffine2to3, type Affine2to3 } from '@/lib/coords';
import { registrationError } from '@/lib/registration';
import { createCaller } from '@/server/routers/_app';
import { fitProjectLandmarks, readSlab, SLAB_JOB, type RegistrationRecord } from '@/server/pipeline/correlate';
import type { Services } from '@/server/services';
import { addVolumeDataset } from './temp-workspace';
import { makeSandstoneProject, type TrainFixture } from './train-fixture';

let fx: TrainFixture;
let caller: ReturnType<typeof createCaller>;
const g = globalThis as unknown as { __petromap?: Services };

beforeAll(async () => {
  fx = await makeSandstoneProject({ shape: [32, 80, 80], seed: 5, grainDiameterVox: 12 });
  g.__petromap = fx.svc; // the route handlers call services()
  caller = createCaller({ svc: fx.svc });
}, 60_000);
afterAll(() => {
  delete g.__petromap;
  fx?.cleanup();
});

type Route = { GET: (r: Request, c: { params: Promise<Record<string, string>> }) => Promise<Response> };
async function getPng(route: 'slab.png' | 'eds-on-slab.png', query = '') {
  const mod = (route === 'slab.png'
    ? await import('@/app/api/projects/[projectId]/slab.png/route')
    : await import('@/app/api/projects/[projectId]/eds-on-slab.png/route')) as Route;
  const res = await mod.GET(new Request(`http://x/api/projects/${fx.projectId}/${route}${query}`), { params: Promise.resolve({ projectId: fx.projectId }) });
  return { status: res.status, body: new Uint8Array(await res.arrayBuffer()) };
}

/** Landmarks at the EDS map's corners, placed on the stored slab by the synthetic truth. */
function truthLandmarks(slabToVoxel: Affine2to3) {
  const m = fx.sample.truth.edsToVoxel;
  const { width, height } = fx.sample.eds;
  // voxel -> slab: the slab affine's in-plane columns are orthonormal; solve by least squares on (y, x)
  const toSlab = (z: number, y: number, x: number): [number, number] => {
    const [a, b, c, d, e, f, h, i, j] = slabToVoxel;
    const r = [z - c, y - f, x - j];
    const u = a * r[0]! + d * r[1]! + h * r[2]!;
    const v = b * r[0]! + e * r[1]! + i * r[2]!;
    return [u, v];
  };
  return [[6, 6], [width - 7, 6], [6, height - 7], [width - 7, height - 7]].map(([u, v]) => {
    const p = applyAffine2to3(m as Affine2to3, u!, v!);
    return { eds: [u!, v!] as [number, number], slab: toSlab(p[0], p[1], p[2]) };
  });
}

/** Mean distance (voxels) of the registration's EDS -> voxel map from the synthetic truth over the map. */
function errorVsTruth(rec: RegistrationRecord) {
  const { width, height } = fx.sample.eds;
  return registrationError(rec.edsToVoxel, fx.sample.truth.edsToVoxel as Affine2to3, width, height, fx.sample.volume.meta.shape).mean;
}

describe('correlate: the slab is a job, requests read what it stored', () => {
  it('before the slab job: nothing stored, the routes and the landmark fit say so', async () => {
    const st = await caller.correlate.state({ projectId: fx.projectId });
    expect(st.slabStatus).toBe('none');
    expect(st.slab).toBeNull();
    expect(st.slabJob).toBeNull();
    expect(st.eds!.legend.length).toBeGreaterThan(2); // from the dataset's stored info
    const png = await getPng('slab.png');
    expect(png.status).toBe(422);
    expect(new TextDecoder().decode(png.body)).toMatch(/surface has not been found yet/);
    const lms = [[1, 1], [20, 1], [1, 20]].map(([u, v]) => ({ eds: [u, v] as [number, number], slab: [u, v] as [number, number] }));
    await expect(caller.correlate.fitLandmarks({ projectId: fx.projectId, landmarks: lms, model: 'similarity' })).rejects.toThrow(/surface has not been found yet/);
    expect(fx.svc.repo.listJobs(fx.projectId)).toHaveLength(0); // none of this started work
  });

  it('a cancelled slab job is reported, not restarted by the query', async () => {
    const { jobId } = await caller.correlate.prepare({ projectId: fx.projectId });
    fx.svc.jobs.cancel(jobId);
    await fx.svc.jobs.wait(jobId);
    const st = await caller.correlate.state({ projectId: fx.projectId });
    expect(st.slabStatus).toBe('failed');
    expect(st.slabJob).toMatchObject({ id: jobId, state: 'cancelled' });
    expect(fx.svc.repo.listJobs(fx.projectId).filter((j) => j.kind === SLAB_JOB)).toHaveLength(1);
  });

  it('prepare starts one job; the query reports it pending, then the stored slab', async () => {
    const { svc, projectId } = fx;
    const a = await caller.correlate.prepare({ projectId });
    const b = await caller.correlate.prepare({ projectId });
    expect(b.jobId).toBe(a.jobId); // one slab job per project and volume at a time
    const pending = await caller.correlate.state({ projectId });
    expect(pending.slabStatus).toBe('pending');
    expect(pending.slabJob?.id).toBe(a.jobId);
    expect(['queued', 'running']).toContain(pending.slabJob?.state);
    expect(pending.slab).toBeNull();
    const j = await svc.jobs.wait(a.jobId);
    expect(j.state).toBe('done');

    const st = await caller.correlate.state({ projectId });
    expect(st.slabStatus).toBe('ready');
    expect(st.slabJob).toBeNull();
    expect(st.slab!.width).toBeGreaterThan(60);
    // the truth plane of the synthetic sample, found within half a voxel at the centre
    const t = fx.sample.truth.surface;
    const [, ny, nx] = fx.sample.volume.meta.shape;
    expect(Math.abs(st.slab!.depthVox - (t.c + t.a * (nx / 2) + t.b * (ny / 2)))).toBeLessThan(0.5);

    const dir = svc.ws.projectDir(projectId);
    expect(statSync(path.join(dir, 'slab.f32')).size).toBe(st.slab!.width * st.slab!.height * 4);
    expect(existsSync(path.join(dir, 'slab.json'))).toBe(true);
    const png = await getPng('slab.png');
    expect(png.status).toBe(200);
    const img = decode(png.body);
    expect([img.width, img.height]).toEqual([st.slab!.width, st.slab!.height]);
  }, 60_000);

  it('a landmark fit stores its overlay; eds-on-slab.png renders it without warping the map again', async () => {
    const { svc, projectId } = fx;
    const slab = (await readSlab(svc, projectId))!;
    const landmarks = truthLandmarks(slab.slabToVoxel);
    const fit = await caller.correlate.fitLandmarks({ projectId, landmarks, model: 'similarity' });
    expect(fit.rms).toBeLessThan(1);
    const rec = svc.repo.artifact(projectId, 'registration')!;
    expect(rec.overlay).toMatchObject({ width: slab.width, height: slab.height });
    expect(errorVsTruth(rec)).toBeLessThan(1);
    const labels = decode((await getPng('eds-on-slab.png', '?mode=labels')).body);
    expect([labels.width, labels.height]).toEqual([slab.width, slab.height]);
    const legend = fx.sample.eds.legend.map((p) => p.color.join(','));
    let covered = 0;
    for (let i = 0; i < labels.width * labels.height; i++) {
      if (labels.data[i * 4 + 3] === 0) continue;
      covered++;
      expect(legend).toContain(`${labels.data[i * 4]},${labels.data[i * 4 + 1]},${labels.data[i * 4 + 2]}`);
    }
    expect(covered / (labels.width * labels.height)).toBeGreaterThan(0.3);
    expect((await getPng('eds-on-slab.png', '?mode=outlines')).status).toBe(200);
    // an overlay file that does not belong to the record is refused, not shown
    svc.repo.setArtifact(projectId, 'registration', { ...rec, overlay: { ...rec.overlay!, id: rec.overlay!.id + 1 } });
    expect((await getPng('eds-on-slab.png')).status).toBe(422);
    svc.repo.setArtifact(projectId, 'registration', rec);
  });

  it('a landmark fit that ends after the project switched to another volume is not stored over the new one', async () => {
    const { svc, projectId } = fx;
    const slab = (await readSlab(svc, projectId))!;
    const before = svc.repo.artifact(projectId, 'registration')!;
    const other = await addVolumeDataset(svc, projectId, { meta: { shape: [4, 8, 8], spacingUm: [1, 1, 1], originUm: [0, 0, 0], dtype: 'uint8', channels: ['grey'] }, data: new Uint8Array(256) }, { name: 'other.nrrd', chunk: [4, 8, 8] });
    const inputs = svc.repo.artifact(projectId, 'inputs');
    // the fit reads the volume in use when called, then awaits the slab and the map: the switch lands meanwhile
    const fit = fitProjectLandmarks(svc, projectId, truthLandmarks(slab.slabToVoxel), 'similarity');
    svc.repo.setArtifact(projectId, 'inputs', { ...(inputs ?? {}), volumeId: other.id });
    await expect(fit).rejects.toThrow(/switched to another volume while this registration was computed: it was not stored/);
    expect(svc.repo.artifact(projectId, 'registration')).toEqual(before);
    if (inputs) svc.repo.setArtifact(projectId, 'inputs', inputs);
    else svc.repo.setArtifact(projectId, 'inputs', { volumeId: before.volumeId });
    svc.repo.deleteDataset(other.id);
  });

  it('auto-register reuses the stored slab (it is not extracted again)', async () => {
    const { svc, projectId } = fx;
    const f32 = path.join(svc.ws.projectDir(projectId), 'slab.f32');
    const before = statSync(f32).mtimeMs;
    const slab = (await readSlab(svc, projectId))!;
    const { jobId } = await caller.correlate.autoRegister({ projectId, landmarks: truthLandmarks(slab.slabToVoxel), model: 'similarity' });
    const j = await svc.jobs.wait(jobId);
    expect(j.error).toBeNull();
    expect(j.state).toBe('done');
    expect(statSync(f32).mtimeMs).toBe(before);
    const rec = svc.repo.artifact(projectId, 'registration')!;
    expect(rec.source).toBe('auto');
    expect(rec.slabToVoxel).toEqual(slab.slabToVoxel);
    expect(errorVsTruth(rec)).toBeLessThan(1);
    expect((await getPng('eds-on-slab.png')).status).toBe(200);
    expect(svc.repo.listJobs(projectId).filter((x) => x.kind === SLAB_JOB && x.state === 'done')).toHaveLength(1);
  }, 120_000);

  it('auto-register without a stored slab computes it once, stores it, and registers on it', async () => {
    const { svc, projectId } = fx;
    const dir = svc.ws.projectDir(projectId);
    const { rmSync } = await import('node:fs');
    rmSync(path.join(dir, 'slab.json'));
    rmSync(path.join(dir, 'slab.f32'));
    expect((await caller.correlate.state({ projectId })).slabStatus).toBe('none');
    const { jobId } = await caller.correlate.autoRegister({ projectId, model: 'similarity' });
    const j = await svc.jobs.wait(jobId);
    expect(j.error).toBeNull();
    const slab = (await readSlab(svc, projectId))!;
    const rec = svc.repo.artifact(projectId, 'registration')!;
    expect(rec.slabToVoxel).toEqual(slab.slabToVoxel);
    expect(rec.overlay).toMatchObject({ width: slab.width, height: slab.height });
    expect(errorVsTruth(rec)).toBeLessThan(1);
    expect((await caller.correlate.state({ projectId })).slabStatus).toBe('ready');
  }, 180_000);
});
