/**
 * Correlate per-field registration on the EDS map's own (TIMA) field layout (issue 19): the state
 * says how many fields the stored layout has (0 without one), the per-field model without a grid
 * uses that layout and says so, a grid overrides it, and a map without a layout is refused before
 * the surface is searched for.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMineralMap, saveMineralMap } from '@/lib/eds/store-node';
import { regularFields } from '@/lib/registration/refine-fields';
import { createCaller } from '@/server/routers/_app';
import { SLAB_JOB } from '@/server/pipeline/correlate';
import { fieldLayoutLabel, registrationFields } from '@/server/jobs/tasks-correlate';
import { makeSandstoneProject, type TrainFixture } from './train-fixture';

let fx: TrainFixture;
let caller: ReturnType<typeof createCaller>;

beforeAll(async () => {
  fx = await makeSandstoneProject({ shape: [32, 80, 80], seed: 5, grainDiameterVox: 12 });
  caller = createCaller({ svc: fx.svc });
}, 60_000);
afterAll(() => fx?.cleanup());

const edsDir = () => fx.svc.ws.abs(fx.svc.repo.listDatasets(fx.projectId).find((d) => d.kind === 'eds')!.relPath);

describe('correlate: per-field registration on the TIMA field layout', () => {
  it('which fields: the grid overrides, model fields takes the layout, auto takes none; labels', () => {
    const map = { ...fx.sample.eds, fields: regularFields(fx.sample.eds.width, fx.sample.eds.height, 5, 4) };
    expect(registrationFields(map, 'fields')).toEqual({ fields: map.fields, layout: 'TIMA field layout (20 fields)' });
    expect(registrationFields(map, 'auto', [2, 3])!.fields).toHaveLength(6);
    expect(registrationFields(map, 'auto')).toBeUndefined();
    expect(() => registrationFields(fx.sample.eds, 'fields')).toThrow(/no field layout of its own.*field grid of the mosaic/);
    expect(fieldLayoutLabel({ grid: [3, 2] })).toBe('regular grid 3×2');
  });

  it('a map without a layout: the state says 0 and the per-field model without a grid is refused before the surface search', async () => {
    const { svc, projectId } = fx;
    expect((await caller.correlate.state({ projectId })).eds!.timaFields).toBe(0);
    const { jobId } = await caller.correlate.autoRegister({ projectId, registrationModel: 'fields' });
    const j = await svc.jobs.wait(jobId);
    expect(j.state).toBe('failed');
    expect(j.error).toMatch(/This EDS map has no field layout of its own/);
    expect(svc.repo.listJobs(projectId).filter((x) => x.kind === SLAB_JOB)).toHaveLength(0);
    expect(svc.repo.artifact(projectId, 'registration')).toBeUndefined();
  });

  it('a map with a stored layout: the state counts its fields, the per-field model runs on them and says so', async () => {
    const { svc, projectId } = fx;
    const dir = edsDir();
    const map = await loadMineralMap(dir);
    map.fields = regularFields(map.width, map.height, 2, 2).map((f, k) => ({ ...f, name: `F${k + 1}` }));
    await saveMineralMap(dir, map);
    expect(path.basename(dir)).toBe('eds');
    expect((await caller.correlate.state({ projectId })).eds!.timaFields).toBe(4);
    const { jobId } = await caller.correlate.autoRegister({ projectId, registrationModel: 'fields' });
    const j = await svc.jobs.wait(jobId);
    expect(j.error).toBeNull();
    expect(j.result).toMatchObject({ model: 'fields', fieldLayout: 'TIMA field layout (4 fields)' });
    const rec = svc.repo.artifact(projectId, 'registration')!;
    expect(rec.model).toBe('fields');
    expect(rec.fields!.map((f) => f.name)).toEqual(['F1', 'F2', 'F3', 'F4']);
    // fields with no distinct match keep the global transform: the error stays that of a good registration
    expect(rec.truthError?.meanVox ?? 0).toBeLessThan(1);
  }, 180_000);
});
