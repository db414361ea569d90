/**
 * XRM-like greyscale from the labelled fabric: per-mineral attenuation and texture, mild beam
 * hardening (cupping), partial volume (supersampled boundaries), point-spread blur, ring artefacts, Gaussian and
 * Poisson-like noise, stored as uint16.
 */
import type { SandstoneOptions } from './options';
import type { Fabric, Grain } from './grains';
import { classAmong, clayNoiseSeed, unpackClass, unpackOwner } from './fabric-sampler';
import type { Plane } from './surface';
import { CLASS, GREY, QUARTZ_GREY } from './minerals';
import { type Rng, gaussian, hash3, valueNoise3 } from './prng';
import { gaussianBlur3 } from './blur';

/** Relative amplitude of feldspar cleavage/twin lamellae: the texture that tells it from quartz. */
const LAMELLA_AMPLITUDE = 0.1;

export function renderVolume(o: SandstoneOptions, fabric: Fabric, plane: Plane, rng: Rng): Uint16Array {
  const grey = idealGrey(o, fabric, plane);
  gaussianBlur3(grey, o.shape, o.psfSigmaVox);
  return addArtefactsAndNoise(o, grey, rng);
}

/**
 * Noise-free attenuation per voxel with partial volume: voxels on a phase boundary average 2x2x2
 * sub-samples of the continuous fabric; the air/rock surface is blended by its exact occupancy.
 */
function idealGrey(o: SandstoneOptions, fabric: Fabric, plane: Plane): Float32Array {
  const [nz, ny, nx] = o.shape;
  const { labels, owner, grains } = fabric;
  const out = new Float32Array(labels.length);
  const seed = o.seed ^ 0x68e31da4;
  const clayNoise = clayNoiseSeed(o);
  const cands = new Int32Array(7);
  const rho = radialDistance(ny, nx);
  const rMax2 = (ny / 2) ** 2 + (nx / 2) ** 2;
  const greyAt = (cls: number, g: number, z: number, y: number, x: number) => greyOf(cls, g >= 0 ? grains[g] : undefined, z, y, x, seed);
  for (let z = 0, i = 0; z < nz; z++)
    for (let y = 0; y < ny; y++)
      for (let x = 0; x < nx; x++, i++) {
        // fraction of the voxel below the physical surface (half a voxel above the plane)
        const rock = Math.min(1, Math.max(0, z - (plane.a * x + plane.b * y + plane.c) + 1));
        if (rock === 0) {
          out[i] = GREY.air;
          continue;
        }
        let v = 0;
        if (labels[i] !== CLASS.pyrite && onBoundary(labels, i, z, y, x, o.shape)) {
          // candidates: the grains owning this voxel and its 6 neighbours
          const n = neighbourOwners(owner, i, nx, ny, labels.length, cands);
          for (let k = 0; k < 8; k++) {
            const sz = z + (k & 1 ? 0.25 : -0.25), sy = y + (k & 2 ? 0.25 : -0.25), sx = x + (k & 4 ? 0.25 : -0.25);
            const p = classAmong(fabric, cands, n, clayNoise, sz, sy, sx);
            v += greyAt(unpackClass(p), unpackOwner(p), sz, sy, sx) / 8;
          }
        } else v = greyAt(labels[i], owner[i], z, y, x);
        const r = rho[y * nx + x];
        out[i] = rock * v * (1 + o.beamHardening * ((r * r) / rMax2 - 0.5)) + (1 - rock) * GREY.air;
      }
  for (let i = 0; i < out.length; i++) out[i] *= QUARTZ_GREY;
  return out;
}

/** Distinct owner grains of voxel i and its 6 neighbours, into `out`; returns their count. */
function neighbourOwners(owner: Int32Array, i: number, nx: number, ny: number, n: number, out: Int32Array): number {
  let count = 0;
  for (let k = 0; k < 7; k++) {
    const j = k === 0 ? i : k === 1 ? i - 1 : k === 2 ? i + 1 : k === 3 ? i - nx : k === 4 ? i + nx : k === 5 ? i - nx * ny : i + nx * ny;
    const g = j >= 0 && j < n ? owner[j] : -1;
    let seen = g < 0;
    for (let q = 0; q < count && !seen; q++) seen = out[q] === g;
    if (!seen) out[count++] = g;
  }
  return count;
}

