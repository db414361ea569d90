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
 *      error, not a silent fit.
 *   6. error estimate without truth: the polish repeated on each half of the interior (halved
 *      across y, then across x); half the RMS disagreement of the halves' poses
 *      (register-3d-search.ts splitHalfError).
 * Files: register-3d-search.ts (NCC searches, error estimate), register-3d-elastix.ts (elastix).
 * Coordinates: low-res voxel indices (z, y, x); poses map interior voxel indices there
 * (lib/upscale/interior-pose.ts).
 */
import { invalidInput, throwIfAborted, unprocessable, type StageOptions } from '../errors';
import type { VolumeStore } from '../volume/store';
import { applyAffine3, footprintBox, poseAffine, type Affine3, type InteriorPose, type Vec3 } from '../upscale/interior-pose';
import { blockAverage, renderMoving, type Dense3 } from '../upscale/resample';
import { refineElastix3d } from './register-3d-elastix';
import { coarseSearch, polish, rmsPoseDistance, scorePose, splitHalfError } from './register-3d-search';

export { rmsPoseDistance } from './register-3d-search';
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
    /**
     * estimated registration error, RMS displacement over the interior in low-res voxels, without
     * truth: half the disagreement of the poses refined on each half of the interior (register-3d-search
     * splitHalfError); on the synthetic tests within a factor of 3 of the true error
     */
    errorEstimateVox: number;
    /** RMS displacement between the elastix and the coarse-search poses (how far elastix moved the pose), low-res voxels */
    elastixShiftVox: number;
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
  let finalM = poseAffine(coarse.pose, shape), scaleRatio = 1, tiltDeg = 0, elastixShiftVox = NaN;
  if (opts.elastix !== false) {
    opts.onProgress?.(0.4, 'refining with elastix');
    const a = await refineElastix3d({ data: raw, shape: cShape }, cStart, movingRaw, f, poseAffine(coarse.pose, shape), 1234);
    throwIfAborted(signal);
    scaleRatio = a.scaleRatio; tiltDeg = a.tiltDeg;
    if (Math.abs(scaleRatio - 1) > (opts.scaleTolerance ?? 0.08)) contradiction(scaleRatio);
    const refined = poseAffine(projectPose(a.m, shape, scale), shape);
    elastixShiftVox = rmsPoseDistance(refined, finalM, shape);
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
  opts.onProgress?.(0.9, 'error estimate');
  const errorEstimateVox = splitHalfError(fixed, cStart, moving, f, pose, shape, signal);
  opts.onProgress?.(0.95, 'quality views');
  return {
    pose, hiToLow: finalM, factor: f,
    coarse: { pose: coarse.pose, ncc: coarse.ncc },
    quality: { nccStart, nccCoarse: coarse.ncc, nccFinal, errorEstimateVox, elastixShiftVox, scaleRatio, tiltDeg, inside: insideFraction(finalM, shape, vol) },
    views: orthoViews({ data: raw, shape: cShape }, cStart, moving, f, finalM, pose.centre),
  };
}

/** The model pose (rotation about z, given scale) nearest to an affine: centre image and in-plane angle. */
export function projectPose(m: Affine3, shape: Vec3, scale: Vec3): InteriorPose {
  const centre = applyAffine3(m, (shape[0] - 1) / 2, (shape[1] - 1) / 2, (shape[2] - 1) / 2);
  // in-plane part: columns for y and x of rows y and x; angle of the average rotation
  const angle = Math.atan2(m[6] - m[9], m[10] + m[5]);
  return { centre, angleDeg: (angle * 180) / Math.PI, scale };
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
