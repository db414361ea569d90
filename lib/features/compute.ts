/**
 * computeBrickFeatures on the wasm kernels. Semantics: plan.ts; oracle: reference.ts.
 *
 * Every image lives in wasm memory as an `Img`: the inner (halo-free) brick plus a margin per axis.
 * Gaussian derivative filters run as separable passes x, y, z, each cropping its own axis to the
 * margin the next step needs; all derivative orders of one scale share their x and y passes.
 * Specs are processed per scale so that working memory holds one scale at a time.
 */
import type { AnyVoxelArray, Shape3 } from '../volume/types';
import { wasmKernels, type WasmKernels } from './kernels-wasm';
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
  kernelRadius,
  NLM_EPS,
  nlmGrid,
  nlmStep,
  rehalo,
  resolveExtent,
  voxelSigmas,
  type BrickOptions,
  type Extent,
} from './plan';
import { gaussianWeights } from './reference';
import type { BrickFeatures, FeatureSet, FeatureSpec } from './types';

interface Img {
  ptr: number;
  margin: Shape3;
  dims: Shape3;
  /** skimage preset: halo beyond the volume border re-filled by reflection */
  reflected?: boolean;
}

type Src = 'X' | 'X2';

interface Request {
  src: Src;
  sigma: Shape3;
  margin: Shape3;
  orders: Shape3[];
}

const key = (...parts: unknown[]) => JSON.stringify(parts);

class BrickContext {
  readonly n: number;
  private readonly weights = new Map<string, { ptr: number; r: number; parity: number }>();
  /** kernel weights live in an arena allocated once per brick (outside every mark/release) */
  private arenaUsed = 0;
  X!: Img;
  x2: Img | undefined;

  constructor(
    readonly K: WasmKernels,
    readonly inner: Shape3,
    /** feature-major scratch: feature f occupies n floats at out + 4 * f * n */
    readonly out: number,
    readonly nF: number,
    private readonly arena: number,
    private readonly arenaCap: number,
  ) {
    this.n = inner[0] * inner[1] * inner[2];
  }

  private putWeights(values: ArrayLike<number>): number {
    if (this.arenaUsed + values.length + 4 > this.arenaCap) throw new Error('internal: kernel arena full');
    const p = this.arena + this.arenaUsed * 4;
    this.K.f32(p, values.length).set(values);
    this.arenaUsed += Math.ceil((values.length + 4) / 4) * 4;
    return p;
  }

  dimsFor(margin: Shape3): Shape3 {
    return [this.inner[0] + 2 * margin[0], this.inner[1] + 2 * margin[1], this.inner[2] + 2 * margin[2]];
  }

  allocImg(margin: Shape3): Img {
    const dims = this.dimsFor(margin);
    return { ptr: this.K.alloc(dims[0] * dims[1] * dims[2]), margin, dims };
  }

  /** Kernel weights kept for the brick (allocated before any mark of a scale group). */
  weightsFor(sigma: number, order: number): { ptr: number; r: number; parity: number } {
    const k = key(sigma, order);
    let w = this.weights.get(k);
    if (!w) {
      const arr = gaussianWeights(sigma, order);
      w = { ptr: this.putWeights(arr), r: (arr.length - 1) / 2, parity: order % 2 === 0 ? 1 : -1 };
      this.weights.set(k, w);
    }
    return w;
  }

  smallKernel(values: number[], parity: number): { ptr: number; r: number; parity: number } {
    const k = key('small', values);
    let w = this.weights.get(k);
    if (!w) {
      w = { ptr: this.putWeights(values), r: (values.length - 1) / 2, parity };
      this.weights.set(k, w);
    }
    return w;
  }

  /** One 1D pass along `axis` from src into a new image of margin `m`. */
  pass(src: Img, axis: number, w: { ptr: number; r: number; parity: number }, m: Shape3, dst?: Img): Img {
    for (let a = 0; a < 3; a++) {
      const need = m[a]! + (a === axis ? w.r : 0);
      if (src.margin[a]! < need) throw new Error(`internal: margin ${src.margin} too small for ${m} (axis ${axis}, r ${w.r})`);
    }
    const out = dst ?? this.allocImg(m);
    this.K.k.conv(
      src.ptr, src.dims[1], src.dims[2],
      out.ptr, out.dims[0], out.dims[1], out.dims[2],
      src.margin[0] - m[0], src.margin[1] - m[1], src.margin[2] - m[2],
      axis, w.ptr, w.r, w.parity,
    );
    return out;
  }

