/**
 * 2D complex FFT of an n x n image for the translation search of ratio-search.ts, for any n whose
 * factors are 2, 3 and 5 (fftSize picks the smallest such n >= the size needed, so a search that
 * needs 85 pixels transforms 90², not 128²). Self-sorting (Stockham) radix-4/2/3/5 passes along
 * the rows' axis with the columns in the inner loop (memory walked row by row, each twiddle loaded
 * once per row), an in-place transpose, and the same passes again. Split re/im arrays.
 *
 * The spectrum is TRANSPOSED: fft2 leaves X[kx * n + ky] (kx, the frequency along x, outer), and
 * the inverse takes that layout back to the image's z[y * n + x]. Element-wise products of two
 * spectra and index negation do not care; code that treats the axes differently (reflections in
 * ratio-search.ts) must swap them.
 */

interface Plan {
  n: number;
  radices: number[];
  /** cos and sin of 2 pi k / n */
  cos: Float64Array;
  sin: Float64Array;
  /** ping-pong scratch */
  sre: Float64Array;
  sim: Float64Array;
}

const plans = new Map<number, Plan>();

function factor(n: number): number[] | undefined {
  const r: number[] = [];
  let m = n;
  while (m % 4 === 0 && m > 4) { r.push(4); m /= 4; }
  for (const p of [4, 2, 3, 5]) while (m % p === 0) { r.push(p); m /= p; }
  return m === 1 ? r : undefined;
}

function plan(n: number): Plan {
  let p = plans.get(n);
  if (p) return p;
  const radices = factor(n);
  if (!radices) throw new Error(`FFT size ${n} has a prime factor other than 2, 3 and 5`);
  const cos = new Float64Array(n), sin = new Float64Array(n);
  for (let k = 0; k < n; k++) { cos[k] = Math.cos((2 * Math.PI * k) / n); sin[k] = Math.sin((2 * Math.PI * k) / n); }
  p = { n, radices, cos, sin, sre: new Float64Array(n * n), sim: new Float64Array(n * n) };
  plans.set(n, p);
  return p;
}

/** Smallest n >= need whose only prime factors are 2, 3 and 5. */
export function fftSize(need: number): number {
  for (let n = Math.max(2, Math.ceil(need)); ; n++) if (factor(n)) return n;
}

const C3 = Math.sqrt(3) / 2;
const C51 = Math.cos((2 * Math.PI) / 5), C52 = Math.cos((4 * Math.PI) / 5);
const S51 = Math.sin((2 * Math.PI) / 5), S52 = Math.sin((4 * Math.PI) / 5);

/*
 * One Stockham pass of radix r = 2, 3, 4 or 5 along the first axis of an n x n array, decimation in
 * frequency, the columns in the inner loop: on sub-transforms of length len (stride s = n / len),
 * input rows q + s (p + t m) give output rows q + s (r p + u), m = len / r, times the twiddle
 * W_len^(p u). One small function per radix: V8 optimises small hot functions sooner (a search
 * runs in a fresh thread; the first searches ran 10-20x slower while one large function warmed up).
 */
type Pass = (xr: Float64Array, xi: Float64Array, yr: Float64Array, yi: Float64Array, P: Plan, len: number, s: number, sg: number) => void;

const pass2: Pass = (xr, xi, yr, yi, P, len, s, sg) => {
  const { n, cos, sin } = P, m = len / 2, tstep = n / len, di = s * m * n, dout = s * n;
  for (let p = 0; p < m; p++) {
    const k1 = p * tstep, w1r = cos[k1], w1i = sg * sin[k1];
    for (let q = 0; q < s; q++) {
      const i0 = (q + s * p) * n, i1 = i0 + di, o0 = (q + s * 2 * p) * n, o1 = o0 + dout;
      for (let v = 0; v < n; v++) {
        const a0r = xr[i0 + v], a0i = xi[i0 + v], a1r = xr[i1 + v], a1i = xi[i1 + v];
        yr[o0 + v] = a0r + a1r; yi[o0 + v] = a0i + a1i;
        const dr = a0r - a1r, dd = a0i - a1i;
        yr[o1 + v] = dr * w1r - dd * w1i; yi[o1 + v] = dr * w1i + dd * w1r;
      }
    }
  }
};

