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

/** Rows (or columns) of the correlation that put the template (size wide) over the image (w wide): [0, w) and [n - size + 1, n). */
const spans = (w: number, size: number, n: number): [number, number][] => [[0, w], [n - size + 1, n]];

/** searchTranslation from the template's spectra (templateSpectra), reflected about the template's centre first when asked. */
export function searchSpectra(fx: FixedSpectra, spec: TemplateSpectra, size: number, reflection: Reflection, minOverlap: number, expectedOverlap: number): TranslationHit {
  const n = fx.n, nn = n * n;
  const { ntot, stot, within, tr, ti, q1r, q1i, q2r, q2i } = workspace(n);
  const { aRe, aIm } = fx;
  ntot.fill(0); stot.fill(0); within.fill(0); tr.fill(0); ti.fill(0);
  // the spectrum is transposed (fft2d.ts): the outer index is kx, the inner ky
  const ox = axisTerms(n, size, reflection === 'point' || reflection === 'x');
  const oy = axisTerms(n, size, reflection === 'point' || reflection === 'y');
  const rows = spans(fx.h, size, n), cols = spans(fx.w, size, n);
  for (const p of spec.pairs) {
    const zr = p.re, zi = p.im, two = p.two;
    // unpack the two real classes of the packed spectrum Z, reflected: 2 X1'(k) = w(k) (Z(Rk) + conj Z(-Rk)),
    // 2 X2'(k) = w(k) (Z(Rk) - conj Z(-Rk)) / i; then conj(2 X') * A / (2 n²) per class, and T += 2 X1' + 2 X2'
    for (let a = 0; a < n; a++) {
      const sa = ox.src[a], rs = sa * n, rn = (sa === 0 ? 0 : n - sa) * n, o = a * n;
      const par = ox.re[a], pai = ox.im[a];
      for (let b = 0; b < n; b++) {
        const sb = oy.src[b], s = rs + sb, t = rn + (sb === 0 ? 0 : n - sb), i = o + b;
        const wr = par * oy.re[b] - pai * oy.im[b], wi = par * oy.im[b] + pai * oy.re[b];
        const ur = zr[s] + zr[t], ui = zi[s] - zi[t];
        const x1r = ur * wr - ui * wi, x1i = ur * wi + ui * wr;
        const ar = aRe[i], ai = aIm[i];
        q1r[i] = x1r * ar + x1i * ai; q1i[i] = x1r * ai - x1i * ar;
        if (two) {
          const vr = zi[s] + zi[t], vi = zr[t] - zr[s];
          const x2r = vr * wr - vi * wi, x2i = vr * wi + vi * wr;
          q2r[i] = x2r * ar + x2i * ai; q2i[i] = x2r * ai - x2i * ar;
          tr[i] += x1r + x2r; ti[i] += x1i + x2i;
        } else {
          tr[i] += x1r; ti[i] += x1i;
        }
      }
    }
    // per class: count (real) and grey sum (imaginary) over the overlap in one inverse FFT
    fft2(q1r, q1i, n, true);
    if (two) fft2(q2r, q2i, n, true);
    for (const [y0, y1] of rows) for (let y = y0; y < y1; y++) for (const [x0, x1] of cols) {
      for (let i = y * n + x0, e = y * n + x1; i < e; i++) {
        // within-class sum of squares = q_k - s_k^2 / n_k; the q_k are summed below in one go
        const n1 = q1r[i], s1 = q1i[i];
        let nt = n1, st = s1, wt = n1 > 1e-3 ? (s1 * s1) / n1 : 0;
        if (two) {
          const n2 = q2r[i], s2 = q2i[i];
          nt += n2; st += s2; wt += n2 > 1e-3 ? (s2 * s2) / n2 : 0;
        }
        ntot[i] += nt; stot[i] += st; within[i] -= wt;
      }
    }
  }
  // sum of squares over the overlap: one correlation of the whole template with B
  const { bRe, bIm } = fx;
  for (let i = 0; i < nn; i++) {
    const xr = tr[i], xi = ti[i], br = bRe[i], bi = bIm[i];
    q1r[i] = xr * br + xi * bi; q1i[i] = xr * bi - xi * br;
  }
  fft2(q1r, q1i, n, true);
  const qtot = q1r;
  let best: TranslationHit = { tx: 0, ty: 0, score: -Infinity, overlap: 0 };
  for (const [y0, y1] of rows) for (let iy = y0; iy < y1; iy++) for (const [x0, x1] of cols) for (let ix = x0; ix < x1; ix++) {
    const i = iy * n + ix, N = ntot[i];
    if (N < minOverlap) continue;
    const total = qtot[i] - (stot[i] * stot[i]) / N;
    if (total <= 1e-9 * N) continue;
    const score = (1 - (within[i] + qtot[i]) / total) * overlapPenalty(N, expectedOverlap);
    if (score > best.score) {
      best = { tx: ix < fx.w ? ix : ix - n, ty: iy < fx.h ? iy : iy - n, score, overlap: N };
    }
  }
  return best;
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
