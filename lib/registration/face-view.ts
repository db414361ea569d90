/**
 * The volume as one polished face sees it (issue 15 §1): the bottom face is the top face of the
 * volume turned upside down (z' = nz - 1 - z, y and x unchanged). Kept free of the registration
 * code so training (lib/classify) can use the view without loading it; lib/registration/face.ts
 * registers on it.
 */
import type { Affine2to3 } from '../coords';
import { PetromapError } from '../errors';
import type { ReadBlockOptions, VolumeStore } from '../volume/store';
import type { AnyVoxelArray, Box3, DenseVolume } from '../volume/types';
import type { Face } from './types';
import type { VolumeSource } from './volume-source';

export type { Face };

const isStore = (src: VolumeSource): src is VolumeStore => typeof (src as VolumeStore).readBlockF32 === 'function';

/** Reverse the z order of a (z, y, x) block in place (any typed array). */
function reverseZ<T extends AnyVoxelArray>(a: T, nz: number, plane: number): T {
  for (let z = 0; z < nz >> 1; z++) {
    const p = a.subarray(z * plane, (z + 1) * plane), q = a.subarray((nz - 1 - z) * plane, (nz - z) * plane);
    const tmp = p.slice();
    p.set(q);
    q.set(tmp);
  }
  return a;
}

/**
 * The volume turned upside down: voxel (z, y, x) of the view is voxel (nz - 1 - z, y, x) of the
 * volume. A VolumeStore gives a read-only store view (halos reflect at the borders as the store's
 * do, so a flipped read with a halo is the flip of the read); a DenseVolume is copied flipped.
 */
export function flipZ(src: DenseVolume): DenseVolume;
export function flipZ(src: VolumeStore): VolumeStore;
export function flipZ(src: VolumeSource): VolumeSource;
export function flipZ(src: VolumeSource): VolumeSource {
  const [nz, ny, nx] = src.meta.shape;
  if (!isStore(src)) return { meta: src.meta, data: reverseZ(src.data.slice(), nz, ny * nx) } as DenseVolume;
  const store = src;
  const flipBox = (box: Box3, level: number): Box3 => {
    const nzl = store.levelShape(level)[0];
    return { start: [nzl - box.start[0] - box.shape[0], box.start[1], box.start[2]], shape: box.shape };
  };
  const plane = (box: Box3, ro: ReadBlockOptions = {}) => {
    const h = ro.halo === undefined ? [0, 0, 0] : typeof ro.halo === 'number' ? [ro.halo, ro.halo, ro.halo] : ro.halo;
    return { nz: box.shape[0] + 2 * h[0]!, plane: (box.shape[1] + 2 * h[1]!) * (box.shape[2] + 2 * h[2]!) };
  };
  return {
    path: `${store.path} (turned upside down)`,
    meta: store.meta,
    levels: store.levels,
    levelShape: (l: number) => store.levelShape(l),
    async readBlockF32(box: Box3, ro?: ReadBlockOptions) {
      const p = plane(box, ro);
      return reverseZ(await store.readBlockF32(flipBox(box, ro?.level ?? 0), ro), p.nz, p.plane);
    },
    async readBlock(box: Box3, ro?: ReadBlockOptions) {
      const p = plane(box, ro);
      return reverseZ(await store.readBlock(flipBox(box, ro?.level ?? 0), ro), p.nz, p.plane);
    },
    async writeBlock(): Promise<void> {
      throw new PetromapError('Unsupported', `The upside-down view of ${store.path} is read-only.`);
    },
  };
}

/** The volume as the face sees it: itself for the top face, turned upside down for the bottom face. */
export function faceView(src: DenseVolume, face: Face): DenseVolume;
export function faceView(src: VolumeStore, face: Face): VolumeStore;
export function faceView(src: VolumeSource, face: Face): VolumeSource;
export function faceView(src: VolumeSource, face: Face): VolumeSource {
  return face === 'bottom' ? flipZ(src) : src;
}

/** An EDS/slab pixel -> voxel map in the face's frame, in the volume's own voxel indices (and back: the flip is its own inverse). */
export function faceToVolume(m: Affine2to3, face: Face, nz: number): Affine2to3 {
  if (face !== 'bottom') return m;
  return [-m[0], -m[1], nz - 1 - m[2], m[3], m[4], m[5], m[6], m[7], m[8]];
}

/** A voxel z of the face's frame in the volume's frame (and back). */
export const faceZ = (z: number, face: Face, nz: number): number => (face === 'bottom' ? nz - 1 - z : z);
