/**
 * XRM-like greyscale from the labelled fabric: per-mineral attenuation and texture, mild beam
 * hardening (cupping), partial volume + point-spread blur, ring artefacts, Gaussian and
 * Poisson-like noise, stored as uint16.
 */
import type { SandstoneOptions } from './options';
import type { Fabric } from './grains';
import { CLASS, GREY, QUARTZ_GREY } from './minerals';
import { type Rng, gaussian, hash3, valueNoise3 } from './prng';
import { gaussianBlur3 } from './blur';

/** Relative amplitude of feldspar cleavage/twin lamellae: the texture that tells it from quartz. */
const LAMELLA_AMPLITUDE = 0.1;

export function renderVolume(o: SandstoneOptions, fabric: Fabric, labels: Uint8Array, rng: Rng): Uint16Array {
  const grey = idealGrey(o, fabric, labels);
  // partial volume of a voxel is a box average: add its variance (1/12) to the PSF's
  gaussianBlur3(grey, o.shape, Math.sqrt(o.psfSigmaVox ** 2 + 1 / 12));
  return addArtefactsAndNoise(o, grey, rng);
}

function idealGrey(o: SandstoneOptions, { owner, grains }: Fabric, labels: Uint8Array): Float32Array {
  const [nz, ny, nx] = o.shape;
  const out = new Float32Array(labels.length);
  const seed = o.seed ^ 0x68e31da4;
  const rho = radialDistance(ny, nx);
  const rMax2 = (ny / 2) ** 2 + (nx / 2) ** 2;
  for (let z = 0, i = 0; z < nz; z++)
    for (let y = 0; y < ny; y++)
      for (let x = 0; x < nx; x++, i++) {
        const g = owner[i] >= 0 ? grains[owner[i]] : undefined;
        let v: number;
        switch (labels[i]) {
          case CLASS.air:
            out[i] = GREY.air;
            continue;
          case CLASS.pore:
            v = GREY.pore;
            break;
          case CLASS.quartz:
            v = GREY.quartz * (1 + (g?.greyOffset ?? 0));
            break;
          case CLASS.feldspar: {
            const l = g!.lamella;
            const s = Math.sin((2 * Math.PI * (l.n[0] * z + l.n[1] * y + l.n[2] * x)) / l.period + l.phase);
            v = (g!.variant ? GREY.albite : GREY.kFeldspar) * (1 + LAMELLA_AMPLITUDE * s);
            break;
          }
          case CLASS.clay:
            // microporous aggregate: mottled at two scales
            v = GREY.clay * (0.55 + 0.8 * valueNoise3(x / 1.8, y / 1.8, z / 1.8, seed) + 0.2 * hash3(x, y, z, seed));
            break;
          default:
            v = GREY.pyrite;
        }
        const r = rho[y * nx + x];
        out[i] = v * (1 + o.beamHardening * ((r * r) / rMax2 - 0.5));
      }
  for (let i = 0; i < out.length; i++) out[i] *= QUARTZ_GREY;
  return out;
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
