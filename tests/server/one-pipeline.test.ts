/**
 * One pipeline (issue 13): the web app's Train job (startTrain on the accepted registration, in
 * the compute host) and the CLI's chain (lib runMineralogy, what `petromap run` calls), given the
 * same registration and seed, train the same model: same hidden sizes, classes and feature names,
 * the same weights, and the same 3D mean IoU against the synthetic truth.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMineralMap } from '@/lib/eds/store-node';
import { classMapFromTable, runMineralogy } from '@/lib/pipeline/run-mineralogy';
import type { LandmarkPair } from '@/lib/registration/types';
import { openVolume } from '@/lib/volume/zarr-store-node';
import { prepareSlab, readSlab, type RegistrationRecord } from '@/server/pipeline/correlate';
import { predictionStores, projectModel, startPredict, startTrain } from '@/server/pipeline/train';
import { iouPerClass, makeSandstoneProject, type TrainFixture } from './train-fixture';

let fx: TrainFixture;
beforeAll(async () => {
  fx = await makeSandstoneProject({ shape: [32, 80, 80], seed: 5, grainDiameterVox: 12 });
}, 60_000);
afterAll(() => fx?.cleanup());

/** mean over `classes` of iouPerClass, a class in neither counting 0 */
function meanIoU(truth: Uint8Array, pred: Uint8Array, classes: number[]) {
  const iou = iouPerClass(truth, pred, classes);
  return classes.reduce((sum, c) => sum + (Number.isNaN(iou[c]) ? 0 : iou[c]!), 0) / classes.length;
}

describe('one pipeline', () => {
  it('the web Train job and runMineralogy train the same model from the same registration', async () => {
    const { svc, projectId, sample } = fx;
    const ds = svc.repo.listDatasets(projectId);
    const vol = ds.find((d) => d.kind === 'volume')!, eds = ds.find((d) => d.kind === 'eds')!;
    const volumePath = svc.ws.abs(vol.relPath);
    const map = await loadMineralMap(svc.ws.abs(eds.relPath));
    // landmarks at the EDS map's corners, placed by the synthetic truth
    const m = sample.truth.edsToVoxel;
    const landmarks: LandmarkPair[] = [[4, 4], [map.width - 5, 4], [4, map.height - 5], [map.width - 5, map.height - 5]].map(([u, v]) => ({
      eds: [u!, v!], voxel: [m[0] * u! + m[1] * v! + m[2], m[3] * u! + m[4] * v! + m[5], m[6] * u! + m[7] * v! + m[8]],
    }));

    // the CLI's chain: register, train (lib defaults, seed 1), predict, report
    const out = path.join(svc.ws.root, 'cli-run');
    const { classMap, classes } = classMapFromTable(map);
    const cli = await runMineralogy(volumePath, map, classMap, out, { register: { landmarks, refine: false }, classes, threads: 2, seed: 1 });

    // the web app: the Correlate step's slab, that registration accepted, then the Train and Predict jobs
    await prepareSlab(svc, projectId);
    const slab = (await readSlab(svc, projectId))!;
    expect(slab.slabToVoxel).toEqual(cli.registration.slabToVoxel);
    const r = cli.registration;
    const rec: RegistrationRecord = {
      volumeId: vol.id, edsId: eds.id, edsToSlab: r.edsToSlab, edsToVoxel: r.edsToVoxel, slabToVoxel: r.slabToVoxel, surface: r.surface,
      quality: r.quality, landmarks: [], source: 'landmarks', accepted: true, createdAt: Date.now(),
    };
    svc.repo.setArtifact(projectId, 'registration', rec);
    const tj = await svc.jobs.wait(startTrain(svc, projectId).id);
    expect(tj.error).toBeNull();
    const pj = await svc.jobs.wait(startPredict(svc, projectId).id);
    expect(pj.error).toBeNull();

    const web = projectModel(svc, projectId)!;
    const [wm, cm] = await Promise.all([web.dir, cli.modelDir].map(async (d) => JSON.parse(await readFile(path.join(d, 'model.json'), 'utf8'))));
    expect(wm.hidden).toEqual(cm.hidden);
    expect(wm.classes).toEqual(cm.classes);
    expect(wm.featureNames).toEqual(cm.featureNames);
    expect(wm.featureSet).toEqual(cm.featureSet);
    // both record the same volume geometry; the web model names the dataset, the CLI's its store folder
    const geometry = (t: { shape: unknown; spacingUm: unknown; featureVersion: unknown }) => [t.shape, t.spacingUm, t.featureVersion];
    expect(geometry(wm.trainedOn)).toEqual(geometry(cm.trainedOn));
    expect(wm.trainedOn.volumeId).toBe(web.summary.trainedOn!.volumeId);
    expect(cm.trainedOn.volumeId).toBeUndefined();
    expect(web.summary.labelledVoxels).toBe(cli.labelledVoxels);
    expect(wm.history.length).toBe(cm.history.length);

    const truth = sample.truthLabels;
    const shape = sample.volume.meta.shape;
    const webLabels = (await (await predictionStores(svc, projectId))!.labels.readBlock({ start: [0, 0, 0], shape })) as Uint8Array;
    const cliLabels = (await (await openVolume(cli.prediction.labelsPath)).readBlock({ start: [0, 0, 0], shape })) as Uint8Array;
    const codes = wm.classes as number[];
    const iouWeb = meanIoU(truth, webLabels, codes), iouCli = meanIoU(truth, cliLabels, codes);
    const [ww, cw] = await Promise.all([web.dir, cli.modelDir].map((d) => readFile(path.join(d, 'weights.bin'))));
    console.log(`3D mean IoU: web ${iouWeb.toFixed(4)}, CLI ${iouCli.toFixed(4)}; weights ${Buffer.compare(ww, cw) === 0 ? 'equal' : 'differ'}`);
    expect(Math.abs(iouWeb - iouCli)).toBeLessThanOrEqual(0.01);
    expect(iouWeb).toBeGreaterThan(0.2);
    // same training set, same seed: the same weights (TF.js wasm is deterministic on one machine)
    expect(Buffer.compare(ww, cw)).toBe(0);
  }, 120_000);
});