  /** Gaussian derivatives of `src` (all requested orders), each with margin `margin`. */
  gaussDerivs(src: Img, sigma: Shape3, orders: Shape3[], margin: Shape3): Map<string, Img> {
    const r = sigma.map(kernelRadius) as Shape3;
    for (const o of orders) for (let a = 0; a < 3; a++) this.weightsFor(sigma[a]!, o[a]!);
    const result = new Map<string, Img>();
    for (const o of orders) result.set(key(o), this.allocImg(margin));
    const mark = this.K.mark();
    // passes x, y, z: the fast contiguous x pass works on the largest extent, the strided z pass
    // on the smallest (its planes then stay in cache)
    const mx: Shape3 = [margin[0] + r[0], margin[1] + r[1], margin[2]];
    const my: Shape3 = [margin[0] + r[0], margin[1], margin[2]];
    const xs = new Map<number, Img>();
    const ys = new Map<string, Img>();
    for (const o of orders) {
      if (!xs.has(o[2])) xs.set(o[2], this.pass(src, 2, this.weightsFor(sigma[2], o[2]), mx));
      const yk = key(o[2], o[1]);
      if (!ys.has(yk)) ys.set(yk, this.pass(xs.get(o[2])!, 1, this.weightsFor(sigma[1], o[1]), my));
      this.pass(ys.get(yk)!, 0, this.weightsFor(sigma[0], o[0]), margin, result.get(key(o))!);
    }
    this.K.release(mark);
    // the input is centred (X - offset): derivative kernels whose weights do not sum to 0 (order 2,
    // truncated) get offset * sum(weights) back; order 0 keeps the offset out (added by consumers)
    if (src === this.X && this.offset !== 0) {
      for (const o of orders) {
        if (o[0] + o[1] + o[2] === 0) continue;
        let prod = this.offset;
        for (let a = 0; a < 3; a++) prod *= gaussianWeights(sigma[a]!, o[a]!).reduce((x, y) => x + y, 0);
        if (prod !== 0) {
          const img = result.get(key(o))!;
          this.K.k.addc(img.ptr, prod, img.dims[0] * img.dims[1] * img.dims[2]);
        }
      }
    }
    return result;
  }

  /** X^2 over the whole extended brick (for local variance); call before any scale group. */
  makeSquared(): void {
    const n = this.X.dims[0] * this.X.dims[1] * this.X.dims[2];
    this.x2 = { ptr: this.K.alloc(n), margin: this.X.margin, dims: this.X.dims };
    this.K.k.sqdiff(this.X.ptr, 0, this.x2.ptr, n);
  }

  /**
   * Offset subtracted from X before filtering (the mean of a sparse sample of the brick): float32
   * sums of values near 0 round less; added back to the outputs that are not shift-invariant.
   */
  offset = 0;

  centre(): void {
    const n = this.X.dims[0] * this.X.dims[1] * this.X.dims[2];
    const x = this.K.f32(this.X.ptr, n);
    let sum = 0;
    let cnt = 0;
    for (let i = 0; i < n; i += 97) {
      sum += x[i]!;
      cnt++;
    }
    this.offset = Math.fround(sum / cnt);
    this.K.k.addc(this.X.ptr, -this.offset, n);
  }

  squared(): Img {
    if (!this.x2) throw new Error('internal: X^2 not prepared');
    return this.x2;
  }
}

