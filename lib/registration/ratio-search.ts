/**
 * Exhaustive translation search of a label template over a grey image, scored by the correlation
 * ratio eta^2 = 1 - (within-class variance of grey) / (total variance of grey) over the overlap
 * (Roche, Malandain, Pennec & Ayache, "The correlation ratio as a new similarity measure for
 * multimodal image registration", MICCAI 1998). It suits a label map against a grey image: any
 * grey value per mineral, contrast inversion included, scores 1. Every per-class sum over the
 * overlap is a masked cross-correlation, so all translations come from FFTs (Padfield, "Masked
 * object registration in the Fourier domain", IEEE TIP 2012).
 */
import { fft2 } from './fft2d';

/** The fixed (grey) image prepared once: spectra of M + i*S*M and S*S*M on an n x n grid. */
export interface FixedSpectra {
  n: number;
  w: number;
  h: number;
  /**
   * transposed spectra (fft2d.ts) scaled by 1 / (2 n²): fft2's unnormalised inverse and the
   * doubled class spectra of searchSpectra's unpacking fold in here
   */
  aRe: Float64Array; aIm: Float64Array;
  bRe: Float64Array; bIm: Float64Array;
  validArea: number;
}

/** grey: w x h standardised values; mask: weight 0..1 per pixel (0 where grey is invalid); n: fftSize of w or h + template size - 1. */
export function prepareFixed(grey: Float64Array, mask: Float64Array, w: number, h: number, n: number): FixedSpectra {
  const aRe = new Float64Array(n * n), aIm = new Float64Array(n * n);
  const bRe = new Float64Array(n * n), bIm = new Float64Array(n * n);
  let validArea = 0;
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const i = y * w + x, j = y * n + x, m = mask[i], s = grey[i];
    aRe[j] = m; aIm[j] = s * m; bRe[j] = s * s * m; validArea += m;
  }
  fft2(aRe, aIm, n); fft2(bRe, bIm, n);
  const k = 1 / (2 * n * n);
  for (const a of [aRe, aIm, bRe, bIm]) for (let i = 0; i < a.length; i++) a[i] *= k;
  return { n, w, h, aRe, aIm, bRe, bIm, validArea };
}

/**
 * Factor in (0, 1] for an overlap below what the true pose should give (the map's classified area,
 * or the slab's valid area when the map is larger): a spurious pose that covers a small, easy
 * part of the slab can reach a higher eta^2 than the truth. Measured on the synthetic sandstone.
 */
export function overlapPenalty(overlap: number, expected: number): number {
  return Math.sqrt(Math.min(1, overlap / expected));
}

export interface TranslationHit {
  tx: number;
  ty: number;
  score: number;
  overlap: number;
}

/** Scratch arrays of searchSpectra per FFT size, reused from pose to pose (120 poses allocated 200 MB). */
const workspaces = new Map<number, ReturnType<typeof makeWorkspace>>();
function makeWorkspace(n: number) {
  const f = () => new Float64Array(n * n);
  return { ntot: f(), stot: f(), within: f(), tr: f(), ti: f(), q1r: f(), q1i: f(), q2r: f(), q2i: f(), pairs: [] as TemplateSpectra['pairs'] };
}
function workspace(n: number) {
  let w = workspaces.get(n);
  if (!w) { workspaces.clear(); w = makeWorkspace(n); workspaces.set(n, w); }
  return w;
}

/**
 * Spectra of a template's classes packed two by two (class k real, k + 1 imaginary): one forward
 * FFT per pair. The arrays are scratch of this thread, valid until the next call.
 */
export interface TemplateSpectra { n: number; pairs: { re: Float64Array; im: Float64Array; two: boolean }[] }

export function templateSpectra(ind: Float64Array[], tw: number, th: number, n: number): TemplateSpectra {
  const ws = workspace(n);
  const pairs: TemplateSpectra['pairs'] = [];
  for (let k = 0; k < ind.length; k += 2) {
    const two = k + 1 < ind.length;
    const buf = (ws.pairs[k / 2] ??= { re: new Float64Array(n * n), im: new Float64Array(n * n), two });
    const { re, im } = buf;
    re.fill(0); im.fill(0);
    for (let y = 0; y < th; y++) for (let x = 0; x < tw; x++) {
      re[y * n + x] = ind[k][y * tw + x];
      if (two) im[y * n + x] = ind[k + 1][y * tw + x];
    }
    fft2(re, im, n);
    pairs.push({ re, im, two });
  }
  return { n, pairs };
}

