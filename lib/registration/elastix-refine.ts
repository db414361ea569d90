/**
 * Refinement of an initial EDS -> slab pose with ITK-Wasm elastix (AdvancedMattesMutualInformation,
 * multi-resolution, adaptive stochastic gradient descent). Runs in whatever thread calls it; the
 * cancellable entry is register.worker.ts via refine-in-worker-node.ts.
 *
 * The initial pose is handed to elastix through the moving image's geometry (origin, spacing,
 * direction), so elastix starts from identity and drops fixed samples that fall off the map: the
 * map's edge is not an edge in the image, which is what makes partial coverage work without masks.
 * A mirrored map is flipped in u first, because an ITK direction must be a rotation here.
 * elastix's transform maps fixed (slab) points to moving physical points; each stage runs as its
 * own elastix call, so composing is explicit: edsToSlab = T_n^-1 o ... o T_1^-1 o P o Flip.
 */
import type { JsonCompatible } from 'itk-wasm';
import { composeAffine2, invertAffine2, type Affine2 } from '../coords';
import { elastixWarm, loadElastix } from './elastix-wasm-node';

export interface RefineImages {
  /** slab grey, row-major, NaN outside the volume */
  fixed: Float32Array;
  fixedWidth: number;
  fixedHeight: number;
  /** EDS grey (one value per mineral) */
  moving: Float32Array;
  movingWidth: number;
  movingHeight: number;
}

export interface RefineOptions {
  /**
   * 'similarity' (default): rotation, scale, shift; 'affine' adds an affine stage after it;
   * 'rigid' keeps the scale of the pixel sizes (Debian's elastix 5.0.1 lacks SimilarityTransform)
   */
  model?: 'rigid' | 'similarity' | 'affine';
  resolutions?: number;
  iterations?: number;
  spatialSamples?: number;
  onStage?: (stage: number, stages: number) => void;
}

/** Closest similarity P of an affine (the moving-image geometry), with the residual kept apart. */
export function geometryOf(init: Affine2, flipped: boolean, movingWidth: number) {
  // P o Flip = init  =>  P = init o Flip^-1 ; Flip(u, v) = (W - 1 - u, v) is its own inverse
  const flip: Affine2 = [-1, 0, movingWidth - 1, 0, 1, 0];
  const p = flipped ? composeAffine2(init, flip) : init;
  const theta = Math.atan2(p[3] - p[1], p[0] + p[4]);
  const scale = Math.sqrt(Math.abs(p[0] * p[4] - p[1] * p[3]));
  const c = Math.cos(theta), s = Math.sin(theta);
  const P: Affine2 = [c * scale, -s * scale, p[2], s * scale, c * scale, p[5]];
  return { P, flip, direction: [c, -s, s, c], spacing: [scale, scale], origin: [p[2], p[5]] };
}

/** Parse one elastix transform parameter map into the affine x -> M (x - c) + t + c. */
export function parseElastixTransform(map: Record<string, string[]>): Affine2 {
  const kind = map.Transform[0];
  const q = map.TransformParameters.map(Number);
  const [cx, cy] = (map.CenterOfRotationPoint ?? ['0', '0']).map(Number);
  let m: number[], t: number[];
  if (kind === 'EulerTransform' || kind === 'SimilarityTransform') {
    const k = kind === 'SimilarityTransform' ? q[0] : 1, th = kind === 'SimilarityTransform' ? q[1] : q[0];
    m = [k * Math.cos(th), -k * Math.sin(th), k * Math.sin(th), k * Math.cos(th)];
    t = q.slice(-2);
  } else if (kind === 'AffineTransform') {
    m = q.slice(0, 4); t = q.slice(4, 6);
  } else if (kind === 'TranslationTransform') {
    m = [1, 0, 0, 1]; t = q.slice(0, 2);
  } else {
    throw new Error(`parseElastixTransform: unsupported elastix transform ${kind}`);
  }
  return [m[0], m[1], t[0] + cx - m[0] * cx - m[1] * cy, m[2], m[3], t[1] + cy - m[2] * cx - m[3] * cy];
}

async function itkImage(data: Float32Array, w: number, h: number, origin: number[], spacing: number[], direction: number[]) {
  const { Image, ImageType, FloatTypes, PixelTypes } = await import('itk-wasm');
  const im = new Image(new ImageType(2, FloatTypes.Float32, PixelTypes.Scalar, 1));
  im.size = [w, h]; im.origin = origin; im.spacing = spacing; im.direction = new Float64Array(direction); im.data = data;
  return im;
}

/** Slab with NaN replaced by the mean, so elastix sees no spurious edges at the volume border. */
function fillInvalid(d: Float32Array): Float32Array {
  let s = 0, n = 0;
  for (const v of d) if (v === v) { s += v; n++; }
  const mean = n ? s / n : 0;
  return d.map((v) => (v === v ? v : mean));
}

