/**
 * The moving image of the registration: the EDS map as compact class labels (for the
 * correlation-ratio search) and as greyscale (for elastix's mutual information).
 * A companion image (BSE, element map) is quantised into a few grey-level classes instead.
 */
import type { MineralMap } from '../eds/types';
import { invalidInput } from '../errors';

export interface MovingImage {
  width: number;
  height: number;
  /** class index 0..classes-1 per pixel, row-major; NO_CLASS where the map says nothing */
  labels: Uint8Array;
  classes: number;
  /** pixels with a class (not NO_CLASS) */
  classified: number;
  /** grey value per pixel (one per class for mineral maps) */
  grey: Float32Array;
  /** EDS pixel size, micrometres */
  pixelUm: number;
}

/** Label of unclassified EDS pixels (off the sample, failed spectra): ignored by every score. */
export const NO_CLASS = 255;

export interface MovingImageOptions {
  /** name of a companion image (e.g. 'BSE') to register instead of the mineral labels */
  companion?: string;
  /** grey-level classes for a companion image (default 8) */
  levels?: number;
}

/**
 * Mineral labels -> compact classes. Unclassified (0) pixels get NO_CLASS: they are off the sample
 * or failed spectra, and counting them as a class would match them to whatever rock is below.
 */
function fromLabels(map: MineralMap): MovingImage {
  const ids = [...new Set(map.labels)].filter((id) => id !== 0).sort((p, q) => p - q);
  if (!ids.length) throw invalidInput(`EDS map ${map.source ?? ''} has no classified pixels.`);
  if (ids.length > 255) throw invalidInput(`EDS map ${map.source ?? ''} has ${ids.length} phases; at most 255 are supported.`);
  const index = new Map(ids.map((id, i) => [id, i]));
  const labels = new Uint8Array(map.labels.length);
  const grey = new Float32Array(map.labels.length);
  // grey: classes spread over [1/(K+1), 1], unclassified at 0
  const g = 1 / (ids.length + 1);
  let classified = 0;
  for (let i = 0; i < labels.length; i++) {
    const k = index.get(map.labels[i]);
    labels[i] = k ?? NO_CLASS;
    grey[i] = k === undefined ? 0 : (k + 1) * g;
    if (k !== undefined) classified++;
  }
  return { width: map.width, height: map.height, labels, classes: ids.length, classified, grey, pixelUm: map.pixelSizeUm };
}

/** Quantile quantisation of a continuous image into `levels` classes. */
function fromCompanion(map: MineralMap, name: string, levels: number): MovingImage {
  const c = map.companions.find((x) => x.name.toLowerCase() === name.toLowerCase());
  if (!c) {
    const have = map.companions.map((x) => x.name).join(', ') || 'none';
    throw invalidInput(`EDS map ${map.source ?? ''} has no companion image "${name}" (available: ${have}).`);
  }
  const sorted = Float32Array.from(c.data).sort();
  const cuts = Array.from({ length: levels - 1 }, (_, i) => sorted[Math.floor(((i + 1) * sorted.length) / levels)]);
  const labels = new Uint8Array(c.data.length);
  for (let i = 0; i < labels.length; i++) {
    let k = 0;
    while (k < cuts.length && c.data[i] >= cuts[k]) k++;
    labels[i] = k;
  }
  return { width: map.width, height: map.height, labels, classes: levels, classified: labels.length, grey: Float32Array.from(c.data), pixelUm: map.pixelSizeUm };
}

export function movingImage(map: MineralMap, opts: MovingImageOptions = {}): MovingImage {
  if (!(map.pixelSizeUm > 0)) throw invalidInput(`EDS map ${map.source ?? ''} has no valid pixel size (${map.pixelSizeUm} µm).`);
  return opts.companion ? fromCompanion(map, opts.companion, opts.levels ?? 8) : fromLabels(map);
}
