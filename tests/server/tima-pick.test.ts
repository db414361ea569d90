/**
 * Issue 16 §2: an uploaded TIMA project holding several datasets. The import job imports nothing
 * and ends with the datasets to choose from (sample names, no paths), keeping the upload; the
 * choice (datasets.importTimaDataset) imports that dataset, named by its sample, with "not
 * measured" apart from "unclassified"; a second choice of the same upload is refused.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCaller } from '@/server/routers/_app';
import { startImportJob, type TimaPickResult } from '@/server/storage/import-job';
import type { Services } from '@/server/services';
import { writeSyntheticTimaProject, type SyntheticTimaProject } from '@/lib/synthetic/tima-node';
import { makeServices, type Fixture } from './annotate-helpers';

let fx: Fixture;
let svc: Services;
let projectId: string;
let proj: SyntheticTimaProject;
let caller: ReturnType<typeof createCaller>;

/** The synthetic project zipped as a user would: the project folder and its _MinDif beside it. */
function zipProject(): string {
  const zip = svc.ws.tmpPath('upload') + '.zip';
  execFileSync('zip', ['-qr', zip, '.'], { cwd: proj.root });
  return zip;
}

beforeAll(async () => {
  fx = makeServices();
  svc = fx.svc;
  caller = createCaller({ svc });
  projectId = svc.repo.createProject('TIMA project', 'mineralogy').id;
  proj = await writeSyntheticTimaProject(path.join(fx.root, 'src'));
});
afterAll(() => fx.cleanup());

describe('a TIMA project zip with several datasets', () => {
  let pickJob: string;
  let pick: TimaPickResult['pick'];

  it('the import job lists the datasets and keeps the upload instead of importing', async () => {
    const job = startImportJob(svc, { projectId, kind: 'eds', name: 'Demo-export.zip', file: zipProject() });
    const done = await svc.jobs.wait(job.id);
    expect(done.error).toBeNull();
    expect(done.state).toBe('done');
    pick = (done.result as TimaPickResult).pick;
    pickJob = job.id;
    expect(pick.datasets.map((d) => d.label).sort()).toEqual(['GX-101', 'GX-202']);
    expect(pick.datasets.map((d) => d.id).sort()).toEqual(proj.datasets.map((t) => t.guid).sort());
    expect(JSON.stringify(pick)).not.toContain(fx.root); // no paths of the machine
    expect(pick.datasets.find((d) => d.label === 'GX-101')).toMatchObject({ fields: proj.datasets[0].fields, pixelSizeUm: 10, fieldWidthPx: 16 });
    expect(svc.repo.listDatasets(projectId)).toHaveLength(0);
    expect(existsSync(path.join(fx.root, 'tmp', pick.upload))).toBe(true);
    expect(readdirSync(path.join(fx.root, 'datasets'))).toEqual([]);
  });

  it('the choice imports that dataset, named by its sample, with not measured and unclassified apart', async () => {
    const t = proj.datasets.find((d) => d.sampleName === 'GX-202')!;
    const r = await caller.datasets.importTimaDataset({ projectId, jobId: pickJob, dataset: t.guid });
    expect(r.label).toBe('GX-202');
    const done = await svc.jobs.wait(r.jobId);
    expect(done.error).toBeNull();
    const [d] = await caller.datasets.list({ projectId });
    expect(d.name).toBe('GX-202');
    const n = t.labels.length;
    let notMeasured = 0, unclassified = 0;
    for (let i = 0; i < n; i++) (t.measured[i] ? t.labels[i] === 0 && unclassified++ : notMeasured++);
    expect(d.eds!.notMeasuredFraction).toBeCloseTo(notMeasured / n, 12);
    expect(d.eds!.unclassifiedFraction).toBeCloseTo(unclassified / n, 12);
    expect(d.eds!.sampleName).toBe('GX-202');
    expect(d.eds!.legend.find((p) => p.name === 'Monazité')).toMatchObject({ pixels: 1 });
    // the kept upload was consumed: a second choice is refused, clearly
    expect(existsSync(path.join(fx.root, 'tmp', pick.upload))).toBe(false);
    await expect(caller.datasets.importTimaDataset({ projectId, jobId: pickJob, dataset: proj.datasets[0].guid })).rejects.toThrow(/upload it again/);
  });

  it('refuses a dataset the upload does not hold, a job of another project, and discards on request', async () => {
    const job = startImportJob(svc, { projectId, kind: 'eds', name: 'Demo-export.zip', file: zipProject() });
    await svc.jobs.wait(job.id);
    await expect(caller.datasets.importTimaDataset({ projectId, jobId: job.id, dataset: 'nope' })).rejects.toThrow(/holds no TIMA dataset nope; it holds GX-/);
    const other = svc.repo.createProject('other', 'mineralogy').id;
    await expect(caller.datasets.importTimaDataset({ projectId: other, jobId: job.id, dataset: proj.datasets[0].guid })).rejects.toThrow(/no import/);
    const upload = ((svc.repo.job(job.id)!.result as TimaPickResult).pick).upload;
    await caller.datasets.discardTimaUpload({ projectId, jobId: job.id });
    expect(existsSync(path.join(fx.root, 'tmp', upload))).toBe(false);
  });
});
