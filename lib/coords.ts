/**
 * Coordinate spaces, named in the types, converted only here.
 *
 * - EdsPx:   (u, v) = (column, row) of the EDS map, pixel centres at integers.
 * - SlabPx:  (u, v) = (column, row) of the 2D surface slab extracted from the volume.
 * - VoxelIdx:(z, y, x) voxel index, voxel centres at integers.
 * - WorldUm: (z, y, x) micrometres = originUm + VoxelIdx * spacingUm.
 */
declare const brand: unique symbol;
type Brand<T, B extends string> = T & { readonly [brand]: B };

export type EdsPx = Brand<[number, number], 'EdsPx'>;
export type SlabPx = Brand<[number, number], 'SlabPx'>;
export type VoxelIdx = Brand<[number, number, number], 'VoxelIdx'>;
export type WorldUm = Brand<[number, number, number], 'WorldUm'>;

/**
 * A 2D affine map, row-major 2x3: [a, b, c, d, e, f] means
 *   u' = a*u + b*v + c,  v' = d*u + e*v + f
 */
export type Affine2 = [number, number, number, number, number, number];

/**
 * A 2D -> 3D affine map, row-major 3x3: rows give z, y, x of the image of (u, v, 1).
 * EDS pixel -> voxel index is stored in this form ("edsToVoxel").
 */
export type Affine2to3 = [number, number, number, number, number, number, number, number, number];

export function applyAffine2(m: Affine2, u: number, v: number): [number, number] {
  return [m[0] * u + m[1] * v + m[2], m[3] * u + m[4] * v + m[5]];
}

export function applyAffine2to3(m: Affine2to3, u: number, v: number): [number, number, number] {
  return [m[0] * u + m[1] * v + m[2], m[3] * u + m[4] * v + m[5], m[6] * u + m[7] * v + m[8]];
}

export function composeAffine2(outer: Affine2, inner: Affine2): Affine2 {
  const [a, b, c, d, e, f] = outer;
  const [p, q, r, s, t, w] = inner;
  return [a * p + b * s, a * q + b * t, a * r + b * w + c, d * p + e * s, d * q + e * t, d * r + e * w + f];
}

export function invertAffine2(m: Affine2): Affine2 {
  const [a, b, c, d, e, f] = m;
  const det = a * e - b * d;
  if (Math.abs(det) < 1e-12) throw new Error('invertAffine2: matrix is singular');
  const ia = e / det, ib = -b / det, id = -d / det, ie = a / det;
  return [ia, ib, -(ia * c + ib * f), id, ie, -(id * c + ie * f)];
}

/** Compose a slab->voxel map with an eds->slab map into eds->voxel. */
export function composeAffine2to3(outer: Affine2to3, inner: Affine2): Affine2to3 {
  const out = [] as unknown as Affine2to3;
  for (let r = 0; r < 3; r++) {
    const [a, b, c] = [outer[r * 3], outer[r * 3 + 1], outer[r * 3 + 2]];
    out[r * 3] = a * inner[0] + b * inner[3];
    out[r * 3 + 1] = a * inner[1] + b * inner[4];
    out[r * 3 + 2] = a * inner[2] + b * inner[5] + c;
  }
  return out;
}

/**
 * Least-squares (u, v) whose image under `m` is closest to voxel (z, y, x): the projection of a
 * voxel onto the plane spanned by a 2D -> 3D affine (exact inverse for points on the plane).
 */
export function projectToAffine2to3(m: Affine2to3, z: number, y: number, x: number): [number, number] {
  const p = [z - m[2], y - m[5], x - m[8]];
  const cu = [m[0], m[3], m[6]], cv = [m[1], m[4], m[7]];
  const dot = (a: number[], b: number[]) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
  const a = dot(cu, cu), b = dot(cu, cv), d = dot(cv, cv), r = dot(cu, p), s = dot(cv, p);
  const det = a * d - b * b;
  if (Math.abs(det) < 1e-12) throw new Error('projectToAffine2to3: degenerate map');
  return [(d * r - b * s) / det, (a * s - b * r) / det];
}
