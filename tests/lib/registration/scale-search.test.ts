/**
 * The EDS pixel-size search (scale-search.ts) against the generator's truth: a map given at 1.3
 * times its true pixel size (the automatic registration then lands tens of voxels off) is found at
 * its true size within 5 % and the given size is called implausible; the registration at the size
 * found lands within a voxel of the truth; another sample's map gets no distinct match. Small
 * volume, a narrowed range of factors, one thread.
 */
import { describe, expect, it } from 'vitest';
import { registerEdsToVolume } from '../../../lib/registration/register-eds';
import { coarseFactors, searchMapScale } from '../../../lib/registration/scale-search';
import { registrationError, smallSample } from './helpers';

describe('searchMapScale', () => {
  it('the coarse factors are geometric steps with the given size (1) among them', () => {
    const f = coarseFactors(0.5, 2, 0.05);
    expect(f).toContain(1);
    expect(f[0]).toBeGreaterThanOrEqual(0.5);
    expect(f.at(-1)).toBeLessThanOrEqual(2);
    for (let i = 1; i < f.length; i++) expect(f[i] / f[i - 1]).toBeCloseTo(1.05, 9);
  });

  it('finds the true pixel size of a map given at 1.3 times it, and the registration at that size is right', async () => {
    const s = smallSample({ seed: 2 });
    const truePx = s.eds.pixelSizeUm;
    const given = { ...s.eds, pixelSizeUm: truePx * 1.3 };
    const r = await searchMapScale(s.volume, given, { inWorker: false, range: [0.7, 1] });
    expect(Math.abs(r.pixelUm / truePx - 1)).toBeLessThan(0.05);
    expect(r.givenPixelUm).toBeCloseTo(truePx * 1.3, 9);
    expect(r.plausible).toBe(false);
    expect(r.scoreRatio).toBeLessThan(0.5);
    const reg = await registerEdsToVolume(s.volume, { ...s.eds, pixelSizeUm: r.pixelUm }, { inWorker: false, surface: r.surface });
    expect(registrationError(reg.edsToVoxel, s.truth.edsToVoxel, s.eds.width, s.eds.height, s.volume.meta.shape).mean).toBeLessThan(1);
  }, 300_000);

  it('calls the right pixel size plausible', async () => {
    const s = smallSample({ seed: 2 });
    const r = await searchMapScale(s.volume, s.eds, { inWorker: false, range: [0.9, 1.1] });
    expect(Math.abs(r.factor - 1)).toBeLessThan(0.05);
    expect(r.distinct).toBe(true);
    expect(r.plausible).toBe(true);
    expect(r.scoreRatio).toBeGreaterThan(0.9);
  }, 300_000);

  it('tells no pixel size for a map of another sample: no distinct match, not plausible', async () => {
    const s = smallSample({ seed: 2 });
    const other = smallSample({ seed: 3 }).eds;
    const r = await searchMapScale(s.volume, other, { inWorker: false, range: [0.9, 1.1] });
    expect(r.distinctRatio).toBeLessThan(1.7);
    expect(r.distinct).toBe(false);
    expect(r.plausible).toBe(false);
  }, 300_000);

  it('stops when cancelled', async () => {
    const s = smallSample({ seed: 2 });
    const ac = new AbortController();
    const seen: string[] = [];
    const p = searchMapScale(s.volume, s.eds, { inWorker: false, range: [0.9, 1.1], signal: ac.signal, onProgress: (_f, m) => { if (m) seen.push(m); if (m?.startsWith('trying')) ac.abort(); } });
    await expect(p).rejects.toMatchObject({ _tag: 'Aborted' });
    expect(seen.filter((m) => m.startsWith('trying'))).toHaveLength(1);
  }, 300_000);
});
