/**
 * Painted slices: PUT/GET round trips on all three axes (through the route handler and the
 * pipeline), stroke counts, bad sizes and unknown class codes refused with nothing stored
 * changed, the class editor (duplicates, delete with strokes: the erase job), and scan proposals
 * from strokes (the proposals job and its stored result). More on both jobs: annotate-jobs.test.ts.
 */
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addClass, annotationClasses, annotationState, readAnnotationSlice, updateClass, writeAnnotationSlice,
} from '@/server/pipeline/annotate';
import { deleteClass, proposalsStatus, startProposals, storedProposalsCsv } from '@/server/pipeline/annotate-jobs';
import type { Services } from '@/server/services';
import type { Shape3 } from '@/lib/volume/types';
import { addVolume, makeServices, type Fixture } from './annotate-helpers';

const shape: Shape3 = [12, 20, 24];
let fx: Fixture;
let svc: Services;
let projectId: string;

beforeAll(async () => {
  fx = makeServices();
  svc = fx.svc;
  projectId = svc.repo.createProject('Lithology of plug 7', 'lithology').id;
  await addVolume(svc, projectId, shape, new Uint8Array(shape[0] * shape[1] * shape[2]).map((_, i) => i % 251));
});
afterAll(() => fx.cleanup());

/** Everything stored for the painted volume: chunk files with their bytes' mtimes and the counts. */
function snapshot() {
  const dir = path.join(fx.root, 'projects', projectId);
  const files: Record<string, number> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else files[path.relative(dir, p)] = statSync(p).mtimeMs;
    }
  };
  walk(dir);
  return { files, rec: JSON.stringify(svc.repo.artifact(projectId, 'annotations')) };
}