const pass3: Pass = (xr, xi, yr, yi, P, len, s, sg) => {
  const { n, cos, sin } = P, m = len / 3, tstep = n / len, di = s * m * n, dout = s * n, h = sg * C3;
  for (let p = 0; p < m; p++) {
    const k1 = p * tstep, w1r = cos[k1], w1i = sg * sin[k1];
    const k2 = (2 * k1) % n, w2r = cos[k2], w2i = sg * sin[k2];
    for (let q = 0; q < s; q++) {
      const i0 = (q + s * p) * n, i1 = i0 + di, i2 = i1 + di, o0 = (q + s * 3 * p) * n, o1 = o0 + dout, o2 = o1 + dout;
      for (let v = 0; v < n; v++) {
        const a0r = xr[i0 + v], a0i = xi[i0 + v], a1r = xr[i1 + v], a1i = xi[i1 + v], a2r = xr[i2 + v], a2i = xi[i2 + v];
        const sr = a1r + a2r, si = a1i + a2i, tr = a0r - 0.5 * sr, ti = a0i - 0.5 * si;
        // sg * i * C3 * (a1 - a2)
        const ur = -h * (a1i - a2i), ui = h * (a1r - a2r);
        yr[o0 + v] = a0r + sr; yi[o0 + v] = a0i + si;
        const y1r = tr + ur, y1i = ti + ui, y2r = tr - ur, y2i = ti - ui;
        yr[o1 + v] = y1r * w1r - y1i * w1i; yi[o1 + v] = y1r * w1i + y1i * w1r;
        yr[o2 + v] = y2r * w2r - y2i * w2i; yi[o2 + v] = y2r * w2i + y2i * w2r;
      }
    }
  }
};

const pass4: Pass = (xr, xi, yr, yi, P, len, s, sg) => {
  const { n, cos, sin } = P, m = len / 4, tstep = n / len, di = s * m * n, dout = s * n;
  for (let p = 0; p < m; p++) {
    const k1 = p * tstep, w1r = cos[k1], w1i = sg * sin[k1];
    const k2 = (2 * k1) % n, w2r = cos[k2], w2i = sg * sin[k2];
    const k3 = (3 * k1) % n, w3r = cos[k3], w3i = sg * sin[k3];
    for (let q = 0; q < s; q++) {
      const i0 = (q + s * p) * n, i1 = i0 + di, i2 = i1 + di, i3 = i2 + di;
      const o0 = (q + s * 4 * p) * n, o1 = o0 + dout, o2 = o1 + dout, o3 = o2 + dout;
      for (let v = 0; v < n; v++) {
        const a0r = xr[i0 + v], a0i = xi[i0 + v], a1r = xr[i1 + v], a1i = xi[i1 + v];
        const a2r = xr[i2 + v], a2i = xi[i2 + v], a3r = xr[i3 + v], a3i = xi[i3 + v];
        const br = a0r + a2r, bi = a0i + a2i, cr = a0r - a2r, ci = a0i - a2i;
        const er = a1r + a3r, ei = a1i + a3i, dr = a1r - a3r, dd = a1i - a3i;
        // sg * i * (a1 - a3)
        const fr = -sg * dd, fi = sg * dr;
        yr[o0 + v] = br + er; yi[o0 + v] = bi + ei;
        const y1r = cr + fr, y1i = ci + fi, y2r = br - er, y2i = bi - ei, y3r = cr - fr, y3i = ci - fi;
        yr[o1 + v] = y1r * w1r - y1i * w1i; yi[o1 + v] = y1r * w1i + y1i * w1r;
        yr[o2 + v] = y2r * w2r - y2i * w2i; yi[o2 + v] = y2r * w2i + y2i * w2r;
        yr[o3 + v] = y3r * w3r - y3i * w3i; yi[o3 + v] = y3r * w3i + y3i * w3r;
      }
    }
  }
};

