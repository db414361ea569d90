import { describe, expect, it } from 'vitest';
import { changedOnly, KEEP_VOXEL, mergeKept } from '@/lib/volume/slice-edit';

describe('a painted slice sent as its changed voxels', () => {
  it('an edit made on an older copy keeps what was saved meanwhile', () => {
    const older = Uint8Array.from([0, 0, 0, 0, 0, 0]);
    const stored = Uint8Array.from([0, 2, 2, 0, 0, 0]); // another view's stroke, saved meanwhile
    const mine = Uint8Array.from([1, 1, 0, 0, 0, 0]); // this page's stroke on its older copy
    const sent = changedOnly(older, mine);
    expect([...sent]).toEqual([1, 1, KEEP_VOXEL, KEEP_VOXEL, KEEP_VOXEL, KEEP_VOXEL]);
    const { merged, changed, delta } = mergeKept(stored, sent);
    expect([...merged]).toEqual([1, 1, 2, 0, 0, 0]);
    expect(changed).toBe(2);
    expect([delta[0], delta[1], delta[2]]).toEqual([-1, 2, -1]);
  });

  it('a slice sent whole replaces the stored one', () => {
    const { merged, changed } = mergeKept(Uint8Array.from([3, 3, 0]), Uint8Array.from([0, 1, 0]));
    expect([...merged]).toEqual([0, 1, 0]);
    expect(changed).toBe(2);
  });
});