describe('class editor', () => {
  it('starts empty for a lithology project and adds classes with the lowest free code', () => {
    expect(annotationClasses(svc, projectId)).toEqual([]);
    expect(addClass(svc, projectId, { name: 'high porosity', color: [66, 135, 245] }).code).toBe(1);
    expect(addClass(svc, projectId, { name: 'low porosity', color: [230, 159, 0] }).code).toBe(2);
    expect(addClass(svc, projectId, { name: ' fracture ', color: [213, 36, 94] })).toEqual({ code: 3, name: 'fracture', color: [213, 36, 94] });
  });

  it('refuses duplicate names and colours, renames and recolours', () => {
    expect(() => addClass(svc, projectId, { name: 'High Porosity', color: [1, 2, 3] })).toThrow(/already a class called "high porosity"/);
    expect(() => addClass(svc, projectId, { name: 'vug', color: [230, 159, 0] })).toThrow(/"low porosity" already has the colour #e69f00/);
    expect(() => addClass(svc, projectId, { name: '  ', color: [9, 9, 9] })).toThrow(/needs a name/);
    expect(updateClass(svc, projectId, 3, { name: 'open fracture', color: [200, 30, 90] })).toEqual({ code: 3, name: 'open fracture', color: [200, 30, 90] });
    expect(() => updateClass(svc, projectId, 9, { name: 'x' })).toThrow(/no class with code 9/);
  });
});

describe('painted slices', () => {
  it('reads zeros before anything is painted, without creating a store', async () => {
    const s = await readAnnotationSlice(svc, projectId, 'y', 3);
    expect([s.width, s.height]).toEqual([24, 12]);
    expect(s.data.every((v) => v === 0)).toBe(true);
    expect(svc.repo.artifact(projectId, 'annotations')).toBeUndefined();
  });

  it('round-trips slices on all three axes and keeps stroke counts', async () => {
    const xy = new Uint8Array(20 * 24);
    for (let y = 2; y < 6; y++) for (let x = 3; x < 10; x++) xy[y * 24 + x] = 1; // 28 voxels
    xy[19 * 24 + 23] = 3;
    const r = await writeAnnotationSlice(svc, projectId, 'z', 5, xy);
    expect(r).toEqual({ counts: { 1: 28, 3: 1 }, changed: 29 });
    expect(Array.from((await readAnnotationSlice(svc, projectId, 'z', 5)).data)).toEqual(Array.from(xy));
    // an XZ slice through y = 4 crosses the painted XY slice at z = 5 on x 3..9
    const xz = (await readAnnotationSlice(svc, projectId, 'y', 4)).data;
    expect(Array.from(xz.subarray(5 * 24, 6 * 24)).map((v, x) => (v ? x : -1)).filter((x) => x >= 0)).toEqual([3, 4, 5, 6, 7, 8, 9]);
    // paint a YZ slice (x = 20): rows z, columns y
    const yz = new Uint8Array(12 * 20).fill(2);
    const r2 = await writeAnnotationSlice(svc, projectId, 'x', 20, yz);
    expect(r2.counts).toEqual({ 1: 28, 2: 240, 3: 1 });
    expect(Array.from((await readAnnotationSlice(svc, projectId, 'x', 20)).data)).toEqual(Array.from(yz));
    // erase: writing the same slice with zeros brings the counts back
    const r3 = await writeAnnotationSlice(svc, projectId, 'x', 20, new Uint8Array(12 * 20));
    expect(r3.counts).toEqual({ 1: 28, 3: 1 });
    const st = await annotationState(svc, projectId);
    expect(st.strokes).toEqual([{ code: 1, voxels: 28 }, { code: 2, voxels: 0 }, { code: 3, voxels: 1 }]);
    expect(st.volume?.shape).toEqual(shape);
    expect(st.hasEds).toBe(false);
  });

  it('refuses a wrong size or an unknown class code and changes nothing stored', async () => {
    const before = snapshot();
    const slice = (await readAnnotationSlice(svc, projectId, 'z', 5)).data;
    await expect(writeAnnotationSlice(svc, projectId, 'z', 5, new Uint8Array(20 * 24 - 1))).rejects.toThrow(/Painted slice z = 5 of "core-plug\.nrrd": expected 24 × 20 = 480 bytes.*got 479/);
    const bad = new Uint8Array(20 * 24).fill(1);
    bad[7 * 24 + 11] = 9;
    await expect(writeAnnotationSlice(svc, projectId, 'z', 5, bad)).rejects.toThrow(/class code 9 at column 11, row 7 is not one of this project's classes \(1 high porosity, 2 low porosity, 3 open fracture\)\. Nothing was saved/);
    await expect(writeAnnotationSlice(svc, projectId, 'z', 12, new Uint8Array(480))).rejects.toThrow(/outside the volume \(0–11 along z\)/);
    expect(snapshot()).toEqual(before);
    expect(Array.from((await readAnnotationSlice(svc, projectId, 'z', 5)).data)).toEqual(Array.from(slice));
  });

  it('serialises concurrent writes so the counts stay exact', async () => {
    const writes = Array.from({ length: 6 }, (_, k) => writeAnnotationSlice(svc, projectId, 'z', k, new Uint8Array(480).fill(k < 5 ? 2 : 1)));
    await Promise.all(writes);
    const st = await annotationState(svc, projectId);
    // z 0..4 all class 2 (overwrote nothing painted), z 5 all class 1 (was 28×1 + 1×3)
    expect(st.strokes).toEqual([{ code: 1, voxels: 480 }, { code: 2, voxels: 5 * 480 }, { code: 3, voxels: 0 }]);
  });

  it('proposes scan locations from the strokes while there is no prediction', async () => {
    const started = startProposals(svc, projectId, [4, 8, 8]);
    expect(started.status).toBe('pending');
    expect((await svc.jobs.wait((started as { jobId: string }).jobId)).error).toBeNull();
    const p = proposalsStatus(svc, projectId, [4, 8, 8]);
    if (p.status !== 'ready') throw new Error(`proposals not stored: ${JSON.stringify(p)}`);
    expect(p.source).toBe('strokes');
    const two = p.proposals.find((q) => q.code === 2)!;
    expect(two.purity).toBe(1);
    expect(two.box.start[0] + two.box.shape[0]).toBeLessThanOrEqual(5);
    expect(p.absent.map((c) => c.code)).toEqual([3]);
    expect(storedProposalsCsv(svc, projectId, [4, 8, 8]).split('\n')[0]).toMatch(/^class,code,purity/);
  });

  it('deletes a class only together with its strokes', async () => {
    await expect(deleteClass(svc, projectId, 1, false)).rejects.toThrow(/"high porosity" has 480 painted voxels/);
    const { jobId } = await deleteClass(svc, projectId, 1, true);
    const job = await svc.jobs.wait(jobId!);
    expect(job.state).toBe('done');
    expect(job.result).toMatchObject({ erased: 480 });
    expect(annotationClasses(svc, projectId).map((c) => c.code)).toEqual([2, 3]);
    expect((await readAnnotationSlice(svc, projectId, 'z', 5)).data.every((v) => v === 0)).toBe(true);
    expect((await annotationState(svc, projectId)).strokes).toEqual([{ code: 2, voxels: 2400 }, { code: 3, voxels: 0 }]);
    expect(addClass(svc, projectId, { name: 'vuggy', color: [10, 200, 10] }).code).toBe(1);
  });
});

describe('route handler', () => {
  it('answers raw bytes and JSON errors that name the problem', async () => {
    const g = globalThis as unknown as { __petromap?: Services };
    const prev = g.__petromap;
    g.__petromap = svc;
    try {
      const route = await import('@/app/api/projects/[projectId]/annotations/slice/route');
      const url = (q: string) => `http://localhost/api/projects/${projectId}/annotations/slice?${q}`;
      const params = Promise.resolve({ projectId });
      const body = new Uint8Array(20 * 24).fill(2);
      body[0] = 3;
      // a real request always carries Host; the route's Host/Origin guard (server/http-guard) checks it
      const headers = { host: 'localhost' };
      const put = await route.PUT(new Request(url('axis=z&index=7'), { method: 'PUT', body, headers }), { params });
      expect(put.status).toBe(200);
      expect((await put.json()).changed).toBe(480);
      const get = await route.GET(new Request(url('axis=z&index=7'), { headers }), { params });
      expect(get.headers.get('X-Slice-Width')).toBe('24');
      expect(Array.from(new Uint8Array(await get.arrayBuffer()))).toEqual(Array.from(body));
      const bad = await route.PUT(new Request(url('axis=z&index=7'), { method: 'PUT', body: new Uint8Array(10), headers }), { params });
      expect(bad.status).toBe(400);
      expect((await bad.json()).error).toMatch(/expected 24 × 20 = 480 bytes/);
      const badAxis = await route.GET(new Request(url('axis=w&index=1'), { headers }), { params });
      expect(badAxis.status).toBe(400);
      const noProject = await route.GET(new Request(url('axis=z&index=1'), { headers }), { params: Promise.resolve({ projectId: 'pnothere' }) });
      expect(noProject.status).toBe(422);
    } finally {
      g.__petromap = prev;
    }
  });
});
