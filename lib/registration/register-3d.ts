/**
 * 3D → 3D registration of a high-resolution interior scan into the large low-resolution scan.
 *
 * The scale is known from the two voxel sizes; the position comes roughly from the proposal the
 * interior was taken at, or from a click (`start`, off by up to ~10 low-res voxels and ~10°).
 *   1. the interior is block-averaged by f = round(low / hi voxel size) down to the low resolution;
 *   2. coarse search: masked NCC over rotations about the scan axis (z) and whole-voxel shifts, at
 *      half resolution and then at full resolution around the best candidates;
 *   3. refinement with ITK-Wasm elastix in 3D (SimilarityTransform, Mattes mutual information): the
 *      coarse pose is handed over as the moving image's geometry, so elastix starts from identity;
 *   4. the result is projected back onto the model (rotation about z, scale from the voxel sizes)
 *      and kept unless it clearly lowers the correlation (then the coarse sub-voxel pose stands);
 *   5. a pattern search of the smoothed NCC over centre and turn polishes the pose (elastix's
 *      stochastic optimiser leaves biases of a few tenths of a voxel on small interiors).
 *      A scale elastix finds far from the voxel sizes' ratio means they contradict the images: an
 *      error, not a silent fit. A second elastix run from a nudged start gives the error estimate.
 * Coordinates: low-res voxel indices (z, y, x); poses map interior voxel indices there
 * (lib/upscale/interior-pose.ts).
 */
import type { JsonCompatible } from 'itk-wasm';
import { invalidInput, throwIfAborted, unprocessable, type StageOptions } from '../errors';
import type { VolumeStore } from '../volume/store';
import {
  applyAffine3, footprintBox, invertAffine3, poseAffine, type Affine3, type InteriorPose, type Vec3,
} from '../upscale/interior-pose';
import { blockAverage, halve, maskedNcc, renderMoving, type Dense3 } from '../upscale/resample';
import { gaussianBlur3 } from '../synthetic/blur';

export interface RegisterInteriorOptions extends StageOptions {
  /** rough position: low-res voxel index of the interior's centre, and its rotation about z */
  start: { centre: Vec3; angleDeg?: number };
  /** half-width of the coarse search, low-res voxels (default 12) and degrees (default 12) */
  searchVox?: number;
  searchDeg?: number;
  /** run the elastix refinement (default true) */
  elastix?: boolean;
  /** largest relative difference between the scale elastix finds and the voxel sizes' ratio (default 0.08) */
  scaleTolerance?: number;
  /** names for messages */
  interiorName?: string;
  volumeName?: string;
}

export interface OrthoView {
  axis: 'z' | 'y' | 'x';
  width: number;
  height: number;
  /** low-res grey and the block-averaged interior resampled on the same grid (NaN outside it) */
  fixed: Float32Array;
  moving: Float32Array;
}

export interface RegisterInteriorResult {
  pose: InteriorPose;
  /** interior voxel index → low-res voxel index */
  hiToLow: Affine3;
  /** block-averaging factor (interior voxels per low-res voxel edge) */
  factor: number;
  coarse: { pose: InteriorPose; ncc: number };
  quality: {
    nccStart: number;
    nccCoarse: number;
    nccFinal: number;
    /** RMS displacement over the interior between the elastix and the coarse-search poses, low-res voxels */
    errorEstimateVox: number;
    /** scale elastix found / scale of the voxel sizes (1 = agree) */
    scaleRatio: number;
    /** tilt of the scan axis elastix found (projected out), degrees */
    tiltDeg: number;
    /** fraction of the interior inside the large scan */
    inside: number;
  };
  views: OrthoView[];
}

/** smoothing (σ, low-res voxels) of both images before matching */
const MATCH_SIGMA = 1;
/** scale factors tried against the voxel sizes' ratio */
const SCALE_CHECK = [0.7, 0.8, 0.9, 1, 1.1, 1.25, 1.4];

const round3 = (v: Vec3) => v.map((x) => Math.round(x)) as Vec3;