const pass5: Pass = (xr, xi, yr, yi, P, len, s, sg) => {
  const { n, cos, sin } = P, m = len / 5, tstep = n / len, di = s * m * n, dout = s * n;
  for (let p = 0; p < m; p++) {
    const k1 = p * tstep, w1r = cos[k1], w1i = sg * sin[k1];
    const k2 = (2 * k1) % n, w2r = cos[k2], w2i = sg * sin[k2];
    const k3 = (3 * k1) % n, w3r = cos[k3], w3i = sg * sin[k3];
    const k4 = (4 * k1) % n, w4r = cos[k4], w4i = sg * sin[k4];
    for (let q = 0; q < s; q++) {
      const i0 = (q + s * p) * n, i1 = i0 + di, i2 = i1 + di, i3 = i2 + di, i4 = i3 + di;
      const o0 = (q + s * 5 * p) * n, o1 = o0 + dout, o2 = o1 + dout, o3 = o2 + dout, o4 = o3 + dout;
      for (let v = 0; v < n; v++) {
        const a0r = xr[i0 + v], a0i = xi[i0 + v];
        const p1r = xr[i1 + v] + xr[i4 + v], p1i = xi[i1 + v] + xi[i4 + v], m1r = xr[i1 + v] - xr[i4 + v], m1i = xi[i1 + v] - xi[i4 + v];
        const p2r = xr[i2 + v] + xr[i3 + v], p2i = xi[i2 + v] + xi[i3 + v], m2r = xr[i2 + v] - xr[i3 + v], m2i = xi[i2 + v] - xi[i3 + v];
        yr[o0 + v] = a0r + p1r + p2r; yi[o0 + v] = a0i + p1i + p2i;
        const c1r = a0r + C51 * p1r + C52 * p2r, c1i = a0i + C51 * p1i + C52 * p2i;
        const c2r = a0r + C52 * p1r + C51 * p2r, c2i = a0i + C52 * p1i + C51 * p2i;
        // sg * i * (S51 m1 + S52 m2) and sg * i * (S52 m1 - S51 m2)
        const s1r = -sg * (S51 * m1i + S52 * m2i), s1i = sg * (S51 * m1r + S52 * m2r);
        const s2r = -sg * (S52 * m1i - S51 * m2i), s2i = sg * (S52 * m1r - S51 * m2r);
        const y1r = c1r + s1r, y1i = c1i + s1i, y4r = c1r - s1r, y4i = c1i - s1i;
        const y2r = c2r + s2r, y2i = c2i + s2i, y3r = c2r - s2r, y3i = c2i - s2i;
        yr[o1 + v] = y1r * w1r - y1i * w1i; yi[o1 + v] = y1r * w1i + y1i * w1r;
        yr[o2 + v] = y2r * w2r - y2i * w2i; yi[o2 + v] = y2r * w2i + y2i * w2r;
        yr[o3 + v] = y3r * w3r - y3i * w3i; yi[o3 + v] = y3r * w3i + y3i * w3r;
        yr[o4 + v] = y4r * w4r - y4i * w4i; yi[o4 + v] = y4r * w4i + y4i * w4r;
      }
    }
  }
};

const PASS: Record<number, Pass> = { 2: pass2, 3: pass3, 4: pass4, 5: pass5 };

/** DFT along the first axis of an n x n array (every column; unnormalised; inverse sign when inv), result back in (re, im). */
function passes(re: Float64Array, im: Float64Array, P: Plan, inv: boolean): void {
  const sg = inv ? 1 : -1;
  let xr = re, xi = im, yr = P.sre, yi = P.sim;
  let len = P.n, s = 1;
  for (const r of P.radices) {
    PASS[r](xr, xi, yr, yi, P, len, s, sg);
    len /= r; s *= r;
    const tr = xr, ti = xi;
    xr = yr; xi = yi; yr = tr; yi = ti;
  }
  if (xr !== re) { re.set(xr); im.set(xi); }
}

function transpose(a: Float64Array, n: number): void {
  for (let y = 1; y < n; y++) {
    for (let x = 0, i = y * n, j = y; x < y; x++, i++, j += n) { const t = a[i]; a[i] = a[j]; a[j] = t; }
  }
}

/**
 * 2D FFT of an n x n image (row-major z[y * n + x]), in place, UNNORMALISED both ways (the
 * inverse is n² times the true inverse: callers fold 1 / n² into a spectrum they prepare once).
 * Forward: image -> transposed spectrum X[kx * n + ky]; inverse: transposed spectrum -> image.
 */
export function fft2(re: Float64Array, im: Float64Array, n: number, inv = false): void {
  const P = plan(n);
  passes(re, im, P, inv);
  transpose(re, n); transpose(im, n);
  passes(re, im, P, inv);
}
