/**
 * Train and Results steps on a small synthetic sandstone: training refuses without an accepted
 * registration; with the truth registration accepted, the model trained on the surface labels
 * predicts the 3D volume with per-class IoU vs the truth above measured thresholds; the preview
 * of one slice matches the prediction; exports are readable.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decode } from 'fast-png';
import { predictionStores, previewPng, setProjectFeatureSet, startPredict, startTrain, startingFeatureSet, trainState } from '@/server/pipeline/train';
import { makeSandstoneProject, storeTruthRegistration, type TrainFixture } from './train-fixture';

let fx: TrainFixture;
beforeAll(async () => {
  fx = await makeSandstoneProject();
});
afterAll(() => fx?.cleanup());

function iouPerClass(truth: Uint8Array, pred: Uint8Array, classes: number[]) {
  const out: Record<number, number> = {};
  for (const c of classes) {
    let inter = 0, union = 0;
    for (let i = 0; i < truth.length; i++) {
      if (truth[i] === 0) continue; // air: not scored
      const t = truth[i] === c, p = pred[i] === c;
      if (t && p) inter++;
      if (t || p) union++;
    }
    out[c] = union ? inter / union : NaN;
  }
  return out;
}

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
    const st0 = await trainState(svc, projectId);
    expect(st0.featureSet).toEqual(startingFeatureSet(sample.volume.meta.spacingUm));
    expect(st0.estimate!.nFeatures).toBe(7);
    expect(st0.registrationAccepted).toBe(true);
    
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
    // measured 0.66-0.70 (spatially held-out surface tiles)
    expect(st.model!.validation.accuracy).toBeGreaterThan(0.58);
    expect(st.model!.validation.confusion.length).toBe(5);

    const pj = startPredict(svc, projectId);
    const p = await svc.jobs.wait(pj.id);
    expect(p.error).toBeNull();
    const stores = await predictionStores(svc, projectId);
    expect(stores).toBeDefined();
    const labels = (await stores!.labels.readBlock({ start: [0, 0, 0], shape: sample.volume.meta.shape })) as Uint8Array;
    const iou = iouPerClass(sample.truthLabels, labels, [1, 2, 3, 4, 5]);
    console.log('3D IoU vs truth', Object.entries(iou).map(([c, v]) => `${c}:${v.toFixed(3)}`).join(' '));
    // measured (pore, quartz, feldspar, clay, pyrite): 0.52-0.54, 0.38-0.45, 0.23-0.28, 0.11-0.14, 0.22-0.24;
    // the oracle trained on 3D truth reaches ~0.65 mean (tests/lib/classify/model.test.ts)
    expect(iou[1]).toBeGreaterThan(0.42);
    expect(iou[2]).toBeGreaterThan(0.3);
    expect(iou[3]).toBeGreaterThan(0.17);
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
    expect(same / (nx * ny)).toBeGreaterThan(0.99);
    const st2 = await trainState(svc, projectId);
    expect(st2.prediction!.upToDate).toBe(true);
  });
});
