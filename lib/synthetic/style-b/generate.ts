/**
 * A second, independently written phantom style (issue 15 §1, "generalisation"): the benchmark must
 * not be tuned to one generator. It differs from generateSandstone in every part that shapes what
 * the classifier sees:
 *   - grains: elongated, randomly oriented ellipsoids (aspect up to ~2.2) with rough, angular
 *     outlines, placed by random sequential addition (no fabric sampler, no grain ownership field);
 *   - clay: a pore-filling mottled mass grown from grain contacts (distance to the nearest grain
 *     wall below a noisy threshold), not grain coatings; pyrite as small cubic crystals;
 *   - scanner: its own grey levels, an anisotropic point-spread (wider in z), strong beam hardening
 *     (cupping about the rotation axis), ring artefacts with a random amplitude per radius, and
 *     signal-dependent noise;
 *   - EDS: another pixel size (2.9 µm on 1.6 µm voxels by default), rotation and mirroring.
 * The coordinate conventions (surface plane, EDS pixel -> voxel affine, EDS legend and class codes)
 * are the project's contracts and are shared with the first style.
 */
import { applyAffine2to3 } from '../../coords';
import type { MineralMap } from '../../eds/types';
import type { Shape3 } from '../../volume/types';
import { gaussianBlur3 } from '../blur';
import { CLASS, EDS_LEGEND, MEAN_Z, MINERAL_TO_CLASS, mineralId } from '../minerals';
import { resolveOptions } from '../options';
import { gaussian, mulberry32, valueNoise3 } from '../prng';
import { edsSize, makeEdsToVoxel, surfacePlane } from '../surface';
import type { SyntheticSample } from '../types';

export interface StyleBOptions {
  seed?: number;
  shape?: Shape3;
  voxelUm?: number;
  /** mean grain semi-axis, voxels (default 6) */
  grainRadiusVox?: number;
  edsPixelUm?: number;
  edsRotationDeg?: number;
  edsMirrored?: boolean;
  surfaceDepthVox?: number;
  tiltDeg?: number;
}

/** Grey levels of style B (relative): closer quartz/feldspar, darker clay, brighter pyrite than style A. */
const GREY_B: Record<number, number> = { 0: 0.04, 1: 0.14, 2: 0.6, 3: 0.635, 4: 0.42, 5: 1.25 };

