/** Streaming writer of level 0 that builds the overview levels from the slabs on the fly. */
import { allocate, type AnyVoxelArray, type Shape3 } from '../types';
import { downsample2x } from './downsample-2x';
import type { ZarrVolumeStore } from './zarr-volume-store-node';

/**
 * Writes level 0 slab by slab (in z order, each slab starting at a multiple of the chunk z) and
 * builds every pyramid level on the fly from the slabs in memory: no second pass over the store.
 * Extra memory: at most one slab per level (each 1/4 of the one below).
 */
export class PyramidSlabWriter {
  readonly #store: ZarrVolumeStore;
  readonly #channel: number;
  readonly #shapes: Shape3[];
  readonly #cz: number;
  /** per level ≥ 1: pending slices (z-major), their first z, and how many are filled */
  readonly #buf: { data: AnyVoxelArray | null; z0: number; filled: number }[];
  #nextZ = 0;

  constructor(store: ZarrVolumeStore, channel = 0) {
    this.#store = store;
    this.#channel = channel;
    this.#shapes = Array.from({ length: store.levels }, (_, k) => store.levelShape(k));
    this.#cz = store.chunk[0];
    this.#buf = this.#shapes.map(() => ({ data: null, z0: 0, filled: 0 }));
  }

  /** Push the next level-0 slab: `dz` slices starting at z0 (z0 = previous end). */
  async push(z0: number, dz: number, data: AnyVoxelArray): Promise<void> {
    if (z0 !== this.#nextZ) throw new Error(`PyramidSlabWriter: slabs must come in order (expected z ${this.#nextZ}, got ${z0})`);
    this.#nextZ += dz;
    await this.#writeSlab(0, z0, dz, data);
  }

  /**
   * As push, but level 0 is written by someone else (another thread, import-node.ts): only the
   * overview levels are built from the slab. `data` is read before this returns (the caller may
   * then hand its buffer over); the promise settles when the overview writes it caused are done.
   */
  pushOverviews(z0: number, dz: number, data: AnyVoxelArray): Promise<void> {
    if (z0 !== this.#nextZ) throw new Error(`PyramidSlabWriter: slabs must come in order (expected z ${this.#nextZ}, got ${z0})`);
    this.#nextZ += dz;
    const down = this.#downsampled(0, z0, dz, data);
    return down ? this.#append(1, down.z0, down.dz, down.data) : Promise.resolve();
  }

  async #writeSlab(level: number, z0: number, dz: number, data: AnyVoxelArray): Promise<void> {
    const [, ny, nx] = this.#shapes[level]!;
    await this.#store.writeBlock({ start: [z0, 0, 0], shape: [dz, ny, nx] }, data, { channel: this.#channel, level });
    const down = this.#downsampled(level, z0, dz, data);
    if (down) await this.#append(level + 1, down.z0, down.dz, down.data);
  }

  /** The slab one level up (null at the top level). */
  #downsampled(level: number, z0: number, dz: number, data: AnyVoxelArray): { z0: number; dz: number; data: AnyVoxelArray } | null {
    if (level + 1 >= this.#shapes.length) return null;
    const [, ny, nx] = this.#shapes[level]!;
    const halveZ = this.#shapes[level + 1]![0] !== this.#shapes[level]![0];
    // slabs start at even z (multiples of the chunk z, or of an even chunk z / 2), so pairs never straddle two slabs
    const down = downsample2x(data, [dz, ny, nx], halveZ, this.#store.meta.dtype, this.#store.downsample);
    return { z0: halveZ ? z0 / 2 : z0, dz: halveZ ? Math.ceil(dz / 2) : dz, data: down };
  }

  async #append(level: number, z0: number, dz: number, data: AnyVoxelArray): Promise<void> {
    const [nz, ny, nx] = this.#shapes[level]!;
    const b = this.#buf[level]!;
    const plane = ny * nx;
    let off = 0;
    while (off < dz) {
      if (!b.data) {
        b.data = allocate(this.#store.meta.dtype, Math.min(this.#cz, nz) * plane);
        b.z0 = z0 + off;
        b.filled = 0;
      }
      const cap = Math.min(this.#cz, nz - b.z0);
      const k = Math.min(cap - b.filled, dz - off);
      b.data.set(data.subarray(off * plane, (off + k) * plane) as never, b.filled * plane);
      b.filled += k;
      off += k;
      if (b.filled === cap) await this.#flush(level);
    }
  }

  async #flush(level: number): Promise<void> {
    const b = this.#buf[level]!;
    if (!b.data || b.filled === 0) return;
    const plane = this.#shapes[level]![1] * this.#shapes[level]![2];
    const data = b.data.subarray(0, b.filled * plane);
    const { z0, filled } = b;
    b.data = null;
    b.filled = 0;
    await this.#writeSlab(level, z0, filled, data);
  }

  /** Flush partly filled slabs (the last ones of each level) and mark the pyramid complete. */
  async finish(): Promise<void> {
    if (this.#nextZ !== this.#shapes[0]![0]) throw new Error(`PyramidSlabWriter: only ${this.#nextZ} of ${this.#shapes[0]![0]} slices were pushed`);
    for (let k = 1; k < this.#shapes.length; k++) await this.#flush(k);
    if (this.#channel === this.#store.meta.channels.length - 1 && !this.#store.pyramidComplete) await this.#store.updateAttrs({ pyramidComplete: true });
  }

  /** Streaming needs slabs that start at even z; otherwise use writeBlock + buildPyramid. */
  static supports(store: ZarrVolumeStore): boolean {
    return store.chunk[0] % 2 === 0 || store.levels === 1;
  }
}