/** Fraction of the interior's footprint box inside the volume. */
function insideFraction(m: Affine3, shape: Vec3, vol: Vec3): number {
  const { start, end } = footprintBox(m, shape);
  let inside = 1, total = 1;
  for (let a = 0; a < 3; a++) {
    total *= end[a]! - start[a]!;
    inside *= Math.max(0, Math.min(end[a]!, vol[a]!) - Math.max(start[a]!, 0));
  }
  return inside / total;
}

/** RMS distance between two hi→low maps over a 5³ lattice spanning the interior. */
export function rmsPoseDistance(a: Affine3, b: Affine3, shape: Vec3): number {
  let s = 0, n = 0;
  for (let i = 0; i < 5; i++) for (let j = 0; j < 5; j++) for (let k = 0; k < 5; k++) {
    const p: Vec3 = [((shape[0] - 1) * i) / 4, ((shape[1] - 1) * j) / 4, ((shape[2] - 1) * k) / 4];
    const u = applyAffine3(a, ...p), v = applyAffine3(b, ...p);
    s += (u[0] - v[0]) ** 2 + (u[1] - v[1]) ** 2 + (u[2] - v[2]) ** 2; n++;
  }
  return Math.sqrt(s / n);
}

export async function registerInterior(volume: VolumeStore, interior: VolumeStore, opts: RegisterInteriorOptions): Promise<RegisterInteriorResult> {
  const { signal } = opts;
  const iname = opts.interiorName ?? interior.path, vname = opts.volumeName ?? volume.path;
  const scale = [0, 1, 2].map((a) => interior.meta.spacingUm[a]! / volume.meta.spacingUm[a]!) as Vec3;
  if (scale.some((s) => !(s > 0 && s <= 1.0001))) {
    throw invalidInput(`Interior scan ${iname} has voxels of ${interior.meta.spacingUm.join(' × ')} µm, not finer than those of ${vname} (${volume.meta.spacingUm.join(' × ')} µm): an interior scan must have the higher resolution.`);
  }
  const f = Math.max(1, Math.round(1 / scale[2]));
  const shape = [...interior.meta.shape] as Vec3, vol = [...volume.meta.shape] as Vec3;
  const contradiction = (k: number) => {
    throw unprocessable(`The voxel sizes contradict the images: ${iname} (${interior.meta.spacingUm[2]} µm voxels) inside ${vname} (${volume.meta.spacingUm[2]} µm) should be a 1:${(1 / scale[2]).toFixed(2)} scale, but the scans match best at ${k.toFixed(2)} times that. Check both voxel sizes.`, { details: { scaleRatio: k } });
  };
  const startPose: InteriorPose = { centre: opts.start.centre, angleDeg: opts.start.angleDeg ?? 0, scale };
  const startM = poseAffine(startPose, shape);
  const inside0 = insideFraction(startM, shape, vol);
  if (inside0 < 0.5) {
    throw invalidInput(`Interior scan ${iname} placed at voxel (${opts.start.centre.map((v) => v.toFixed(0)).join(', ')}) lies outside ${vname} (only ${(100 * inside0).toFixed(0)} % of it inside the ${vol.join(' × ')} volume): place it inside the sample.`);
  }
  opts.onProgress?.(0.02, 'averaging the interior scan down');
  const movingRaw = await blockAverage(interior, f, signal);
  // texture finer than a low-res voxel (pores inside a footprint, seen through cubes that straddle
  // footprints when the interior is turned) is noise to the coarse match: both images are smoothed
  // alike for it; elastix gets them as they are (its own pyramid smooths)
  const moving: Dense3 = { data: Float32Array.from(movingRaw.data), shape: movingRaw.shape };
  gaussianBlur3(moving.data, moving.shape, MATCH_SIGMA);
  if (movingRaw.shape.some((n) => n < 4)) throw invalidInput(`Interior scan ${iname} spans fewer than 4 voxels of ${vname} along an axis; it is too small to register.`);
  const searchVox = opts.searchVox ?? 12, searchDeg = opts.searchDeg ?? 12;
  // the fixed crop: the start footprint plus the search range, clipped to the volume
  const fp = footprintBox(startM, shape, searchVox + 4);
  const cStart = fp.start.map((v, a) => Math.max(0, Math.min(vol[a]! - 1, v))) as Vec3;
  const cEnd = fp.end.map((v, a) => Math.max(cStart[a]! + 1, Math.min(vol[a]!, v))) as Vec3;
  const cShape = cEnd.map((e, a) => e - cStart[a]!) as Vec3;
  const fixed: Dense3 = { data: await volume.readBlockF32({ start: cStart, shape: cShape }, { signal }), shape: cShape };
  const raw = Float32Array.from(fixed.data);
  gaussianBlur3(fixed.data, cShape, MATCH_SIGMA);
  throwIfAborted(signal);
  opts.onProgress?.(0.1, 'coarse search');
  const coarse = coarseSearch(fixed, cStart, moving, f, startPose, shape, searchVox, searchDeg, signal);
  const nccStart = scorePose(fixed, cStart, moving, f, poseAffine(startPose, shape), shape);
  // the voxel sizes fix the scale; a clearly better match at another scale means they are wrong
  opts.onProgress?.(0.3, 'checking the scale');
  const scored = SCALE_CHECK.map((k) => {
    const p = polish({ ...coarse.pose, scale: scale.map((v) => v * k) as Vec3 }, (q) => scorePose(fixed, cStart, moving, f, poseAffine(q, shape), shape), signal, 0.25);
    return { k, ncc: scorePose(fixed, cStart, moving, f, poseAffine(p, shape), shape) };
  });
  const atOne = scored.find((x) => x.k === 1)!, bestK = scored.reduce((a, b) => (b.ncc > a.ncc ? b : a));
  if (bestK.k !== 1 && bestK.ncc > atOne.ncc + 0.02) contradiction(bestK.k);
  let finalM = poseAffine(coarse.pose, shape), scaleRatio = 1, tiltDeg = 0, errorEstimateVox = NaN;
  if (opts.elastix !== false) {
    opts.onProgress?.(0.4, 'refining with elastix');
    const a = await refineElastix3d({ data: raw, shape: cShape }, cStart, movingRaw, f, poseAffine(coarse.pose, shape), 1234);
    throwIfAborted(signal);
    scaleRatio = a.scaleRatio; tiltDeg = a.tiltDeg;
    if (Math.abs(scaleRatio - 1) > (opts.scaleTolerance ?? 0.08)) contradiction(scaleRatio);
    const refined = poseAffine(projectPose(a.m, shape, scale), shape);
    errorEstimateVox = rmsPoseDistance(refined, finalM, shape);
    // elastix's pose is kept unless it clearly lowers the correlation (a failed refinement)
    if (scorePose(fixed, cStart, moving, f, refined, shape) >= coarse.ncc - 0.01) finalM = refined;
  }
  // polish: pattern search of the smoothed NCC over position and turn from the refined pose
  finalM = poseAffine(polish(projectPose(finalM, shape, scale), (p) => scorePose(fixed, cStart, moving, f, poseAffine(p, shape), shape), signal), shape);
  const pose = projectPose(finalM, shape, scale);
  const nccFinal = scorePose(fixed, cStart, moving, f, finalM, shape);
  if (nccFinal < 0.2) {
    throw unprocessable(`Interior scan ${iname} could not be matched inside ${vname} near voxel (${opts.start.centre.map((v) => v.toFixed(0)).join(', ')}) (correlation ${nccFinal.toFixed(2)}): place it closer to where it was taken.`);
  }
  opts.onProgress?.(0.95, 'quality views');
  return {
    pose, hiToLow: finalM, factor: f,
    coarse: { pose: coarse.pose, ncc: coarse.ncc },
    quality: { nccStart, nccCoarse: coarse.ncc, nccFinal, errorEstimateVox, scaleRatio, tiltDeg, inside: insideFraction(finalM, shape, vol) },
    views: orthoViews({ data: raw, shape: cShape }, cStart, moving, f, finalM, pose.centre),
  };
}