/**
 * A reflection of a size x size template about its centre, applied to its spectrum: 'point' (a
 * turn by 180°), 'x' (columns reversed), 'y' (rows reversed). For z'(x) = z(size - 1 - x) along
 * the reflected axes, Z'(k) = exp(-2 pi i k (size - 1) / n) Z(-k) along those axes.
 */
export type Reflection = 'none' | 'point' | 'x' | 'y';

/** exp(-2 pi i k (size - 1) / n) for k = 0..n-1 where `on`, else 1; and the index k or -k (mod n). */
function axisTerms(n: number, size: number, on: boolean) {
  const re = new Float64Array(n).fill(1), im = new Float64Array(n), src = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    src[k] = on && k > 0 ? n - k : k;
    if (on) { const a = (-2 * Math.PI * ((k * (size - 1)) % n)) / n; re[k] = Math.cos(a); im[k] = Math.sin(a); }
  }
  return { re, im, src };
}

/*
 * The loops of searchSpectra, each in a small function of its own: V8 compiled one large function
 * with every loop inlined several times over (on-stack replacement at each loop), and the first
 * searches of a fresh thread ran 10-20x slower than the later ones.
 */
type Terms = ReturnType<typeof axisTerms>;

/**
 * Unpack the two real classes of a packed spectrum Z, reflected (R, phase w):
 * 2 X1'(k) = w(k) (Z(Rk) + conj Z(-Rk)), 2 X2'(k) = w(k) (Z(Rk) - conj Z(-Rk)) / i; write
 * conj(2 X') * A (A scaled by 1 / (2 n²)) per class and add 2 X1' + 2 X2' to T. `two` false: the
 * imaginary part of Z is empty: X2 is written as zeros.
 */
function unpack(zr: Float64Array, zi: Float64Array, two: boolean, ox: Terms, oy: Terms, fx: FixedSpectra, q1r: Float64Array, q1i: Float64Array, q2r: Float64Array, q2i: Float64Array, tr: Float64Array, ti: Float64Array): void {
  const n = fx.n, aRe = fx.aRe, aIm = fx.aIm, c = two ? 1 : 0;
  for (let a = 0; a < n; a++) {
    const sa = ox.src[a], rs = sa * n, rn = (sa === 0 ? 0 : n - sa) * n, o = a * n;
    const par = ox.re[a], pai = ox.im[a];
    for (let b = 0; b < n; b++) {
      const sb = oy.src[b], s = rs + sb, t = rn + (sb === 0 ? 0 : n - sb), i = o + b;
      const wr = par * oy.re[b] - pai * oy.im[b], wi = par * oy.im[b] + pai * oy.re[b];
      const ur = zr[s] + zr[t], ui = zi[s] - zi[t];
      const x1r = ur * wr - ui * wi, x1i = ur * wi + ui * wr;
      const vr = c * (zi[s] + zi[t]), vi = c * (zr[t] - zr[s]);
      const x2r = vr * wr - vi * wi, x2i = vr * wi + vi * wr;
      const ar = aRe[i], ai = aIm[i];
      q1r[i] = x1r * ar + x1i * ai; q1i[i] = x1r * ai - x1i * ar;
      q2r[i] = x2r * ar + x2i * ai; q2i[i] = x2r * ai - x2i * ar;
      tr[i] += x1r + x2r; ti[i] += x1i + x2i;
    }
  }
}

/**
 * Add two classes' counts (q1r, q2r) and grey sums (q1i, q2i) over the overlap to the totals, and
 * subtract their s_k² / n_k from the within-class sum of squares (q_k - s_k² / n_k; the q_k come
 * in one go later). A missing second class is all zeros. Only translations that overlap: rows
 * [0, h) and [n - size + 1, n), columns likewise.
 */
function accumulate(q1r: Float64Array, q1i: Float64Array, q2r: Float64Array, q2i: Float64Array, ntot: Float64Array, stot: Float64Array, within: Float64Array, n: number, w: number, h: number, size: number): void {
  const y2 = n - size + 1;
  for (let k = 0, rows = h + size - 1; k < rows; k++) {
    const o = (k < h ? k : y2 + k - h) * n;
    for (let j = 0, cols = w + size - 1; j < cols; j++) {
      const i = o + (j < w ? j : y2 + j - w), n1 = q1r[i], s1 = q1i[i], n2 = q2r[i], s2 = q2i[i];
      ntot[i] += n1 + n2; stot[i] += s1 + s2;
      within[i] -= (n1 > 1e-3 ? (s1 * s1) / n1 : 0) + (n2 > 1e-3 ? (s2 * s2) / n2 : 0);
    }
  }
}

