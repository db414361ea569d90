import type { AnyVoxelArray, Box3, Shape3, VolumeMeta } from './types';

/**
 * A chunked volume on disk (OME-Zarr, zarr v3, via zarrita). Implemented in
 * `lib/volume/zarr-store-node.ts` (openVolume / createVolume).
 *
 * Array layout inside the store: one array per pyramid level ("0", "1", ...), shape
 * (c, z, y, x), chunks (1, cz, cy, cx). Level 0 is full resolution; level k halves y and x
 * (and z while z > chunk) of level k-1.
 */
export interface ReadBlockOptions {
  channel?: number; // default 0
  level?: number; // pyramid level, default 0
  /**
   * Extra voxels on each side, per axis (z, y, x) or one number for all. Out-of-volume voxels are
   * filled by reflection at the borders (symmetric, "reflect" mode of scipy: d c b a | a b c d).
   * The returned array has shape box.shape + 2 * halo.
   */
  halo?: number | Shape3;
  signal?: AbortSignal;
}

export interface WriteBlockOptions {
  channel?: number; // default 0
  level?: number; // pyramid level, default 0
  /**
   * The caller owns every chunk the box touches: the box must cover whole chunks (a box may end at
   * the volume's edge, where the chunks end too). The store then writes the chunks without reading
   * them first and throws an internal error for a misaligned box. Every blockwise PARALLEL writer
   * (several threads or store instances writing the same store: whole-volume prediction) passes
   * it, with bricks from chunkGrid (lib/features). Without it a partly covered chunk is
   * read-modified-written, which is only safe for a single writer (import slabs, annotation edits,
   * pyramid building).
   */
  wholeChunks?: boolean;
}

export interface VolumeStore {
  readonly path: string;
  readonly meta: VolumeMeta;
  /** number of pyramid levels present (>= 1) */
  readonly levels: number;
  /**
   * true when the scan's file gave no voxel size and meta.spacingUm is the 1 µm the import assumed
   * (a store records it: attributes.petromap.spacingAssumed); a store made on another's geometry
   * (predictions, composites, exports, painted labels) passes it on to createVolume.
   */
  readonly spacingAssumed?: boolean;
  levelShape(level: number): Shape3;
  /** Read a box in the store's dtype. */
  readBlock(box: Box3, opts?: ReadBlockOptions): Promise<AnyVoxelArray>;
  /** Read a box converted to float32 (what filters want). */
  readBlockF32(box: Box3, opts?: ReadBlockOptions): Promise<Float32Array>;
  /**
   * Write a box (store dtype). Chunk writes are atomic (temp name + rename). Partly covered chunks
   * are read-modified-written: concurrent writers must use `wholeChunks` (see WriteBlockOptions).
   */
  writeBlock(box: Box3, data: AnyVoxelArray, opts?: WriteBlockOptions): Promise<void>;
}
