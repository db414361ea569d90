/**
 * The registration as other tools read it (issue 16 §4, issue 19):
 * - `edsToVoxel` with named axes: each voxel axis (x, y, z) as a function of the EDS pixel (u, v),
 *   instead of lib/coords' flat 9-vector whose rows are z, y, x. `affine2to3FromJson` reads both,
 *   so registration files written before keep working.
 * - an elastix/ITK TransformParameters file (3D AffineTransform) that `transformix` applies to put
 *   the EDS map into the volume's grid: fixed image = the XRM volume (physical µm, x y z), moving
 *   image = the EDS map as a one-slice 3D image with spacing 1 and origin 0, so that its physical
 *   point (u, v, n) is EDS pixel (u, v) at n EDS pixels off the surface along its normal. Voxels on
 *   the registered surface (|n| < 0.5) get the map's value there (nearest neighbour), others 0.
 *   It carries the global transform: per-field shifts are not expressible in one affine.
 */
import type { Affine2to3 } from '../coords';
import { invalidInput } from '../errors';
import type { VolumeMeta } from '../volume/types';
import type { RegistrationModel } from './types';

/** One output axis as a function of the EDS pixel: axis = u * u + v * v + offset. */
export interface AxisRow { u: number; v: number; offset: number }

export interface NamedAffine2to3 {
  from: 'EDS pixel (u = column, v = row; pixel centres at integers)';
  to: 'voxel index (x, y, z; voxel centres at integers)';
  x: AxisRow;
  y: AxisRow;
  z: AxisRow;
}

const row = (m: Affine2to3, r: number): AxisRow => ({ u: m[r * 3], v: m[r * 3 + 1], offset: m[r * 3 + 2] });

export function namedEdsToVoxel(m: Affine2to3): NamedAffine2to3 {
  return {
    from: 'EDS pixel (u = column, v = row; pixel centres at integers)',
    to: 'voxel index (x, y, z; voxel centres at integers)',
    x: row(m, 2), y: row(m, 1), z: row(m, 0),
  };
}

/** edsToVoxel from a registration file: the named form, or the flat 9-vector (rows z, y, x) of older files. */
export function affine2to3FromJson(value: unknown, what = 'edsToVoxel'): Affine2to3 {
  if (Array.isArray(value) && value.length === 9 && value.every((x) => typeof x === 'number')) return value as Affine2to3;
  const o = value as Partial<Record<'x' | 'y' | 'z', Partial<AxisRow>>> | null;
  const r = (k: 'x' | 'y' | 'z') => {
    const a = o?.[k];
    if (!a || ![a.u, a.v, a.offset].every((x) => typeof x === 'number' && Number.isFinite(x))) {
      throw invalidInput(`The registration's ${what} has no numeric ${k} row (u, v, offset): is this a file written by "petromap register"?`);
    }
    return [a.u!, a.v!, a.offset!];
  };
  return [...r('z'), ...r('y'), ...r('x')] as Affine2to3;
}

/** 3x3 inverse (row-major). */
function invert3(m: number[]): number[] {
  const [a, b, c, d, e, f, g, h, i] = m;
  const A = e * i - f * h, B = -(d * i - f * g), C = d * h - e * g;
  const det = a * A + b * B + c * C;
  if (Math.abs(det) < 1e-12) throw invalidInput('The registration is degenerate (the EDS map has no area in the volume).');
  return [A / det, -(b * i - c * h) / det, (b * f - c * e) / det, B / det, (a * i - c * g) / det, -(a * f - c * d) / det, C / det, -(a * h - b * g) / det, (a * e - b * d) / det];
}

const num = (x: number) => (Number.isInteger(x) ? String(x) : x.toPrecision(12));

/**
 * elastix TransformParameters text (3D AffineTransform, fixed = the volume, moving = the EDS map as a
 * one-slice image) for `transformix -tp <file> -in <eds.mha> -out <dir>`. `pixelType` is the result's.
 */