function requestsFor(spec: FeatureSpec, s: Shape3, skimage: boolean): Request[] {
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
 * Overwrite the voxels of `img` outside the volume extent (inner coordinates) with the edge value
 * ('nearest', skimage's Gaussian) or by reflection of the inside ('reflect', skimage's Sobel).
 */
function fillOutside(K: WasmKernels, img: Img, extent: Extent, mode: 'nearest' | 'reflect'): void {
  const [dz, dy, dx] = img.dims;
  const a = K.f32(img.ptr, dz * dy * dx);
  const strides = [dy * dx, dx, 1];
  for (let axis = 0; axis < 3; axis++) {
    const n = img.dims[axis]!;
    const lo = extent[axis]![0] + img.margin[axis]!; // array coordinates
    const hi = extent[axis]![1] + img.margin[axis]!;
    if (lo <= 0 && hi >= n - 1) continue;
    const st = strides[axis]!;
    const others = [0, 1, 2].filter((b) => b !== axis);
    const [o1, o2] = [others[0]!, others[1]!];
    const len = hi - lo + 1;
    for (let i = 0; i < n; i++) {
      if (i >= lo && i <= hi) continue;
      let si: number;
      if (mode === 'nearest') si = i < lo ? lo : hi;
      else {
        const p = 2 * len;
        let k = (i - lo) % p;
        if (k < 0) k += p;
        si = lo + (k < len ? k : p - 1 - k);
      }
      for (let u = 0; u < img.dims[o1]!; u++) for (let v = 0; v < img.dims[o2]!; v++) {
        const base = u * strides[o1]! + v * strides[o2]!;
        a[base + i * st] = a[base + si * st]!;
      }
    }
  }
}

export async function computeBrickFeaturesWasm(
  channels: AnyVoxelArray[],
  shapeWithHalo: Shape3,
  halo: Shape3,
  spacingUm: [number, number, number],
  set: FeatureSet,
  opts: BrickOptions & { channelNames?: string[]; /** multiplies the input values */ scale?: number } = {},
): Promise<BrickFeatures> {
  checkSet(set, spacingUm);
  const inner = checkBrickInput(channels, shapeWithHalo, halo);
  const need = featureHalo(set, spacingUm);
  const extent = resolveExtent(inner, halo, need, opts);
  const nPer = featuresPerChannel(set);
  const nF = nPer * channels.length;
  const nVox = inner[0] * inner[1] * inner[2];
  const skimage = isSkimage(set);
  const f = derivativeFactors(spacingUm);
  const K = wasmKernels();
  K.reset();
  const out = K.alloc(nVox * nF); // feature-major (planar) while computing, see interleave()
  // bound of all kernel weights: per spec and axis 4 scales x 3 orders of at most 2 r(1.6 s) + 1 taps
  let arenaCap = 64;
  for (const sp of set.specs) {
    for (const sa of voxelSigmas(sp.sigmaUm, spacingUm)) arenaCap += 12 * (2 * kernelRadius(DOG_RATIO * sa) + 1 + 4);
  }
  const arena = K.alloc(arenaCap);
  const ctx = new BrickContext(K, inner, out, nF, arena, arenaCap);
  const needsSquare = set.specs.some((sp) => sp.filter === 'localVariance' || sp.filter === 'nonLocalMean');

  // spec column offsets within a channel
  const col: number[] = [];
  let acc = 0;
  for (const sp of set.specs) {
    col.push(acc);
    acc += componentCount(sp.filter);
  }
  // specs grouped by scale (same sigmaUm)
  const groups = new Map<number, number[]>();
  set.specs.forEach((sp, i) => {
    const g = groups.get(sp.sigmaUm) ?? [];
    g.push(i);
    groups.set(sp.sigmaUm, g);
  });

  for (let c = 0; c < channels.length; c++) {
    const chMark = K.mark();
    const { data: ext, shape: extShape } = rehalo(channels[c]!, shapeWithHalo, halo, need);
    const X: Img = { ptr: K.alloc(ext.length), margin: need, dims: extShape };
    const scale = opts.scale ?? 1;
    if (ext instanceof Float32Array) {
      K.f32(X.ptr, ext.length).set(ext);
      if (scale !== 1) K.k.scale(X.ptr, scale, ext.length);
    } else {
      // integer scans: converted (and scaled) in wasm, no float copy in JS
      const m = K.mark();
      K.k.fromInt(K.putBytes(ext), ext.BYTES_PER_ELEMENT, X.ptr, ext.length, scale);
      K.release(m);
    }
    if (skimage) fillOutside(K, X, extent, 'nearest');
    ctx.X = X;
    ctx.x2 = undefined;
    ctx.centre();
    if (needsSquare) ctx.makeSquared();

    for (const idxs of groups.values()) {
      const gMark = K.mark();
      const cache = new Map<string, Img>();
      // gather requests of the group, merged per (src, sigma, margin)
      const merged = new Map<string, Request>();
      for (const i of idxs) {
        const s = voxelSigmas(set.specs[i]!.sigmaUm, spacingUm);
        for (const rq of requestsFor(set.specs[i]!, s, skimage)) {
          const k = key(rq.src, rq.sigma, rq.margin);
          const m = merged.get(k);
          if (!m) merged.set(k, { ...rq, orders: [...rq.orders] });
          else for (const o of rq.orders) if (!m.orders.some((p) => key(p) === key(o))) m.orders.push(o);
        }
      }
      // pre-create weights outside of the derivs' temporary marks
      for (const rq of merged.values()) {
        const src = rq.src === 'X' ? X : ctx.squared();
        const res = ctx.gaussDerivs(src, rq.sigma, rq.orders, rq.margin);
        for (const [ok, img] of res) cache.set(key(rq.src, rq.sigma, rq.margin) + ok, img);
      }
      const get = (src: Src, sigma: Shape3, margin: Shape3, order: Shape3) => {
        const img = cache.get(key(src, sigma, margin) + key(order));
        if (!img) throw new Error('internal: missing derivative');
        return img;
      };
      for (const i of idxs) {
        const spec = set.specs[i]!;
        const f0 = c * nPer + col[i]!;
        const s = voxelSigmas(spec.sigmaUm, spacingUm);
        computeSpec(ctx, spec, s, f, f0, skimage, extent, get);
      }
      K.release(gMark);
    }
    K.release(chMark);
  }
  const data = interleave(K, out, nVox, nF);
  K.reset();
  const names = featureNames(set, opts.channelNames ?? channels.map((_, i) => (channels.length === 1 ? 'xrm' : `ch${i}`)));
  return { shape: inner, nFeatures: nF, names, data };
}

/**
 * Planar (feature-major) -> voxel-major rows, block by block through a small wasm buffer (sequential
 * reads, the written block stays in cache; no second full-size copy in wasm memory).
 */
function interleave(K: WasmKernels, planar: number, n: number, nF: number): Float32Array {
  const out = new Float32Array(n * nF);
  const block = Math.max(1, Math.min(n, Math.floor((1 << 18) / nF)));
  const mark = K.mark();
  const buf = K.alloc(block * nF);
  for (let v0 = 0; v0 < n; v0 += block) {
    const count = Math.min(block, n - v0);
    K.k.interleave(planar, n, nF, v0, count, buf);
    out.set(K.f32(buf, count * nF), v0 * nF);
  }
  K.release(mark);
  return out;
}

function computeSpec(
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
