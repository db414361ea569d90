/**
 * Rock fabric: a jittered packing of overlapping, randomly oriented ellipsoidal grains. Each voxel
 * belongs to the grain whose scaled ellipsoid distance r is smallest (grains clip each other like
 * compacted, pressure-solved sand); voxels with r above a threshold are intergranular space, filled
 * by pores, pore-filling clay and pyrite. Thresholds are chosen as quantiles, so the phase
 * fractions come out as requested rather than as a side effect of the packing.
 */
import type { SandstoneOptions } from './options';
import { CLASS } from './minerals';
import { type Rng, gaussian, valueNoise3 } from './prng';
import { placePyrite } from './pyrite';
import { thresholdForCount } from './quantile';

export interface Grain {
  centre: [number, number, number]; // (z, y, x)
  /** row-major 3x3: maps an offset (dz, dy, dx) to ellipsoid coordinates scaled by 1/radius */
  m: Float64Array;
  /** 0 or 1: picks the mineral variant (K-feldspar/Albite, Kaolinite/Illite) */
  variant: number;
  /** feldspar lamellae: unit normal (z, y, x), period in voxels, phase */
  lamella: { n: [number, number, number]; period: number; phase: number };
  /** small grain-to-grain grey offset (crystal orientation, impurities) */
  greyOffset: number;
  /** class code of the grain: quartz, feldspar or clay (clast) */
  mineral: number;
  /** half-size of the cube holding the grain's field (r <= R_CUT), voxels */
  reach: number;
}

export interface Fabric {
  /** class code per voxel (1..5; air is applied later) */
  labels: Uint8Array;
  /** nearest grain per voxel (also for intergranular voxels), -1 where none is near */
  owner: Int32Array;
  grains: Grain[];
  /** r below which a point belongs to its grain (r = scaled ellipsoid distance) */
  grainThreshold: number;
  /** clay score below which intergranular space is clay */
  clayLimit: number;
}

export const R_CUT = 1.45; // how far (in radii) a grain's distance field is evaluated
const CLAST_SHARE = 0.35; // share of the clay that is detrital clasts (whole grains), rest pore-filling

export function buildFabric(o: SandstoneOptions, rng: Rng): Fabric {
  const [nz, ny, nx] = o.shape;
  const n = nz * ny * nx;
  const grains = seedGrains(o, rng);
  const r = new Float32Array(n).fill(Infinity);
  const owner = new Int32Array(n).fill(-1);
  grains.forEach((g, i) => rasteriseGrain(o, g, i, r, owner));

  const f = o.fractions;
  const intergranular = f.pore + f.clay * (1 - CLAST_SHARE) + f.pyrite;
  const t = thresholdForCount(r, Math.round((1 - intergranular) * n), 0, R_CUT);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) labels[i] = r[i] < t ? CLASS.quartz : CLASS.pore;

  placePyrite(o, labels, Math.round(f.pyrite * n), rng);
  const clayLimit = fillPoreClay(o, labels, r, t, Math.round(f.clay * (1 - CLAST_SHARE) * n));
  assignGrainMinerals(labels, owner, grains, { feldspar: f.feldspar * n, clay: f.clay * CLAST_SHARE * n }, rng);
  return { labels, owner, grains, grainThreshold: t, clayLimit };
}

function seedGrains(o: SandstoneOptions, rng: Rng): Grain[] {
  const L = o.grainDiameterVox;
  const gauss = gaussian(rng);
  const cells = o.shape.map((s) => Math.ceil(s / L) + 1);
  const grains: Grain[] = [];
  for (let cz = -1; cz < cells[0]; cz++)
    for (let cy = -1; cy < cells[1]; cy++)
      for (let cx = -1; cx < cells[2]; cx++) {
        const centre = [cz, cy, cx].map((c) => (c + 0.5 + 0.7 * (rng() - 0.5)) * L) as [number, number, number];
        const radius = 0.62 * L * Math.max(0.5, 1 + o.grainSizeSpread * gauss());
        const m = ellipsoidMatrix(radius, rng);
        const g = { centre, m, variant: rng() < 0.55 ? 0 : 1, lamella: lamella(rng), greyOffset: 0.006 * gauss() };
        grains.push({ ...g, mineral: CLASS.quartz, reach: R_CUT / minRowNorm(m) });
      }
  return grains;
}

/** Random rotation times axis scaling; axes keep the volume of a sphere of `radius`. */
function ellipsoidMatrix(radius: number, rng: Rng): Float64Array {
  const ax = [1, 0.8 + 0.2 * rng(), 0.65 + 0.3 * rng()];
  const k = Math.cbrt(ax[0] * ax[1] * ax[2]);
  const q = randomRotation(rng);
  const m = new Float64Array(9);
  for (let row = 0; row < 3; row++) for (let col = 0; col < 3; col++) m[row * 3 + col] = q[col * 3 + row] / ((radius * ax[row]) / k);
  return m;
}

/** Uniform random rotation from a random unit quaternion (Shoemake). */
function randomRotation(rng: Rng): number[] {
  const [u1, u2, u3] = [rng(), rng(), rng()];
  const a = Math.sqrt(1 - u1), b = Math.sqrt(u1);
  const [w, x, y, z] = [a * Math.sin(2 * Math.PI * u2), a * Math.cos(2 * Math.PI * u2), b * Math.sin(2 * Math.PI * u3), b * Math.cos(2 * Math.PI * u3)];
  return [
    1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w),
    2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w),
    2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y),
  ];
}

