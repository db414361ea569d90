import { describe, expect, it } from 'vitest';
import { generateSandstone } from '../../../lib/synthetic';
import { isPetromapError } from '../../../lib/errors';

const small = { shape: [24, 48, 48] as [number, number, number], grainDiameterVox: 10 };

describe('generateSandstone: determinism and options', () => {
  it('gives identical bytes for the same seed', () => {
    const a = generateSandstone({ ...small, seed: 7 });
    const b = generateSandstone({ ...small, seed: 7 });
    expect(Buffer.from(a.volume.data.buffer).equals(Buffer.from(b.volume.data.buffer))).toBe(true);
    expect(Buffer.from(a.truthLabels).equals(Buffer.from(b.truthLabels))).toBe(true);
    expect(Buffer.from(a.eds.labels.buffer).equals(Buffer.from(b.eds.labels.buffer))).toBe(true);
    expect(a.eds.companions[0].data).toEqual(b.eds.companions[0].data);
    expect(a.truth).toEqual(b.truth);
  });

  it('regenerates the identical sample from truth.params (e.g. read back from truth.json)', () => {
    const a = generateSandstone({ ...small, seed: 12, eds: { coverage: 0.7, rotationDeg: 33 } });
    const b = generateSandstone(JSON.parse(JSON.stringify(a.truth.params)));
    expect(Buffer.from(a.volume.data.buffer).equals(Buffer.from(b.volume.data.buffer))).toBe(true);
    expect(Buffer.from(a.eds.labels.buffer).equals(Buffer.from(b.eds.labels.buffer))).toBe(true);
    expect(b.truth).toEqual(a.truth);
  });

  it('reports progress in order', () => {
    const seen: number[] = [];
    generateSandstone(small, { onProgress: (f) => seen.push(f) });
    expect(seen[0]).toBe(0);
    expect(seen.at(-1)).toBe(1);
    expect([...seen].sort((p, q) => p - q)).toEqual(seen);
  });

  it('differs for a different seed', () => {
    const a = generateSandstone({ ...small, seed: 7 });
    const b = generateSandstone({ ...small, seed: 8 });
    expect(Buffer.from(a.truthLabels).equals(Buffer.from(b.truthLabels))).toBe(false);
    expect(Buffer.from(a.volume.data.buffer).equals(Buffer.from(b.volume.data.buffer))).toBe(false);
  });

  it('keeps the rock when only the EDS acquisition changes', () => {
    const a = generateSandstone({ ...small, seed: 3, eds: { rotationDeg: 0 } });
    const b = generateSandstone({ ...small, seed: 3, eds: { rotationDeg: 123, mirrored: true, pixelUm: 3 } });
    expect(Buffer.from(a.volume.data.buffer).equals(Buffer.from(b.volume.data.buffer))).toBe(true);
  });

  it('describes the volume and records resolved params', () => {
    const s = generateSandstone({ ...small, voxelUm: 1.5 });
    expect(s.volume.meta).toMatchObject({ shape: [24, 48, 48], spacingUm: [1.5, 1.5, 1.5], dtype: 'uint16' });
    expect(s.volume.data.length).toBe(24 * 48 * 48);
    expect(s.truth.params.voxelUm).toBe(1.5);
    expect(s.truth.params.eds.pixelUm).toBeGreaterThan(0);
    expect(s.eds.companions.map((c) => c.name)).toEqual(['BSE']);
  });

  it('rejects impossible options with an actionable error', () => {
    const bad = () => generateSandstone({ ...small, fractions: { pore: 0.5, quartz: 0.6 } });
    expect(bad).toThrow(/sum to 1/);
    try {
      bad();
    } catch (e) {
      expect(isPetromapError(e, 'InvalidInput')).toBe(true);
    }
  });

  it('refuses volumes and maps too large to hold in memory', () => {
    expect(() => generateSandstone({ shape: [512, 512, 512] })).toThrow(/smaller volume/);
    expect(() => generateSandstone({ ...small, eds: { pixelUm: 0.001 } })).toThrow(/16 Mpixel/);
  });

  it('can be cancelled', () => {
    const ctl = new AbortController();
    ctl.abort();
    expect(() => generateSandstone(small, { signal: ctl.signal })).toThrow(/cancelled/);
  });
});
