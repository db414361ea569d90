/**
 * train and run name a class with too few labelled voxels to be learned. On an independent test rock,
 * pyrite (0.6 % of the rock in 3D, 0.17 % of the map) had 4 labelled voxels and none held out; its 3D
 * IoU was 0.006 and its 3D share 0.0 %, and neither command said a word.
 */
import { describe, expect, it } from 'vitest';
import { MIN_CLASS_VOXELS, thinClassesNote } from '../../../lib/cli/thin-classes';

const names = { 1: 'quartz', 2: 'feldspar', 5: 'pyrite', 6: 'apatite' };

describe('train/run: classes with too few labels', () => {
  it('names each such class with its labelled voxels and says its 3D share is not to be trusted', () => {
    const counts = [{ class: 1, available: 2984, train: 1897, heldOut: 1087 }, { class: 2, available: 1093, train: 632, heldOut: 461 }, { class: 5, available: 4, train: 4, heldOut: 0 }];
    const note = thinClassesNote(counts, names)!;
    expect(note).toMatch(/^a class has too few labels to be learned: pyrite \(4 labelled voxels, none held out\), fewer than 50\./);
    expect(note).toMatch(/Its 3D map and share are not to be trusted.*Its grains cover little of the mapped surface.*give it more/);
    expect(note).not.toMatch(/quartz|feldspar/);
    const two = thinClassesNote([...counts, { class: 6, available: 30, train: 20, heldOut: 10 }], names)!;
    expect(two).toMatch(/^2 classes have .*pyrite \(4 .*apatite \(30 labelled voxels\)/);
  });

  it('names a class the labels never reached (no count at all) with 0 labelled voxels', () => {
    const counts = [{ class: 1, available: 2984, train: 1897, heldOut: 1087 }, { class: 2, available: 1093, train: 632, heldOut: 461 }];
    expect(thinClassesNote(counts, names)).toBeUndefined();
    expect(thinClassesNote(counts, names, [1, 2, 6])).toMatch(/^a class has too few labels to be learned: apatite \(0 labelled voxels, none held out\), fewer than 50\./);
  });

  it('says nothing when every class has enough labels', () => {
    expect(thinClassesNote([{ class: 1, available: MIN_CLASS_VOXELS, train: 40, heldOut: 10 }], names)).toBeUndefined();
  });
});
