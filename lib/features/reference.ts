/**
 * Plain float64 implementations of every filter of the bank: slow, simple and independent of the
 * wasm kernels, which are tested against them. Semantics: see plan.ts.
 */
import type { Shape3 } from '../volume/types';
import { eigSym3 } from './eig-sym3';
import { correlate1d, gaussianFilter, mapIndex } from './gaussian-filter';
import {
  checkBrickInput,
  checkSet,
  componentCount,
  derivativeFactors,
  DOG_RATIO,
  featureHalo,
  featureNames,
  featuresPerChannel,
  isSkimage,
  NLM_EPS,
  nlmGrid,
  nlmStep,
  rehalo,
  resolveExtent,
  voxelSigmas,
  type BrickOptions,
  type Extent,
} from './plan';
import type { BrickFeatures, FeatureSet, FeatureSpec } from './types';

export { eigSym3 } from './eig-sym3';
export { correlate1d, gaussianFilter, gaussianKernel1d, gaussianWeights } from './gaussian-filter';

/** Shape of the inner box of a brick of `shape` with `halo` on each side. */
const innerShape = (shape: Shape3, halo: Shape3): Shape3 => [shape[0] - 2 * halo[0], shape[1] - 2 * halo[1], shape[2] - 2 * halo[2]];

/** Copy the inner box (halo cut off) of a z-major array. */
export function cropInner(src: Float64Array, shape: Shape3, halo: Shape3): Float64Array {
  const [, ny, nx] = shape;
  const [iz, iy, ix] = innerShape(shape, halo);
  const out = new Float64Array(iz * iy * ix);
  let o = 0;
  for (let z = 0; z < iz; z++) for (let y = 0; y < iy; y++) {
    const b = ((z + halo[0]) * ny + y + halo[1]) * nx + halo[2];
    for (let x = 0; x < ix; x++) out[o++] = src[b + x]!;
  }
  return out;
}

/** np.gradient along `axis` (unit spacing, edge_order 1), with the volume's first/last index lo/hi. */
function npGradient(src: Float64Array, shape: Shape3, axis: number, lo: number, hi: number): Float64Array {
  const out = new Float64Array(src.length);
  const [nz, ny, nx] = shape;
  const n = shape[axis]!;
  const stride = axis === 0 ? ny * nx : axis === 1 ? nx : 1;
  for (let z = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) {
    const i = [z, y, x][axis]!;
    const p = (z * ny + y) * nx + x;
    const prev = i > 0 ? src[p - stride]! : src[p]!;
    const next = i < n - 1 ? src[p + stride]! : src[p]!;
    if (i === lo) out[p] = next - src[p]!;
    else if (i === hi) out[p] = src[p]! - prev;
    else out[p] = (next - prev) / 2;
  }
  return out;
}

/** Overwrite voxels outside the volume extent: 'nearest' (edge value) or 'reflect' of the inside. */
function fillOutside(a: Float64Array, shape: Shape3, halo: Shape3, extent: Extent, mode: 'nearest' | 'reflect'): void {
  const [nz, ny, nx] = shape;
  for (let axis = 0; axis < 3; axis++) {
    const lo = extent[axis]![0] + halo[axis]!; // in array coordinates
    const hi = extent[axis]![1] + halo[axis]!;
    const stride = axis === 0 ? ny * nx : axis === 1 ? nx : 1;
    for (let z = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) {
      const i = [z, y, x][axis]!;
      if (i >= lo && i <= hi) continue;
      const src = mode === 'nearest' ? (i < lo ? lo : hi) : lo + mapIndex(i - lo, hi - lo + 1, 'reflect');
      const p = (z * ny + y) * nx + x;
      a[p] = a[p + (src - i) * stride]!;
    }
  }
}

