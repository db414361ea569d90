/**
 * A painted slice as the page sends it: only the voxels an edit changed carry a code, every other
 * voxel is KEEP_VOXEL ("as stored"), and the server merges it onto the stored slice under the
 * project's lock. A page whose copy of the slice is older than a stroke saved meanwhile (another
 * view crossing the slice, a second tab, right after undo) then never writes that copy back.
 * Used by Annotate (server/pipeline/annotate.ts) and multi-scale pore/solid painting
 * (server/pipeline/multiscale-pores.ts) and their pages.
 */

/** "Leave this voxel as stored". Never a class code (at most 254 classes, codes 1–254). */
export const KEEP_VOXEL = 255;

/** The edit from `from` (the slice as the page had it) to `to`: changed voxels, the rest KEEP_VOXEL. */
export function changedOnly(from: Uint8Array, to: Uint8Array): Uint8Array<ArrayBuffer> {
  const sent = new Uint8Array(to.length);
  for (let i = 0; i < to.length; i++) sent[i] = to[i] === from[i] ? KEEP_VOXEL : to[i]!;
  return sent;
}

export interface MergedSlice {
  /** the slice to store */
  merged: Uint8Array;
  /** voxels whose code changed */
  changed: number;
  /** per code: voxels gained (positive) or lost (negative) */
  delta: Float64Array;
}

/** `sent` onto `stored`: KEEP_VOXEL voxels stay as stored; a slice sent whole replaces it. */
export function mergeKept(stored: Uint8Array, sent: Uint8Array): MergedSlice {
  const merged = new Uint8Array(sent.length);
  const delta = new Float64Array(256);
  let changed = 0;
  for (let i = 0; i < sent.length; i++) {
    const a = stored[i]!;
    const b = sent[i] === KEEP_VOXEL ? a : sent[i]!;
    merged[i] = b;
    if (a === b) continue;
    changed++;
    delta[a]--;
    delta[b]++;
  }
  return { merged, changed, delta };
}