function scorePose(fixed: Dense3, cStart: Vec3, moving: Dense3, f: number, m: Affine3, shape: Vec3): number {
  const box = footprintBox(m, shape);
  const bShape = box.end.map((e, a) => e - box.start[a]!) as Vec3;
  const img = { data: renderMoving(moving, f, m, box.start, bShape), shape: bShape };
  return maskedNcc(fixed, img, box.start.map((v, a) => v - cStart[a]!) as Vec3);
}

interface Candidate { angle: number; d: Vec3; ncc: number }

/** Exhaustive masked NCC over angle × shift at half resolution, then full resolution around the best few. */
function coarseSearch(fixed: Dense3, cStart: Vec3, moving: Dense3, f: number, start: InteriorPose, shape: Vec3, sv: number, sd: number, signal?: AbortSignal) {
  const box = footprintBox(poseAffine(start, shape), shape);
  // render box starts an even number of voxels from the crop start, so both halve onto one grid
  const rStart = box.start.map((v, a) => cStart[a]! + 2 * Math.floor((v - cStart[a]!) / 2)) as Vec3;
  const rShape = box.end.map((e, a) => e - rStart[a]!) as Vec3;
  const off = rStart.map((v, a) => v - cStart[a]!) as Vec3;
  const at = (angle: number) => ({ data: renderMoving(moving, f, poseAffine({ ...start, angleDeg: angle }, shape), rStart, rShape), shape: rShape });
  const fixedHalf = halve(fixed);
  const cands: Candidate[] = [];
  const h = Math.ceil(sv / 2);
  for (let angle = start.angleDeg - sd; angle <= start.angleDeg + sd + 1e-9; angle += 3) {
    throwIfAborted(signal);
    const mh = halve(at(angle));
    for (let dz = -h; dz <= h; dz++) for (let dy = -h; dy <= h; dy++) for (let dx = -h; dx <= h; dx++) {
      const ncc = maskedNcc(fixedHalf, mh, [off[0] / 2 + dz, off[1] / 2 + dy, off[2] / 2 + dx]);
      if (ncc > -1) cands.push({ angle, d: [2 * dz, 2 * dy, 2 * dx], ncc });
    }
  }
  cands.sort((a, b) => b.ncc - a.ncc);
  const top: Candidate[] = [];
  for (const c of cands) {
    if (top.length >= 6) break;
    if (top.every((t) => Math.abs(t.angle - c.angle) > 4 || Math.hypot(t.d[0] - c.d[0], t.d[1] - c.d[1], t.d[2] - c.d[2]) > 5)) top.push(c);
  }
  let best: Candidate = { angle: start.angleDeg, d: [0, 0, 0], ncc: -2 };
  const score = (img: Dense3, d: Vec3) => maskedNcc(fixed, img, [off[0] + d[0], off[1] + d[1], off[2] + d[2]]);
  // each candidate at full resolution: every shift within ±2 voxels and turn within ±1°, then hill-climb
  const renders = new Map<number, Dense3>();
  const atCached = (angle: number) => {
    const k = Math.round(angle * 1000);
    if (!renders.has(k)) renders.set(k, at(angle));
    return renders.get(k)!;
  };
  for (const c of top) {
    let cur: Candidate = { ...c, ncc: -2 };
    for (let da = -1; da <= 1; da++) {
      const img = atCached(c.angle + da);
      for (let dz = -2; dz <= 2; dz++) for (let dy = -2; dy <= 2; dy++) for (let dx = -2; dx <= 2; dx++) {
        const d: Vec3 = [c.d[0] + dz, c.d[1] + dy, c.d[2] + dx];
        const ncc = score(img, d);
        if (ncc > cur.ncc) cur = { angle: c.angle + da, d, ncc };
      }
    }
    for (let step = 0; step < 30; step++) {
      throwIfAborted(signal);
      let next = cur;
      for (const [a, dz, dy, dx] of [[0, 1, 0, 0], [0, -1, 0, 0], [0, 0, 1, 0], [0, 0, -1, 0], [0, 0, 0, 1], [0, 0, 0, -1], [1, 0, 0, 0], [-1, 0, 0, 0]]) {
        const angle = cur.angle + a!, d: Vec3 = [cur.d[0] + dz!, cur.d[1] + dy!, cur.d[2] + dx!];
        if (Math.abs(angle - start.angleDeg) > sd + 2 || d.some((v) => Math.abs(v) > sv + 2)) continue;
        const ncc = score(atCached(angle), d);
        if (ncc > next.ncc) next = { angle, d, ncc };
      }
      if (next === cur) break;
      cur = next;
    }
      if (cur.ncc > best.ncc) best = cur;
  }
  // sub-voxel / sub-degree: vertex of the parabola through the best score and its two neighbours
  const vertex = (lo: number, mid: number, hi: number) => {
    const den = lo - 2 * mid + hi;
    return den < 0 ? Math.max(-0.5, Math.min(0.5, (0.5 * (lo - hi)) / den)) : 0;
  };
  const img = atCached(best.angle);
  const frac = [0, 1, 2].map((a) => {
    const e: Vec3 = [0, 0, 0]; e[a] = 1;
    return vertex(score(img, best.d.map((v, i) => v - e[i]!) as Vec3), best.ncc, score(img, best.d.map((v, i) => v + e[i]!) as Vec3));
  });
  const da = vertex(score(atCached(best.angle - 1), best.d), best.ncc, score(atCached(best.angle + 1), best.d));
  const pose: InteriorPose = { ...start, angleDeg: best.angle + da, centre: start.centre.map((v, a) => v + best.d[a]! + frac[a]!) as Vec3 };
  return { pose, ncc: best.ncc };
}

