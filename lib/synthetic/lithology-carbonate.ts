/**
 * A second synthetic lithology style for `bench lithology --style carbonate` (issue 15 §3: the
 * comparison must not be tuned to one generator). Written independently of the sandstone generator
 * (lib/synthetic/lithology uses generateSandstone's grains and scanner model); the same three classes
 * (LITHOLOGY_CLASSES), with different geometry and a different scanner:
 *   1 high porosity: a vuggy limestone, a mottled micrite matrix with rounded vugs (radius 2-6
 *     voxels, ~20 % of the facies) and hollow shell moulds (thin bright rims around a dark core);
 *   2 low porosity: a crystalline dolostone, Voronoi crystals of varied grey with dark
 *     intercrystalline pores of one or two voxels (~4 %);
 *   facies in beds: an undulating, tilted bedding surface cut into alternating layers (not blobs);
 *   3 fracture: curved (quadric) open fractures of finite extent (a tip), aperture varying 1.5-4
 *     voxels along the surface, with a bright 1-voxel cemented rim on the wall (rim = host facies).
 * Scanner: anisotropic blur (z blurred more), noise correlated over neighbouring voxels (filtered
 * back-projection grain) whose variance grows with the signal, zingers (isolated bright voxels),
 * a slow intensity drift along z, and 3 µm voxels. Same seed -> same bytes.
 */
import type { DenseVolume, Shape3 } from '../volume/types';
import type { LithologySample } from './lithology';
import { gaussian, hash3, mulberry32, valueNoise3 } from './prng';

export interface CarbonateOptions {
  seed?: number;
  shape?: Shape3;
  voxelUm?: number;
  /** number of fractures (default 2) */
  fractures?: number;
}

/** grey levels relative to the micrite matrix (= 1) */
const GREY = { vug: 0.16, micrite: 1, shellRim: 1.22, dolomite: 1.12, interPore: 0.2, rim: 1.28 } as const;
const SCALE = 18000;

/** One separable 1D Gaussian pass along an axis (stride), edges clamped; sigma in voxels. */
function blurAxis(d: Float32Array, shape: Shape3, axis: 0 | 1 | 2, sigma: number): void {
  const r = Math.max(1, Math.ceil(3 * sigma));
  const k = Float32Array.from({ length: 2 * r + 1 }, (_, i) => Math.exp(-((i - r) ** 2) / (2 * sigma * sigma)));
  const ks = k.reduce((a, b) => a + b, 0);
  for (let i = 0; i < k.length; i++) k[i] = k[i]! / ks;
  const [nz, ny, nx] = shape;
  const len = shape[axis], stride = axis === 2 ? 1 : axis === 1 ? nx : nx * ny;
  const buf = new Float32Array(len);
  for (let z = 0; z < (axis === 0 ? 1 : nz); z++) for (let y = 0; y < (axis === 1 ? 1 : ny); y++) for (let x = 0; x < (axis === 2 ? 1 : nx); x++) {
    const s = (z * ny + y) * nx + x;
    for (let i = 0; i < len; i++) buf[i] = d[s + i * stride]!;
    for (let i = 0; i < len; i++) {
      let acc = 0;
      for (let j = -r; j <= r; j++) acc += k[j + r]! * buf[Math.min(len - 1, Math.max(0, i + j))]!;
      d[s + i * stride] = acc;
    }
  }
}

