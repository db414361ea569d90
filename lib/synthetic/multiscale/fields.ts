/**
 * The continuous truth of a multi-scale sample, evaluated anywhere, so any block of any scan can be
 * synthesised on its own (streaming, bounded memory).
 *
 * Coordinates are low-resolution voxel indices (z, y, x) of the large scan (voxel centres at
 * integers). The canonical high-resolution grid splits every low-res voxel v into r×r×r voxels
 * (r = ratio); canonical index Q = r·v + (r − 1)/2 + j − (r − 1)/2, i.e. footprint of v is
 * [r·v, r·v + r − 1] along each axis.
 *
 * - Lithology class of a low-res voxel: two layers (1 high porosity above a wavy boundary, 2 low
 *   porosity below) cut by an inclined fracture zone (3).
 * - Porosity φ(v) of a low-res voxel: class mean + smooth value noise, rounded to whole
 *   canonical voxels (k/r³), so it is exactly the pore fraction of the footprint.
 * - Pores inside a footprint: the k = φ·r³ canonical voxels with the lowest value of a class-
 *   dependent smooth noise field (blobs for 1, smaller blobs for 2, flat sheets for 3), whose
 *   length scale (noiseScale, in low-res voxels) is below the footprint so pores spread over it.
 */
import { hash3, valueNoise3 } from '../prng';

export const MULTISCALE_CLASSES = [
  { code: 1, name: 'high porosity', mean: 0.24, amp: 0.11, grain: 1.0, noiseScale: [0.6, 0.6, 0.6] },
  { code: 2, name: 'low porosity', mean: 0.09, amp: 0.07, grain: 1.15, noiseScale: [0.55, 0.55, 0.55] },
  { code: 3, name: 'fracture', mean: 0.38, amp: 0.08, grain: 0.95, noiseScale: [0.5, 1.2, 1.2] },
] as const;

export type MultiscaleClassCode = 1 | 2 | 3;

/** grey of a pore (epoxy/air) relative to the quartz-like grain of class 1 */
export const PORE_GREY = 0.2;

export interface FieldParams {
  seed: number;
  /** low-res shape (z, y, x) */
  shape: [number, number, number];
  /** hi-res voxels per low-res voxel edge (integer) */
  ratio: number;
}

export class MultiscaleField {
  readonly p: FieldParams;
  readonly #phase: number[];
  #zb: Float64Array | null = null;
  constructor(p: FieldParams) {
    this.p = p;
    this.#phase = [0, 1, 2, 3].map((i) => 2 * Math.PI * hash3(i, 7, 11, p.seed));
  }