/** Pattern search (steps 0.5 → 0.0625 voxel and degree) maximising score over centre and turn. */
function polish(start: InteriorPose, score: (p: InteriorPose) => number, signal?: AbortSignal, finest = 0.0625): InteriorPose {
  let best = start, bestScore = score(start);
  for (let step = 0.5; step >= finest; step /= 2) {
    let improved = true;
    while (improved) {
      throwIfAborted(signal);
      improved = false;
      for (let k = 0; k < 8; k++) {
        const axis = k >> 1, sign = k & 1 ? -1 : 1;
        const c = [...best.centre] as Vec3;
        let angle = best.angleDeg;
        if (axis < 3) c[axis] += sign * step; else angle += sign * step;
        const p = { ...best, centre: c, angleDeg: angle }, v = score(p);
        if (v > bestScore) { best = p; bestScore = v; improved = true; }
      }
    }
  }
  return best;
}

/** The model pose (rotation about z, given scale) nearest to an affine: centre image and in-plane angle. */
export function projectPose(m: Affine3, shape: Vec3, scale: Vec3): InteriorPose {
  const centre = applyAffine3(m, (shape[0] - 1) / 2, (shape[1] - 1) / 2, (shape[2] - 1) / 2);
  // in-plane part: columns for y and x of rows y and x; angle of the average rotation
  const angle = Math.atan2(m[6] - m[9], m[10] + m[5]);
  return { centre, angleDeg: (angle * 180) / Math.PI, scale };
}

