/**
 * In-place radix-2 complex FFT (iterative Cooley-Tukey) and its 2D row/column version, for the
 * translation search of coarse-align.ts. Sizes must be powers of two. Split re/im arrays.
 */
const twiddles = new Map<number, { cos: Float64Array; sin: Float64Array; rev: Uint32Array }>();

function plan(n: number) {
  let p = twiddles.get(n);
  if (p) return p;
  const cos = new Float64Array(n / 2), sin = new Float64Array(n / 2), rev = new Uint32Array(n);
  for (let i = 0; i < n / 2; i++) { cos[i] = Math.cos((2 * Math.PI * i) / n); sin[i] = Math.sin((2 * Math.PI * i) / n); }
  const bits = Math.log2(n);
  for (let i = 0; i < n; i++) {
    let r = 0;
    for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
    rev[i] = r;
  }
  p = { cos, sin, rev };
  twiddles.set(n, p);
  return p;
}

/** FFT of n values at re[off + k*stride] (inverse when inv; unnormalised). */
function fft1(re: Float64Array, im: Float64Array, off: number, stride: number, n: number, inv: boolean): void {
  const { cos, sin, rev } = plan(n);
  for (let i = 0; i < n; i++) {
    const j = rev[i];
    if (j > i) {
      const a = off + i * stride, b = off + j * stride;
      let t = re[a]; re[a] = re[b]; re[b] = t;
      t = im[a]; im[a] = im[b]; im[b] = t;
    }
  }
  const sg = inv ? 1 : -1;
  for (let size = 2; size <= n; size <<= 1) {
    const half = size >> 1, step = n / size;
    for (let s = 0; s < n; s += size) {
      for (let k = 0; k < half; k++) {
        const wr = cos[k * step], wi = sg * sin[k * step];
        const a = off + (s + k) * stride, b = a + half * stride;
        const xr = re[b] * wr - im[b] * wi, xi = re[b] * wi + im[b] * wr;
        re[b] = re[a] - xr; im[b] = im[a] - xi;
        re[a] += xr; im[a] += xi;
      }
    }
  }
}

/**
 * FFT of every column of an n x n image at once (inverse when inv; unnormalised): the same
 * butterflies as fft1 on each column, with the columns in the inner loop, so memory is walked
 * row by row and each twiddle is loaded once per row pair (about 2x faster than n strided fft1).
 */
function fftColumns(re: Float64Array, im: Float64Array, n: number, inv: boolean): void {
  const { cos, sin, rev } = plan(n);
  for (let i = 0; i < n; i++) {
    const j = rev[i];
    if (j > i) {
      for (let a = i * n, b = j * n, e = a + n; a < e; a++, b++) {
        let t = re[a]; re[a] = re[b]; re[b] = t;
        t = im[a]; im[a] = im[b]; im[b] = t;
      }
    }
  }
  const sg = inv ? 1 : -1;
  for (let size = 2; size <= n; size <<= 1) {
    const half = size >> 1, step = n / size;
    for (let s = 0; s < n; s += size) {
      for (let k = 0; k < half; k++) {
        const wr = cos[k * step], wi = sg * sin[k * step];
        for (let a = (s + k) * n, b = a + half * n, e = a + n; a < e; a++, b++) {
          const xr = re[b] * wr - im[b] * wi, xi = re[b] * wi + im[b] * wr;
          re[b] = re[a] - xr; im[b] = im[a] - xi;
          re[a] += xr; im[a] += xi;
        }
      }
    }
  }
}

/**
 * 2D FFT of an n x n image (row-major), in place; the inverse is divided by n*n. Forward: only
 * the first `rows` rows may be non-zero (the others must be 0; their transforms are skipped).
 * Inverse: only the rows r < rows or r >= n - rowsFromEnd are wanted (the others are left
 * half-transformed, i.e. garbage).
 */
export function fft2(re: Float64Array, im: Float64Array, n: number, inv = false, rows = n, rowsFromEnd = 0): void {
  if (!inv) {
    for (let r = 0; r < rows; r++) fft1(re, im, r * n, 1, n, false);
    fftColumns(re, im, n, false);
    return;
  }
  fftColumns(re, im, n, true);
  const k = 1 / (n * n);
  for (let r = 0; r < n; r++) {
    if (r >= rows && r < n - rowsFromEnd) continue;
    fft1(re, im, r * n, 1, n, true);
    for (let i = r * n; i < (r + 1) * n; i++) { re[i] *= k; im[i] *= k; }
  }
}

export const nextPow2 = (n: number) => 1 << Math.ceil(Math.log2(Math.max(2, n)));
