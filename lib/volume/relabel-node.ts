/**
 * Replace one label code by another in a uint8 label volume (level 0), in place: the eraser of a
 * deleted class. Streams rows of whole chunks (chunk z × chunk y × the full x extent), so memory
 * stays a few chunks whatever the volume, and returns the exact voxel counts per code after the
 * replacement (one pass reads every voxel anyway).
 *
 * A single writer (the caller makes sure nobody else writes the store meanwhile): each row covers
 * whole chunks and is written only when something in it changed; each chunk write is atomic, so a
 * cancelled or failed pass leaves every chunk either as it was or fully replaced. `onWritten`
 * reports the voxels replaced so far after each row is stored, so the caller can keep its
 * counts exact after a partial pass too.
 */
import { invalidInput, throwIfAborted, type StageOptions } from '../errors';
import type { VolumeStore } from './store';
import type { Box3 } from './types';
import { DEFAULT_CHUNK, ZarrVolumeStore } from './zarr-store-node';

export interface ReplaceLabelOptions extends StageOptions {
  /** voxels replaced so far, after each row of chunks that changed has been written */
  onWritten?: (replaced: number) => void;
}

export interface ReplaceLabelResult {
  /** voxels changed from `from` to `to` */
  replaced: number;
  /** voxels per code (index 0..255) after the replacement */
  counts: number[];
}

export async function replaceLabel(store: VolumeStore, from: number, to: number, opts: ReplaceLabelOptions = {}): Promise<ReplaceLabelResult> {
  for (const v of [from, to]) {
    if (!Number.isInteger(v) || v < 0 || v > 255) throw invalidInput(`Label codes are 0..255, got ${v}.`);
  }
  if (store.meta.dtype !== 'uint8') throw invalidInput(`${store.path.split(/[\\/]/).pop()}: a label volume holds uint8 codes, this one holds ${store.meta.dtype}.`);
  const [nz, ny, nx] = store.meta.shape;
  const chunk = store instanceof ZarrVolumeStore ? store.chunk : DEFAULT_CHUNK;
  const [dz, dy] = chunk;
  const counts = new Float64Array(256);
  const rows = Math.ceil(nz / dz) * Math.ceil(ny / dy);
  let replaced = 0, done = 0;
  for (let z = 0; z < nz; z += dz) {
    for (let y = 0; y < ny; y += dy) {
      throwIfAborted(opts.signal);
      const box: Box3 = { start: [z, y, 0], shape: [Math.min(dz, nz - z), Math.min(dy, ny - y), nx] };
      const data = (await store.readBlock(box, { signal: opts.signal })) as Uint8Array;
      let changed = 0;
      for (let i = 0; i < data.length; i++) {
        if (data[i] === from) (data[i] = to), changed++;
        counts[data[i]!]++;
      }
      if (changed) {
        throwIfAborted(opts.signal);
        // the row covers whole chunks (or ends at the volume's edge): no read-modify-write inside the store
        await store.writeBlock(box, data, { wholeChunks: true });
        replaced += changed;
        opts.onWritten?.(replaced);
      }
      done++;
      opts.onProgress?.(done / rows, `Erasing label ${from}: ${Math.round((100 * done) / rows)} % of the volume`);
    }
  }
  return { replaced, counts: Array.from(counts) };
}
