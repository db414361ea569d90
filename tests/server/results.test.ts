/**
 * The Results step's server flow on a small synthetic sandstone with a stored prediction (the
 * truth labels with some voxels changed, so no training is needed): the page's query starts the
 * statistics job and answers 'pending' at once, the job (a worker-thread task) stores statistics
 * equal to lib/report's on the same volumes, the query then reads them; tables are lib/report's
 * CSV (CRLF, the CLI's files); the 3D-view labels are the stored file; exports stream the
 * prediction; a new prediction makes the stored statistics stale; a failed job is not restarted
 * until asked.
 */
import { readFileSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SANDSTONE_CLASSES } from '@/lib/classes';
import { classMapFromNames } from '@/lib/registration/transfer-labels';
import { depthCsv, histogramsCsv, metricsCsv, modalCsv } from '@/lib/report/csv';
import { labelsOverviewNifti } from '@/lib/report/labels-overview';
import { resultsStats } from '@/lib/report/results-stats';
import { memoryVolumeStore } from '@/lib/volume/memory-store';
import { writeDenseVolume } from '@/lib/volume/zarr-store-node';
import { exportVolumeStream, labelsNifti, reportCsv, resultsState, scheduleResultsStats } from '@/server/pipeline/results';
import { storedStats } from '@/server/pipeline/results-stats';
import { forgetStore } from '@/server/storage/open-stores';
import { predictionRel, predictionStores, type ModelSummary, type PredictionRecord } from '@/server/pipeline/train';
import { collect, makeSandstoneProject, type TrainFixture } from './train-fixture';

let fx: TrainFixture;
let predicted: Uint8Array;
const classes = SANDSTONE_CLASSES.filter((c) => c.code > 0).map((c) => ({ code: c.code, name: c.name }));

/** Store a prediction as the predict job does: three stores with pyramids and the 'prediction' row. */
async function storePrediction(labels: Uint8Array, createdAt: number, spacingAssumed = false) {
  const { svc, projectId, sample } = fx;
  const meta = { ...sample.volume.meta, dtype: 'uint8' as const };
  const at = (w: 'labels' | 'probabilities' | 'uncertainty') => svc.ws.abs(predictionRel(svc, projectId, w));
  for (const w of ['labels', 'probabilities', 'uncertainty'] as const) {
    rmSync(at(w), { recursive: true, force: true });
    forgetStore(predictionRel(svc, projectId, w));
  }
  await writeDenseVolume(at('labels'), { meta: { ...meta, channels: ['labels'] }, data: labels }, { chunk: [32, 32, 32], downsample: 'mode', spacingAssumed });
  const probs = classes.map((c) => Uint8Array.from(labels, (l) => (l === c.code ? 200 : 10)));
  await writeDenseVolume(at('probabilities'), { meta: { ...meta, channels: classes.map((c) => c.name) }, channels: probs }, { chunk: [32, 32, 32], spacingAssumed });
  await writeDenseVolume(at('uncertainty'), { meta: { ...meta, channels: ['uncertainty'] }, data: Uint8Array.from(labels, (l, i) => (l ? (i * 13) % 256 : 0)) }, { chunk: [32, 32, 32] });
  const rec: PredictionRecord = { createdAt, modelCreatedAt: 1, jobId: 'jtest', classes: classes.map((c) => c.code), seconds: 1, shape: meta.shape };
  svc.repo.setArtifact(projectId, 'prediction', rec);
}

