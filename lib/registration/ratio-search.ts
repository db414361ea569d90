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
  aRe: Float64Array; aIm: Float64Array;
  bRe: Float64Array; bIm: Float64Array;
  validArea: number;
}

/** grey: w x h standardised values; mask: weight 0..1 per pixel (0 where grey is invalid). */
export function prepareFixed(grey: Float64Array, mask: Float64Array, w: number, h: number, n: number): FixedSpectra {
  const aRe = new Float64Array(n * n), aIm = new Float64Array(n * n);
  const bRe = new Float64Array(n * n), bIm = new Float64Array(n * n);
  let validArea = 0;
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const i = y * w + x, j = y * n + x, m = mask[i], s = grey[i];
    aRe[j] = m; aIm[j] = s * m; bRe[j] = s * s * m; validArea += m;
  }
  fft2(aRe, aIm, n); fft2(bRe, bIm, n);
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

/** conj(X) * Y (+ i * conj(X2) * Y when X2 is given), written into out. */
function crossSpectrum(out: [Float64Array, Float64Array], xr: Float64Array, xi: Float64Array, yr: Float64Array, yi: Float64Array) {
  const [or, oi] = out;
  for (let i = 0; i < or.length; i++) {
    or[i] = xr[i] * yr[i] + xi[i] * yi[i];
    oi[i] = xr[i] * yi[i] - xi[i] * yr[i];
  }
}

/** Scratch arrays of searchTranslation per FFT size, reused from pose to pose (120 poses allocated 200 MB). */
const workspaces = new Map<number, ReturnType<typeof makeWorkspace>>();
function makeWorkspace(n: number) {
  const f = () => new Float64Array(n * n);
  return { ntot: f(), stot: f(), within: f(), zr: f(), zi: f(), kr: [f(), f()], ki: [f(), f()], tr: f(), ti: f(), qr: f(), qi: f() };
}
function workspace(n: number) {
  let w = workspaces.get(n);
  if (!w) { workspaces.clear(); w = makeWorkspace(n); workspaces.set(n, w); }
  return w;
}

/** Spectra of a template's classes packed two by two (class k real, k + 1 imaginary): one forward FFT per pair. */
export interface TemplateSpectra { n: number; pairs: { re: Float64Array; im: Float64Array; two: boolean }[] }

