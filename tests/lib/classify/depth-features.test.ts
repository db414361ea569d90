/**
 * The depth sample's feature rows, computed one box at a time (depthFeatures: what the class-share
 * weights and the quality estimate read), equal those of gatherFeatures on grid bricks (which
 * training used before for the class-share weights, computing every brick a box touches) up to
 * what the box a feature is computed in already moves it.
 */
import { describe, expect, it } from 'vitest';
import { classifierFeatureSet } from '../../../lib/classify/feature-sets';
import { mirrorAboveSurface } from '../../../lib/classify/mirror';
import { depthFeatures, depthSample } from '../../../lib/classify/quality-estimate';
import { featureFnFor, gatherFeatures } from '../../../lib/classify/training-set';
import { generateSandstone } from '../../../lib/synthetic';
import { memoryVolumeStore } from '../../../lib/volume/memory-store';

describe('depthFeatures', () => {
  it('gives the rows gatherFeatures gives for the same depth sample, in its order', async () => {
    const s = generateSandstone({ shape: [48, 80, 80], seed: 3, grainDiameterVox: 10 });
    const surface = s.truth.surface;
    const store = mirrorAboveSurface(memoryVolumeStore(s.volume), surface);
    const fn = featureFnFor(classifierFeatureSet(s.volume.meta.spacingUm));
    const o = { surface, minDepthVox: 0, boxes: 3, box: [12, 32, 32] as [number, number, number], seed: 5 };
    const vox = depthSample(store.meta.shape, o);
    expect(vox.length).toBeGreaterThan(1000);
    const byBox = await depthFeatures(store, fn, o);
    expect(byBox.vox).toEqual(vox);
    const byBrick = await gatherFeatures(store, vox.map((v) => ({ ...v, cls: 0 })), fn, { brick: [16, 48, 48] });
    expect(byBox.rows.length).toBe(byBrick.rows.length);
    // features depend on the box they are computed in only at the level of the mirror's edge handling (measured on
    // this volume against one whole-volume computation: ~1e-3 relative on ~0.5 % of the values, as much for the
    // grid bricks as for the boxes); everything else is the same to 1e-5
    let worst = 0, off = 0;
    for (let i = 0; i < byBox.rows.length; i++) {
      const d = Math.abs(byBox.rows[i]! - byBrick.rows[i]!) / (1 + Math.abs(byBrick.rows[i]!));
      worst = Math.max(worst, d);
      if (d > 1e-5) off++;
    }
    expect(worst).toBeLessThan(5e-3);
    expect(off / byBox.rows.length).toBeLessThan(0.01);
  });
});
