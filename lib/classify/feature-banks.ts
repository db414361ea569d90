/**
 * The feature banks by name, and which one each kind of labels trains on by default: the one
 * place the CLI, the server and trainFromLabels take them from.
 */
import { defaultFeatureSet, skimagePreset } from '../features/sets';
import type { FeatureSet } from '../features/types';
import { classifierFeatureSet } from './feature-sets';
import { strokeFeatureSet } from './strokes';

export const FEATURE_BANKS = ['classifier', 'strokes', 'default', 'skimage'] as const;
export type FeatureBank = (typeof FEATURE_BANKS)[number];

/** The bank labels of each kind train on unless the user picks another. */
export const DEFAULT_BANK = { eds: 'classifier', painted: 'strokes' } as const satisfies Record<'eds' | 'painted', FeatureBank>;

export function featureBank(name: FeatureBank, spacingUm: [number, number, number]): FeatureSet {
  switch (name) {
    case 'strokes':
      return strokeFeatureSet(spacingUm);
    case 'default':
      return defaultFeatureSet(spacingUm);
    case 'skimage':
      return skimagePreset(spacingUm);
    default:
      return classifierFeatureSet(spacingUm);
  }
}
