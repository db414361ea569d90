/**
 * The wasm working state of one brick (see compute.ts): images with margins in wasm memory, the
 * kernel weights arena, separable Gaussian derivative passes, and the re-fill of voxels outside
 * the volume for the skimage preset.
 */
import type { Shape3 } from '../volume/types';
import { gaussianWeights } from './gaussian-filter';
import type { WasmKernels } from './kernels-wasm';
import { kernelRadius, TRUNCATE, type Extent } from './plan';

export interface Img {
  ptr: number;
  margin: Shape3;
  dims: Shape3;
  /** skimage preset: halo beyond the volume border re-filled by reflection */
  reflected?: boolean;
}

export type Src = 'X' | 'X2';

export interface Request {
  src: Src;
  sigma: Shape3;
  margin: Shape3;
  orders: Shape3[];
}

/**
 * Order of the separable passes: z first (on the thinnest extent of a 64 x 128 x 128 brick and with
 * the fewest derivative orders, 3), x last (the contiguous pass, the cheapest per tap, runs once per
 * derivative order). Measured on the classifier bank: conv passes 10 % less CPU than x, y, z.
 */
export const PASS_AXES: Shape3 = [0, 1, 2];

export const key = (...parts: unknown[]) => JSON.stringify(parts);

export class BrickContext {
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
    /** Gaussians truncated at this many sigma (the feature set's, plan.ts truncateOf) */
    readonly truncate = TRUNCATE,
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
      const arr = gaussianWeights(sigma, order, this.truncate);
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

  /** One 1D pass along `axis` from src into a new image of margin `m` (+ `bias` on every value). */
  pass(src: Img, axis: number, w: { ptr: number; r: number; parity: number }, m: Shape3, dst?: Img, bias = 0): Img {
    for (let a = 0; a < 3; a++) {
      const need = m[a]! + (a === axis ? w.r : 0);
      if (src.margin[a]! < need) throw new Error(`internal: margin ${src.margin} too small for ${m} (axis ${axis}, r ${w.r})`);
    }
    const out = dst ?? this.allocImg(m);
    this.K.k.conv(
      src.ptr, src.dims[1], src.dims[2],
      out.ptr, out.dims[0], out.dims[1], out.dims[2],
      src.margin[0] - m[0], src.margin[1] - m[1], src.margin[2] - m[2],
      axis, w.ptr, w.r, w.parity, bias,
    );
    return out;
  }

  /** Gaussian derivatives of `src` (all requested orders), each with margin `margin`. */
  gaussDerivs(src: Img, sigma: Shape3, orders: Shape3[], margin: Shape3): Map<string, Img> {
    const r = sigma.map((v) => kernelRadius(v, this.truncate)) as Shape3;
    const wf = (a: number, order: number) => this.weightsFor(sigma[a]!, order);
    for (const o of orders) for (let a = 0; a < 3; a++) wf(a, o[a]!);
    const result = new Map<string, Img>();
    for (const o of orders) result.set(key(o), this.allocImg(margin));
    const mark = this.K.mark();
    // passes along PASS_AXES[0], [1], [2]: derivative orders share their first and second passes
    const [a0, a1, a2] = PASS_AXES;
    const m1 = [...margin] as Shape3;
    m1[a1] += r[a1];
    m1[a2] += r[a2];
    const m2 = [...margin] as Shape3;
    m2[a2] += r[a2];
    // the input is centred (X - offset): derivative kernels whose weights do not sum to 0 (order 2,
    // truncated) get offset * sum(weights) back, added by the last pass to each value it writes
    // (the same f32 additions as a pass of its own over the image; order 0 keeps the offset out,
    // added by consumers; an odd order along an axis: the antisymmetric pass takes w (x[+k] - x[-k]),
    // exactly 0 on a constant)
    const bias = (o: Shape3): number => {
      if (src !== this.X || this.offset === 0 || o[0] + o[1] + o[2] === 0 || o.some((v) => v % 2 === 1)) return 0;
      let prod = this.offset;
      for (let a = 0; a < 3; a++) prod *= gaussianWeights(sigma[a]!, o[a]!, this.truncate).reduce((x, y) => x + y, 0);
      return prod;
    };
    const p1 = new Map<number, Img>();
    const p2 = new Map<string, Img>();
    for (const o of orders) {
      if (!p1.has(o[a0])) p1.set(o[a0], this.pass(src, a0, wf(a0, o[a0]), m1));
      const k2 = key(o[a0], o[a1]);
      if (!p2.has(k2)) p2.set(k2, this.pass(p1.get(o[a0])!, a1, wf(a1, o[a1]), m2));
      this.pass(p2.get(k2)!, a2, wf(a2, o[a2]), margin, result.get(key(o))!, bias(o));
    }
    this.K.release(mark);
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

/**
 * Overwrite the voxels of `img` outside the volume extent (inner coordinates) with the edge value
 * ('nearest', skimage's Gaussian) or by reflection of the inside ('reflect', skimage's Sobel).
 */
export function fillOutside(K: WasmKernels, img: Img, extent: Extent, mode: 'nearest' | 'reflect'): void {
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
