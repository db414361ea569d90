/**
 * No heavy work inside a request (issue 13) in the Annotate step: deleting a class with strokes
 * starts the erase job (painting, clearing, training and proposing wait, with a message saying
 * why) and leaves exact stroke counts, also when the job is cancelled; the scan proposals are a
 * job whose result is stored keyed by what it was computed from: the query reads pending, then
 * the stored result; the CSV route serves only the stored result (404 / 409 otherwise). The
 * request handlers (tRPC procedures, routes) return with the job still running: they only start
 * jobs or read state.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPetromapError } from '@/lib/errors';
import { proposalsCsv } from '@/lib/report/proposals';
import { createCaller } from '@/server/routers/_app';
import {
  addClass, annotationClasses, annotationState, clearAnnotations, startTrainFromStrokes, writeAnnotationSlice,
} from '@/server/pipeline/annotate';
import { deleteClass } from '@/server/pipeline/annotate-jobs';
import { storeAt } from '@/server/storage/open-stores';
import type { Services } from '@/server/services';
import type { Shape3 } from '@/lib/volume/types';
import { addVolume, layeredPhantom, makeServices, type Fixture } from './annotate-helpers';

// chunks of 8 × 16 × 16: the erase pass stores 3 × 3 rows of chunks
const shape: Shape3 = [20, 40, 48];
const [nz, ny, nx] = shape;
let fx: Fixture;
let svc: Services;
let projectId: string;
let caller: ReturnType<typeof createCaller>;
const g = globalThis as unknown as { __petromap?: Services };
const headers = { host: 'localhost' };

beforeAll(async () => {
  fx = makeServices();
  svc = fx.svc;
  g.__petromap = svc; // the route handlers call services()
  caller = createCaller({ svc });
  projectId = svc.repo.createProject('Jobs of the Annotate step', 'lithology').id;
  await addVolume(svc, projectId, shape, layeredPhantom(shape).data);
  addClass(svc, projectId, { name: 'high porosity', color: [66, 135, 245] });
  addClass(svc, projectId, { name: 'low porosity', color: [230, 159, 0] });
  addClass(svc, projectId, { name: 'fracture', color: [213, 36, 94] });
});
afterAll(() => {
  delete g.__petromap;
  fx.cleanup();
});

/** Painted voxels per code, counted on disk. */
async function diskCounts(): Promise<Record<string, number>> {
  const rec = svc.repo.artifact(projectId, 'annotations')!;
  const data = (await (await storeAt(svc, rec.relPath)).readBlock({ start: [0, 0, 0], shape })) as Uint8Array;
  const c: Record<string, number> = {};
  for (const v of data) if (v) c[v] = (c[v] ?? 0) + 1;
  return c;
}

/** Strokes of all three classes on XY slices, an XZ slice and a YZ slice (they cross). */
async function paint() {
  for (let z = 0; z < nz; z += 3) {
    const s = new Uint8Array(ny * nx);
    for (let y = 2; y < ny - 2; y++) for (let x = 0; x < nx; x++) s[y * nx + x] = x < 16 ? 1 : x < 32 ? 2 : y % 5 === 0 ? 3 : 0;
    await writeAnnotationSlice(svc, projectId, 'z', z, s);
  }
  await writeAnnotationSlice(svc, projectId, 'y', 20, new Uint8Array(nz * nx).fill(1));
  const yz = new Uint8Array(nz * ny);
  for (let i = 0; i < yz.length; i++) yz[i] = i % 3 === 0 ? 1 : 2;
  await writeAnnotationSlice(svc, projectId, 'x', 40, yz);
}

const conflict = async (p: Promise<unknown> | (() => unknown), msg: RegExp) => {
  let err: unknown;
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    err = e;
  }
  expect(isPetromapError(err, 'Conflict'), `a Conflict, got ${String(err)}`).toBe(true);
  expect((err as Error).message).toMatch(msg);
};

