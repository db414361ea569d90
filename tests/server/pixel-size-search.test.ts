/**
 * The Correlate step's pixel-size search as a job (server/pipeline/correlate-scale.ts): refused
 * before the surface is found; asked twice, one job; cancelled while it waits, it ends 'cancelled' and the page's state says so; "Register
 * at X µm" takes its size and pose only from a finished search of this project and face (a job id of
 * another kind, another project, or a cancelled search is refused in words; nothing is registered).
 * The search itself and the registration at the size found: e2e 15 and tests/lib (real runs).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSandstone } from '@/lib/synthetic';
import { createCaller } from '@/server/routers/_app';
import type { Services } from '@/server/services';
import { addEdsDataset, addVolumeDataset, tempWorkspace } from './temp-workspace';

let svc: Services, cleanup: () => void, projectId: string, otherId: string;
let caller: ReturnType<typeof createCaller>;
const g = globalThis as unknown as { __petromap?: Services };

beforeAll(async () => {
  ({ svc, cleanup } = tempWorkspace({ prefix: 'petromap-pixel-size-' }));
  g.__petromap = svc;
  caller = createCaller({ svc });
  const s = generateSandstone({ shape: [24, 96, 96], voxelUm: 2, seed: 5 });
  projectId = svc.repo.createProject('Pixel size', 'mineralogy').id;
  otherId = svc.repo.createProject('Another', 'mineralogy').id;
  await addVolumeDataset(svc, projectId, s.volume, { name: 'scan.nrrd', chunk: [24, 48, 48] });
  await addEdsDataset(svc, projectId, { ...s.eds, pixelSizeUm: 0.6 * s.eds.pixelSizeUm }, { name: 'map.png' });
}, 60_000);
afterAll(() => {
  delete g.__petromap;
  cleanup?.();
});

describe('Find the EDS pixel size (Correlate)', () => {
  it('is refused before the surface is found, runs as a job that can be cancelled, and Register at X µm takes only a finished search of this face', async () => {
    await expect(caller.correlate.findPixelSize({ projectId })).rejects.toThrow(/The surface has not been found yet/);
    const slabJob = await caller.correlate.prepare({ projectId });
    expect((await svc.jobs.wait(slabJob.jobId)).state).toBe('done');

    // another job holds the compute queue, so the search waits in it (the search's own cancel: tests/lib scale-search)
    let release!: () => void;
    const holder = svc.jobs.start('hold', projectId, {}, () => new Promise<void>((r) => (release = r)));
    const { jobId } = await caller.correlate.findPixelSize({ projectId });
    // asked again meanwhile: the same job
    expect((await caller.correlate.findPixelSize({ projectId })).jobId).toBe(jobId);
    expect((await caller.correlate.state({ projectId })).pixelSizeSearch).toMatchObject({ jobId, state: 'queued' });
    svc.jobs.cancel(jobId);
    expect((await svc.jobs.wait(jobId)).state).toBe('cancelled');
    release?.();
    await svc.jobs.wait(holder.id);
    const st = await caller.correlate.state({ projectId });
    expect(st.pixelSizeSearch).toMatchObject({ jobId, state: 'cancelled', result: null });

    await expect(caller.correlate.registerAtFoundSize({ projectId, searchJobId: jobId })).rejects.toThrow(/The pixel-size search is cancelled: there is no pixel size to register at/);
    await expect(caller.correlate.registerAtFoundSize({ projectId, searchJobId: slabJob.jobId })).rejects.toThrow(/There is no pixel-size search of this face to register from/);
    await expect(caller.correlate.registerAtFoundSize({ projectId, searchJobId: jobId, face: 'bottom' })).rejects.toThrow(/EDS map of the bottom face|no pixel-size search/);
    await expect(caller.correlate.registerAtFoundSize({ projectId: otherId, searchJobId: jobId })).rejects.toThrow(/XRM volume and an EDS map/);
    await expect(caller.correlate.registerAtFoundSize({ projectId, searchJobId: '../../etc' })).rejects.toThrow(/not a job id/);
    expect(svc.repo.artifact(projectId, 'registration')).toBeUndefined();
    expect(svc.repo.listJobs(projectId).filter((j) => j.kind === 'register')).toHaveLength(0);
  }, 120_000);
});