/** zyx affine ↔ ITK (x, y, z) physical space: reverse the axes. */
const zyx2xyz = (m: Affine3) => {
  // rows/cols reversed: xyz[r][c] = zyx[2-r][2-c]
  const o: number[] = [];
  for (let r = 0; r < 3; r++) { for (let c = 0; c < 3; c++) o.push(m[4 * (2 - r) + (2 - c)]!); o.push(m[4 * (2 - r) + 3]!); }
  return o as Affine3;
};
const xyz2zyx = zyx2xyz; // the same reversal

function composeAffine3(outer: Affine3, inner: Affine3): Affine3 {
  const o: number[] = [];
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) o.push(outer[4 * r]! * inner[c]! + outer[4 * r + 1]! * inner[4 + c]! + outer[4 * r + 2]! * inner[8 + c]!);
    o.push(outer[4 * r]! * inner[3]! + outer[4 * r + 1]! * inner[7]! + outer[4 * r + 2]! * inner[11]! + outer[4 * r + 3]!);
  }
  return o as Affine3;
}

/** One elastix 3D transform map → affine x ↦ A (x − c) + t + c in ITK (x, y, z) order. */
export function parseElastixTransform3d(map: Record<string, string[]>): Affine3 {
  const kind = map.Transform![0];
  const q = map.TransformParameters!.map(Number);
  const c = (map.CenterOfRotationPoint ?? ['0', '0', '0']).map(Number);
  let a: number[], t: number[];
  if (kind === 'SimilarityTransform') {
    const [vx, vy, vz] = q, s = q[6]!;
    const w = Math.sqrt(Math.max(0, 1 - vx! ** 2 - vy! ** 2 - vz! ** 2));
    const [x, y, z] = [vx!, vy!, vz!];
    a = [
      1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w),
      2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w),
      2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y),
    ].map((v) => v * s);
    t = q.slice(3, 6);
  } else if (kind === 'AffineTransform') {
    a = q.slice(0, 9); t = q.slice(9, 12);
  } else if (kind === 'TranslationTransform') {
    a = [1, 0, 0, 0, 1, 0, 0, 0, 1]; t = q.slice(0, 3);
  } else {
    throw new Error(`parseElastixTransform3d: unsupported elastix transform ${kind}`);
  }
  const out: number[] = [];
  for (let r = 0; r < 3; r++) out.push(a[3 * r]!, a[3 * r + 1]!, a[3 * r + 2]!, t[r]! + c[r]! - (a[3 * r]! * c[0]! + a[3 * r + 1]! * c[1]! + a[3 * r + 2]! * c[2]!));
  return out as Affine3;
}

