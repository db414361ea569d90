/**
 * TypeScript bindings of the wasm feature kernels (wasm/assembly/features.ts, built to
 * wasm/build/features.wasm by wasm/build.mjs). One instance per thread, memory reused across
 * bricks: a bump allocator hands out float32 regions; `mark()` / `release(mark)` free in LIFO order.
 *
 * Two builds: features-relaxed.wasm (relaxed SIMD: fused multiply-adds in the MLP, ~0.8x its CPU)
 * is used when the runtime accepts it (Node 20 after turning on V8's relaxed-SIMD flag, Node 22+
 * by default), else features.wasm. PETROMAP_WASM_RELAXED_SIMD=0 forces features.wasm. Every thread
 * and process of one machine loads the same build, so their bricks are the same bit for bit;
 * the two builds' probabilities differ at float32 rounding (≤ 2e-6; tests/lib/classify/fused-mlp).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { PetromapError } from '../errors';

interface Exports {
  memory: WebAssembly.Memory;
  heapBase(): number;
  conv(src: number, sY: number, sX: number, dst: number, dZ: number, dY: number, dX: number, oz: number, oy: number, ox: number, axis: number, w: number, r: number, parity: number, bias: number): void;
  npgrad(src: number, sY: number, sX: number, dst: number, dZ: number, dY: number, dX: number, oz: number, oy: number, ox: number, axis: number, lo: number, hi: number): void;
  convDown(src: number, sY: number, sX: number, dst: number, dZ: number, dY: number, dX: number, oz: number, oy: number, ox: number, axis: number, w: number, r: number): void;
  up2(src: number, sY: number, sX: number, dst: number, dZ: number, dY: number, dX: number, axis: number, par: number): void;
  addc(a: number, c: number, n: number): void;
  fromInt(src: number, bytes: number, dst: number, n: number, scale: number): void;
  scale(a: number, s: number, n: number): void;
  interleave(planar: number, n: number, nF: number, v0: number, count: number, dst: number): void;
  mul(a: number, b: number, dst: number, n: number, s: number): void;
  variance(m: number, m2: number, dst: number, n: number, eps: number, c: number): void;
  sqdiff(a: number, c: number, dst: number, n: number): void;
  column(a: number, b: number, c: number, sa: number, sb: number, sc: number, mode: number, n: number, out: number, nF: number, f: number, bias: number): void;
  columnBox(src: number, sY: number, sX: number, oz: number, oy: number, ox: number, iz: number, iy: number, ix: number, out: number, nF: number, f: number, bias: number): void;
  eig3(h00: number, h01: number, h02: number, h11: number, h12: number, h22: number, s00: number, s01: number, s02: number, s11: number, s12: number, s22: number, n: number, out0: number, out1: number, out2: number): void;
  mlpPredict(
    planar: number, n: number, nF: number, v0: number, count: number,
    mean: number, std: number, net: number, nLayers: number, maxUnits: number, nClasses: number, scratch: number,
    lut: number, labels: number, probsU8: number, stride: number, unc: number, probsF32: number,
  ): void;
  nlm(P: number, pY: number, pX: number, mz: number, my: number, mx: number, V: number, iz: number, iy: number, ix: number, offs: number, logw: number, nOff: number, tmpW: number, tmpS: number, out: number, nF: number, f: number, bias: number): void;
}

/**
 * Repo files next to this module; when a bundler has rewritten import.meta.url (not a file: URL),
 * fall back to the working directory (the repo root for `next start`, the CLI and the tests).
 */
function repoFile(rel: string): URL {
  const u = new URL(`../../${rel}`, import.meta.url);
  // the fallback is a runtime path the build must not trace (issue 20): turbopackIgnore
  return u.protocol === 'file:' ? u : pathToFileURL(join(/*turbopackIgnore: true*/ process.cwd(), rel));
}

const wasmUrl = repoFile('wasm/build/features.wasm');
const relaxedUrl = repoFile('wasm/build/features-relaxed.wasm');
const srcUrl = repoFile('wasm/assembly/');
const buildUrl = repoFile('wasm/build.mjs');

/** The two builds of the kernels: relaxed SIMD (fused multiply-adds in the MLP) and plain SIMD. */
export type KernelsFlavour = 'relaxed-simd' | 'simd';

const compiled = new Map<KernelsFlavour, WebAssembly.Module | null>();
let built = false;

function mtime(u: URL): number {
  try {
    return statSync(fileURLToPath(u)).mtimeMs;
  } catch {
    return -1;
  }
}

/** Newest modification time of the kernel sources (features.ts and the files it includes). */
function sourcesTime(dir: URL): number {
  let t = -1;
  try {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const u = new URL(e.name + (e.isDirectory() ? '/' : ''), dir);
      t = Math.max(t, e.isDirectory() ? sourcesTime(u) : e.name.endsWith('.ts') ? mtime(u) : -1);
    }
  } catch {
    // no sources (a deployment with the built kernels only): never stale
  }
  return t;
}

