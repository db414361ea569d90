import { describe, expect, it } from 'vitest';
import { withChunkCache } from '../../../lib/parallel/chunk-cache';
import { memoryVolumeStore } from '../../../lib/volume/memory-store';
import type { Box3, Shape3 } from '../../../lib/volume/types';

describe('chunk cache', () => {
  const shape: Shape3 = [19, 23, 17];
  const data = Uint16Array.from({ length: shape[0] * shape[1] * shape[2] }, (_, i) => (i * 7919) % 65521);
  const store = memoryVolumeStore({ meta: { shape, spacingUm: [1, 1, 1], originUm: [0, 0, 0], dtype: 'uint16', channels: ['xrm'] }, data });

  it('reads the same blocks (with halos, reflected borders) as the store, and reuses chunks', async () => {
    const cached = withChunkCache(store, [7, 5, 6]);
    const cases: Array<[Box3, number | Shape3]> = [
      [{ start: [0, 0, 0], shape }, 0],
      [{ start: [3, 4, 5], shape: [8, 9, 7] }, 4],
      [{ start: [10, 14, 9], shape: [9, 9, 8] }, [2, 30, 5]],
      [{ start: [0, 0, 0], shape: [1, 1, 1] }, 25],
      [{ start: [5, 5, 5], shape: [6, 6, 6] }, 3],
    ];
    for (const [box, halo] of cases) {
      const want = await store.readBlockF32(box, { halo });
      const got = await cached.readBlockF32(box, { halo });
      expect(Array.from(got)).toEqual(Array.from(want));
    }
    expect(cached.stats.hits).toBeGreaterThan(cached.stats.misses);
  });

  it('stays within its byte budget', async () => {
    const cached = withChunkCache(store, [4, 4, 4], 4 * 4 * 4 * 2 * 10);
    const want = await store.readBlock({ start: [2, 2, 2], shape: [15, 19, 13] }, { halo: 2 });
    const got = await cached.readBlock({ start: [2, 2, 2], shape: [15, 19, 13] }, { halo: 2 });
    expect(Array.from(got)).toEqual(Array.from(want));
    expect(cached.stats.bytes).toBeLessThanOrEqual(4 * 4 * 4 * 2 * 10);
  });
});