export function elastixTransformText(edsToVoxel: Affine2to3, meta: Pick<VolumeMeta, 'shape' | 'spacingUm' | 'originUm'>, model: RegistrationModel, pixelType: 'unsigned short' | 'float' = 'unsigned short'): string {
  const [nz, ny, nx] = meta.shape;
  const s = [meta.spacingUm[2], meta.spacingUm[1], meta.spacingUm[0]], o = [meta.originUm[2], meta.originUm[1], meta.originUm[0]];
  // world (x, y, z µm) = o + s * voxel; columns: d world / du, d world / dv, and the normal (EDS-pixel length)
  const rows = [row(edsToVoxel, 2), row(edsToVoxel, 1), row(edsToVoxel, 0)];
  const cu = rows.map((r, k) => r.u * s[k]), cv = rows.map((r, k) => r.v * s[k]);
  const w0 = rows.map((r, k) => o[k] + r.offset * s[k]);
  const n = [cu[1] * cv[2] - cu[2] * cv[1], cu[2] * cv[0] - cu[0] * cv[2], cu[0] * cv[1] - cu[1] * cv[0]];
  const len = Math.hypot(...n), px = Math.sqrt(Math.hypot(...cu) * Math.hypot(...cv));
  const cn = n.map((x) => (x / len) * px);
  const B = [cu[0], cv[0], cn[0], cu[1], cv[1], cn[1], cu[2], cv[2], cn[2]];
  const A = invert3(B);
  const t = [0, 1, 2].map((r) => -(A[r * 3] * w0[0] + A[r * 3 + 1] * w0[1] + A[r * 3 + 2] * w0[2]));
  const lines: [string, (string | number)[]][] = [
    ['Transform', ['"AffineTransform"']],
    ['NumberOfParameters', [12]],
    ['TransformParameters', [...A, ...t]],
    ['InitialTransformParametersFileName', ['"NoInitialTransform"']],
    ['HowToCombineTransforms', ['"Compose"']],
    ['FixedImageDimension', [3]], ['MovingImageDimension', [3]],
    ['FixedInternalImagePixelType', ['"float"']], ['MovingInternalImagePixelType', ['"float"']],
    ['Size', [nx, ny, nz]], ['Index', [0, 0, 0]], ['Spacing', s], ['Origin', o],
    ['Direction', [1, 0, 0, 0, 1, 0, 0, 0, 1]], ['UseDirectionCosines', ['"true"']],
    ['CenterOfRotationPoint', [0, 0, 0]],
    // B-spline of order 0 = nearest neighbour (labels are not blended); Debian's elastix 5.0.1 has no FinalNearestNeighborInterpolator
    ['ResampleInterpolator', ['"FinalBSplineInterpolator"']], ['FinalBSplineInterpolationOrder', [0]], ['Resampler', ['"DefaultResampler"']],
    ['DefaultPixelValue', [0]], ['ResultImageFormat', ['"mha"']], ['ResultImagePixelType', [`"${pixelType}"`]], ['CompressResultImage', ['"false"']],
  ];
  const head = [
    `// petromap registration (model: ${model}${model === 'fields' ? '; per-field shifts are in the JSON only, this is the global transform' : ''})`,
    '// fixed image: the XRM volume (physical µm, x y z); moving image: the EDS map as a one-slice 3D image, spacing 1, origin 0',
  ];
  return [...head, ...lines.map(([k, v]) => `(${k} ${v.map((x) => (typeof x === 'number' ? num(x) : x)).join(' ')})`)].join('\n') + '\n';
}

/** The EDS map as a one-slice 3D MetaImage (uint16), the moving image of elastixTransformText. */
export function edsLabelsMha(labels: Uint16Array, width: number, height: number): Uint8Array {
  const header = [
    'ObjectType = Image', 'NDims = 3', 'BinaryData = True', 'BinaryDataByteOrderMSB = False', 'CompressedData = False',
    'TransformMatrix = 1 0 0 0 1 0 0 0 1', 'Offset = 0 0 0', 'ElementSpacing = 1 1 1', `DimSize = ${width} ${height} 1`,
    'ElementType = MET_USHORT', 'ElementDataFile = LOCAL',
  ].join('\n') + '\n';
  const h = new TextEncoder().encode(header);
  const out = new Uint8Array(h.length + labels.byteLength);
  out.set(h);
  const le = new Uint8Array(labels.length * 2);
  for (let i = 0; i < labels.length; i++) { le[2 * i] = labels[i] & 255; le[2 * i + 1] = labels[i] >> 8; }
  out.set(le, h.length);
  return out;
}