export function flipU(d: Float32Array, w: number, h: number): Float32Array {
  const out = new Float32Array(d.length);
  for (let v = 0; v < h; v++) for (let u = 0; u < w; u++) out[v * w + u] = d[v * w + (w - 1 - u)];
  return out;
}

/** elastix's default 'affine' map per number of resolutions (one wasm pipeline run each, so kept). */
const defaults = new Map<number, Promise<Record<string, string[]>>>();

export async function parameterMap(transform: string, o: RefineOptions): Promise<Record<string, string[]>> {
  const res = o.resolutions ?? 3;
  let d = defaults.get(res);
  if (!d) {
    d = import('@itk-wasm/elastix').then(async ({ defaultParameterMapNode }) =>
      (await defaultParameterMapNode('affine', { numberOfResolutions: res })).parameterMap as Record<string, string[]>);
    defaults.set(res, d);
  }
  const m = structuredClone(await d);
  m.Transform = [transform];
  m.MaximumNumberOfIterations = [String(o.iterations ?? 300)];
  m.NumberOfSpatialSamples = [String(o.spatialSamples ?? 3000)];
  m.WriteResultImage = ['false'];
  m.RandomSeed = ['1234'];
  return m;
}

/** Load elastix and the default parameter maps now (e.g. in a worker, before the first refinement needs them). */
export async function warmElastix(resolutions: number[] = [1, 3]): Promise<void> {
  await Promise.all([loadElastix(), ...resolutions.map((r) => parameterMap('EulerTransform', { resolutions: r }))]);
}

/**
 * The part of the slab under the map's footprint (plus a margin): elastix samples the fixed image
 * at random and refuses to run when most samples miss the moving image.
 */
export function cropFixed(img: RefineImages, init: Affine2, margin = 4) {
  const { movingWidth: w, movingHeight: h } = img;
  const us: number[] = [], vs: number[] = [];
  for (const [u, v] of [[-0.5, -0.5], [w - 0.5, -0.5], [-0.5, h - 0.5], [w - 0.5, h - 0.5]]) {
    us.push(init[0] * u + init[1] * v + init[2]); vs.push(init[3] * u + init[4] * v + init[5]);
  }
  const u0 = Math.max(0, Math.floor(Math.min(...us)) - margin), u1 = Math.min(img.fixedWidth, Math.ceil(Math.max(...us)) + margin + 1);
  const v0 = Math.max(0, Math.floor(Math.min(...vs)) - margin), v1 = Math.min(img.fixedHeight, Math.ceil(Math.max(...vs)) + margin + 1);
  const cw = Math.max(1, u1 - u0), ch = Math.max(1, v1 - v0);
  const data = new Float32Array(cw * ch);
  for (let v = 0; v < ch; v++) data.set(img.fixed.subarray((v + v0) * img.fixedWidth + u0, (v + v0) * img.fixedWidth + u0 + cw), v * cw);
  return { data: fillInvalid(data), w: cw, h: ch, origin: [u0, v0] };
}

/** Runs elastix stage by stage from `init`; returns the refined EDS -> slab affine. */
export async function refineWithElastix(img: RefineImages, init: Affine2, o: RefineOptions = {}): Promise<Affine2> {
  const flipped = init[0] * init[4] - init[1] * init[3] < 0;
  const g = geometryOf(init, flipped, img.movingWidth);
  const movingData = flipped ? flipU(img.moving, img.movingWidth, img.movingHeight) : img.moving;
  const crop = cropFixed(img, init);
  const fixed = await itkImage(crop.data, crop.w, crop.h, crop.origin, [1, 1], [1, 0, 0, 1]);
  const stages = o.model === 'affine' ? ['SimilarityTransform', 'AffineTransform'] : o.model === 'rigid' ? ['EulerTransform'] : ['SimilarityTransform'];
  // P maps (flipped) EDS pixels to physical = slab space; each stage's T: slab -> physical
  let P = g.P;
  for (let i = 0; i < stages.length; i++) {
    o.onStage?.(i, stages.length);
    const moving = await itkImage(Float32Array.from(movingData), img.movingWidth, img.movingHeight,
      [P[2], P[5]], [Math.hypot(P[0], P[3]), Math.hypot(P[1], P[4])],
      [P[0] / Math.hypot(P[0], P[3]), P[1] / Math.hypot(P[1], P[4]), P[3] / Math.hypot(P[0], P[3]), P[4] / Math.hypot(P[1], P[4])]);
    const pm = await parameterMap(stages[i], o);
    const r = await elastixWarm([pm] as unknown as JsonCompatible, { fixed, moving });
    const T = parseElastixTransform((r.transformParameterObject as unknown as Record<string, string[]>[])[0]);
    P = composeAffine2(invertAffine2(T), P);
  }
  return flipped ? composeAffine2(P, g.flip) : P;
}
