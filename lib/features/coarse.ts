/**
 * Version-2 feature sets: the large scales on a 2x grid aligned to the volume (definition in
 * plan.ts, above V2_TRUNCATE). One brick, one channel:
 *  1. D = the centred input X pre-filtered (Gaussian, V2_PRE_SIGMA_VOX) and sampled at the even
 *     volume indices of every axis (three decimating passes, z, y, x), over the coarse inner grid
 *     (the even indices from the one at or before the brick's first voxel to the one at or after
 *     its last) plus the largest coarse margin;
 *  2. the coarse specs on D with a BrickContext of the coarse grid (the same separable passes,
 *     columns and eigenvalues as the voxel grid, at coarse sigmas; derivatives x 1/2 per order);
 *  3. each coarse feature plane interpolated linearly back to the brick's voxels (x, y, z).
 * Version 3 (plan.ts IN_PLANE_VERSION): no z at all: 1. pre-filters and samples y and x only (every
 * z plane of the brick), 2. runs the specs at sigma 0 along z, 3. interpolates y and x back.
 * Every coarse value is a fixed sequence of operations on voxels of the volume, so a brick gives
 * the whole-volume values whatever its origin (up to the brick's centring offset, which every
 * feature of every version has).
 */
import type { Shape3 } from '../volume/types';
import { BrickContext, type Img } from './brick-context';
import { runGroup } from './compute-spec';
import { coarseMargin, coarseSigma, componentCount, isInPlane, preRadius, V2_PRE_SIGMA_VOX, V2_TRUNCATE, voxelSigmas, type Extent } from './plan';
import type { FeatureSet } from './types';

/** Parity of the brick origin and the coarse inner extent per axis. */
export function coarseGrid(inner: Shape3, origin: Shape3): { par: Shape3; nc: Shape3 } {
  const par = origin.map((o) => ((o % 2) + 2) % 2) as Shape3;
  const nc = inner.map((n, a) => Math.floor((n + par[a]!) / 2) + 1) as Shape3;
  return { par, nc };
}

export function computeCoarse(
  ctx: BrickContext,
  set: FeatureSet,
  idxs: readonly number[],
  spacingUm: readonly number[],
  f: Shape3,
  planeOf: (i: number) => number,
  origin: Shape3,
): void {
  const { K, inner } = ctx;
  const k = K.k;
  const X = ctx.X;
  const mark = K.mark();
  const inplane = isInPlane(set);
  const grid = coarseGrid(inner, origin);
  // version 3 (in-plane): no filtering and no 2x grid along z (every z plane on its own)
  const par: Shape3 = inplane ? [0, grid.par[1], grid.par[2]] : grid.par;
  const nc: Shape3 = inplane ? [inner[0], grid.nc[1], grid.nc[2]] : grid.nc;
  const M: Shape3 = [0, 0, 0];
  for (const i of idxs) {
    const m = coarseMargin(set.specs[i]!, spacingUm);
    for (let a = inplane ? 1 : 0; a < 3; a++) M[a] = Math.max(M[a]!, m[a]!);
  }
  const ncm = nc.map((v, a) => v + 2 * M[a]!) as Shape3;
  const r0 = preRadius();
  // array index (in X) of the first coarse sample per axis: volume index 2 (kc0 - M) = origin - par - 2M
  const first = X.margin.map((h, a) => h - par[a]! - 2 * M[a]!) as Shape3;
  for (let a = inplane ? 1 : 0; a < 3; a++) {
    if (first[a]! < r0 || first[a]! + 2 * (ncm[a]! - 1) + r0 > X.dims[a]! - 1) throw new Error(`internal: halo ${X.margin} too small for the 2x grid (axis ${a})`);
  }
  const w = ctx.weightsFor(V2_PRE_SIGMA_VOX, 0);
  const span = (a: number) => 2 * (ncm[a]! - 1) + 2 * r0 + 1;
  const t2 = K.alloc(ncm[0] * ncm[1] * span(2));
  if (inplane) {
    k.convDown(X.ptr, X.dims[1], X.dims[2], t2, ncm[0], ncm[1], span(2), X.margin[0], first[1], first[2] - r0, 1, w.ptr, r0);
  } else {
    const t1 = K.alloc(ncm[0] * span(1) * span(2));
    k.convDown(X.ptr, X.dims[1], X.dims[2], t1, ncm[0], span(1), span(2), first[0], first[1] - r0, first[2] - r0, 0, w.ptr, r0);
    k.convDown(t1, span(1), span(2), t2, ncm[0], ncm[1], span(2), 0, r0, 0, 1, w.ptr, r0);
  }
  const D: Img = { ptr: K.alloc(ncm[0] * ncm[1] * ncm[2]), margin: M, dims: ncm };
  k.convDown(t2, ncm[1], span(2), D.ptr, ncm[0], ncm[1], ncm[2], 0, 0, r0, 2, w.ptr, r0);

  // the coarse specs on D, into coarse planes
  const nVc = nc[0] * nc[1] * nc[2];
  const col = new Map<number, number>();
  let nCoarse = 0;
  for (const i of idxs) {
    col.set(i, nCoarse);
    nCoarse += componentCount(set.specs[i]!.filter);
  }
  const cOut = K.alloc(nVc * nCoarse);
  const arenaCap = 64 + idxs.length * 3 * 12 * (2 * (Math.max(...M) + 2) + 5);
  const cctx = new BrickContext(K, nc, cOut, nCoarse, K.alloc(arenaCap), arenaCap, V2_TRUNCATE);
  cctx.X = D;
  cctx.offset = ctx.offset;
  const fc = f.map((v) => v / 2) as Shape3;
  const sigmaOf = (sp: FeatureSet['specs'][number]) => voxelSigmas(sp.sigmaUm, spacingUm).map((v, a) => (inplane && a === 0 ? 0 : coarseSigma(v))) as Shape3;
  const groups = new Map<number, number[]>();
  for (const i of idxs) groups.set(set.specs[i]!.sigmaUm, [...(groups.get(set.specs[i]!.sigmaUm) ?? []), i]);
  const none: Extent = [[-Infinity, Infinity], [-Infinity, Infinity], [-Infinity, Infinity]];
  for (const g of groups.values()) runGroup(cctx, set.specs, g, sigmaOf, fc, (i) => col.get(i)!, false, none);

  // back to the voxel grid: x, then y, then z (into the brick's feature plane)
  const [nz, ny, nx] = inner;
  const u1 = K.alloc(nc[0] * nc[1] * nx);
  const u2 = inplane ? 0 : K.alloc(nc[0] * ny * nx);
  for (const i of idxs) {
    for (let j = 0; j < componentCount(set.specs[i]!.filter); j++) {
      const src = cOut + 4 * (col.get(i)! + j) * nVc;
      k.up2(src, nc[1], nc[2], u1, nc[0], nc[1], nx, 2, par[2]);
      const dst = ctx.out + 4 * (planeOf(i) + j) * ctx.n;
      // in-plane: z is the voxel grid already, y goes straight into the feature plane
      k.up2(u1, nc[1], nx, inplane ? dst : u2, nc[0], ny, nx, 1, par[1]);
      if (!inplane) k.up2(u2, ny, nx, dst, nz, ny, nx, 0, par[0]);
    }
  }
  K.release(mark);
}