describe('deleting a class with strokes: the erase job', () => {
  it('starts a job; painting waits with a message; the counts are exact when it ends', async () => {
    await paint();
    const before = await diskCounts();
    expect((await annotationState(svc, projectId)).strokes.map((s) => s.voxels)).toEqual([before[1], before[2], before[3]]);
    expect(before[1]).toBeGreaterThan(1000);

    const { jobId } = await caller.annotate.deleteClass({ projectId, code: 1, eraseStrokes: true });
    // the mutation only started the job
    expect(jobId).toBeTruthy();
    expect(svc.jobs.isActive(jobId!)).toBe(true);
    expect(svc.repo.job(jobId!)!.kind).toBe('annotate-erase-class');
    const during = await annotationState(svc, projectId);
    expect(during.erasing).toMatchObject({ jobId, code: 1, name: 'high porosity' });
    expect(during.classes.map((c) => c.code)).toEqual([1, 2, 3]);

    // meanwhile: painting (pipeline and route), clearing, training, deleting another class, proposing
    const slice = new Uint8Array(ny * nx).fill(2);
    await conflict(writeAnnotationSlice(svc, projectId, 'z', 1, slice), /Class "high porosity" is being erased from the painted volume \(\d+ % done\): painting is possible again when it has finished/);
    const route = await import('@/app/api/projects/[projectId]/annotations/slice/route');
    const put = await route.PUT(new Request(`http://localhost/api/projects/${projectId}/annotations/slice?axis=z&index=1`, { method: 'PUT', body: slice, headers }), { params: Promise.resolve({ projectId }) });
    expect(put.status).toBe(409);
    expect((await put.json()).error).toMatch(/being erased/);
    await conflict(clearAnnotations(svc, projectId), /clearing the strokes is possible again/);
    await conflict(() => startTrainFromStrokes(svc, projectId), /training is possible again/);
    await conflict(deleteClass(svc, projectId, 2, true), /deleting another class is possible again/);
    await conflict(caller.annotate.propose({ projectId, fovUm: [8, 8, 8] }).catch((e: { cause?: unknown }) => Promise.reject(e.cause ?? e)), /proposing scan locations/);

    const job = await svc.jobs.wait(jobId!);
    expect(job.error).toBeNull();
    expect(job.state).toBe('done');
    expect(job.result).toMatchObject({ erased: before[1] });
    const after = await diskCounts();
    expect(after[1]).toBeUndefined();
    expect(after).toEqual({ 2: before[2], 3: before[3] });
    expect(svc.repo.artifact(projectId, 'annotations')!.counts).toEqual(after);
    const st = await annotationState(svc, projectId);
    expect(st.erasing).toBeNull();
    expect(st.classes.map((c) => c.code)).toEqual([2, 3]);
    expect(st.strokes).toEqual([{ code: 2, voxels: before[2] }, { code: 3, voxels: before[3] }]);
    expect(svc.repo.artifact(projectId, 'eraseClassJob')).toBeUndefined();

    // painting works again; code 1 is free again
    const r = await writeAnnotationSlice(svc, projectId, 'z', 1, slice);
    expect(r.counts).toEqual(await diskCounts());
    expect(addClass(svc, projectId, { name: 'vuggy', color: [10, 200, 10] }).code).toBe(1);
  }, 60_000);

  it('a class without strokes goes at once; one with strokes needs the confirmation', async () => {
    const jobs = svc.repo.listJobs(projectId).length;
    await expect(deleteClass(svc, projectId, 3, false)).rejects.toThrow(/"fracture" has [\d,]+ painted voxels/);
    expect(await caller.annotate.deleteClass({ projectId, code: 1, eraseStrokes: true })).toEqual({ jobId: null });
    expect(annotationClasses(svc, projectId).map((c) => c.code)).toEqual([2, 3]);
    expect(svc.repo.listJobs(projectId)).toHaveLength(jobs);
    // a slice write that waited for the delete is checked again: the code is no class any more
    addClass(svc, projectId, { name: 'vuggy', color: [10, 200, 10] });
    const w = writeAnnotationSlice(svc, projectId, 'z', 2, new Uint8Array(ny * nx).fill(1));
    const d = deleteClass(svc, projectId, 1, false);
    await expect(d).resolves.toEqual({ jobId: null });
    await expect(w).rejects.toThrow(/class code 1 .* is not one of this project's classes/);
    expect(svc.repo.artifact(projectId, 'annotations')!.counts).toEqual(await diskCounts());
  });

  it('a cancelled erase keeps the class and exact counts, and painting resumes', async () => {
    const before = await diskCounts();
    const { jobId } = await deleteClass(svc, projectId, 2, true);
    expect(svc.jobs.cancel(jobId!)).toBe(true);
    const job = await svc.jobs.wait(jobId!);
    expect(job.state).toBe('cancelled');
    const after = await diskCounts();
    // whatever was erased before the cancel: the stored counts are what is on disk
    expect(svc.repo.artifact(projectId, 'annotations')!.counts).toEqual(after);
    expect(after[3]).toBe(before[3]);
    expect(annotationClasses(svc, projectId).map((c) => c.code)).toEqual([2, 3]);
    expect((await annotationState(svc, projectId)).erasing).toBeNull();
    await writeAnnotationSlice(svc, projectId, 'z', 4, new Uint8Array(ny * nx).fill(3));
    expect(svc.repo.artifact(projectId, 'annotations')!.counts).toEqual(await diskCounts());
  }, 60_000);
});

describe('scan proposals: a job and its stored result', () => {
  const fov: [number, number, number] = [8, 16, 16];
  const csvRoute = async (f: [number, number, number]) => {
    const route = await import('@/app/api/projects/[projectId]/annotations/proposals.csv/route');
    return route.GET(new Request(`http://localhost/api/projects/${projectId}/annotations/proposals.csv?fovZ=${f[0]}&fovY=${f[1]}&fovX=${f[2]}`, { headers }), { params: Promise.resolve({ projectId }) });
  };

  it('the query reads none, pending, then the stored result; the CSV route serves only that', async () => {
    // pure slabs (whatever the cancelled erase left elsewhere): z 8..11 class 2, z 12..15 class 3
    for (let z = 8; z < 16; z++) await writeAnnotationSlice(svc, projectId, 'z', z, new Uint8Array(ny * nx).fill(z < 12 ? 2 : 3));
    const jobs = svc.repo.listJobs(projectId).length;
    const none = await caller.annotate.proposals({ projectId, fovUm: fov });
    expect(none).toMatchObject({ status: 'none', message: expect.stringMatching(/no scan proposals for 16 × 16 × 8 µm \(x × y × z\) yet: press Propose/) });
    let res = await csvRoute(fov);
    expect(res.status).toBe(404);
    expect((await res.json()).error).toMatch(/no scan proposals .* press Propose/);
    // reading starts nothing
    expect(svc.repo.listJobs(projectId)).toHaveLength(jobs);

    const started = await caller.annotate.propose({ projectId, fovUm: fov });
    if (started.status !== 'pending') throw new Error(`expected pending, got ${JSON.stringify(started)}`);
    expect(svc.jobs.isActive(started.jobId)).toBe(true);
    expect(svc.repo.job(started.jobId)!.kind).toBe('annotate-proposals');
    const pending = await caller.annotate.proposals({ projectId, fovUm: fov });
    expect(pending).toMatchObject({ status: 'pending', jobId: started.jobId, progress: expect.any(Number) });
    res = await csvRoute(fov);
    expect(res.status).toBe(409);
    expect((await res.json()).error).toMatch(/still being computed \(\d+ % done\): download the CSV when they are listed/);
    // the same field of view again: the same job
    expect(await caller.annotate.propose({ projectId, fovUm: fov })).toMatchObject({ status: 'pending', jobId: started.jobId });
    expect(svc.repo.listJobs(projectId)).toHaveLength(jobs + 1);

    expect((await svc.jobs.wait(started.jobId)).error).toBeNull();
    const ready = await caller.annotate.proposals({ projectId, fovUm: fov });
    if (ready.status !== 'ready') throw new Error(`expected ready, got ${JSON.stringify(ready)}`);
    expect(ready.source).toBe('strokes');
    expect(ready.fovUm).toEqual(fov);
    expect(ready.fovVox).toEqual([4, 8, 8]);
    expect(ready.proposals.map((p) => p.code)).toEqual([2, 3]);
    for (const p of ready.proposals) expect(p.purity).toBe(1);
    const stored = svc.repo.artifact(projectId, 'scanProposals')!;
    expect(stored).toMatchObject({ source: 'strokes', fovUm: fov, jobId: started.jobId, version: expect.stringMatching(/^strokes /) });
    expect((await annotationState(svc, projectId)).proposalsFovUm).toEqual(fov);

    res = await csvRoute(fov);
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Disposition')).toMatch(/scan-proposals\.csv/);
    const csv = await res.text();
    expect(csv).toBe(proposalsCsv(stored.result, stored.classes));
    expect(csv.split('\n')[0]).toMatch(/^class,code,purity/);
    expect(csv.trim().split('\n')).toHaveLength(3);
    // proposing again finds the stored result: no job
    expect(await caller.annotate.propose({ projectId, fovUm: fov })).toMatchObject({ status: 'ready' });
    expect(svc.repo.listJobs(projectId)).toHaveLength(jobs + 1);

    // another field of view: none yet
    expect((await caller.annotate.proposals({ projectId, fovUm: [8, 8, 8] })).status).toBe('none');
    expect((await csvRoute([8, 8, 8])).status).toBe(404);
  }, 60_000);

  it('new strokes or a renamed class make the stored result stale', async () => {
    await writeAnnotationSlice(svc, projectId, 'z', 19, new Uint8Array(ny * nx).fill(2));
    const stale = await caller.annotate.proposals({ projectId, fovUm: fov });
    expect(stale).toMatchObject({ status: 'none', message: expect.stringMatching(/computed from earlier strokes or classes: press Propose to compute them again/) });
    const res = await csvRoute(fov);
    expect(res.status).toBe(404);
    const again = await caller.annotate.propose({ projectId, fovUm: fov });
    if (again.status !== 'pending') throw new Error(`expected pending, got ${JSON.stringify(again)}`);
    await svc.jobs.wait(again.jobId);
    expect((await caller.annotate.proposals({ projectId, fovUm: fov })).status).toBe('ready');
    await caller.annotate.updateClass({ projectId, code: 3, name: 'open fracture' });
    expect((await caller.annotate.proposals({ projectId, fovUm: fov })).status).toBe('none');
  }, 60_000);
});
