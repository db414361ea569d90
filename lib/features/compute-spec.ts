/** One feature spec of one channel on the wasm kernels, from the derivatives a BrickContext holds. */
import type { Shape3 } from '../volume/types';
import { fillOutside, key, type BrickContext, type Img, type Request, type Src } from './brick-context';
import { DOG_RATIO, kernelRadius, NLM_EPS, nlmGrid, nlmStep, type Extent } from './plan';
import type { FeatureSpec } from './types';

export function requestsFor(spec: FeatureSpec, s: Shape3, skimage: boolean): Request[] {
  const m0: Shape3 = [0, 0, 0];
  if (spec.filter === 'intensity') return [];
  if (skimage) return [{ src: 'X', sigma: s, margin: [2, 2, 2], orders: [[0, 0, 0]] }];
  const g = (sigma: Shape3, orders: Shape3[], margin = m0, src: Src = 'X'): Request => ({ src, sigma, margin, orders });
  switch (spec.filter) {
    case 'gaussian':
    case 'localMean':
      return [g(s, [[0, 0, 0]])];
    case 'gradientMagnitude':
      return [g(s, [[1, 0, 0], [0, 1, 0], [0, 0, 1]])];
    case 'laplacian':
      return [g(s, [[2, 0, 0], [0, 2, 0], [0, 0, 2]])];
    case 'hessianEigen':
      return [g(s, [[2, 0, 0], [1, 1, 0], [1, 0, 1], [0, 2, 0], [0, 1, 1], [0, 0, 2]])];
    case 'dog':
      return [g(s, [[0, 0, 0]]), g(s.map((v) => v * DOG_RATIO) as Shape3, [[0, 0, 0]])];
    case 'structureTensorEigen':
      return [g(s, [[1, 0, 0], [0, 1, 0], [0, 0, 1]], s.map((v) => kernelRadius(v / 2)) as Shape3)];
    case 'localVariance':
      return [g(s, [[0, 0, 0]]), g(s, [[0, 0, 0]], m0, 'X2')];
    case 'nonLocalMean':
      return [
        g(s.map((v) => v / 4) as Shape3, [[0, 0, 0]], s.map((v) => 2 * nlmStep(v)) as Shape3),
        g(s, [[0, 0, 0]]),
        g(s, [[0, 0, 0]], m0, 'X2'),
      ];
    default:
      return [];
  }
}

/**
 * The specs `idxs` of one scale group on `ctx`: their Gaussian derivatives (requests merged per
 * source, sigma and margin, all orders of one request sharing passes), then each spec's columns
 * at planeOf(i) of ctx.out. Working memory is released afterwards.
 */
export function runGroup(
  ctx: BrickContext,
  specs: readonly FeatureSpec[],
  idxs: readonly number[],
  sigmaOf: (spec: FeatureSpec) => Shape3,
  f: Shape3,
  planeOf: (i: number) => number,
  skimage: boolean,
  extent: Extent,
): void {
  const K = ctx.K;
  const gMark = K.mark();
  const cache = new Map<string, Img>();
  // gather requests of the group, merged per (src, sigma, margin)
  const merged = new Map<string, Request>();
  for (const i of idxs) {
    for (const rq of requestsFor(specs[i]!, sigmaOf(specs[i]!), skimage)) {
      const k = key(rq.src, rq.sigma, rq.margin);
      const m = merged.get(k);
      if (!m) merged.set(k, { ...rq, orders: [...rq.orders] });
      else for (const o of rq.orders) if (!m.orders.some((p) => key(p) === key(o))) m.orders.push(o);
    }
  }
  for (const rq of merged.values()) {
    const src = rq.src === 'X' ? ctx.X : ctx.squared();
    const res = ctx.gaussDerivs(src, rq.sigma, rq.orders, rq.margin);
    for (const [ok, img] of res) cache.set(key(rq.src, rq.sigma, rq.margin) + ok, img);
  }
  const get = (src: Src, sigma: Shape3, margin: Shape3, order: Shape3) => {
    const img = cache.get(key(src, sigma, margin) + key(order));
    if (!img) throw new Error('internal: missing derivative');
    return img;
  };
  for (const i of idxs) computeSpec(ctx, specs[i]!, sigmaOf(specs[i]!), f, planeOf(i), skimage, extent, get);
  K.release(gMark);
}

