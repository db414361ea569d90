/** Reading a volume slab by slab for the report passes (label-census.ts). */
import { throwIfAborted, type StageOptions } from '../errors';
import type { VolumeStore } from '../volume/store';
import type { Shape3 } from '../volume/types';

/** Slices per read: the store's chunk depth (a slab that cuts chunks decodes them twice), at most ~256 MiB. */
function slabDepth(store: VolumeStore, asked?: number): number {
  if (asked) return asked;
  const [, ny, nx] = store.meta.shape;
  const chunkZ = (store as { chunk?: readonly number[] }).chunk?.[0] ?? 32;
  const bytes = store.meta.dtype === 'uint8' ? 1 : store.meta.dtype === 'uint16' ? 2 : 4;
  return Math.max(1, Math.min(chunkZ, Math.floor(2 ** 28 / (ny * nx * bytes))));
}

/** Read the volume in slabs of z, calling `visit(z, slice)` for each slice. */
export async function forEachSlice(store: VolumeStore, visit: (z: number, slice: ArrayLike<number>) => void, opts: StageOptions & { slabZ?: number } = {}): Promise<void> {
  const [nz, ny, nx] = store.meta.shape;
  const slab = slabDepth(store, opts.slabZ);
  const plane = ny * nx;
  for (let z0 = 0; z0 < nz; z0 += slab) {
    throwIfAborted(opts.signal);
    const d = Math.min(slab, nz - z0);
    const data = await store.readBlock({ start: [z0, 0, 0], shape: [d, ny, nx] as Shape3 }, { signal: opts.signal });
    for (let k = 0; k < d; k++) visit(z0 + k, data.subarray(k * plane, (k + 1) * plane));
    opts.onProgress?.(Math.min(1, (z0 + d) / nz), `counting slice ${z0 + d} of ${nz}`);
  }
}