/** conj(T) * B into (qr, qi). */
function crossB(tr: Float64Array, ti: Float64Array, fx: FixedSpectra, qr: Float64Array, qi: Float64Array): void {
  const { bRe, bIm } = fx;
  for (let i = 0; i < tr.length; i++) {
    const xr = tr[i], xi = ti[i], br = bRe[i], bi = bIm[i];
    qr[i] = xr * br + xi * bi; qi[i] = xr * bi - xi * br;
  }
}

/** The translation of the highest damped correlation ratio (see accumulate for the translations looked at). */
function bestTranslation(fx: FixedSpectra, ntot: Float64Array, stot: Float64Array, within: Float64Array, qtot: Float64Array, size: number, minOverlap: number, expectedOverlap: number): TranslationHit {
  const { n, w, h } = fx, y2 = n - size + 1;
  let best: TranslationHit = { tx: 0, ty: 0, score: -Infinity, overlap: 0 };
  for (let k = 0, rows = h + size - 1; k < rows; k++) {
    const iy = k < h ? k : y2 + k - h;
    for (let j = 0, cols = w + size - 1; j < cols; j++) {
      const ix = j < w ? j : y2 + j - w, i = iy * n + ix, N = ntot[i];
      if (N < minOverlap) continue;
      const total = qtot[i] - (stot[i] * stot[i]) / N;
      if (total <= 1e-9 * N) continue;
      const score = (1 - (within[i] + qtot[i]) / total) * overlapPenalty(N, expectedOverlap);
      if (score > best.score) best = { tx: ix < w ? ix : ix - n, ty: iy < h ? iy : iy - n, score, overlap: N };
    }
  }
  return best;
}

/** searchTranslation from the template's spectra (templateSpectra), reflected about the template's centre first when asked. */
export function searchSpectra(fx: FixedSpectra, spec: TemplateSpectra, size: number, reflection: Reflection, minOverlap: number, expectedOverlap: number): TranslationHit {
  const n = fx.n, ws = workspace(n);
  const { ntot, stot, within, tr, ti, q1r, q1i, q2r, q2i } = ws;
  ntot.fill(0); stot.fill(0); within.fill(0); tr.fill(0); ti.fill(0);
  // the spectrum is transposed (fft2d.ts): the outer index is kx, the inner ky
  const ox = axisTerms(n, size, reflection === 'point' || reflection === 'x');
  const oy = axisTerms(n, size, reflection === 'point' || reflection === 'y');
  for (const p of spec.pairs) {
    unpack(p.re, p.im, p.two, ox, oy, fx, q1r, q1i, q2r, q2i, tr, ti);
    // per class: count (real) and grey sum (imaginary) over the overlap in one inverse FFT
    fft2(q1r, q1i, n, true);
    if (p.two) fft2(q2r, q2i, n, true); // else unpack left it all zeros
    accumulate(q1r, q1i, q2r, q2i, ntot, stot, within, n, fx.w, fx.h, size);
  }
  // sum of squares over the overlap: one correlation of the whole template with B
  crossB(tr, ti, fx, q1r, q1i);
  fft2(q1r, q1i, n, true);
  return bestTranslation(fx, ntot, stot, within, q1r, size, minOverlap, expectedOverlap);
}

/**
 * Best translation of the template (class indicator images `ind[k]`, size x size, summing to the
 * template weight) over the fixed image. Translation (tx, ty) puts template pixel (x, y) on fixed
 * pixel (x + tx, y + ty). Overlaps smaller than minOverlap (template-weight units) are ignored;
 * the score is damped by overlapPenalty (small overlaps give inflated eta^2). fx.n must be at
 * least the image's width and height + size - 1.
 */
export function searchTranslation(fx: FixedSpectra, ind: Float64Array[], size: number, minOverlap: number, expectedOverlap: number): TranslationHit {
  return searchSpectra(fx, templateSpectra(ind, size, size, fx.n), size, 'none', minOverlap, expectedOverlap);
}