/** Outputs of one spec on one channel (inner region), component-major. */
function specReference(
  ext: Float64Array,
  shape: Shape3,
  halo: Shape3,
  spacingUm: [number, number, number],
  spec: FeatureSpec,
  skimage: boolean,
  extent: Extent,
): Float64Array[] {
  const s = voxelSigmas(spec.sigmaUm, spacingUm);
  const f = derivativeFactors(spacingUm);
  const crop = (a: Float64Array) => cropInner(a, shape, halo);
  const g = (sig: readonly number[], ord: readonly number[] = [0, 0, 0], src = ext) => gaussianFilter(src, shape, sig, ord);
  if (spec.filter === 'intensity') return [crop(ext)];
  if (skimage) {
    const img = Float64Array.from(ext);
    fillOutside(img, shape, halo, extent, 'nearest');
    const G = g(s, [0, 0, 0], img);
    fillOutside(G, shape, halo, extent, 'reflect');
    if (spec.filter === 'gaussian') return [crop(G)];
    if (spec.filter === 'gradientMagnitude') {
      const acc = new Float64Array(G.length);
      for (let a = 0; a < 3; a++) {
        let c = correlate1d(G, shape, a, [-1, 0, 1]);
        for (let b = 0; b < 3; b++) if (b !== a) c = correlate1d(c, shape, b, [0.25, 0.5, 0.25]);
        for (let i = 0; i < acc.length; i++) acc[i]! += c[i]! * c[i]!;
      }
      for (let i = 0; i < acc.length; i++) acc[i] = Math.sqrt(acc[i]!) / Math.sqrt(3);
      return [crop(acc)];
    }
    // hessianEigen via np.gradient twice
    const lo = (a: number) => extent[a]![0] + halo[a]!;
    const hi = (a: number) => extent[a]![1] + halo[a]!;
    const d = [0, 1, 2].map((a) => npGradient(G, shape, a, lo(a), hi(a)));
    const H = (a: number, b: number) => crop(npGradient(d[a]!, shape, b, lo(b), hi(b)));
    return eigenImages(H(0, 0), H(0, 1), H(0, 2), H(1, 1), H(1, 2), H(2, 2));
  }
  switch (spec.filter) {
    case 'gaussian':
    case 'localMean':
      return [crop(g(s))];
    case 'dog': {
      const a = crop(g(s));
      const b = crop(g(s.map((v) => v * DOG_RATIO)));
      for (let i = 0; i < a.length; i++) a[i]! -= b[i]!;
      return [a];
    }
    case 'gradientMagnitude': {
      const acc = new Float64Array(0);
      let out = acc;
      for (let a = 0; a < 3; a++) {
        const ord = [0, 0, 0];
        ord[a] = 1;
        const d = crop(g(s, ord));
        if (out.length === 0) out = new Float64Array(d.length);
        for (let i = 0; i < d.length; i++) out[i]! += (f[a]! * d[i]!) ** 2;
      }
      for (let i = 0; i < out.length; i++) out[i] = Math.sqrt(out[i]!);
      return [out];
    }
    case 'laplacian': {
      let out = new Float64Array(0);
      for (let a = 0; a < 3; a++) {
        const ord = [0, 0, 0];
        ord[a] = 2;
        const d = crop(g(s, ord));
        if (out.length === 0) out = new Float64Array(d.length);
        for (let i = 0; i < d.length; i++) out[i]! += f[a]! * f[a]! * d[i]!;
      }
      return [out];
    }
    case 'hessianEigen': {
      const H = (a: number, b: number) => {
        const ord = [0, 0, 0];
        ord[a]! += 1;
        ord[b]! += 1;
        const d = crop(g(s, ord));
        for (let i = 0; i < d.length; i++) d[i]! *= f[a]! * f[b]!;
        return d;
      };
      return eigenImages(H(0, 0), H(0, 1), H(0, 2), H(1, 1), H(1, 2), H(2, 2));
    }
    case 'structureTensorEigen': {
      const grad = [0, 1, 2].map((a) => {
        const ord = [0, 0, 0];
        ord[a] = 1;
        const d = g(s, ord);
        for (let i = 0; i < d.length; i++) d[i]! *= f[a]!;
        return d;
      });
      const outer = s.map((v) => v / 2);
      const J = (a: number, b: number) => {
        const p = new Float64Array(ext.length);
        for (let i = 0; i < p.length; i++) p[i] = grad[a]![i]! * grad[b]![i]!;
        return crop(g(outer, [0, 0, 0], p));
      };
      return eigenImages(J(0, 0), J(0, 1), J(0, 2), J(1, 1), J(1, 2), J(2, 2));
    }
    case 'localVariance': {
      const sq = new Float64Array(ext.length);
      for (let i = 0; i < sq.length; i++) sq[i] = ext[i]! * ext[i]!;
      const m = crop(g(s));
      const m2 = crop(g(s, [0, 0, 0], sq));
      for (let i = 0; i < m.length; i++) m2[i] = Math.max(0, m2[i]! - m[i]! * m[i]!);
      return [m2];
    }
    case 'nonLocalMean': {
      const P = g(s.map((v) => v / 4));
      const sq = new Float64Array(ext.length);
      for (let i = 0; i < sq.length; i++) sq[i] = ext[i]! * ext[i]!;
      const m = g(s);
      const m2 = g(s, [0, 0, 0], sq);
      const step = s.map(nlmStep);
      const grid = nlmGrid();
      const [, ny, nx] = shape;
      const [iz, iy, ix] = innerShape(shape, halo);
      const out = new Float64Array(iz * iy * ix);
      let o = 0;
      for (let z = halo[0]; z < halo[0] + iz; z++) for (let y = halo[1]; y < halo[1] + iy; y++) for (let x = halo[2]; x < halo[2] + ix; x++) {
        const p = (z * ny + y) * nx + x;
        const v = Math.max(0, m2[p]! - m[p]! * m[p]!) + NLM_EPS;
        let sw = 0;
        let sv = 0;
        for (const [gz, gy, gx] of grid) {
          const dz = gz * step[0]!;
          const dy = gy * step[1]!;
          const dx = gx * step[2]!;
          const q = ((z + dz) * ny + y + dy) * nx + x + dx;
          const spatial = Math.exp(-0.5 * ((dz / s[0]!) ** 2 + (dy / s[1]!) ** 2 + (dx / s[2]!) ** 2));
          const diff = P[q]! - P[p]!;
          const w = spatial * Math.exp(-(diff * diff) / v);
          sw += w;
          sv += w * P[q]!;
        }
        out[o++] = sv / sw;
      }
      return [out];
    }
    default:
      throw new Error(`unreachable filter ${spec.filter}`);
  }
}