export function generateStyleB(o: StyleBOptions = {}): SyntheticSample {
  const seed = o.seed ?? 1;
  const shape: Shape3 = o.shape ?? [96, 160, 160];
  const [nz, ny, nx] = shape;
  const n = nz * ny * nx;
  const rand = mulberry32(seed * 48271 + 99);
  const g = gaussian(rand);
  const params = resolveOptions({
    seed, shape, voxelUm: o.voxelUm ?? 1.6, surfaceDepthVox: o.surfaceDepthVox ?? 5, tiltDeg: o.tiltDeg ?? 2.5, tiltAzimuthDeg: 200,
    eds: { pixelUm: o.edsPixelUm ?? 2.9, rotationDeg: o.edsRotationDeg ?? 121, mirrored: o.edsMirrored ?? true, offsetVox: { x: -4, y: 5 }, coverage: 0.85, boundaryMixing: 0.35, unclassifiedFraction: 0.03 },
  });
  const plane = surfacePlane(params);
  const labels = new Uint8Array(n);
  const grainOf = new Int32Array(n).fill(-1);
  // --- grains: random sequential addition of rough ellipsoids until ~64 % of the volume is solid
  const r0 = o.grainRadiusVox ?? 6;
  let solid = 0, grains = 0;
  for (let attempt = 0; attempt < 20000 && solid < 0.64 * n; attempt++) {
    const cz = rand() * nz, cy = rand() * ny, cx = rand() * nx;
    if (labels[(Math.floor(cz) * ny + Math.floor(cy)) * nx + Math.floor(cx)]) continue; // centre taken: a grain cannot start inside another
    const r = r0 * Math.exp(0.25 * g());
    const axes = [r * (1.2 + 0.6 * rand()), r, r * (0.55 + 0.25 * rand())];
    // random rotation from a unit quaternion
    let [qw, qx, qy, qz] = [g(), g(), g(), g()];
    const qn = Math.hypot(qw, qx, qy, qz);
    [qw, qx, qy, qz] = [qw / qn, qx / qn, qy / qn, qz / qn];
    const R = [
      1 - 2 * (qy * qy + qz * qz), 2 * (qx * qy - qz * qw), 2 * (qx * qz + qy * qw),
      2 * (qx * qy + qz * qw), 1 - 2 * (qx * qx + qz * qz), 2 * (qy * qz - qx * qw),
      2 * (qx * qz - qy * qw), 2 * (qy * qz + qx * qw), 1 - 2 * (qx * qx + qy * qy),
    ];
    const ext = Math.ceil(axes[0]! * 1.15);
    const cls = rand() < 0.78 ? CLASS.quartz : CLASS.feldspar;
    const id = grains++;
    let placed = 0, overlap = 0;
    const cells: number[] = [];
    for (let z = Math.max(0, Math.floor(cz - ext)); z <= Math.min(nz - 1, Math.ceil(cz + ext)); z++)
      for (let y = Math.max(0, Math.floor(cy - ext)); y <= Math.min(ny - 1, Math.ceil(cy + ext)); y++)
        for (let x = Math.max(0, Math.floor(cx - ext)); x <= Math.min(nx - 1, Math.ceil(cx + ext)); x++) {
          const dx = x - cx, dy = y - cy, dz = z - cz;
          const u = (R[0]! * dx + R[1]! * dy + R[2]! * dz) / axes[0]!;
          const v = (R[3]! * dx + R[4]! * dy + R[5]! * dz) / axes[1]!;
          const w = (R[6]! * dx + R[7]! * dy + R[8]! * dz) / axes[2]!;
          // angular, rough outline: a superellipsoid-like norm plus surface noise
          const u2 = u * u, v2 = v * v, w2 = w * w;
          if (u2 + v2 + w2 > 1.6) continue;
          // blunt corners (between an ellipsoid and a box: exponent 4) and a rough surface
          const q = Math.sqrt(Math.sqrt(u2 * u2 + v2 * v2 + w2 * w2)) * 0.55 + Math.sqrt(u2 + v2 + w2) * 0.45 + 0.18 * (valueNoise3(x / 2.5, y / 2.5, z / 2.5, seed + id) - 0.5);
          if (q > 1) continue;
          const i = (z * ny + y) * nx + x;
          if (labels[i]) overlap++;
          else cells.push(i);
          placed++;
        }
    // grains may touch and interpenetrate a little (compaction), not sit inside each other
    if (!placed || overlap > 0.3 * placed) continue;
    for (const i of cells) { labels[i] = cls; grainOf[i] = id; }
    solid += cells.length;
  }
  // --- clay: mottled pore filling near grain contacts (pore voxels with many solid neighbours)
  const clayTarget = 0.09 * n;
  const score = new Float32Array(n).fill(-1);
  for (let z = 1; z < nz - 1; z++) for (let y = 1; y < ny - 1; y++) for (let x = 1; x < nx - 1; x++) {
    const i = (z * ny + y) * nx + x;
    if (labels[i]) continue;
    let s = 0;
    for (const d of [1, nx, nx * ny]) s += (labels[i - d] ? 1 : 0) + (labels[i + d] ? 1 : 0);
    score[i] = s / 6 + 0.9 * valueNoise3(x / 5, y / 5, z / 5, seed + 5000);
  }
  const sorted = Float32Array.from(score).sort();
  const thr = sorted[Math.max(0, n - Math.round(clayTarget))]!;
  for (let i = 0; i < n; i++) if (!labels[i] && score[i]! >= thr && score[i]! > 0) labels[i] = CLASS.clay;
  // --- pyrite: small cubes (2-3 voxels), ~1 % of the volume, anywhere
  for (let placedPy = 0; placedPy < 0.01 * n;) {
    const s = 2 + Math.floor(rand() * 2);
    const z0 = Math.floor(rand() * (nz - s)), y0 = Math.floor(rand() * (ny - s)), x0 = Math.floor(rand() * (nx - s));
    for (let z = z0; z < z0 + s; z++) for (let y = y0; y < y0 + s; y++) for (let x = x0; x < x0 + s; x++) { labels[(z * ny + y) * nx + x] = CLASS.pyrite; placedPy++; }
  }
  // --- the rest is pore; above the surface is air
  for (let z = 0, i = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++, i++) {
    if (z < plane.a * x + plane.b * y + plane.c - 0.5) labels[i] = CLASS.air;
    else if (!labels[i]) labels[i] = CLASS.pore;
  }
  // --- scanner model
  const grey = new Float32Array(n);
  for (let z = 0, i = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++, i++) {
    const c = labels[i]!;
    let v = GREY_B[c]!;
    if (c === CLASS.clay) v += 0.07 * (valueNoise3(x / 1.7, y / 1.7, z / 1.7, seed + 77) - 0.5);
    if (c === CLASS.feldspar) v += 0.02 * ((grainOf[i]! % 3) - 1); // per-grain composition
    grey[i] = v;
  }
  gaussianBlur3(grey, shape, 0.9);
  // extra blur along z (anisotropic point-spread): average with the neighbours above and below
  const tmp = Float32Array.from(grey);
  for (let z = 1; z < nz - 1; z++) for (let p = 0; p < ny * nx; p++) grey[z * ny * nx + p] = 0.25 * tmp[(z - 1) * ny * nx + p]! + 0.5 * tmp[z * ny * nx + p]! + 0.25 * tmp[(z + 1) * ny * nx + p]!;
  const R = Math.hypot(ny / 2, nx / 2);
  const rings = Float32Array.from({ length: Math.ceil(R) + 2 }, () => (rand() < 0.3 ? 0.03 * g() : 0));
  const out = new Uint16Array(n);
  for (let z = 0, i = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++, i++) {
    const r = Math.hypot(y - (ny - 1) / 2, x - (nx - 1) / 2);
    const cup = 1 - 0.09 * (1 - (r / R) ** 2); // beam hardening: darker in the middle
    let v = grey[i]! * cup + rings[Math.round(r)]!;
    v += (0.028 + 0.03 * Math.sqrt(Math.max(0, v))) * g();
    out[i] = Math.max(0, Math.min(65535, Math.round(v * 30000)));
  }
  // --- EDS map on the surface plane
  const [width, height] = edsSize(params);
  const edsToVoxel = makeEdsToVoxel(params, plane, width, height);
  const ids = new Uint16Array(width * height);
  const bse = new Float32Array(width * height);
  const at = (u: number, v: number) => {
    const [pz, py, px] = applyAffine2to3(edsToVoxel, u, v);
    const z = Math.round(pz), y = Math.round(py), x = Math.round(px);
    if (z < 0 || y < 0 || x < 0 || z >= nz || y >= ny || x >= nx) return { cls: 0, grain: -1 };
    // the EDS pixel sees the polished rock: the first rock voxel at or below the plane point
    let zz = z;
    while (zz < nz - 1 && labels[(zz * ny + y) * nx + x] === CLASS.air) zz++;
    const i = (zz * ny + y) * nx + x;
    return { cls: labels[i]!, grain: grainOf[i]! };
  };
  for (let v = 0, p = 0; v < height; v++) for (let u = 0; u < width; u++, p++) {
    const c = at(u, v);
    const sub = [at(u - 0.4, v), at(u + 0.4, v), at(u, v - 0.4), at(u, v + 0.4)];
    let id = c.cls ? mineralId(c.cls, c.cls === CLASS.clay ? (valueNoise3(u / 9, v / 9, 0, seed) > 0.5 ? 1 : 0) : (c.grain & 1)) : 0;
    const other = sub.find((s) => s.cls !== c.cls);
    if (id && other && rand() < params.eds.boundaryMixing) id = rand() < 0.5 ? 0 : other.cls ? mineralId(other.cls, 0) : 0;
    if (rand() < params.eds.unclassifiedFraction) id = 0;
    ids[p] = id;
    bse[p] = (MEAN_Z[id]! - 5) / 17 + 0.04 * g();
  }
  const eds: MineralMap = {
    width, height, pixelSizeUm: params.eds.pixelUm, labels: ids,
    legend: EDS_LEGEND.map((m) => ({ ...m, color: [...m.color] as [number, number, number] })),
    companions: [{ name: 'BSE', data: bse }],
    source: `synthetic sandstone, style B (seed ${seed})`,
  };
  return {
    volume: { meta: { shape: [...shape] as Shape3, spacingUm: [params.voxelUm, params.voxelUm, params.voxelUm], originUm: [0, 0, 0], dtype: 'uint16', channels: ['XRM'] }, data: out },
    truthLabels: labels,
    eds,
    truth: { edsToVoxel, surface: plane, mineralToClass: { ...MINERAL_TO_CLASS }, params },
  };
}