async function itkImage3(data: Float32Array, shape: Vec3, origin: number[], spacing: number[], direction: number[]) {
  const { Image, ImageType, FloatTypes, PixelTypes } = await import('itk-wasm');
  const im = new Image(new ImageType(3, FloatTypes.Float32, PixelTypes.Scalar, 1));
  im.size = [shape[2], shape[1], shape[0]]; im.origin = origin; im.spacing = spacing; im.direction = new Float64Array(direction); im.data = data;
  return im;
}

/**
 * elastix from `init` (interior voxel → low-res voxel). Fixed: the low-res crop (physical = low-res
 * voxel index, x y z); moving: the block-averaged interior with geometry init ∘ (b ↦ f·b + (f−1)/2).
 * elastix's T maps fixed points to moving physical points, so the refined map is T⁻¹ ∘ init.
 */
async function refineElastix3d(crop: Dense3, cropStart: Vec3, moving: Dense3, f: number, init: Affine3, seed: number) {
  const { elastixNode, defaultParameterMapNode } = await import('@itk-wasm/elastix');
  // elastix samples the fixed image at random and gives up when most samples miss the moving one:
  // hand it only the part of the crop under the interior (plus a small margin)
  const { fixed, cStart } = subCrop(crop, cropStart, footprintBox(init, [moving.shape[0] * f, moving.shape[1] * f, moving.shape[2] * f], -1));
  const h = (f - 1) / 2;
  const P = composeAffine3(init, [f, 0, 0, h, 0, f, 0, h, 0, 0, f, h]); // block index → low-res index (zyx)
  const Px = zyx2xyz(P);
  const cols = [0, 1, 2].map((c) => Math.hypot(Px[c]!, Px[4 + c]!, Px[8 + c]!));
  const direction: number[] = [];
  for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) direction.push(Px[4 * r + c]! / cols[c]!);
  const fixedImg = await itkImage3(Float32Array.from(fixed.data), fixed.shape, [cStart[2], cStart[1], cStart[0]], [1, 1, 1], [1, 0, 0, 0, 1, 0, 0, 0, 1]);
  const movingImg = await itkImage3(Float32Array.from(moving.data), moving.shape, [Px[3]!, Px[7]!, Px[11]!], cols, direction);
  const { parameterMap } = await defaultParameterMapNode('affine', { numberOfResolutions: 2 });
  const pm = parameterMap as Record<string, string[]>;
  pm.Transform = ['SimilarityTransform'];
  pm.NumberOfResolutions = ['1'];
  pm.MaximumNumberOfIterations = ['200'];
  pm.NumberOfSpatialSamples = ['3000'];
  // versor x, y (tilts of the scan axis) frozen by huge scales; z turn and scale ~ lever arm²
  pm.AutomaticScalesEstimation = ['false'];
  pm.Scales = ['1e9', '1e9', '400', '1', '1', '1', '400'];
  pm.WriteResultImage = ['false'];
  pm.RandomSeed = [String(seed)];
  const r = await elastixNode([pm] as unknown as JsonCompatible, { fixed: fixedImg, moving: movingImg });
  const T = parseElastixTransform3d((r.transformParameterObject as unknown as Record<string, string[]>[])[0]!);
  const Tzyx = xyz2zyx(T);
  const m = composeAffine3(invertAffine3(Tzyx), init);
  const det = (a: Affine3) => a[0] * (a[5] * a[10] - a[6] * a[9]) - a[1] * (a[4] * a[10] - a[6] * a[8]) + a[2] * (a[4] * a[9] - a[5] * a[8]);
  const scaleRatio = Math.cbrt(Math.abs(det(m) / det(init)));
  // tilt: angle of the image of the interior's z axis from the low-res z axis
  const tiltDeg = (Math.acos(Math.min(1, Math.abs(m[0]) / Math.hypot(m[0], m[4], m[8]))) * 180) / Math.PI;
  return { m, scaleRatio, tiltDeg };
}

