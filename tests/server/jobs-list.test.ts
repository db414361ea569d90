/**
 * The Jobs page's data (issue 16 §5): each row names its project (with what the link to the
 * result needs), its start, end and error, the ETA of a running job from its progress rate, and
 * the list filters by project and state; a queued or running job is cancelled from the list.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { etaSeconds, formatDuration } from '@/lib/eta';
import { PetromapError } from '@/lib/errors';
import { createCaller } from '@/server/routers/_app';
import type { Services } from '@/server/services';
import { jobResultLink } from '@/app/jobs/_components/job-links';
import { makeServices, sleep, until as untilFor, type Fixture } from './annotate-helpers';

const until = (what: string, fn: () => boolean) => untilFor(what, fn, 10_000, 10);

let fx: Fixture;
let svc: Services;
let caller: ReturnType<typeof createCaller>;
beforeAll(() => {
  fx = makeServices();
  svc = fx.svc;
  caller = createCaller({ svc });
});
afterAll(() => fx.cleanup());

describe('ETA from the progress rate (lib/eta)', () => {
  it('measures the rate from the first report, gives nothing too early, and formats whole units', () => {
    expect(etaSeconds({ atMs: 0, fraction: 0 }, { atMs: 1000, fraction: 0.5 })).toBeNull(); // < 2 s
    expect(etaSeconds({ atMs: 0, fraction: 0 }, { atMs: 5000, fraction: 0.01 })).toBeNull(); // < 2 %
    expect(etaSeconds({ atMs: 0, fraction: 0 }, { atMs: 10_000, fraction: 0.25 })).toBeCloseTo(30, 9);
    // resumed at 60 %: 10 % more in 10 s leaves 30 s (not 6.7 s from the fraction alone)
    expect(etaSeconds({ atMs: 0, fraction: 0.6 }, { atMs: 10_000, fraction: 0.7 })).toBeCloseTo(30, 9);
    expect(etaSeconds({ atMs: 0, fraction: 0 }, { atMs: 10_000, fraction: 1 })).toBe(0);
    expect([0.3, 45, 190, 7500].map(formatDuration)).toEqual(['1 s', '45 s', '3 min 10 s', '2 h 5 min']);
    expect(formatDuration(null)).toBe('–');
  });
});

describe('jobs.list', () => {
  it('names the project, times, error and ETA; filters by project and state; cancels from the list', async () => {
    const a = svc.repo.createProject('Core A', 'mineralogy').id;
    const b = svc.repo.createProject('Core B', 'lithology').id;
    const imp = svc.jobs.start('import', a, { kind: 'volume', name: 'scan.nrrd' }, async () => ({ datasetId: 'd0123456789' }), 'io');
    await svc.jobs.wait(imp.id);
    const bad = svc.jobs.start('register', b, {}, async () => {
      throw new PetromapError('Unprocessable', 'The EDS map does not overlap the volume surface.');
    });
    await svc.jobs.wait(bad.id);

    // a running job whose progress is reported at known times: 20 % after 8 s -> 32 s left
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let report!: (f: number) => void;
    const run = svc.jobs.start('train', a, {}, async ({ signal, onProgress }) => {
      report = (f) => onProgress(f, `epoch ${Math.round(f * 10)}`);
      await Promise.race([gate, new Promise((_, rej) => signal.addEventListener('abort', () => rej(signal.reason)))]);
    });
    const queued = svc.jobs.start('predict', a, {}, async () => ({})); // behind `run` on the compute queue
    await until('the train job runs', () => svc.repo.job(run.id)?.state === 'running' && !!report);
    const t0 = Date.now();
    const now = vi.spyOn(Date, 'now');
    try {
      now.mockReturnValue(t0);
      report(0);
      now.mockReturnValue(t0 + 8000);
      report(0.2);
      now.mockReturnValue(t0 + 10_000); // the list is read 2 s after the last report
      const rows = await caller.jobs.list();
      const r = rows.find((x) => x.id === run.id)!;
      expect(r).toMatchObject({ kind: 'train', state: 'running', projectId: a, projectName: 'Core A' });
      expect(r.etaSeconds).toBeCloseTo(30, 6);
      expect(r.startedAt).toBeInstanceOf(Date);
      expect(r.finishedAt).toBeNull();
    } finally {
      now.mockRestore();
    }
    let rows = await caller.jobs.list();
    expect(rows.map((x) => x.id).sort()).toEqual([queued.id, run.id, bad.id, imp.id].sort());
    const byId = (id: string) => rows.find((x) => x.id === id)!;
    const q = byId(queued.id);
    expect(q).toMatchObject({ state: 'queued', startedAt: null, etaSeconds: null });
    const i = byId(imp.id);
    expect(i).toMatchObject({ state: 'done', projectName: 'Core A', datasetId: 'd0123456789', etaSeconds: null, error: null });
    expect(i.finishedAt!.getTime()).toBeGreaterThanOrEqual(i.startedAt!.getTime());
    expect(jobResultLink(i)).toEqual({ href: `/projects/${a}/datasets/d0123456789`, label: 'dataset' });
    const f = byId(bad.id);
    expect(f).toMatchObject({ state: 'failed', projectName: 'Core B', error: 'The EDS map does not overlap the volume surface.' });
    expect(jobResultLink(f)).toEqual({ href: `/projects/${b}/correlate`, label: 'Correlate' });
    expect(jobResultLink(byId(run.id))?.href).toBe(`/projects/${a}/train`);
    expect(jobResultLink(q)?.href).toBe(`/projects/${a}/results`);
    // parameters and results stay on the server
    expect(Object.keys(i)).not.toContain('params');
    expect(Object.keys(i)).not.toContain('result');

    // filters
    expect((await caller.jobs.list({ projectId: b })).map((x) => x.id)).toEqual([bad.id]);
    expect((await caller.jobs.list({ states: ['queued', 'running'] })).map((x) => x.id).sort()).toEqual([queued.id, run.id].sort());
    expect((await caller.jobs.list({ projectId: a, states: ['failed'] }))).toEqual([]);
    await expect(caller.jobs.list({ states: ['sleeping' as never] })).rejects.toThrow();

    // cancel from the list: the queued one never starts, the running one stops
    expect(await caller.jobs.cancel({ id: q.id })).toEqual({ cancelled: true });
    // the queued one reads cancelled at once, while the job ahead of it still runs
    expect((await caller.jobs.list({ states: ['cancelled'] })).map((x) => x.id)).toEqual([queued.id]);
    expect(svc.jobs.isActive(queued.id)).toBe(false);
    expect(await caller.jobs.cancel({ id: run.id })).toEqual({ cancelled: true });
    await svc.jobs.wait(run.id);
    await svc.jobs.wait(queued.id);
    rows = await caller.jobs.list({ states: ['cancelled'] });
    expect(rows.map((x) => x.id).sort()).toEqual([queued.id, run.id].sort());
    expect(rows.find((x) => x.id === queued.id)!.startedAt).toBeNull();
    expect(rows.find((x) => x.id === run.id)!.finishedAt).toBeInstanceOf(Date);
    expect(await caller.jobs.cancel({ id: run.id })).toEqual({ cancelled: false }); // already ended
    release();
  });

  it('filters by state before the newest-200 limit: an old failure behind 250 newer jobs is still listed', async () => {
    const c = svc.repo.createProject('Core C', 'mineralogy').id;
    const old = svc.repo.insertJob({ id: 'jold-failure', projectId: c, kind: 'predict', params: {} });
    svc.repo.updateJob(old.id, { state: 'failed', error: 'The disk is full.', finished: true });
    await sleep(5); // created_at orders the list
    for (let i = 0; i < 250; i++) svc.repo.updateJob(svc.repo.insertJob({ id: `jnew-${i}`, projectId: c, kind: 'train', params: {} }).id, { state: 'done', finished: true });
    expect((await caller.jobs.list({ projectId: c })).map((x) => x.id)).not.toContain(old.id); // the page shows the newest 200
    expect((await caller.jobs.list({ projectId: c, states: ['failed'] })).map((x) => x.id)).toEqual([old.id]);
    expect((await caller.jobs.list({ states: ['failed'] })).map((x) => x.id)).toContain(old.id);
  });
});
