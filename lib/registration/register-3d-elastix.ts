/**
 * ITK-Wasm elastix refinement of the 3D interior registration (register-3d.ts): the block-averaged
 * interior handed over with the coarse pose as its geometry, a similarity transform with the tilts of
 * the scan axis frozen, and the transform read back into the low-res voxel frame.
 */
import type { JsonCompatible } from 'itk-wasm';
import { footprintBox, invertAffine3, type Affine3, type Vec3 } from '../upscale/interior-pose';
import type { Dense3 } from '../upscale/resample';

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
export async function refineElastix3d(crop: Dense3, cropStart: Vec3, moving: Dense3, f: number, init: Affine3, seed: number) {
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