/** Builds the kernels when they are missing or older than their sources (once per process). */
function ensureBuilt(): void {
  if (built) return;
  const wasmTime = mtime(wasmUrl);
  const srcTime = sourcesTime(srcUrl);
  if (wasmTime < 0 || (srcTime > 0 && srcTime > wasmTime)) {
    // missing or stale: build it (offline, a few seconds)
    const r = spawnSync(process.execPath, [/*turbopackIgnore: true*/ fileURLToPath(buildUrl)], { encoding: 'utf8' });
    if (r.status !== 0 || mtime(wasmUrl) < 0) {
      throw new PetromapError(
        'Unsupported',
        `The feature kernels (${fileURLToPath(wasmUrl)}) are not built and building them failed; run "npm run build:wasm" in the petromap folder. ${r.stderr ?? ''}`.trim(),
      );
    }
  }
  built = true;
}

/** The compiled build of `flavour`, or null when the relaxed one is not built or not accepted by this runtime. */
export function kernelsModule(flavour: KernelsFlavour): WebAssembly.Module | null {
  ensureBuilt();
  if (!compiled.has(flavour)) compiled.set(flavour, flavour === 'simd' ? new WebAssembly.Module(readFileSync(fileURLToPath(wasmUrl))) : relaxedModule());
  return compiled.get(flavour)!;
}

/** The relaxed-SIMD build, when it is built (not older than the SIMD one) and accepted by this runtime (else null). */
function relaxedModule(): WebAssembly.Module | null {
  if (mtime(relaxedUrl) < mtime(wasmUrl)) return null;
  try {
    const bytes = readFileSync(fileURLToPath(relaxedUrl));
    // Node 20 (V8 11.3) has relaxed SIMD behind a flag; Node 22+ accepts it as it is
    if (!WebAssembly.validate(bytes)) setFlagsFromString('--experimental-wasm-relaxed-simd');
    return WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
  } catch {
    return null;
  }
}

/**
 * The build this process runs: relaxed SIMD when the runtime accepts it, unless
 * PETROMAP_WASM_RELAXED_SIMD=0 asks for plain SIMD.
 */
export function kernelsFlavour(): KernelsFlavour {
  return process.env.PETROMAP_WASM_RELAXED_SIMD !== '0' && kernelsModule('relaxed-simd') ? 'relaxed-simd' : 'simd';
}

const ALIGN = 64;

export class WasmKernels {
  readonly k: Exports;
  private top: number;
  private readonly base: number;

  /** An instance of the process's build (kernelsFlavour), or of the given one (tests, benches). */
  constructor(readonly flavour: KernelsFlavour = kernelsFlavour()) {
    const mod = kernelsModule(flavour);
    if (!mod) throw new PetromapError('Unsupported', `The ${flavour} build of the feature kernels is not available in this runtime.`);
    const inst = new WebAssembly.Instance(mod, { env: { abort: () => { throw new Error('wasm abort'); } } });
    this.k = inst.exports as unknown as Exports;
    this.base = Math.ceil(this.k.heapBase() / ALIGN) * ALIGN;
    this.top = this.base;
  }

  get memory(): WebAssembly.Memory {
    return this.k.memory;
  }

  /** Bytes of linear memory currently reserved by the instance. */
  get memoryBytes(): number {
    return this.k.memory.buffer.byteLength;
  }

  mark(): number {
    return this.top;
  }

  release(mark: number): void {
    this.top = mark;
  }

  reset(): void {
    this.top = this.base;
  }

  /** Reserve n float32 (or int32) values; returns the byte offset. Grows memory as needed. */
  alloc(n: number): number {
    const p = this.top;
    const end = p + Math.ceil((n * 4 + 16) / ALIGN) * ALIGN; // +16: slack for vector over-reads
    const have = this.k.memory.buffer.byteLength;
    if (end > have) {
      const pages = Math.ceil((end - have) / 65536);
      try {
        this.k.memory.grow(pages);
      } catch (err) {
        throw new PetromapError('Unsupported', `Computing features needs ${(end / 2 ** 30).toFixed(2)} GiB of working memory, more than WebAssembly can reserve; use smaller bricks.`, { cause: err });
      }
    }
    this.top = end;
    return p;
  }

  f32(ptr: number, n: number): Float32Array {
    return new Float32Array(this.k.memory.buffer, ptr, n);
  }

  i32(ptr: number, n: number): Int32Array {
    return new Int32Array(this.k.memory.buffer, ptr, n);
  }

  /** Copy values into a fresh region. */
  put(values: ArrayLike<number>): number {
    const p = this.alloc(values.length);
    this.f32(p, values.length).set(values);
    return p;
  }

  /** Copy raw bytes of a typed array into a fresh region (rounded up to whole floats). */
  putBytes(values: Uint8Array | Uint16Array): number {
    const p = this.alloc(Math.ceil(values.byteLength / 4));
    new Uint8Array(this.k.memory.buffer, p, values.byteLength).set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
    return p;
  }

  putI32(values: ArrayLike<number>): number {
    const p = this.alloc(values.length);
    this.i32(p, values.length).set(values);
    return p;
  }
}

let shared: WasmKernels | undefined;

/** The per-thread kernel instance (memory reused across calls). */
export function wasmKernels(): WasmKernels {
  shared ??= new WasmKernels();
  return shared;
}
