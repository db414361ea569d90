/**
 * How fast this machine computes features: a Gaussian at 2 scales on a 24x48x48 brick of the
 * volume (after a warm-up that compiles the wasm), in weighted voxel-features per second
 * (a Gaussian = weight 1, lib/features/choices filterCost). Feeds lib/classify/predict-estimate.
 */
import type { StageOptions } from '../errors';
import type { Box3 } from '../volume/types';
import { openVolume } from '../volume/zarr-store-node';
import { featureHalo, featuresForBox, type FeatureSet } from './index';

export interface FeatureThroughput {
  /** weighted voxel-features per second (gaussian = weight 1) in one thread */
  unitsPerSec: number;
  measuredAt: number;
}

export async function measureFeatureThroughput(storePath: string, opts: StageOptions = {}): Promise<FeatureThroughput> {
  const store = await openVolume(storePath);
  const unit = Math.min(...store.meta.spacingUm);
  const set: FeatureSet = { specs: [{ filter: 'gaussian', sigmaUm: unit }, { filter: 'gaussian', sigmaUm: 2 * unit }], preset: 'custom' };
  const [nz, ny, nx] = store.meta.shape;
  const box: Box3 = { start: [0, 0, 0], shape: [Math.min(24, nz), Math.min(48, ny), Math.min(48, nx)] };
  const h = featureHalo(set, store.meta.spacingUm);
  await featuresForBox(store, box, set, opts); // warm-up (wasm compile)
  const t0 = performance.now();
  await featuresForBox(store, box, set, opts);
  const dt = Math.max(1e-3, (performance.now() - t0) / 1000);
  const withHalo = box.shape.reduce((acc, n, i) => acc * (n + 2 * h[i]!), 1);
  return { unitsPerSec: (withHalo * 2) / dt, measuredAt: Date.now() };
}