function eigenImages(...h: Float64Array[]): Float64Array[] {
  const n = h[0]!.length;
  const out = [new Float64Array(n), new Float64Array(n), new Float64Array(n)];
  for (let i = 0; i < n; i++) {
    const e = eigSym3(h[0]![i]!, h[1]![i]!, h[2]![i]!, h[3]![i]!, h[4]![i]!, h[5]![i]!);
    out[0]![i] = e[0];
    out[1]![i] = e[1];
    out[2]![i] = e[2];
  }
  return out;
}

/** computeBrickFeatures in plain float64 TypeScript (slow; the oracle for the wasm kernels). */
export function computeBrickFeaturesReference(
  channels: Float32Array[],
  shapeWithHalo: Shape3,
  halo: Shape3,
  spacingUm: [number, number, number],
  set: FeatureSet,
  opts: BrickOptions & { channelNames?: string[] } = {},
): BrickFeatures {
  checkSet(set, spacingUm);
  const inner = checkBrickInput(channels, shapeWithHalo, halo);
  const need = featureHalo(set, spacingUm);
  const extent = resolveExtent(inner, halo, need, opts);
  const nPer = featuresPerChannel(set);
  const nFeatures = nPer * channels.length;
  const nVox = inner[0] * inner[1] * inner[2];
  const data = new Float32Array(nVox * nFeatures);
  const skimage = isSkimage(set);
  let f0 = 0;
  channels.forEach((ch) => {
    const { data: ext32, shape } = rehalo(ch, shapeWithHalo, halo, need);
    const ext = Float64Array.from(ext32);
    for (const spec of set.specs) {
      const comps = specReference(ext, shape, need, spacingUm, spec, skimage, extent);
      if (comps.length !== componentCount(spec.filter)) throw new Error('component count mismatch');
      for (const c of comps) {
        for (let v = 0; v < nVox; v++) data[v * nFeatures + f0] = c[v]!;
        f0++;
      }
    }
  });
  const names = featureNames(set, opts.channelNames ?? channels.map((_, i) => (channels.length === 1 ? 'xrm' : `ch${i}`)));
  return { shape: inner, nFeatures, names, data };
}