async function waitReady() {
  for (let k = 0; k < 600; k++) {
    const st = await resultsState(fx.svc, fx.projectId);
    if (st.stats.status !== 'pending') return st;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the statistics job did not end');
}

beforeAll(async () => {
  fx = await makeSandstoneProject({ shape: [40, 72, 64], seed: 4, grainDiameterVox: 12 });
  const { svc, projectId, sample } = fx;
  // the model row the results read: classes, held-out validation, the surface
  const summary: ModelSummary = {
    createdAt: 1, jobId: 'jmodel', classes: classes.map((c) => c.code), mirrorSurface: sample.truth.surface,
    features: ['intensity'], featureSet: { specs: [{ filter: 'intensity', sigmaUm: 0 }] }, hidden: [8], bestEpoch: 1, history: [{ epoch: 1, loss: 0.5, valLoss: 0.6, valAccuracy: 0.9 }],
    counts: [{ class: 1, available: 10, train: 4, heldOut: 6 }, { class: 2, available: 10, train: 6, heldOut: 4 }], labelledVoxels: 20, trainSeconds: 1,
    validation: { classes: [1, 2], confusion: [[5, 1], [0, 4]], accuracy: 0.9, meanIoU: 0.8, perClass: [{ class: 1, precision: 1, recall: 0.83, f1: 0.91, iou: 0.83, support: 6 }, { class: 2, precision: 0.8, recall: 1, f1: 0.89, iou: 0.8, support: 4 }] },
  };
  svc.repo.setArtifact(projectId, 'model', summary);
  // the truth with every 9th rock voxel moved to the next class
  predicted = Uint8Array.from(sample.truthLabels, (t, i) => (t && i % 9 === 0 ? (t % 5) + 1 : t));
});
afterAll(() => fx?.cleanup());

describe('results step', () => {
  it('has nothing to summarise before a prediction', async () => {
    const st = await resultsState(fx.svc, fx.projectId);
    expect(st.prediction).toBeNull();
    expect(st.stats.status).toBe('none');
    expect(scheduleResultsStats(fx.svc, fx.projectId)).toBeUndefined();
    await expect(reportCsv(fx.svc, fx.projectId, 'modal')).rejects.toThrow(/no prediction yet/);
  });

  it('answers at once with a pending job, which stores the statistics lib/report computes', async () => {
    const { svc, projectId, sample } = fx;
    await storePrediction(predicted, 1000);
    const t0 = Date.now();
    const first = await resultsState(svc, projectId);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(first.prediction).not.toBeNull();
    expect(first.stats.status).toBe('pending');
    const jobId = (first.stats as { jobId: string }).jobId;
    expect(svc.repo.job(jobId)!.kind).toBe('results-stats');
    expect(first.modal).toEqual([]);
    expect(first.exports.length).toBe(19); // 3 volumes x 5 formats + 4 tables
    // no second job while the first is queued or running
    expect(((await resultsState(svc, projectId)).stats as { jobId: string }).jobId).toBe(jobId);
    expect(scheduleResultsStats(svc, projectId)!.id).toBe(jobId);
    await expect(reportCsv(svc, projectId, 'modal')).rejects.toThrow(/still being computed/);

    const st = await waitReady();
    expect(svc.repo.job(jobId)!.state).toBe('done');
    expect(st.stats.status).toBe('ready');
    expect(scheduleResultsStats(svc, projectId)).toBeUndefined();

    // the same numbers as lib/report on the same volumes
    const meta = { ...sample.volume.meta, dtype: 'uint8' as const };
    const classMap = classMapFromNames(sample.eds.legend, sample.truth.mineralToClass);
    const ref = await resultsStats({
      labels: memoryVolumeStore({ meta, data: predicted }), scan: memoryVolumeStore(sample.volume), truth: memoryVolumeStore({ meta, data: sample.truthLabels }),
      classes, surface: sample.truth.surface, map: sample.eds, classMap,
    });
    const stored = storedStats(svc, projectId)!;
    expect(stored.modal).toEqual(ref.modal);
    expect(stored.depth).toEqual(ref.depth);
    expect(stored.histograms).toEqual(ref.histograms);
    expect(stored.truthIoU).toEqual(ref.truthIoU);
    expect(st.modal.reduce((a, m) => a + m.volumePct, 0)).toBeCloseTo(100, 6);
    expect(st.modal.reduce((a, m) => a + (m.edsAreaPct ?? 0), 0)).toBeCloseTo(100, 6);
    expect(st.depth!.depthsUm.length).toBeGreaterThan(5);
    // 1 in 9 rock voxels changed: IoU 0.6-0.85 per class (small classes also gain wrong voxels)
    for (const c of [1, 2, 3, 4, 5]) expect(st.truthIoU![c]).toBeGreaterThan(0.5);
    for (const c of [1, 2, 3, 4, 5]) expect(st.truthIoU![c]).toBeLessThan(0.95);
    const quartz = st.modal.find((m) => m.name === 'quartz')!;
    expect(st.histograms!.counts[2]!.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(quartz.voxels);
  });

  it('writes the tables as lib/report CSV (CRLF, the files the CLI writes)', async () => {
    const { svc, projectId } = fx;
    const stored = storedStats(svc, projectId)!;
    const modal = await reportCsv(svc, projectId, 'modal');
    expect(modal.csv).toBe(modalCsv(stored.modal));
    expect(modal.csv.split('\r\n')[0]).toBe('class,name,voxels,volume_percent,eds_pixels,eds_area_percent');
    expect(modal.csv.split('\r\n').length).toBe(classes.length + 2);
    expect((await reportCsv(svc, projectId, 'depth')).csv).toBe(depthCsv(stored.depth));
    const hist = await reportCsv(svc, projectId, 'histograms');
    expect(hist.csv).toBe(histogramsCsv(stored.histograms, classes));
    expect(hist.csv.split('\r\n').length).toBe(96 + 2);
    const metrics = await reportCsv(svc, projectId, 'metrics');
    expect(metrics.csv).toBe(metricsCsv(svc.repo.artifact(projectId, 'model')!.validation, classes));
    expect(metrics.csv.split('\r\n')[0]).toBe('class,name,precision,recall,f1,iou,support');
    expect(metrics.csv).not.toMatch(/[^\r]\n/);
  });

  it('serves the stored 3D-view labels and exports the prediction', async () => {
    const { svc, projectId, sample } = fx;
    const [nz, ny, nx] = sample.volume.meta.shape;
    const stored = storedStats(svc, projectId)!;
    const nii = await labelsNifti(svc, projectId);
    expect(Buffer.from(nii).equals(readFileSync(svc.ws.abs(stored.overviewRel!)))).toBe(true);
    const labels = (await import('@/lib/volume/zarr-store-node')).openVolume(svc.ws.abs(predictionRel(svc, projectId, 'labels')));
    expect(Buffer.from(nii).equals(Buffer.from(await labelsOverviewNifti(await labels)))).toBe(true);
    const small = await labelsNifti(svc, projectId, 40);
    expect(new DataView(small.buffer, small.byteOffset).getInt16(42, true)).toBeLessThanOrEqual(40);

    const nrrd = await exportVolumeStream(svc, projectId, 'labels', 'nrrd');
    expect(nrrd.spacingAssumed).toBe(false);
    expect((await resultsState(svc, projectId)).prediction?.spacingAssumed).toBe(false);
    const buf = await collect(nrrd.body);
    expect(buf.length).toBe(nrrd.length);
    expect(nrrd.filename).toBe('labels.nrrd');
    const head = Buffer.from(buf.subarray(0, 600)).toString('latin1');
    expect(head).toContain(`sizes: ${nx} ${ny} ${nz}`);
    expect(Buffer.from(buf.subarray(head.indexOf('\n\n') + 2)).equals(Buffer.from(predicted))).toBe(true);
    const probs = await collect((await exportVolumeStream(svc, projectId, 'probabilities', 'nrrd')).body);
    expect(Buffer.from(probs.subarray(0, 400)).toString('latin1')).toContain(`sizes: 5 ${nx} ${ny} ${nz}`);
    const ni = await exportVolumeStream(svc, projectId, 'labels', 'nifti');
    expect(ni.filename).toBe('labels.nii');
    expect((await collect(ni.body)).length).toBe(352 + nz * ny * nx);
    const tif = await exportVolumeStream(svc, projectId, 'uncertainty', 'tiff');
    expect((await collect(tif.body)).length).toBe(tif.length);
    const zip = unzipSync(await collect((await exportVolumeStream(svc, projectId, 'labels', 'ome-zarr')).body));
    expect(Object.keys(zip)).toContain('labels.ome.zarr/zarr.json');
  });

  it('recomputes for a new prediction; a failed job stays failed until asked again', async () => {
    const { svc, projectId } = fx;
    const before = storedStats(svc, projectId)!;
    await storePrediction(fx.sample.truthLabels, 2000);
    expect(storedStats(svc, projectId)).toBeUndefined();
    // the labels cannot be read by the job (the server keeps its open store): it fails
    expect(await predictionStores(svc, projectId)).toBeDefined();
    const zarrJson = path.join(svc.ws.abs(predictionRel(svc, projectId, 'labels')), 'zarr.json');
    renameSync(zarrJson, `${zarrJson}.away`);
    let st = await resultsState(svc, projectId);
    expect(st.stats.status).toBe('pending');
    st = await waitReady();
    expect(st.stats.status).toBe('failed');
    const failedId = (st.stats as { jobId: string }).jobId;
    expect(((await resultsState(svc, projectId)).stats as { jobId: string }).jobId).toBe(failedId);
    await expect(reportCsv(svc, projectId, 'depth')).rejects.toThrow(/could not be computed/);
    renameSync(`${zarrJson}.away`, zarrJson);
    const again = scheduleResultsStats(svc, projectId, { force: true })!;
    expect(again.id).not.toBe(failedId);
    st = await waitReady();
    expect(st.stats.status).toBe('ready');
    const now = storedStats(svc, projectId)!;
    expect(now.predictionCreatedAt).toBe(2000);
    for (const c of [1, 2, 3, 4, 5]) expect(now.truthIoU![c]).toBe(1);
    expect(now.modal.totalVoxels).toBe(before.modal.totalVoxels);
  });

  it('a prediction of a scan whose voxel size was assumed: the page is told and every download is marked', async () => {
    const { svc, projectId } = fx;
    await storePrediction(predicted, 3000, true);
    expect((await resultsState(svc, projectId)).prediction?.spacingAssumed).toBe(true);
    const nrrd = await exportVolumeStream(svc, projectId, 'labels', 'nrrd');
    expect(nrrd.spacingAssumed).toBe(true);
    expect(Buffer.from((await collect(nrrd.body)).subarray(0, 1200)).toString('latin1')).toMatch(/\n# VOXEL SIZE ASSUMED at import, not measured: the scan file gave no voxel size and 2 um was taken/);
    const probs = await exportVolumeStream(svc, projectId, 'probabilities', 'ome-zarr-v2');
    expect(probs.spacingAssumed).toBe(true);
    const zattrs = JSON.parse(Buffer.from(unzipSync(await collect(probs.body))['probabilities.ome.zarr/.zattrs']!).toString('utf8')) as { petromap?: { spacingAssumed?: boolean } };
    expect(zattrs.petromap?.spacingAssumed).toBe(true);
    expect((await exportVolumeStream(svc, projectId, 'labels', 'ome-zarr')).spacingAssumed).toBe(true);
  });
});
