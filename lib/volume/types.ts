/**
 * Volume contracts shared by every stage.
 *
 * Axis order is always (z, y, x) and arrays are z-major:
 *   index = (z * ny + y) * nx + x
 * Voxel centres sit at integer indices; physical position (µm) = origin + index * spacing.
 */
export type DType = 'uint8' | 'uint16' | 'float32';

export type TypedArrayFor<D extends DType> = D extends 'uint8'
  ? Uint8Array
  : D extends 'uint16'
    ? Uint16Array
    : Float32Array;

export type AnyVoxelArray = Uint8Array | Uint16Array | Float32Array;

/** (z, y, x) */
export type Shape3 = [number, number, number];

export interface VolumeMeta {
  /** (z, y, x) voxels */
  shape: Shape3;
  /** voxel size in micrometres, (z, y, x) */
  spacingUm: [number, number, number];
  /** physical position of voxel (0,0,0) in micrometres, (z, y, x) */
  originUm: [number, number, number];
  dtype: DType;
  /** one name per channel (co-registered scans); at least one */
  channels: string[];
}

/** A whole single-channel volume in memory: only for small volumes (tests, demo, slabs). */
export interface DenseVolume<D extends DType = DType> {
  meta: VolumeMeta;
  data: TypedArrayFor<D>;
}

/** A box of voxels: start and shape, (z, y, x). */
export interface Box3 {
  start: Shape3;
  shape: Shape3;
}

export function voxelCount(shape: Shape3): number {
  return shape[0] * shape[1] * shape[2];
}

export function allocate<D extends DType>(dtype: D, n: number): TypedArrayFor<D> {
  return typedArrayOf(dtype, new ArrayBuffer(n * bytesPerVoxel(dtype)));
}

/** A typed view of `dtype` over a whole buffer (e.g. one moved between threads). */
export function typedArrayOf<D extends DType>(dtype: D, buffer: ArrayBufferLike): TypedArrayFor<D> {
  switch (dtype) {
    case 'uint8':
      return new Uint8Array(buffer) as TypedArrayFor<D>;
    case 'uint16':
      return new Uint16Array(buffer) as TypedArrayFor<D>;
    default:
      return new Float32Array(buffer) as TypedArrayFor<D>;
  }
}

export function bytesPerVoxel(dtype: DType): number {
  return dtype === 'uint8' ? 1 : dtype === 'uint16' ? 2 : 4;
}
