/**
 * Classes the surface labels can hardly teach: a mineral whose grains cover a few pixels of the mapped
 * surface gets a handful of labelled voxels, and the model then finds it almost nowhere in depth. On an
 * independent test rock, pyrite (0.6 % of the rock in 3D, 0.17 % of the map) had 4 labelled voxels and
 * none held out: its 3D IoU was 0.006 and its 3D share 0.0 %, and train and run said nothing of it
 * (on a second rock, 6 labelled voxels of bright pyrite gave IoU 0.53: too few is a gamble, not a certain loss).
 */
import type { ClassCount } from '../classify/training-set';

/** Fewer labelled voxels than this (train + held out) and a class's 3D map is not to be trusted. */
export const MIN_CLASS_VOXELS = 50;

/**
 * The note train and run print after training, or undefined when every class has enough labels.
 * `classes`: every class the model is trained for; one the labels never reached (its minerals
 * absent from the map, or off the volume) has no count at all and is named with 0 (on an
 * independent rock, pore with 0.1 % of the map and 5–7 % of the rock got no label and no word,
 * while the estimate averaged over the classes the model knows).
 */
export function thinClassesNote(counts: readonly ClassCount[], names: Record<number, string>, classes: readonly number[] = []): string | undefined {
  const all = [...counts, ...classes.filter((k) => !counts.some((c) => c.class === k)).map((k) => ({ class: k, available: 0, train: 0, heldOut: 0 }))];
  const thin = all.filter((c) => c.available < MIN_CLASS_VOXELS);
  if (!thin.length) return undefined;
  const list = thin.map((c) => `${names[c.class] ?? `class ${c.class}`} (${c.available} labelled voxel${c.available === 1 ? '' : 's'}${c.heldOut ? '' : ', none held out'})`).join(', ');
  return `${thin.length === 1 ? 'a class has' : `${thin.length} classes have`} too few labels to be learned: ${list}, fewer than ${MIN_CLASS_VOXELS}. ` +
    `${thin.length === 1 ? 'Its' : 'Their'} 3D map and share are not to be trusted (on test rocks pyrite with 4 labelled voxels was found almost nowhere, IoU 0.006; with 6, IoU 0.53). ` +
    `${thin.length === 1 ? 'Its' : 'Their'} grains cover little of the mapped surface: a larger map, a map of the other face (--face bottom), or painted labels (--labels) would give ${thin.length === 1 ? 'it' : 'them'} more.`;
}