function subCrop(crop: Dense3, cropStart: Vec3, box: { start: Vec3; end: Vec3 }): { fixed: Dense3; cStart: Vec3 } {
  const s = box.start.map((v, a) => Math.max(cropStart[a]!, Math.min(cropStart[a]! + crop.shape[a]! - 2, v))) as Vec3;
  const e = box.end.map((v, a) => Math.max(s[a]! + 2, Math.min(cropStart[a]! + crop.shape[a]!, v))) as Vec3;
  const shape = e.map((v, a) => v - s[a]!) as Vec3;
  const data = new Float32Array(shape[0] * shape[1] * shape[2]);
  const [, cy, cx] = crop.shape;
  for (let z = 0; z < shape[0]; z++) for (let y = 0; y < shape[1]; y++) {
    const src = ((z + s[0] - cropStart[0]) * cy + y + s[1] - cropStart[1]) * cx + s[2] - cropStart[2];
    data.set(crop.data.subarray(src, src + shape[2]), (z * shape[1] + y) * shape[2]);
  }
  return { fixed: { data, shape }, cStart: s };
}

/** Orthogonal slices through the interior's centre: low-res grey beside the registered interior. */
function orthoViews(fixed: Dense3, cStart: Vec3, moving: Dense3, f: number, m: Affine3, centre: Vec3): OrthoView[] {
  const img = renderMoving(moving, f, m, cStart, fixed.shape);
  const [nz, ny, nx] = fixed.shape;
  const c = round3(centre).map((v, a) => Math.max(0, Math.min(fixed.shape[a]! - 1, v - cStart[a]!)));
  const cut = (axis: 'z' | 'y' | 'x'): OrthoView => {
    const [w, h] = axis === 'z' ? [nx, ny] : axis === 'y' ? [nx, nz] : [ny, nz];
    const fv = new Float32Array(w * h), mv = new Float32Array(w * h);
    for (let v = 0; v < h; v++) for (let u = 0; u < w; u++) {
      const i = axis === 'z' ? (c[0]! * ny + v) * nx + u : axis === 'y' ? (v * ny + c[1]!) * nx + u : (v * ny + u) * nx + c[2]!;
      fv[v * w + u] = fixed.data[i]!; mv[v * w + u] = img[i]!;
    }
    return { axis, width: w, height: h, fixed: fv, moving: mv };
  };
  return [cut('z'), cut('y'), cut('x')];
}
