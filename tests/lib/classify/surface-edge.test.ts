import { describe, expect, it } from 'vitest';
import { mirrorAboveSurface } from '../../../lib/classify/mirror';
import { airShareAt, measureEdgeProfile } from '../../../lib/classify/surface-edge';
import { denseStore } from './helpers';
import { fixture } from './sample';

describe('edge-spread correction below the surface', () => {
  const { sample } = fixture({ shape: [40, 96, 96], seed: 5, grainDiameterVox: 14, surfaceDepthVox: 6 });
  const [nz, ny, nx] = sample.volume.meta.shape;
  const store = denseStore(sample.volume);
  const plane = sample.truth.surface;
  const zAt = (y: number, x: number) => plane.a * x + plane.b * y + plane.c;

  /** mean grey of quartz voxels (truth) in the labelled layer and in the interior, read through `s` */
  async function quartzMeans(s: typeof store) {
    const all = await s.readBlockF32({ start: [0, 0, 0], shape: [nz, ny, nx] });
    let top = 0, nTop = 0, deep = 0, nDeep = 0;
    for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) {
      const zt = Math.round(zAt(y, x) + 0.5);
      const it = (zt * ny + y) * nx + x;
      if (sample.truthLabels[it] === 2) { top += all[it]; nTop++; }
      for (let z = Math.ceil(zAt(y, x)) + 16; z < nz; z++) {
        const i = (z * ny + y) * nx + x;
        if (sample.truthLabels[i] === 2) { deep += all[i]; nDeep++; }
      }
    }
    return { top: top / nTop, deep: deep / nDeep };
  }

  it('measures the air share from the volume and un-mixes it from the first rock layers', async () => {
    const p = (await measureEdgeProfile(store, plane))!;
    expect(p).toBeDefined();
    expect(p.rock).toBeGreaterThan(p.air * 3);
    expect(airShareAt(p, 0.25)).toBeGreaterThan(0.03); // the layer the EDS labels go to
    expect(airShareAt(p, 3.25)).toBeLessThan(0.02);
    expect(airShareAt(p, -3)).toBe(0); // above the edge nothing is corrected
    const raw = await quartzMeans(mirrorAboveSurface(store, plane));
    const cor = await quartzMeans(mirrorAboveSurface(store, { ...plane, edge: p }));
    // measured: raw 4-8 % darker than the interior, corrected within ~1 %
    expect(raw.top / raw.deep).toBeLessThan(0.97);
    expect(Math.abs(cor.top / cor.deep - 1)).toBeLessThan(0.02);
    expect(cor.deep).toBeCloseTo(raw.deep, 3); // the interior is untouched
  });

  it('corrects a brick the same whether it is read whole or with a halo in pieces', async () => {
    const p = (await measureEdgeProfile(store, plane))!;
    const m = mirrorAboveSurface(store, { ...plane, edge: p });
    const whole = await m.readBlockF32({ start: [0, 0, 0], shape: [24, 32, 32] });
    const lower = await m.readBlockF32({ start: [8, 0, 0], shape: [16, 32, 32] });
    expect(Array.from(lower)).toEqual(Array.from(whole.subarray(8 * 32 * 32)));
    const withHalo = await m.readBlockF32({ start: [10, 8, 8], shape: [8, 8, 8] }, { halo: 2 });
    const inner = withHalo[(2 * 12 + 2) * 12 + 2]; // voxel (10, 8, 8)
    expect(inner).toBeCloseTo(whole[(10 * 32 + 8) * 32 + 8], 3);
  });

  it('gives no profile when the volume shows no air above the surface', async () => {
    const s0 = fixture({ shape: [24, 48, 48], seed: 2, grainDiameterVox: 10, surfaceDepthVox: 0, tiltDeg: 0 }).sample;
    expect(await measureEdgeProfile(denseStore(s0.volume), s0.truth.surface)).toBeUndefined();
  });
});