export function generateCarbonateLithology(o: CarbonateOptions = {}): LithologySample {
  const seed = o.seed ?? 1;
  const shape: Shape3 = o.shape ?? [64, 128, 128];
  const [nz, ny, nx] = shape;
  const n = nz * ny * nx;
  const rand = mulberry32(Math.imul(seed, 0x2c1b3c6d) + 11);
  const g = gaussian(rand);
  const grey = new Float32Array(n);
  const truth = new Uint8Array(n);
  const phase = new Uint8Array(n); // 1 pore, 2 solid (matrix, crystals, rims); 0 fracture
  const idx = (z: number, y: number, x: number) => (z * ny + y) * nx + x;

  // beds: an undulating tilted surface; layer index = floor(height / thickness), odd layers vuggy
  const tilt = [0.15 * (rand() - 0.5), 0.15 * (rand() - 0.5)];
  const thick = nz * (0.3 + 0.15 * rand());
  const off = rand() * thick;
  for (let z = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) {
    const h = z + tilt[0]! * x + tilt[1]! * y + 6 * (valueNoise3(x / 28, y / 28, 0.5, seed + 101) - 0.5) + off;
    truth[idx(z, y, x)] = Math.floor(h / thick) % 2 === 0 ? 1 : 2;
  }

  // facies 1: micrite with mottling, vugs and shell moulds
  for (let i = 0, z = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++, i++) {
    if (truth[i] !== 1) continue;
    grey[i] = GREY.micrite * (0.92 + 0.16 * valueNoise3(x / 5, y / 5, z / 5, seed + 202));
    phase[i] = 2;
  }
  const vugs = Math.round((n / 1000) * 1.1);
  for (let v = 0; v < vugs; v++) {
    const cz = rand() * nz, cy = rand() * ny, cx = rand() * nx;
    const r = 2 + 4 * rand() ** 1.5;
    const shell = rand() < 0.25; // a mould: a bright rim around the dark core
    const R = r + (shell ? 1.2 : 0);
    for (let z = Math.max(0, Math.floor(cz - R)); z <= Math.min(nz - 1, Math.ceil(cz + R)); z++)
      for (let y = Math.max(0, Math.floor(cy - R)); y <= Math.min(ny - 1, Math.ceil(cy + R)); y++)
        for (let x = Math.max(0, Math.floor(cx - R)); x <= Math.min(nx - 1, Math.ceil(cx + R)); x++) {
          const i = idx(z, y, x);
          if (truth[i] !== 1) continue;
          // lumpy vugs: the radius wobbles with direction
          const d = Math.hypot(z - cz, y - cy, x - cx) * (0.85 + 0.3 * hash3(Math.round(z - cz), Math.round(y - cy), v, seed + 303));
          if (d <= r) { grey[i] = GREY.vug; phase[i] = 1; } else if (shell && d <= R && phase[i] !== 1) grey[i] = GREY.shellRim;
        }
  }

  // facies 2: Voronoi dolomite crystals (jittered lattice of 7 voxels) and intercrystalline pores
  const cell = 7;
  const cz0 = Math.ceil(nz / cell) + 1, cy0 = Math.ceil(ny / cell) + 1, cx0 = Math.ceil(nx / cell) + 1;
  const site = (a: number, b: number, c: number, k: number) => hash3(a, b, c, seed * 13 + k);
  for (let i = 0, z = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++, i++) {
    if (truth[i] !== 2) continue;
    const a = Math.floor(z / cell), b = Math.floor(y / cell), c = Math.floor(x / cell);
    let best = Infinity, second = Infinity, id = 0;
    for (let da = -1; da <= 1; da++) for (let db = -1; db <= 1; db++) for (let dc = -1; dc <= 1; dc++) {
      const A = a + da, B = b + db, C = c + dc;
      if (A < -1 || B < -1 || C < -1 || A > cz0 || B > cy0 || C > cx0) continue;
      const sz = (A + site(A, B, C, 1)) * cell, sy = (B + site(A, B, C, 2)) * cell, sx = (C + site(A, B, C, 3)) * cell;
      const d = (z - sz) ** 2 + (y - sy) ** 2 + (x - sx) ** 2;
      if (d < best) { second = best; best = d; id = site(A, B, C, 4); } else if (d < second) second = d;
    }
    // crystal boundaries (where the two nearest sites are nearly equidistant) hold the small pores
    const edge = Math.sqrt(second) - Math.sqrt(best);
    const pore = edge < 0.6 && hash3(z >> 1, y >> 1, x >> 1, seed + 404) < 0.2;
    grey[i] = pore ? GREY.interPore : GREY.dolomite * (0.9 + 0.2 * id);
    phase[i] = pore ? 1 : 2;
  }

  // fractures: quadric surfaces d = n.(p - c) + k1 u^2 + k2 v^2, of finite extent, varying aperture
  for (let f = 0; f < (o.fractures ?? 2); f++) {
    const az = rand() * Math.PI, dip = (55 + 30 * rand()) * (Math.PI / 180);
    const nv = [Math.cos(dip), Math.sin(dip) * Math.sin(az), Math.sin(dip) * Math.cos(az)]; // (z, y, x)
    // in-surface axes u (strike, horizontal) and w = n x u
    const u = [0, Math.cos(az), -Math.sin(az)];
    const w = [nv[1]! * u[2]! - nv[2]! * u[1]!, nv[2]! * u[0]! - nv[0]! * u[2]!, nv[0]! * u[1]! - nv[1]! * u[0]!];
    const c = [nz / 2, ny * (0.3 + 0.4 * rand()), nx * (0.3 + 0.4 * rand())];
    const k1 = (rand() - 0.5) * 0.012, k2 = (rand() - 0.5) * 0.012;
    const extent = Math.max(ny, nx) * (0.45 + 0.4 * rand()); // the tip: beyond this the fracture closes
    for (let i = 0, z = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++, i++) {
      const p = [z - c[0]!, y - c[1]!, x - c[2]!];
      const pu = p[0]! * u[0]! + p[1]! * u[1]! + p[2]! * u[2]!, pw = p[0]! * w[0]! + p[1]! * w[1]! + p[2]! * w[2]!;
      const dn = p[0]! * nv[0]! + p[1]! * nv[1]! + p[2]! * nv[2]! + k1 * pu * pu + k2 * pw * pw;
      if (Math.abs(dn) > 3.2) continue;
      const reach = Math.hypot(pu, pw) / extent;
      if (reach >= 1) continue;
      // aperture 1.5-4 voxels along the surface, closing towards the tip
      const ap = (1.5 + 2.5 * valueNoise3(pu / 14, pw / 14, f, seed + 505)) * Math.sqrt(1 - reach * reach);
      const half = ap / 2;
      if (Math.abs(dn) <= half) { truth[i] = 3; phase[i] = 0; grey[i] = GREY.vug * (0.9 + 0.2 * valueNoise3(x / 3, y / 3, z / 3, seed + 606)); } else if (Math.abs(dn) <= half + 1 && truth[i] !== 3 && half > 0.9) grey[i] = GREY.rim;
    }
  }

  // scanner: anisotropic blur, drift along z, correlated signal-dependent noise, zingers
  blurAxis(grey, shape, 2, 0.7);
  blurAxis(grey, shape, 1, 0.7);
  blurAxis(grey, shape, 0, 1.1);
  const noise = new Float32Array(n);
  for (let i = 0; i < n; i++) noise[i] = g();
  blurAxis(noise, shape, 2, 0.8);
  blurAxis(noise, shape, 1, 0.8);
  // a 0.8-voxel blur leaves ~0.36 of the white noise's sd in-plane: rescale to sd 1
  const noiseGain = 1 / 0.36;
  const drift = 0.06 * (rand() - 0.5);
  const data = new Uint16Array(n);
  for (let i = 0, z = 0; z < nz; z++) for (let j = 0; j < ny * nx; j++, i++) {
    const s = grey[i]! * (1 + drift * (z / nz - 0.5) * 2);
    let v = s + noise[i]! * noiseGain * (0.04 + 0.07 * Math.sqrt(Math.max(0, s)));
    if (rand() < 2e-4) v += 0.8 + rand(); // zinger
    data[i] = Math.max(0, Math.min(65535, Math.round(v * SCALE)));
  }
  const volume: DenseVolume<'uint16'> = {
    meta: { shape: [...shape] as Shape3, spacingUm: [o.voxelUm ?? 3, o.voxelUm ?? 3, o.voxelUm ?? 3], originUm: [0, 0, 0], dtype: 'uint16', channels: ['XRM'] },
    data,
  };
  return { volume, truth, phase };
}
