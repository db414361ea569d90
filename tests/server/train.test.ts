/**
 * Train and Results steps on a small synthetic sandstone: training refuses without an accepted
 * registration; with the truth registration accepted, the model trained on the surface labels
 * predicts the 3D volume with per-class IoU vs the truth above measured thresholds; the preview
 * of one slice matches the prediction; exports are readable.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decode } from 'fast-png';
import { predictionStores, previewPng, setClassColor, setProjectFeatureSet, startPredict, startTrain, trainState } from '@/server/pipeline/train';
import { startingFeatureSet } from '@/lib/features/choices';
import type { Services } from '@/server/services';
import { unzipSync } from 'fflate';
import { fromArrayBuffer } from 'geotiff';
import { exportVolumeStream, labelsNifti, reportCsv, resultsState } from '@/server/pipeline/results';
import { collect, iouPerClass, makeSandstoneProject, storeTruthRegistration, type TrainFixture } from './train-fixture';

let fx: TrainFixture;

/** The state once the train-prepare job has counted the labels (the request itself only reads). */
async function readyState(svc: Services, projectId: string) {
  const t0 = Date.now();
  for (;;) {
    const st = await trainState(svc, projectId);
    if (st.labelCountsStatus !== 'pending' && Number.isFinite(st.estimate?.seconds)) return st;
    if (Date.now() - t0 > 60_000) throw new Error(`train state still pending: ${st.labelCountsStatus}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
beforeAll(async () => {
  fx = await makeSandstoneProject();
});
afterAll(() => fx?.cleanup());

describe('train step', () => {
  it('refuses to train before a registration is accepted', async () => {
    expect(() => startTrain(fx.svc, fx.projectId)).toThrow(/accept a registration on the Correlate step first/);
    storeTruthRegistration(fx, false);
    expect(() => startTrain(fx.svc, fx.projectId)).toThrow(/accept a registration on the Correlate step first/);
  });

  it('trains on the surface labels and predicts the volume close to the truth', async () => {
    const { svc, projectId, sample } = fx;
    storeTruthRegistration(fx, true);
    expect(() => setProjectFeatureSet(svc, projectId, [])).toThrow(/at least one feature/);
    expect(setClassColor(svc, projectId, 4, [10, 200, 30]).find((c) => c.code === 4)!.color).toEqual([10, 200, 30]);
    expect(() => setClassColor(svc, projectId, 9, [0, 0, 0])).toThrow(/no class with code 9/);
    const first = await trainState(svc, projectId);
    expect(first.featureSet.specs).toEqual(first.presets[1]!.specs); // the classifier bank by default
    expect(first.presets.map((p) => p.key)).toEqual(['fast', 'classifier']);
    expect(first.presets[1]!.specs.length).toBeGreaterThan(20);
    // this test trains the fast set (its thresholds were measured with it; quicker on 2 cores)
    setProjectFeatureSet(svc, projectId, startingFeatureSet(sample.volume.meta.spacingUm).specs);
    const cold = await trainState(svc, projectId);
    expect(cold.labelCountsStatus).toBe('pending'); // counted by a job, not inside the request
    expect(cold.labelCounts).toEqual([]);
    const st0 = await readyState(svc, projectId);
    expect(st0.labelCountsStatus).toBe('ready');
    expect(st0.estimate!.nFeatures).toBe(7);
    expect(st0.registrationAccepted).toBe(true);
    expect(st0.boundaryVoxels).toBeGreaterThan(0);

    expect(st0.estimate!.seconds).toBeGreaterThan(0);
    const counts = Object.fromEntries(st0.labelCounts.map((c) => [c.name, c.voxels]));
    expect(counts.quartz).toBeGreaterThan(500);
    expect(counts.pore).toBeGreaterThan(50);

    const tj = startTrain(svc, projectId, { epochs: 25 });
    const t = await svc.jobs.wait(tj.id);
    expect(t.error).toBeNull();
    expect(t.state).toBe('done');
    const st = await trainState(svc, projectId);
    expect(st.model).not.toBeNull();
    expect(st.liveHistory!.epochs.length).toBeGreaterThan(3);
    console.log('held-out accuracy', st.model!.validation.accuracy.toFixed(3), st.model!.validation.perClass.map((m) => `${m.class}:${m.f1.toFixed(2)}/${m.support}`).join(' '), 'epochs', st.model!.history.length);
    // measured 0.67-0.70 (spatially held-out surface tiles)
    expect(st.model!.validation.accuracy).toBeGreaterThan(0.58);
    expect(st.model!.validation.confusion.length).toBe(5);
    // the model knows the volume it learnt: the row (the Train page says it) and its folder (predict checks it)
    const vol = svc.repo.listDatasets(projectId).find((d) => d.kind === 'volume')!;
    const on = { volume: 'sandstone.nrrd', volumeId: vol.id, shape: sample.volume.meta.shape, spacingUm: sample.volume.meta.spacingUm, featureVersion: 2 };
    expect(st.model!.trainedOn).toEqual(on);
    const folder = JSON.parse(readFileSync(path.join(svc.ws.abs(svc.repo.artifact(projectId, 'model')!.modelRel!), 'model.json'), 'utf8')) as { trainedOn?: unknown };
    expect(folder.trainedOn).toEqual(on);

    const pj = startPredict(svc, projectId);
    const p = await svc.jobs.wait(pj.id);
    expect(p.error).toBeNull();
    const stores = await predictionStores(svc, projectId);
    expect(stores).toBeDefined();
    const labels = (await stores!.labels.readBlock({ start: [0, 0, 0], shape: sample.volume.meta.shape })) as Uint8Array;
    const iou = iouPerClass(sample.truthLabels, labels, [1, 2, 3, 4, 5]);
    console.log('3D IoU vs truth', Object.entries(iou).map(([c, v]) => `${c}:${v.toFixed(3)}`).join(' '));
    // the one training stage (lib defaults, seed 1, 25 epochs; deterministic): 0.63, 0.70, 0.32, 0.04, 0.56 (pore, quartz, feldspar, clay, pyrite), mean 0.45;
    // earlier (server's own 64x64 chain, Math.random shuffles) over 10 runs: 0.42-0.56, 0.55-0.60, 0.23-0.27, 0.02-0.07, 0.26-0.28, mean 0.31-0.35;
    // the oracle trained on 3D truth reaches ~0.65 mean (tests/lib/classify/model.test.ts)
    expect(iou[1]).toBeGreaterThan(0.38);
    expect(iou[2]).toBeGreaterThan(0.42);
    expect(iou[3]).toBeGreaterThan(0.15);
    const mean = [1, 2, 3, 4, 5].reduce((a, c) => a + iou[c], 0) / 5;
    expect(mean).toBeGreaterThan(0.26);
    // air above the surface stays unlabelled
    let airLabelled = 0, air = 0;
    for (let i = 0; i < labels.length; i++) if (sample.truthLabels[i] === 0) (air++, labels[i] && airLabelled++);
    expect(airLabelled / Math.max(1, air)).toBeLessThan(0.05);

    // preview of slice z=20 equals the whole-volume prediction there
    const png = decode(await previewPng(svc, projectId, 'z', 20, 0));
    const [, ny, nx] = sample.volume.meta.shape;
    expect([png.width, png.height]).toEqual([nx, ny]);
    const colors = new Map(st.classes.map((c) => [c.code, c.color.join(',')]));
    let same = 0;
    for (let i = 0; i < nx * ny; i++) {
      const want = labels[20 * nx * ny + i];
      const got = png.data[i * 4 + 3] === 0 ? 0 : [...colors].find(([, col]) => col === Array.from(png.data.slice(i * 4, i * 4 + 3)).join(','))?.[0];
      if (got === want) same++;
    }
    if (same / (nx * ny) <= 0.99) {
      const diff: Record<string, number> = {};
      for (let i = 0; i < nx * ny; i++) {
        const want = labels[20 * nx * ny + i];
        const got = png.data[i * 4 + 3] === 0 ? 0 : [...colors].find(([, col]) => col === Array.from(png.data.slice(i * 4, i * 4 + 3)).join(','))?.[0];
        if (got !== want) diff[`${want}->${got}`] = (diff[`${want}->${got}`] ?? 0) + 1;
      }
      console.log('preview vs volume differences', JSON.stringify(diff));
    }
    expect(same / (nx * ny)).toBeGreaterThan(0.99);
    const st2 = await trainState(svc, projectId);
    expect(st2.prediction!.upToDate).toBe(true);
    iouMeasured = iou;
  });
});

let iouMeasured: Record<number, number> = {};

/** The results state once its statistics job (server/pipeline/results-stats) has run. */
async function readyResults(svc: Services, projectId: string) {
  const t0 = Date.now();
  for (;;) {
    const st = await resultsState(svc, projectId);
    if (st.stats.status !== 'pending') return st;
    if (Date.now() - t0 > 60_000) throw new Error('the results statistics are still pending');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('results step', () => {
  it('summarises the prediction: modal mineralogy vs EDS, depth profile, histograms, IoU vs truth', async () => {
    const { svc, projectId } = fx;
    const st = await readyResults(svc, projectId);
    expect(st.stats.status).toBe('ready');
    expect(st.prediction).not.toBeNull();
    const sum = st.modal.reduce((a, m) => a + m.volumePct, 0);
    expect(sum).toBeCloseTo(100, 6);
    const eds = st.modal.reduce((a, m) => a + (m.edsAreaPct ?? 0), 0);
    expect(eds).toBeCloseTo(100, 6);
    const quartz = st.modal.find((m) => m.name === 'quartz')!;
    console.log('modal', st.modal.map((m) => `${m.name} ${m.volumePct.toFixed(1)} / ${m.edsAreaPct?.toFixed(1)}`).join(', '));
    expect(quartz.volumePct).toBeGreaterThan(20);
    expect(quartz.edsAreaPct).toBeGreaterThan(30);
    expect(st.depth!.depthsUm.length).toBeGreaterThan(5);
    for (const f of st.depth!.fractions.filter((_, j) => st.depth!.voxels[j] > 0)) expect(Object.values(f).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    const hq = st.histograms!.counts[2].reduce((a, b) => a + b, 0);
    expect(hq).toBe(quartz.voxels);
    // the server's IoU vs truth is the one measured in the test above
    for (const c of [1, 2, 3]) expect(st.truthIoU![c]).toBeCloseTo(iouMeasured[c], 6);
    expect(st.exports.length).toBe(19);
  });

  it('exports NRRD, NIfTI, TIFF, OME-Zarr zip and CSV tables that other tools can read', async () => {
    const { svc, projectId, sample } = fx;
    const [nz, ny, nx] = sample.volume.meta.shape;
    const nrrd = await exportVolumeStream(svc, projectId, 'labels', 'nrrd');
    const buf = await collect(nrrd.body);
    expect(buf.length).toBe(nrrd.length);
    const text = Buffer.from(buf.subarray(0, 600)).toString('latin1');
    const headEnd = text.indexOf('\n\n') + 2;
    expect(text).toMatch(/^NRRD0004/);
    expect(text).toContain(`sizes: ${nx} ${ny} ${nz}`);
    expect(text).toContain('type: uint8');
    const labels = (await (await predictionStores(svc, projectId))!.labels.readBlock({ start: [0, 0, 0], shape: [nz, ny, nx] })) as Uint8Array;
    expect(Buffer.compare(Buffer.from(buf.subarray(headEnd)), Buffer.from(labels))).toBe(0);

    const probs = await collect((await exportVolumeStream(svc, projectId, 'probabilities', 'nrrd')).body);
    expect(Buffer.from(probs.subarray(0, 400)).toString('latin1')).toContain(`sizes: 5 ${nx} ${ny} ${nz}`);

    const nii = await collect((await exportVolumeStream(svc, projectId, 'labels', 'nifti')).body);
    const v = new DataView(nii.buffer, nii.byteOffset);
    expect([v.getInt32(0, true), v.getInt16(42, true), v.getInt16(44, true), v.getInt16(46, true), v.getInt16(70, true)]).toEqual([348, nx, ny, nz, 2]);
    expect(v.getFloat32(80, true)).toBeCloseTo(sample.volume.meta.spacingUm[2] / 1000, 9);
    expect(nii.length).toBe(352 + nz * ny * nx);

    const tif = await collect((await exportVolumeStream(svc, projectId, 'uncertainty', 'tiff')).body);
    const pages = await decodeTiffPages(tif);
    expect(pages).toBe(nz);

    const zip = unzipSync(await collect((await exportVolumeStream(svc, projectId, 'labels', 'ome-zarr')).body));
    expect(Object.keys(zip)).toContain('labels.ome.zarr/zarr.json');

    const modal = await reportCsv(svc, projectId, 'modal');
    // the one CSV writer (lib/report/csv): CRLF, the same header as `petromap run`'s modal.csv
    const rows = modal.csv.trim().split('\r\n');
    expect(rows[0]).toBe('class,name,voxels,volume_percent,eds_pixels,eds_area_percent');
    expect(rows.length).toBe(6);
    const depth = await reportCsv(svc, projectId, 'depth');
    expect(depth.csv.split('\r\n')[0]).toMatch(/^depth_from_um,depth_to_um,voxels,pore_fraction,quartz_fraction/);
    const metrics = await reportCsv(svc, projectId, 'metrics');
    expect(metrics.csv.trim().split('\r\n').length).toBe(6);

    const small = await labelsNifti(svc, projectId, 48);
    const sv = new DataView(small.buffer, small.byteOffset);
    expect(sv.getInt16(42, true)).toBe(48);
    expect(small.length).toBe(352 + sv.getInt16(42, true) * sv.getInt16(44, true) * sv.getInt16(46, true));
  });
});

/** Count the pages of a TIFF with geotiff (an independent reader). */
async function decodeTiffPages(buf: Uint8Array) {
  const tiff = await fromArrayBuffer(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer);
  const n = await tiff.getImageCount();
  const img = await tiff.getImage(n - 1);
  expect([img.getWidth(), img.getHeight()]).toEqual([fx.sample.volume.meta.shape[2], fx.sample.volume.meta.shape[1]]);
  await img.readRasters();
  return n;
}

describe('cancel', () => {
  it('cancelling a training run keeps the previous model and says so', async () => {
    const { svc, projectId } = fx;
    const before = (await trainState(svc, projectId)).model!.createdAt.getTime();
    const j = startTrain(svc, projectId, { epochs: 100 });
    // cancel while it runs (features of the labelled voxels take a second or two)
    const t0 = Date.now();
    while (Date.now() - t0 < 30_000 && svc.repo.job(j.id)!.state !== 'running') await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 300));
    expect(svc.jobs.cancel(j.id)).toBe(true);
    const done = await svc.jobs.wait(j.id);
    expect(done.state).toBe('cancelled');
    const st = await trainState(svc, projectId);
    expect(st.model!.createdAt.getTime()).toBe(before);
    expect(st.trainJob!.state).toBe('cancelled');
  });
});
