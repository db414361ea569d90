import { describe, expect, it } from 'vitest';
import { computeBrickFeaturesReference, eigSym3, gaussianFilter } from '../../../lib/features/reference';
import { skimagePreset } from '../../../lib/features/sets';
import { column, loadFixture, maxRelErr } from './fixture';

const fx = loadFixture();

describe('float64 reference filters', () => {
  it('gaussian_filter matches scipy (anisotropic sigmas, derivative orders, reflect borders)', () => {
    for (const c of fx.scipyCases) {
      const out = gaussianFilter(Float64Array.from(fx.scipyInput), fx.scipyShape, c.sigma, c.order);
      expect(maxRelErr(out, c.out), JSON.stringify(c)).toBeLessThan(1e-5);
    }
  });

  it('eigenvalues of symmetric 3x3 matrices are exact and decreasing', () => {
    expect(eigSym3(3, 0, 0, 1, 0, 2)).toEqual([3, 2, 1]);
    const e = eigSym3(2, 1, 0, 2, 0, 5);
    expect(e[0]).toBeCloseTo(5, 12);
    expect(e[1]).toBeCloseTo(3, 12);
    expect(e[2]).toBeCloseTo(1, 12);
  });

  it('skimage preset (sigma 0.5..2) matches multiscale_basic_features value for value', () => {
    const set = skimagePreset([1, 1, 1], { sigmaMin: 0.5, sigmaMax: 2 });
    const res = computeBrickFeaturesReference([fx.volume], fx.shape, [0, 0, 0], [1, 1, 1], set);
    expect(res.nFeatures).toBe(15);
    expect(res.shape).toEqual(fx.shape);
    for (let f = 0; f < 15; f++) {
      const err = maxRelErr(column(res.data, 15, f), column(fx.features, fx.nFeatures, f));
      expect(err, res.names[f]).toBeLessThan(1e-3);
    }
  });
});