function lamella(rng: Rng): Grain['lamella'] {
  const t = 2 * Math.PI * rng(), c = 2 * rng() - 1, s = Math.sqrt(1 - c * c);
  return { n: [c, s * Math.sin(t), s * Math.cos(t)], period: 4.5 + 1.5 * rng(), phase: 2 * Math.PI * rng() };
}

function rasteriseGrain(o: SandstoneOptions, g: Grain, id: number, r: Float32Array, owner: Int32Array): void {
  const [nz, ny, nx] = o.shape;
  const m = g.m;
  const [cz, cy, cx] = g.centre;
  // bounding cube of the ellipsoid r <= R_CUT; each row is then clipped exactly (below)
  const h = g.reach;
  const [z0, z1] = span(cz, h, nz), [y0, y1] = span(cy, h, ny);
  const cut2 = R_CUT * R_CUT;
  const bb = m[2] * m[2] + m[5] * m[5] + m[8] * m[8];
  for (let z = z0; z <= z1; z++) {
    const dz = z - cz;
    for (let y = y0; y <= y1; y++) {
      const dy = y - cy;
      const ez = m[0] * dz + m[1] * dy, ey = m[3] * dz + m[4] * dy, ex = m[6] * dz + m[7] * dy;
      // the row enters the ellipsoid where |e + dx * col2(m)|^2 <= cut2: solve the quadratic in dx
      const ab = ez * m[2] + ey * m[5] + ex * m[8];
      const disc = ab * ab - bb * (ez * ez + ey * ey + ex * ex - cut2);
      if (disc <= 0) continue;
      const sq = Math.sqrt(disc);
      const x0 = Math.max(0, Math.ceil(cx + (-ab - sq) / bb)), x1 = Math.min(nx - 1, Math.floor(cx + (-ab + sq) / bb));
      let i = (z * ny + y) * nx + x0;
      for (let x = x0; x <= x1; x++, i++) {
        const dx = x - cx;
        const a = ez + m[2] * dx, b = ey + m[5] * dx, c = ex + m[8] * dx;
        const d2 = a * a + b * b + c * c;
        if (d2 < cut2 && d2 < r[i] * r[i]) {
          r[i] = Math.sqrt(d2);
          owner[i] = id;
        }
      }
    }
  }
}

/** Rows of m are orthonormal vectors scaled by 1/semi-axis: the smallest row norm gives the longest semi-axis. */
function minRowNorm(m: Float64Array): number {
  return Math.min(Math.hypot(m[0], m[1], m[2]), Math.hypot(m[3], m[4], m[5]), Math.hypot(m[6], m[7], m[8]));
}

function span(c: number, h: number, n: number): [number, number] {
  return [Math.max(0, Math.ceil(c - h)), Math.min(n - 1, Math.floor(c + h))];
}

/** Clay fills the intergranular voxels closest to grains, in mottled patches (coatings + pore fill). */
function fillPoreClay(o: SandstoneOptions, labels: Uint8Array, r: Float32Array, t: number, count: number): number {
  if (count <= 0) return -Infinity;
  const [nz, ny, nx] = o.shape;
  const score = new Float32Array(labels.length).fill(NaN);
  const seed = clayNoiseSeed(o);
  const maxScore = (R_CUT - t) * 1.5 + 1;
  for (let z = 0, i = 0; z < nz; z++)
    for (let y = 0; y < ny; y++)
      for (let x = 0; x < nx; x++, i++) {
        if (labels[i] !== CLASS.pore) continue;
        score[i] = clayScore(r[i], t, z, y, x, seed);
      }
  const limit = thresholdForCount(score, count, 0, maxScore);
  for (let i = 0; i < labels.length; i++) if (score[i] < limit) labels[i] = CLASS.clay;
  return limit;
}

/** Low near grains (coatings) and in smooth patches (pore-filling booklets). Also used off-grid. */
export function clayScore(r: number, t: number, z: number, y: number, x: number, seed: number): number {
  return (Number.isFinite(r) ? r - t : R_CUT - t) * 1.5 + valueNoise3(x / 5, y / 5, z / 5, seed);
}

export const clayNoiseSeed = (o: SandstoneOptions) => o.seed ^ 0x5bd1e995;

/** Grains become feldspar or clay clasts in random order until their volume targets are met. */
function assignGrainMinerals(labels: Uint8Array, owner: Int32Array, grains: Grain[], target: { feldspar: number; clay: number }, rng: Rng): void {
  const volume = new Float64Array(grains.length);
  for (let i = 0; i < labels.length; i++) if (labels[i] === CLASS.quartz && owner[i] >= 0) volume[owner[i]]++;
  const order = grains.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const mineral = new Uint8Array(grains.length).fill(CLASS.quartz);
  let feldspar = 0, clay = 0;
  for (const g of order) {
    if (volume[g] === 0) continue;
    if (feldspar + volume[g] / 2 < target.feldspar) (mineral[g] = CLASS.feldspar), (feldspar += volume[g]);
    else if (clay + volume[g] / 2 < target.clay) (mineral[g] = CLASS.clay), (clay += volume[g]);
  }
  for (let i = 0; i < labels.length; i++) if (labels[i] === CLASS.quartz && owner[i] >= 0) labels[i] = mineral[owner[i]];
  grains.forEach((g, i) => (g.mineral = mineral[i]));
}
