import { describe, expect, it } from 'vitest';
import { computeHistogram, quantileSorted } from '@/app/_components/viewer/histogram-stats';

describe('computeHistogram', () => {
  it('counts every finite value once and spans min..max', () => {
    const v = new Float32Array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, NaN]);
    const h = computeHistogram(v, 10);
    expect(h.n).toBe(10);
    expect(h.counts.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(9); // 0.1–99.9 % range
    expect([h.min, h.max]).toEqual([0, 9]);
    expect(h.lo).toBeGreaterThanOrEqual(0);
    expect(h.hi).toBeLessThanOrEqual(9);
  });
  it('puts the 1–99 % window inside the bulk, ignoring a few outliers', () => {
    const v = new Uint16Array(10_000);
    for (let i = 0; i < v.length; i++) v[i] = 1000 + (i % 1000);
    v[0] = 0;
    v[1] = 65535;
    const h = computeHistogram(v, 256);
    expect(h.p1).toBeGreaterThan(900);
    expect(h.p1).toBeLessThan(1300);
    expect(h.p99).toBeGreaterThan(1700);
    expect(h.p99).toBeLessThan(2300);
    expect(h.hi).toBeLessThan(3000); // the plotted range ignores the outlier
    expect(h.max).toBe(65535);
  });
  it('handles a constant image without dividing by zero', () => {
    const h = computeHistogram(new Uint8Array(100).fill(7), 16);
    expect(h.lo).toBe(7);
    expect(h.hi).toBe(8);
    expect(h.counts[0]).toBe(100);
  });
});

describe('quantileSorted', () => {
  it('interpolates between neighbours', () => {
    expect(quantileSorted([0, 10], 0.5)).toBeCloseTo(5);
    expect(quantileSorted([0, 10, 20], 0.25)).toBeCloseTo(5);
    expect(quantileSorted([3], 0.99)).toBe(3);
  });
});