function onBoundary(labels: Uint8Array, i: number, z: number, y: number, x: number, [nz, ny, nx]: number[]): boolean {
  const c = labels[i];
  return (
    (x > 0 && labels[i - 1] !== c) || (x < nx - 1 && labels[i + 1] !== c) ||
    (y > 0 && labels[i - nx] !== c) || (y < ny - 1 && labels[i + nx] !== c) ||
    (z > 0 && labels[i - nx * ny] !== c) || (z < nz - 1 && labels[i + nx * ny] !== c)
  );
}

/** Attenuation relative to quartz of a point of class `cls` in grain g, with the mineral's texture. */
function greyOf(cls: number, g: Grain | undefined, z: number, y: number, x: number, seed: number): number {
  switch (cls) {
    case CLASS.pore:
      return GREY.pore;
    case CLASS.quartz:
      return GREY.quartz * (1 + (g?.greyOffset ?? 0));
    case CLASS.feldspar: {
      const l = g!.lamella;
      const s = Math.sin((2 * Math.PI * (l.n[0] * z + l.n[1] * y + l.n[2] * x)) / l.period + l.phase);
      return (g!.variant ? GREY.albite : GREY.kFeldspar) * (1 + LAMELLA_AMPLITUDE * s);
    }
    case CLASS.clay:
      // microporous aggregate: mottled at two scales
      return GREY.clay * (0.55 + 0.8 * valueNoise3(x / 1.8, y / 1.8, z / 1.8, seed) + 0.2 * hash3(Math.round(x), Math.round(y), Math.round(z), seed));
    case CLASS.pyrite:
      return GREY.pyrite;
    default:
      return GREY.air;
  }
}

function addArtefactsAndNoise(o: SandstoneOptions, grey: Float32Array, rng: Rng): Uint16Array {
  const [nz, ny, nx] = o.shape;
  const gauss = gaussian(rng);
  const rho = radialDistance(ny, nx);
  const ring = ringProfile(o, Math.ceil(Math.hypot(ny / 2, nx / 2)) + 2, rng);
  const ringXY = Float32Array.from(rho, (r) => ring[Math.round(r)]);
  const out = new Uint16Array(grey.length);
  // Gaussian (electronics) and Poisson-like (photon) noise are independent: one draw with summed variance
  const vg = (o.noise * QUARTZ_GREY) ** 2, vp = o.poissonNoise ** 2 * QUARTZ_GREY;
  const slice = ny * nx;
  for (let z = 0, i = 0; z < nz; z++)
    for (let j = 0; j < slice; j++, i++) {
      const v = grey[i] + ringXY[j];
      const noisy = v + Math.sqrt(vg + vp * Math.max(v, 0)) * gauss();
      out[i] = noisy < 0 ? 0 : noisy > 65535 ? 65535 : Math.round(noisy);
    }
  return out;
}

/** Distance of each (y, x) from the rotation axis at the slice centre, in voxels. */
function radialDistance(ny: number, nx: number): Float32Array {
  const out = new Float32Array(ny * nx);
  for (let y = 0, j = 0; y < ny; y++) for (let x = 0; x < nx; x++, j++) out[j] = Math.sqrt((y - ny / 2) ** 2 + (x - nx / 2) ** 2);
  return out;
}

/** Ring artefacts: a few detector-pixel radii with a constant offset in every slice. */
function ringProfile(o: SandstoneOptions, n: number, rng: Rng): Float32Array {
  const ring = new Float32Array(n);
  if (o.ringArtefact <= 0) return ring;
  for (let r = 0; r < n; r++) if (rng() < 0.08) ring[r] = (rng() < 0.5 ? -1 : 1) * o.ringArtefact * QUARTZ_GREY * (0.5 + rng());
  return ring;
}
