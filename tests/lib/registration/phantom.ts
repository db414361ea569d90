/**
 * A small test phantom (not the synthetic sandstone): Voronoi "grains" that are straight columns
 * along z, air above a tilted plane, and an EDS map cut from the same Voronoi field by a known
 * similarity. Truth edsToVoxel maps EDS pixel centres onto the plane.
 */
import type { Affine2to3 } from '../../../lib/coords';
import type { MineralMap } from '../../../lib/eds/types';
import type { DenseVolume } from '../../../lib/volume/types';
import { mulberry32 } from '../../../lib/registration/plane-fit';

export interface PhantomOptions {
  shape?: [number, number, number];
  seed?: number;
  depth?: number;
  tiltDeg?: number;
  azimuthDeg?: number;
  pixelRatio?: number; // EDS pixel / voxel
  rotationDeg?: number;
  mirrored?: boolean;
  offset?: [number, number]; // map centre - volume centre, voxels (x, y)
  mapSize?: [number, number]; // EDS pixels (w, h)
  noise?: number;
}

export function makePhantom(o: PhantomOptions = {}) {
  const [nz, ny, nx] = o.shape ?? [24, 96, 96];
  const rand = mulberry32(o.seed ?? 7);
  const seeds = Array.from({ length: Math.round((nx * ny) / 90) }, () => [rand() * nx, rand() * ny, 1 + Math.floor(rand() * 4)]);
  const labelAt = (x: number, y: number) => {
    let best = 0, bd = Infinity;
    for (const [sx, sy, l] of seeds) { const d = (sx - x) ** 2 + (sy - y) ** 2; if (d < bd) { bd = d; best = l; } }
    return best;
  };
  const t = ((o.tiltDeg ?? 0) * Math.PI) / 180, az = ((o.azimuthDeg ?? 0) * Math.PI) / 180;
  const a = Math.tan(t) * Math.cos(az), b = Math.tan(t) * Math.sin(az);
  const c = (o.depth ?? 4) - a * (nx - 1) / 2 - b * (ny - 1) / 2;
  const grey = [0, 1000, 2600, 1800, 3400];
  const noise = o.noise ?? 60;
  const data = new Uint16Array(nz * ny * nx);
  const lab = new Uint8Array(ny * nx);
  for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) lab[y * nx + x] = labelAt(x, y);
  for (let z = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) {
    const zs = a * x + b * y + c;
    const frac = Math.min(1, Math.max(0, z + 1 - zs)); // partial volume; edge half a voxel above the plane
    const g = 200 + frac * (grey[lab[y * nx + x]] - 200) + noise * (rand() + rand() + rand() - 1.5) * 2;
    data[(z * ny + y) * nx + x] = Math.max(0, Math.round(g));
  }
  const volume: DenseVolume<'uint16'> = {
    meta: { shape: [nz, ny, nx], spacingUm: [1, 1, 1], originUm: [0, 0, 0], dtype: 'uint16', channels: ['xrm'] },
    data,
  };
  const s = o.pixelRatio ?? 1, th = ((o.rotationDeg ?? 0) * Math.PI) / 180, m = o.mirrored ? -1 : 1;
  const [mw, mh] = o.mapSize ?? [Math.round((nx * 0.8) / s), Math.round((ny * 0.8) / s)];
  const [ox, oy] = o.offset ?? [0, 0];
  const cx = (nx - 1) / 2 + ox, cy = (ny - 1) / 2 + oy;
  // (u, v) -> (x, y): mirror u, rotate, scale, about the map centre
  const A = [Math.cos(th) * s * m, -Math.sin(th) * s, Math.sin(th) * s * m, Math.cos(th) * s];
  const tx = cx - A[0] * (mw - 1) / 2 - A[1] * (mh - 1) / 2, ty = cy - A[2] * (mw - 1) / 2 - A[3] * (mh - 1) / 2;
  const edsToVoxel: Affine2to3 = [a * A[0] + b * A[2], a * A[1] + b * A[3], a * tx + b * ty + c, A[2], A[3], ty, A[0], A[1], tx];
  const labels = new Uint16Array(mw * mh);
  for (let v = 0; v < mh; v++) for (let u = 0; u < mw; u++) {
    labels[v * mw + u] = labelAt(A[0] * u + A[1] * v + tx, A[2] * u + A[3] * v + ty) * 10;
  }
  const map: MineralMap = {
    width: mw, height: mh, pixelSizeUm: s, labels, companions: [], source: 'phantom',
    legend: [1, 2, 3, 4].map((i) => ({ id: i * 10, name: `m${i}`, color: [i * 50, 0, 0] as [number, number, number] })),
  };
  return { volume, map, truth: { edsToVoxel, surface: { a, b, c } } };
}
