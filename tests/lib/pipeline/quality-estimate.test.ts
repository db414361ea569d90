/**
 * Issue 15 §2: the truth-free 3D quality estimate that trainFromLabels stores with a model trained
 * on a registered EDS surface lands near the true 3D mean IoU of the whole-volume prediction, while
 * the held-out surface tiles over-promise.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { confusionMetrics } from '../../../lib/classify/model';
import { estimateFromProbabilities, estimateMargin } from '../../../lib/classify/quality-estimate';
import { classCeilings, expectedIoUPerClass, iouFromConfusion, rakeToCensus, softConfusion } from '../../../lib/classify/quality-measures';
import { predictVolume } from '../../../lib/classify/predict-node';
import { trainFromLabels } from '../../../lib/pipeline/train-from-labels';
import { classMapFromNames } from '../../../lib/registration/transfer-labels';
import { generateSandstone } from '../../../lib/synthetic';
import { openVolume, writeDenseVolume } from '../../../lib/volume/zarr-store-node';

const tmp = mkdtempSync(join(tmpdir(), 'petromap-quality-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('3D quality estimate of an EDS-trained model', () => {
  it('is within 0.06 of the true 3D mean IoU on a thin synthetic sandstone', async () => {
    const s = generateSandstone({ shape: [40, 96, 96], seed: 7, grainDiameterVox: 12 });
    const vol = join(tmp, 'v.ome.zarr');
    await writeDenseVolume(vol, s.volume);
    const { a, b, c } = s.truth.surface;
    const m = s.truth.edsToVoxel;
    const [, ny, nx] = s.volume.meta.shape;
    const r = await trainFromLabels(vol, {
      kind: 'eds', map: s.eds, edsToSlab: [m[6], m[7], m[8], m[3], m[4], m[5]], slabToVoxel: [a, b, c, 0, 1, 0, 1, 0, 0], surface: { a, b, c },
      slab: { width: nx, height: ny }, classMap: classMapFromNames(s.eds.legend, s.truth.mineralToClass),
    }, join(tmp, 'model'));
    const q = r.quality!;
    expect(q.sampled).toBeGreaterThan(2000);
    const p = await predictVolume(vol, join(tmp, 'model'), join(tmp, 'pred'), { threads: 1, pyramids: false });
    const lab = (await (await openVolume(p.labelsPath)).readBlock({ start: [0, 0, 0], shape: s.volume.meta.shape })) as Uint8Array;
    const t: number[] = [], pr: number[] = [];
    for (let i = 0; i < lab.length; i++) if (s.truthLabels[i]) { t.push(s.truthLabels[i]!); pr.push(lab[i]!); }
    const truth = confusionMetrics(t, pr, [1, 2, 3, 4, 5]).meanIoU;
    console.info(`quality estimate ${q.meanIoU.toFixed(3)}, surface ${q.surfaceMeanIoU.toFixed(3)}, true 3D ${truth.toFixed(3)}`);
    // this thin phantom (40 voxels deep) read +0.056 at T 0.55 (+0.038 at T 0.6; without sharpening
    // -0.060), +0.032 with the out-of-range weight and today's training (stop 32): its bound is 0.06. The acceptance bound 0.05 is checked on the bench pipeline phantoms
    // (bench quality; 25 runs within 0.05, docs/quality-estimate.md)
    expect(Math.abs(q.meanIoU - truth)).toBeLessThan(0.06);
    expect(q.outOfRange).toBeLessThan(0.2);
  }, 300_000);
});

describe('class ceilings', () => {
  it('raise a class the model is cautious about everywhere, not one it is confused about (floor), and not a class without rows', () => {
    // 3 classes; on its own labelled rows the model gives class 0 0.9, class 1 0.7 (cautious), class 2 0.2 (confused)
    const rows = [[0.9, 0.05, 0.05], [0.2, 0.7, 0.1], [0.5, 0.3, 0.2]];
    const p = Float32Array.from(Array.from({ length: 30 }, (_, i) => rows[i % 3]!).flat());
    const y = Int32Array.from({ length: 30 }, (_, i) => i % 3);
    const c = classCeilings(p, y, 3, 1);
    expect(c[0]).toBeCloseTo(0.9, 5);
    expect(c[1]).toBeCloseTo(0.7, 5);
    expect(c[2]).toBe(0.6);
    expect(classCeilings(p, y, 3, 1, { minRows: 11 })).toEqual([1, 1, 1]);
    // in depth, class 1's voxels at 0.7 read as surer once divided by its ceiling
    const depth = Float32Array.from([0.2, 0.7, 0.1, 0.9, 0.05, 0.05]);
    const plain = estimateFromProbabilities(depth, 3, { temperature: 1 });
    const raised = estimateFromProbabilities(depth, 3, { temperature: 1, ceilings: c });
    expect(raised[1]).toBeGreaterThan(plain[1]!);
  });
});

describe('census raking of the soft confusion', () => {
  // 3 classes, 10 voxels: the model calls 6 voxels class 0 at 0.9, 3 class 1 at 0.8, 1 class 2 at 0.7
  const rows = [...Array(6).fill([0.9, 0.05, 0.05]), ...Array(3).fill([0.1, 0.8, 0.1]), [0.15, 0.15, 0.7]] as number[][];
  const q = Float32Array.from(rows.flat());
  const { confusion, predicted } = softConfusion(q, 3);
  it('is the plain expected IoU at weight 0', () => {
    expect(Array.from(predicted)).toEqual([6, 3, 1]);
    const plain = expectedIoUPerClass(q, 3);
    iouFromConfusion(rakeToCensus(confusion, predicted, 3, [0.2, 0.3, 0.5], 0), predicted, 3).forEach((v, k) => expect(v).toBeCloseTo(plain[k]!, 6));
  });
  it('keeps what the map predicts and moves the class totals toward the census', () => {
    const r = rakeToCensus(confusion, predicted, 3, [0.2, 0.3, 0.5], 0.5);
    for (let c = 0; c < 3; c++) expect(r[c] + r[3 + c] + r[6 + c]).toBeCloseTo(predicted[c]!, 6);
    // row targets: half the soft support (6.05, 2.92, 1.03) and half the census (2, 3, 5) of 10 voxels
    const soft = [0, 1, 2].map((t) => confusion[3 * t] + confusion[3 * t + 1] + confusion[3 * t + 2]);
    [0, 1, 2].forEach((t) => expect(r[3 * t] + r[3 * t + 1] + r[3 * t + 2]).toBeCloseTo(0.5 * soft[t]! + 0.5 * 10 * [0.2, 0.3, 0.5][t]!, 3));
    // the census holds far less of class 0 than the map shows: its estimate drops; class 2, under-predicted, is found short of voxels too
    const raked = iouFromConfusion(r, predicted, 3), plain = iouFromConfusion(confusion, predicted, 3);
    expect(raked[0]).toBeLessThan(plain[0]! - 0.1);
    expect(raked[2]).toBeLessThan(plain[2]!);
  });
});

describe('voxels outside the training range (issue 15 §2, a rock we did not make)', () => {
  // 3 classes, 10 voxels in depth: 6 called class 0 at 0.9, 3 class 1 at 0.8, 1 class 2 at 0.7; the EDS map's census agrees
  const rows = [...Array(6).fill([0.9, 0.05, 0.05]), ...Array(3).fill([0.1, 0.8, 0.1]), [0.15, 0.15, 0.7]] as number[][];
  const p = Float32Array.from(rows.flat());
  const o = { temperature: 1, trainPrior: [0.6, 0.3, 0.1], shares: [0.6, 0.3, 0.1] };
  it('count half wrong: a class the model calls confidently where the labels never reached reads lower', () => {
    // 3 of the 6 class-0 voxels look like nothing labelled (N3's rock: apatite, which no class names, called calcite at p 0.9)
    const outside = Uint8Array.from([1, 1, 1, 0, 0, 0, 0, 0, 0, 0]);
    const before = estimateFromProbabilities(p, 3, o);
    const after = estimateFromProbabilities(p, 3, { ...o, outside });
    expect(after[0]).toBeLessThan(before[0]! - 0.1);
    // weight 0 is the rule without the flags; no flagged voxel changes nothing
    estimateFromProbabilities(p, 3, { ...o, outside, outsideWeight: 0 }).forEach((v, k) => expect(v).toBeCloseTo(before[k]!, 6));
    estimateFromProbabilities(p, 3, { ...o, outside: new Uint8Array(10) }).forEach((v, k) => expect(v).toBeCloseTo(before[k]!, 6));
  });
  it('widen the stated range beyond 2 % of the voxels in depth', () => {
    expect(estimateMargin(0.01)).toBe(0.05);
    expect(estimateMargin(Number.NaN)).toBe(0.05);
    // N3's seed 8: 5.3 % outside, read +0.113 above the truth with the rule
    expect(estimateMargin(0.053)).toBeCloseTo(0.116, 6);
    expect(estimateMargin(0.5)).toBe(0.3);
  });
});
