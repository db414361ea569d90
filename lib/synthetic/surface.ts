/**
 * The polished surface plane and the exact EDS-pixel -> voxel map.
 *
 * The plane z = a*x + b*y + c (voxel indices) passes through the centres of the first rock voxel
 * layer: voxel (z, y, x) is rock iff z >= a*x + b*y + c - 0.5. EDS pixels lie on that plane, with
 * pixelUm measured along the (tilted) plane, so edsToVoxel's z row equals a*(x row) + b*(y row) + c.
 */
import type { Affine2to3 } from '../coords';
import type { SandstoneOptions } from './options';

export interface Plane {
  a: number;
  b: number;
  c: number;
}

export function surfacePlane(o: SandstoneOptions): Plane {
  const [, ny, nx] = o.shape;
  const t = Math.tan((o.tiltDeg * Math.PI) / 180);
  const az = (o.tiltAzimuthDeg * Math.PI) / 180;
  const a = t * Math.cos(az), b = t * Math.sin(az);
  const cx = (nx - 1) / 2, cy = (ny - 1) / 2;
  return { a, b, c: o.surfaceDepthVox - a * cx - b * cy };
}

export const isRock = (p: Plane, z: number, y: number, x: number) => z >= p.a * x + p.b * y + p.c - 0.5;

/** EDS map size in pixels: explicit, or `coverage` times the smaller surface edge. */
export function edsSize(o: SandstoneOptions): [number, number] {
  const [, ny, nx] = o.shape;
  const side = Math.max(2, Math.round((o.eds.coverage * Math.min(nx, ny) * o.voxelUm) / o.eds.pixelUm));
  return [o.eds.widthPx ?? side, o.eds.heightPx ?? side];
}

/**
 * EDS pixel (u, v) -> voxel (z, y, x). Unmirrored at 0°, u runs along +x and v along +y (the
 * (u,v)->(x,y) determinant is positive); `mirrored` flips u first, rotation is counter-clockwise
 * from x toward y, and the map centre lands at the volume centre plus offsetVox.
 */
export function makeEdsToVoxel(o: SandstoneOptions, p: Plane, width: number, height: number): Affine2to3 {
  const [, ny, nx] = o.shape;
  // orthonormal in-plane basis, (x, y, z) components: e1 follows +x, e2 = n x e1 follows +y
  const e1 = unit([1, 0, p.a]);
  const e2 = unit([-p.a * p.b, 1 + p.a * p.a, p.b]);
  const s = o.eds.pixelUm / o.voxelUm;
  const th = (o.eds.rotationDeg * Math.PI) / 180;
  const m = o.eds.mirrored ? -1 : 1;
  const du = [0, 1, 2].map((k) => s * m * (Math.cos(th) * e1[k] + Math.sin(th) * e2[k]));
  const dv = [0, 1, 2].map((k) => s * (-Math.sin(th) * e1[k] + Math.cos(th) * e2[k]));
  const x0 = (nx - 1) / 2 + o.eds.offsetVox.x, y0 = (ny - 1) / 2 + o.eds.offsetVox.y;
  const p0 = [x0, y0, p.a * x0 + p.b * y0 + p.c];
  const cu = (width - 1) / 2, cv = (height - 1) / 2;
  const row = (k: number) => [du[k], dv[k], p0[k] - cu * du[k] - cv * dv[k]];
  return [...row(2), ...row(1), ...row(0)] as Affine2to3;
}

/** Determinant of the (u, v) -> (x, y) part of an edsToVoxel: negative for mirrored maps. */
export function inPlaneDeterminant(m: Affine2to3): number {
  return m[6] * m[4] - m[7] * m[3];
}

function unit(v: number[]): number[] {
  const n = Math.hypot(v[0], v[1], v[2]);
  return v.map((c) => c / n);
}
