/**
 * The coarse search's FFT (fft2d.ts, radix 2/3/4/5, transposed spectrum) against a direct DFT,
 * and its translation search (ratio-search.ts) against the correlation ratio summed directly.
 */
import { describe, expect, it } from 'vitest';
import { fft2, fftSize } from '../../../lib/registration/fft2d';
import { prepareFixed, searchSpectra, searchTranslation, templateSpectra, type Reflection } from '../../../lib/registration/ratio-search';
import { mulberry32 } from '../../../lib/registration/plane-fit';

function dft2(re: Float64Array, im: Float64Array, n: number, sign: number) {
  const outR = new Float64Array(n * n), outI = new Float64Array(n * n);
  for (let ky = 0; ky < n; ky++) for (let kx = 0; kx < n; kx++) {
    let sr = 0, si = 0;
    for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) {
      const a = (sign * 2 * Math.PI * ((kx * x) % n + (ky * y) % n)) / n, c = Math.cos(a), s = Math.sin(a);
      sr += re[y * n + x] * c - im[y * n + x] * s; si += re[y * n + x] * s + im[y * n + x] * c;
    }
    outR[ky * n + kx] = sr; outI[ky * n + kx] = si;
  }
  return { outR, outI };
}

describe('fft2 (radix 2, 3, 4, 5)', () => {
  it('sizes with factors 2, 3 and 5 only', () => {
    expect([1, 7, 11, 85, 93, 97, 101, 117, 128].map(fftSize)).toEqual([2, 8, 12, 90, 96, 100, 108, 120, 128]);
  });

  it.each([2, 6, 8, 10, 12, 15, 16, 20, 30])('n = %i: equals the direct DFT (transposed), and the inverse returns n² times the image', (n) => {
    const rnd = mulberry32(n);
    const re = Float64Array.from({ length: n * n }, () => rnd() - 0.5), im = Float64Array.from({ length: n * n }, () => rnd() - 0.5);
    const { outR, outI } = dft2(re, im, n, -1);
    const r = re.slice(), i = im.slice();
    fft2(r, i, n);
    for (let ky = 0; ky < n; ky++) for (let kx = 0; kx < n; kx++) {
      expect(r[kx * n + ky]).toBeCloseTo(outR[ky * n + kx], 9);
      expect(i[kx * n + ky]).toBeCloseTo(outI[ky * n + kx], 9);
    }
    fft2(r, i, n, true);
    for (let k = 0; k < n * n; k++) {
      expect(r[k] / (n * n)).toBeCloseTo(re[k], 12);
      expect(i[k] / (n * n)).toBeCloseTo(im[k], 12);
    }
  });
});

describe('searchTranslation', () => {
  it('finds the translation with the highest correlation ratio, as summed directly', () => {
    const rnd = mulberry32(5);
    const w = 26, h = 19, size = 9, K = 3;
    // a grey image, and a template cut from it at (7, 4) with three classes by grey level
    const grey = Float64Array.from({ length: w * h }, () => rnd());
    const mask = new Float64Array(w * h).fill(1);
    const cls = (g: number) => (g < 0.33 ? 0 : g < 0.66 ? 1 : 2);
    const ind = Array.from({ length: K }, () => new Float64Array(size * size));
    for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) ind[cls(grey[(y + 4) * w + x + 7])][y * size + x] = 1;
    const n = fftSize(Math.max(w, h) + size - 1);
    expect(n).toBe(36);
    const hit = searchTranslation(prepareFixed(grey, mask, w, h, n), ind, size, 20, 81);
    expect([hit.tx, hit.ty]).toEqual([7, 4]);
    // its score and overlap, summed directly
    const direct = (tx: number, ty: number) => {
      const nk = new Float64Array(K), sk = new Float64Array(K), qk = new Float64Array(K);
      for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) {
        const X = x + tx, Y = y + ty;
        if (X < 0 || Y < 0 || X >= w || Y >= h) continue;
        const g = grey[Y * w + X];
        for (let k = 0; k < K; k++) { const m = ind[k][y * size + x]; nk[k] += m; sk[k] += m * g; qk[k] += m * g * g; }
      }
      let N = 0, S = 0, Q = 0, within = 0;
      for (let k = 0; k < K; k++) { N += nk[k]; S += sk[k]; Q += qk[k]; if (nk[k] > 0) within += qk[k] - (sk[k] * sk[k]) / nk[k]; }
      return { eta: 1 - within / (Q - (S * S) / N), N };
    };
    const d = direct(7, 4);
    expect(hit.overlap).toBeCloseTo(d.N, 6);
    expect(hit.score).toBeCloseTo(d.eta, 6);
  });

  it.each(['point', 'x', 'y'] as Reflection[])('a template reflected (%s) through its spectrum scores as the reflected template', (kind) => {
    const rnd = mulberry32(9);
    const w = 30, h = 27, size = 11, K = 5;
    const grey = Float64Array.from({ length: w * h }, () => rnd());
    const mask = Float64Array.from({ length: w * h }, () => (rnd() < 0.9 ? 1 : 0.5));
    const ind = Array.from({ length: K }, () => new Float64Array(size * size));
    for (let i = 0; i < size * size; i++) ind[Math.floor(rnd() * K)][i] = 1;
    const fx = prepareFixed(grey, mask, w, h, 40);
    const rx = kind !== 'y', ry = kind !== 'x';
    const flipped = ind.map((a) => a.map((_, i) => a[(ry ? size - 1 - Math.floor(i / size) : Math.floor(i / size)) * size + (rx ? size - 1 - (i % size) : i % size)]));
    const viaSpectrum = searchSpectra(fx, templateSpectra(ind, size, size, 40), size, kind, 10, 121);
    const direct = searchTranslation(fx, flipped, size, 10, 121);
    expect([viaSpectrum.tx, viaSpectrum.ty]).toEqual([direct.tx, direct.ty]);
    expect(viaSpectrum.score).toBeCloseTo(direct.score, 9);
  });
});