  /** class code of low-res voxel (z, y, x) */
  classAt(z: number, y: number, x: number): MultiscaleClassCode {
    const [nz, ny, nx] = this.p.shape;
    // fracture: plane x = x0 + 0.35 (z − nz/2) + 0.1 (y − ny/2), half-width w/2 (measured along x)
    const x0 = nx * (0.5 + 0.08 * Math.sin(this.#phase[2]!));
    const w = Math.max(2.5, 0.07 * nx);
    const d = x - (x0 + 0.35 * (z - nz / 2) + 0.1 * (y - ny / 2));
    if (Math.abs(d) < w / 2) return 3;
    const zb = nz * (0.5 + 0.06 * Math.sin((2 * Math.PI * x) / nx + this.#phase[0]!) + 0.04 * Math.sin((2 * Math.PI * y) / ny + this.#phase[1]!));
    return z < zb ? 1 : 2;
  }

  /** exact porosity (k / r³) of low-res voxel (z, y, x), and its class */
  porosityAt(z: number, y: number, x: number, cls = this.classAt(z, y, x)): number {
    const c = MULTISCALE_CLASSES[cls - 1];
    const n = valueNoise3(z / 4, y / 4, x / 4, this.p.seed ^ 0x51f3) * 0.4 + valueNoise3(z / 1.8, y / 1.8, x / 1.8, this.p.seed ^ 0x2a77) * 0.6;
    const phi = Math.min(1, Math.max(0, c.mean + c.amp * 2.6 * (n - 0.5)));
    const r3 = this.p.ratio ** 3;
    return Math.round(phi * r3) / r3;
  }

  /**
   * classAt and porosityAt for a whole low-res plane z (bit-identical values, ~20× faster): the
   * layer boundary per (y, x) column is computed once, and each value-noise octave is interpolated
   * along z once per lattice node of the plane (valueNoise3's first lerp), then in y and x.
   */
  plane(z: number, classes: Uint8Array, phi: Float64Array): void {
    const [nz, ny, nx] = this.p.shape;
    if (!this.#zb) {
      this.#zb = new Float64Array(ny * nx);
      for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) {
        this.#zb[y * nx + x] = nz * (0.5 + 0.06 * Math.sin((2 * Math.PI * x) / nx + this.#phase[0]!) + 0.04 * Math.sin((2 * Math.PI * y) / ny + this.#phase[1]!));
      }
    }
    const x0 = nx * (0.5 + 0.08 * Math.sin(this.#phase[2]!)), w = Math.max(2.5, 0.07 * nx);
    const o1 = planeNoise(z, 4, ny, nx, this.p.seed ^ 0x51f3), o2 = planeNoise(z, 1.8, ny, nx, this.p.seed ^ 0x2a77);
    const r3 = this.p.ratio ** 3;
    for (let y = 0; y < ny; y++) {
      const xc = x0 + 0.35 * (z - nz / 2) + 0.1 * (y - ny / 2);
      for (let x = 0; x < nx; x++) {
        const i = y * nx + x;
        const cls: MultiscaleClassCode = Math.abs(x - xc) < w / 2 ? 3 : z < this.#zb[i]! ? 1 : 2;
        const c = MULTISCALE_CLASSES[cls - 1];
        const n = o1(y, x) * 0.4 + o2(y, x) * 0.6;
        const v = Math.min(1, Math.max(0, c.mean + c.amp * 2.6 * (n - 0.5)));
        classes[i] = cls;
        phi[i] = Math.round(v * r3) / r3;
      }
    }
  }

  /** low-res grey before blur and noise: exactly the mean of the hi-res grey over the footprint */
  greyAt(phi: number, cls: MultiscaleClassCode): number {
    return PORE_GREY * phi + MULTISCALE_CLASSES[cls - 1].grain * (1 - phi);
  }

  /** pore-shape noise at canonical hi-res voxel (Z, Y, X) for class cls */
  poreNoise(Z: number, Y: number, X: number, cls: MultiscaleClassCode): number {
    const [sz, sy, sx] = MULTISCALE_CLASSES[cls - 1].noiseScale.map((s) => s * this.p.ratio);
    return valueNoise3(Z / sz!, Y / sy!, X / sx!, this.p.seed ^ (0x6b1 * cls)) + 0.05 * hash3(X, Y, Z, this.p.seed ^ 0x3c3);
  }

  /**
   * Canonical hi-res truth (1 = pore, 0 = grain) for the low-res voxels of a box
   * [z0, z0+dz) × [y0, y0+dy) × [x0, x0+dx) (may reach outside the volume: the fields extend).
   * Returns a (dz·r, dy·r, dx·r) array and the classes (dz, dy, dx).
   */
  poresOfBox(z0: number, y0: number, x0: number, dz: number, dy: number, dx: number): { pores: Uint8Array; classes: Uint8Array } {
    const r = this.p.ratio, r3 = r * r * r;
    const NY = dy * r, NX = dx * r;
    const pores = new Uint8Array(dz * r * NY * NX);
    const classes = new Uint8Array(dz * dy * dx);
    const vals = new Float64Array(r3), sorted = new Float64Array(r3);
    for (let a = 0; a < dz; a++) for (let b = 0; b < dy; b++) for (let c = 0; c < dx; c++) {
      const z = z0 + a, y = y0 + b, x = x0 + c;
      const cls = this.classAt(z, y, x);
      classes[(a * dy + b) * dx + c] = cls;
      const k = Math.round(this.porosityAt(z, y, x, cls) * r3);
      if (k === 0) continue;
      let i = 0;
      for (let j = 0; j < r; j++) for (let m = 0; m < r; m++) for (let n = 0; n < r; n++) vals[i++] = this.poreNoise(z * r + j, y * r + m, x * r + n, cls);
      sorted.set(vals);
      sorted.sort();
      const t = k >= r3 ? Infinity : sorted[k]!;
      i = 0;
      for (let j = 0; j < r; j++) for (let m = 0; m < r; m++) {
        const row = ((a * r + j) * NY + b * r + m) * NX + c * r;
        for (let n = 0; n < r; n++, i++) if (vals[i]! < t) pores[row + n] = 1;
      }
    }
    return { pores, classes };
  }
}

const smooth = (f: number) => f * f * (3 - 2 * f);

/**
 * valueNoise3(z / s, y / s, x / s, seed) over the plane z as a function (y, x) ↦ value, with the
 * same arithmetic (so the same bits): the first lerp (along z) is done once per lattice node.
 */
function planeNoise(z: number, s: number, ny: number, nx: number, seed: number): (y: number, x: number) => number {
  const u = z / s, u0 = Math.floor(u), fu = smooth(u - u0);
  const LY = Math.floor((ny - 1) / s) + 2, LX = Math.floor((nx - 1) / s) + 2;
  const A = new Float64Array(LY * LX);
  for (let a = 0; a < LY; a++) for (let b = 0; b < LX; b++) {
    const c0 = hash3(u0, a, b, seed), c1 = hash3(u0 + 1, a, b, seed);
    A[a * LX + b] = c0 + (c1 - c0) * fu;
  }
  const fy = new Float64Array(ny), iy = new Int32Array(ny), fx = new Float64Array(nx), ix = new Int32Array(nx);
  for (let y = 0; y < ny; y++) { const v = y / s, v0 = Math.floor(v); iy[y] = v0; fy[y] = smooth(v - v0); }
  for (let x = 0; x < nx; x++) { const v = x / s, v0 = Math.floor(v); ix[x] = v0; fx[x] = smooth(v - v0); }
  return (y, x) => {
    const k = iy[y]! * LX + ix[x]!, ty = fy[y]!;
    const a0 = A[k]!, a1 = A[k + LX]!, b0 = A[k + 1]!, b1 = A[k + LX + 1]!;
    const a = a0 + (a1 - a0) * ty, b = b0 + (b1 - b0) * ty;
    return a + (b - a) * fx[x]!;
  };
}
