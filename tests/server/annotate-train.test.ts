/**
 * Train and predict from painted strokes (lib/classify engine) on a layered phantom without any
 * EDS map: strokes on two slices, the job writes a lithology map that matches the bands, and the
 * proposals then come from the prediction.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addClass, annotationState, readPredictionSlice, startTrainFromStrokes, writeAnnotationSlice,
} from '@/server/pipeline/annotate';
import { proposalsStatus, startProposals } from '@/server/pipeline/annotate-jobs';
import { exportLithologyStream, type LithologyFormat } from '@/server/pipeline/annotate-export';
import { storeAt } from '@/server/storage/open-stores';
import type { Services } from '@/server/services';
import type { Shape3 } from '@/lib/volume/types';
import { addVolume, layeredPhantom, makeServices, type Fixture } from './annotate-helpers';

const shape: Shape3 = [16, 32, 48];
const [nz, ny, nx] = shape;
let fx: Fixture;
let svc: Services;
let projectId: string;
const phantom = layeredPhantom(shape, 12);

beforeAll(async () => {
  fx = makeServices();
  svc = fx.svc;
  projectId = svc.repo.createProject('Layered plug', 'lithology').id;
  await addVolume(svc, projectId, shape, phantom.data);
  addClass(svc, projectId, { name: 'high porosity', color: [66, 135, 245] });
  addClass(svc, projectId, { name: 'low porosity', color: [230, 159, 0] });
});
afterAll(() => fx.cleanup());

describe('train and predict from strokes', () => {
  it('refuses to train with strokes of a single class', async () => {
    const s = new Uint8Array(ny * nx);
    for (let y = 4; y < 28; y++) for (let x = 2; x < 10; x++) s[y * nx + x] = 1;
    await writeAnnotationSlice(svc, projectId, 'z', 4, s);
    expect(() => startTrainFromStrokes(svc, projectId)).toThrow(/at least two classes.*painted so far: high porosity/);
  });

  it('predicts the bands from strokes on two slices', async () => {
    // XY slice z = 4: a porous band (x 2..9) already; add a tight stroke in x 14..21
    const xy = new Uint8Array(ny * nx);
    for (let y = 4; y < 28; y++) {
      for (let x = 2; x < 10; x++) xy[y * nx + x] = 1;
      for (let x = 14; x < 22; x++) xy[y * nx + x] = 2;
    }
    await writeAnnotationSlice(svc, projectId, 'z', 4, xy);
    // XZ slice y = 20: strokes in the bands at x 26..33 (porous) and 38..45 (tight)
    const xz = new Uint8Array(nz * nx);
    for (let z = 2; z < 14; z++) {
      for (let x = 26; x < 34; x++) xz[z * nx + x] = 1;
      for (let x = 38; x < 46; x++) xz[z * nx + x] = 2;
    }
    await writeAnnotationSlice(svc, projectId, 'y', 20, xz);

    const job = startTrainFromStrokes(svc, projectId, { epochs: 25 });
    const done = await svc.jobs.wait(job.id);
    expect(done.error).toBeNull();
    expect(done.state).toBe('done');

    const st = await annotationState(svc, projectId);
    expect(st.prediction).not.toBeNull();
    expect(st.prediction!.stale).toBe(false);
    const rec = svc.repo.artifact(projectId, 'lithologyPrediction')!;
    const pred = (await storeAt(svc, rec.relPath)).readBlock({ start: [0, 0, 0], shape });
    const p = (await pred) as Uint8Array;
    // interior voxels (2 voxels away from band edges, where texture is unambiguous)
    let ok = 0, n = 0;
    for (let z = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) {
      if (Math.min(x % 12, 11 - (x % 12)) < 2) continue;
      const i = (z * ny + y) * nx + x;
      n++;
      if (p[i] === phantom.truth[i]) ok++;
    }
    expect(ok / n).toBeGreaterThan(0.95);
    const fr = st.prediction!.fractions;
    expect(fr[1]! + fr[2]!).toBeCloseTo(1, 9);
    expect(fr[1]).toBeGreaterThan(0.4);

    const slice = await readPredictionSlice(svc, projectId, 'x', 30);
    expect([slice.width, slice.height]).toEqual([ny, nz]);
    expect(slice.data.filter((v) => v === 1).length / slice.data.length).toBeGreaterThan(0.9);

    const started = startProposals(svc, projectId, [16, 16, 16]);
    if (started.status === 'pending') await svc.jobs.wait(started.jobId);
    const prop = proposalsStatus(svc, projectId, [16, 16, 16]);
    if (prop.status !== 'ready') throw new Error(`proposals not stored: ${JSON.stringify(prop)}`);
    expect(prop.source).toBe('prediction');
    expect(prop.proposals.map((q) => q.code)).toEqual([1, 2]);
    for (const q of prop.proposals) expect(q.purity).toBeGreaterThan(0.5);

    // new strokes make the prediction stale (the proposals on the prediction stay what they were)
    await writeAnnotationSlice(svc, projectId, 'z', 10, xy);
    expect((await annotationState(svc, projectId)).prediction!.stale).toBe(true);
    expect(proposalsStatus(svc, projectId, [16, 16, 16]).status).toBe('ready');
  }, 120_000);

  it('downloads the predicted lithology map (NRRD holds the map voxel for voxel) and its classes as CSV; nothing to download before a prediction', async () => {
    const rec = svc.repo.artifact(projectId, 'lithologyPrediction')!;
    const map = (await (await storeAt(svc, rec.relPath)).readBlock({ start: [0, 0, 0], shape })) as Uint8Array;
    const bytes = async (format: LithologyFormat) => {
      const ex = await exportLithologyStream(svc, projectId, format);
      const parts: Uint8Array[] = [];
      for await (const b of ex.body) parts.push(b);
      return { ex, all: Buffer.concat(parts) };
    };
    const nrrd = await bytes('nrrd');
    expect(nrrd.ex.filename).toBe('lithology.nrrd');
    expect(nrrd.all.subarray(0, 8).toString('latin1')).toBe('NRRD0004');
    expect(nrrd.all.toString('latin1')).toContain(`sizes: ${nx} ${ny} ${nz}`);
    expect(Buffer.compare(nrrd.all.subarray(nrrd.all.length - map.length), Buffer.from(map))).toBe(0);
    const csv = (await bytes('csv')).all.toString('utf8');
    const fr = svc.repo.artifact(projectId, 'lithologyPrediction')!.fractions;
    expect(csv).toBe(`code,name,volume_percent\r\n1,high porosity,${Math.round(10000 * fr[1]!) / 100}\r\n2,low porosity,${Math.round(10000 * fr[2]!) / 100}\r\n`);
    const other = svc.repo.createProject('Unpainted plug', 'lithology').id;
    await expect(exportLithologyStream(svc, other, 'nrrd')).rejects.toThrow(/no predicted lithology map to download yet: paint strokes of two or more classes on the Annotate step/);
  });
});
