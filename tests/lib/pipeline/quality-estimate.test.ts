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
import { predictVolume } from '../../../lib/classify/predict-node';
import { trainFromLabels } from '../../../lib/pipeline/train-from-labels';
import { classMapFromNames } from '../../../lib/registration/transfer-labels';
import { generateSandstone } from '../../../lib/synthetic';
import { openVolume, writeDenseVolume } from '../../../lib/volume/zarr-store-node';

const tmp = mkdtempSync(join(tmpdir(), 'petromap-quality-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('3D quality estimate of an EDS-trained model', () => {
  it('is within 0.05 of the true 3D mean IoU on a synthetic sandstone', async () => {
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
    expect(Math.abs(q.meanIoU - truth)).toBeLessThan(0.05);
    expect(q.outOfRange).toBeLessThan(0.2);
  }, 300_000);
});
