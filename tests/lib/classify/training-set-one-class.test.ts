/**
 * Training on labels of one class only names that class (the real TIMA export on a sandstone's
 * class list failed with "found only class 2"): the caller passes the class names.
 */
import { expect, it } from 'vitest';
import { isPetromapError } from '../../../lib/errors';
import { buildTrainingSet, type LabelledVoxel } from '../../../lib/classify/training-set';
import type { DenseVolume } from '../../../lib/volume/types';
import { denseStore, simpleFeatures } from './helpers';

const vol: DenseVolume = { meta: { shape: [4, 8, 8], spacingUm: [1, 1, 1], originUm: [0, 0, 0], dtype: 'uint16', channels: ['xrm'] }, data: new Uint16Array(256).fill(100) };
const voxels: LabelledVoxel[] = Array.from({ length: 16 }, (_, i) => ({ z: 0, y: i >> 2, x: i & 3, cls: 2 }));

it('names the only class with labelled voxels when the class names are given, its code otherwise', async () => {
  const named = await buildTrainingSet(denseStore(vol), voxels, { features: simpleFeatures, source: 'The EDS map sta.zip', classNames: { 1: 'pore', 2: 'quartz', 3: 'clay' } }).then(() => null, (e: unknown) => e);
  expect(isPetromapError(named, 'Unprocessable')).toBe(true);
  expect((named as Error).message).toBe('The EDS map sta.zip: need labelled voxels of at least two classes to train a classifier, found only quartz (class 2). Check the registration and the mineral-to-class table.');
  const bare = await buildTrainingSet(denseStore(vol), voxels, { features: simpleFeatures }).then(() => null, (e: unknown) => e);
  expect((bare as Error).message).toMatch(/found only class 2\. /);
});