export function computeSpec(
  ctx: BrickContext,
  spec: FeatureSpec,
  s: Shape3,
  f: Shape3,
  f0: number,
  skimage: boolean,
  extent: Extent,
  get: (src: Src, sigma: Shape3, margin: Shape3, order: Shape3) => Img,
): void {
  const { K, n, out, inner, offset } = ctx;
  const k = K.k;
  // kernels write contiguous planes: feature f at out + 4 f n, written with "nF = 1, f = 0"
  const plane = (j: number) => out + 4 * (f0 + j) * n;
  const nF = 1;
  const m0: Shape3 = [0, 0, 0];
  const G = (o: Shape3, sigma = s, margin = m0, src: Src = 'X') => get(src, sigma, margin, o).ptr;
  if (spec.filter === 'intensity') {
    const X = ctx.X;
    k.columnBox(X.ptr, X.dims[1], X.dims[2], X.margin[0], X.margin[1], X.margin[2], inner[0], inner[1], inner[2], plane(0), nF, 0, offset);
    return;
  }
  if (skimage) {
    const g = get('X', s, [2, 2, 2], [0, 0, 0]);
    if (!g.reflected) {
      fillOutside(K, g, extent, 'reflect');
      g.reflected = true;
    }
    if (spec.filter === 'gaussian') {
      k.columnBox(g.ptr, g.dims[1], g.dims[2], 2, 2, 2, inner[0], inner[1], inner[2], plane(0), nF, 0, offset);
      return;
    }
    const mark = K.mark();
    if (spec.filter === 'gradientMagnitude') {
      const d = ctx.smallKernel([-1, 0, 1], -1);
      const sm = ctx.smallKernel([0.25, 0.5, 0.25], 1);
      const comps: number[] = [];
      for (let a = 0; a < 3; a++) {
        // edge along a, smoothing along the others, cropping 2 -> 0 step by step
        let cur: Img = g;
        const m: Shape3 = [...cur.margin] as Shape3;
        for (const axis of [0, 1, 2]) {
          m[axis] = 0;
          cur = ctx.pass(cur, axis, axis === a ? d : sm, [...m] as Shape3);
        }
        comps.push(cur.ptr);
      }
      const t = 1 / 3;
      k.column(comps[0]!, comps[1]!, comps[2]!, t, t, t, 1, n, plane(0), nF, 0, 0);
    } else {
      // hessianEigen: np.gradient twice, one-sided at the volume border
      const clampI = (v: number) => Math.max(-(1 << 30), Math.min(1 << 30, v));
      const lohi = (img: Img, a: number): [number, number] => [
        clampI(extent[a]![0] + img.margin[a]!),
        clampI(extent[a]![1] + img.margin[a]!),
      ];
      const grad = (src: Img, axis: number, m: Shape3): Img => {
        const dst = ctx.allocImg(m);
        const [lo, hi] = lohi(src, axis);
        k.npgrad(src.ptr, src.dims[1], src.dims[2], dst.ptr, dst.dims[0], dst.dims[1], dst.dims[2],
          src.margin[0] - m[0], src.margin[1] - m[1], src.margin[2] - m[2], axis, lo, hi);
        return dst;
      };
      const d = [0, 1, 2].map((a) => grad(g, a, [1, 1, 1]));
      const H = (a: number, b: number) => grad(d[a]!, b, m0).ptr;
      k.eig3(H(0, 0), H(0, 1), H(0, 2), H(1, 1), H(1, 2), H(2, 2), 1, 1, 1, 1, 1, 1, n, plane(0), plane(1), plane(2));
    }
    K.release(mark);
    return;
  }
  switch (spec.filter) {
    case 'gaussian':
    case 'localMean': {
      const p = G([0, 0, 0]);
      k.column(p, p, p, 1, 0, 0, 0, n, plane(0), nF, 0, offset);
      return;
    }
    case 'dog': {
      const a = G([0, 0, 0]);
      const b = G([0, 0, 0], s.map((v) => v * DOG_RATIO) as Shape3);
      k.column(a, b, a, 1, -1, 0, 0, n, plane(0), nF, 0, 0);
      return;
    }
    case 'gradientMagnitude':
      k.column(G([1, 0, 0]), G([0, 1, 0]), G([0, 0, 1]), f[0] ** 2, f[1] ** 2, f[2] ** 2, 1, n, plane(0), nF, 0, 0);
      return;
    case 'laplacian':
      k.column(G([2, 0, 0]), G([0, 2, 0]), G([0, 0, 2]), f[0] ** 2, f[1] ** 2, f[2] ** 2, 0, n, plane(0), nF, 0, 0);
      return;
    case 'hessianEigen':
      k.eig3(
        G([2, 0, 0]), G([1, 1, 0]), G([1, 0, 1]), G([0, 2, 0]), G([0, 1, 1]), G([0, 0, 2]),
        f[0] * f[0], f[0] * f[1], f[0] * f[2], f[1] * f[1], f[1] * f[2], f[2] * f[2],
        n, plane(0), plane(1), plane(2),
      );
      return;
    case 'structureTensorEigen': {
      const mST = s.map((v) => kernelRadius(v / 2)) as Shape3;
      const outer = s.map((v) => v / 2) as Shape3;
      const g = [get('X', s, mST, [1, 0, 0]), get('X', s, mST, [0, 1, 0]), get('X', s, mST, [0, 0, 1])];
      const mark = K.mark();
      const size = g[0]!.dims[0] * g[0]!.dims[1] * g[0]!.dims[2];
      const J = (a: number, b: number): number => {
        const p: Img = ctx.allocImg(mST);
        k.mul(g[a]!.ptr, g[b]!.ptr, p.ptr, size, f[a]! * f[b]!);
        return ctx.gaussDerivs(p, outer, [[0, 0, 0]], m0).values().next().value!.ptr;
      };
      k.eig3(J(0, 0), J(0, 1), J(0, 2), J(1, 1), J(1, 2), J(2, 2), 1, 1, 1, 1, 1, 1, n, plane(0), plane(1), plane(2));
      K.release(mark);
      return;
    }
    case 'localVariance': {
      const mark = K.mark();
      const v = K.alloc(n);
      k.variance(G([0, 0, 0]), G([0, 0, 0], s, m0, 'X2'), v, n, 0, 0);
      k.column(v, v, v, 1, 0, 0, 0, n, plane(0), nF, 0, 0);
      K.release(mark);
      return;
    }
    case 'nonLocalMean': {
      const mark = K.mark();
      const step = s.map(nlmStep) as Shape3;
      const mP = step.map((v) => 2 * v) as Shape3;
      const P = get('X', s.map((v) => v / 4) as Shape3, mP, [0, 0, 0]);
      const V = K.alloc(n);
      k.variance(G([0, 0, 0]), G([0, 0, 0], s, m0, 'X2'), V, n, NLM_EPS, 0);
      const grid = nlmGrid();
      const offs: number[] = [];
      const logw: number[] = [];
      for (const [gz, gy, gx] of grid) {
        const d = [gz * step[0], gy * step[1], gx * step[2]];
        offs.push(d[0]!, d[1]!, d[2]!);
        logw.push(-0.5 * ((d[0]! / s[0]) ** 2 + (d[1]! / s[1]) ** 2 + (d[2]! / s[2]) ** 2));
      }
      const offPtr = K.putI32(offs);
      const lwPtr = K.put(logw);
      const tW = K.alloc(inner[2]);
      const tS = K.alloc(inner[2]);
      k.nlm(P.ptr, P.dims[1], P.dims[2], mP[0], mP[1], mP[2], V, inner[0], inner[1], inner[2], offPtr, lwPtr, grid.length, tW, tS, plane(0), nF, 0, offset);
      K.release(mark);
      return;
    }
    default:
      throw new Error(`unreachable filter ${spec.filter}`);
  }
}