export function templateSpectra(ind: Float64Array[], tw: number, th: number, n: number): TemplateSpectra {
  const pairs: TemplateSpectra['pairs'] = [];
  for (let k = 0; k < ind.length; k += 2) {
    const two = k + 1 < ind.length;
    const re = new Float64Array(n * n), im = new Float64Array(n * n);
    for (let y = 0; y < th; y++) for (let x = 0; x < tw; x++) {
      re[y * n + x] = ind[k][y * tw + x];
      if (two) im[y * n + x] = ind[k + 1][y * tw + x];
    }
    fft2(re, im, n, false, th);
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

const phases = new Map<number, { c: Float64Array; s: Float64Array }>();
function reflect(zr: Float64Array, zi: Float64Array, outR: Float64Array, outI: Float64Array, n: number, size: number, kind: Reflection) {
  let ph = phases.get(n);
  if (!ph) {
    ph = { c: new Float64Array(n), s: new Float64Array(n) };
    for (let j = 0; j < n; j++) { ph.c[j] = Math.cos((2 * Math.PI * j) / n); ph.s[j] = Math.sin((2 * Math.PI * j) / n); }
    phases.set(n, ph);
  }
  const rx = kind === 'point' || kind === 'x', ry = kind === 'point' || kind === 'y';
  const m = size - 1, mask = n - 1; // n is a power of two: "& mask" is "mod n"
  const { c, s } = ph;
  for (let ky = 0; ky < n; ky++) {
    const row = (ry ? (n - ky) & mask : ky) * n, py = ry ? (ky * m) & mask : 0, o = ky * n;
    for (let kx = 0; kx < n; kx++) {
      const sx = rx ? (n - kx) & mask : kx, j = (py + (rx ? kx * m : 0)) & mask;
      const wr = c[j], wi = -s[j];
      const r = zr[row + sx], i = zi[row + sx];
      outR[o + kx] = r * wr - i * wi; outI[o + kx] = r * wi + i * wr;
    }
  }
}

/** searchTranslation from the template's spectra (templateSpectra), reflected about the template's centre first when asked. */
export function searchSpectra(fx: FixedSpectra, spec: TemplateSpectra, size: number, reflection: Reflection, minOverlap: number, expectedOverlap: number): TranslationHit {
  const n = fx.n, nn = n * n, th = size;
  const { ntot, stot, within, zr, zi, kr, ki, tr, ti, qr, qi } = workspace(n);
  // tr, ti: spectrum of the whole template (sum of the classes): sum_k q_k is one correlation with B
  for (const a of [ntot, stot, within, tr, ti]) a.fill(0);
  for (const p of spec.pairs) {
    const pair = p.two ? 2 : 1;
    let ar = p.re, ai = p.im;
    if (reflection !== 'none') { reflect(p.re, p.im, zr, zi, n, size, reflection); ar = zr; ai = zi; }
    // split the packed spectrum of two real images: X1 = (Z + conj Z(-m)) / 2, X2 = (Z - conj Z(-m)) / 2i
    const mask = n - 1;
    for (let v = 0; v < n; v++) for (let u = 0, vj = ((n - v) & mask) * n; u < n; u++) {
      const i = v * n + u, j = vj + ((n - u) & mask);
      kr[0][i] = (ar[i] + ar[j]) / 2; ki[0][i] = (ai[i] - ai[j]) / 2;
      kr[1][i] = (ai[i] + ai[j]) / 2; ki[1][i] = (ar[j] - ar[i]) / 2;
    }
    for (let c = 0; c < pair; c++) {
      const xr = kr[c], xi = ki[c];
      for (let i = 0; i < nn; i++) { tr[i] += xr[i]; ti[i] += xi[i]; }
      // per class: count (real) and grey sum (imaginary) over the overlap in one inverse FFT
      crossSpectrum([qr, qi], xr, xi, fx.aRe, fx.aIm);
      fft2(qr, qi, n, true, fx.h, th - 1);
      for (let i = 0; i < nn; i++) {
        const nk = qr[i], sk = qi[i];
        ntot[i] += nk; stot[i] += sk;
        // within-class sum of squares = q_k - s_k^2 / n_k; the q_k are summed below in one go
        within[i] -= nk > 1e-3 ? (sk * sk) / nk : 0;
      }
    }
  }
  crossSpectrum([qr, qi], tr, ti, fx.bRe, fx.bIm);
  fft2(qr, qi, n, true, fx.h, th - 1);
  const qtot = qr;
  for (let i = 0; i < nn; i++) within[i] += qtot[i];
  let best: TranslationHit = { tx: 0, ty: 0, score: -Infinity, overlap: 0 };
  // rows fx.h .. n - th put the template below the fixed image (no overlap): not transformed back
  for (let iy = 0; iy < n; iy++) for (let ix = 0; ix < n; ix++) {
    if (iy >= fx.h && iy < n - (th - 1)) break;
    const i = iy * n + ix, N = ntot[i];
    if (N < minOverlap) continue;
    const total = qtot[i] - (stot[i] * stot[i]) / N;
    if (total <= 1e-9 * N) continue;
    const score = (1 - within[i] / total) * overlapPenalty(N, expectedOverlap);
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
 * the score is damped by overlapPenalty (small overlaps give inflated eta^2).
 */
export function searchTranslation(fx: FixedSpectra, ind: Float64Array[], size: number, minOverlap: number, expectedOverlap: number): TranslationHit {
  return searchSpectra(fx, templateSpectra(ind, size, size, fx.n), size, 'none', minOverlap, expectedOverlap);
}
