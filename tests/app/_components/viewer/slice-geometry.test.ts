import { describe, expect, it } from 'vitest';
import {
  FIT_VIEW, indexAtLevel, pickLevel, placeImage, planeDims, scaleBar, zoomAt,
} from '@/app/_components/viewer/slice-geometry';

describe('planeDims', () => {
  it('maps each slice axis to the in-plane (column, row) dims of (z, y, x)', () => {
    expect(planeDims('z')).toMatchObject({ h: 2, v: 1, name: 'XY' });
    expect(planeDims('y')).toMatchObject({ h: 2, v: 0, name: 'XZ' });
    expect(planeDims('x')).toMatchObject({ h: 1, v: 0, name: 'YZ' });
  });
});

describe('placeImage', () => {
  it('fits a wide image to the panel width, centred, µm kept square', () => {
    const p = placeImage(400, 300, 200, 50, FIT_VIEW); // 4:1 image in a 4:3 panel
    expect(p.scale).toBeCloseTo((400 / 200) * 0.98);
    expect(p.ox + (200 * p.scale) / 2).toBeCloseTo(200);
    expect(p.oy + (50 * p.scale) / 2).toBeCloseTo(150);
  });
});

describe('zoomAt', () => {
  it('keeps the image point under the pointer fixed', () => {
    const cw = 400, ch = 300, px = 100, py = 80;
    const before = placeImage(cw, ch, 200, 150, FIT_VIEW);
    const um = [(px - before.ox) / before.scale, (py - before.oy) / before.scale];
    const v = zoomAt(FIT_VIEW, 2.5, px, py, cw, ch);
    const after = placeImage(cw, ch, 200, 150, v);
    expect(after.ox + um[0]! * after.scale).toBeCloseTo(px);
    expect(after.oy + um[1]! * after.scale).toBeCloseTo(py);
  });
  it('clamps the zoom to [0.5, 64]', () => {
    expect(zoomAt(FIT_VIEW, 1000, 0, 0, 10, 10).zoom).toBe(64);
    expect(zoomAt(FIT_VIEW, 0.001, 0, 0, 10, 10).zoom).toBe(0.5);
  });
});

describe('pickLevel', () => {
  it('uses full resolution when a voxel covers at least one device pixel', () => {
    expect(pickLevel(1, 4)).toBe(0);
    expect(pickLevel(3, 4)).toBe(0);
  });
  it('uses the coarsest level that still has a pixel per device pixel', () => {
    expect(pickLevel(0.5, 4)).toBe(1);
    expect(pickLevel(0.3, 4)).toBe(1);
    expect(pickLevel(0.25, 4)).toBe(2);
    expect(pickLevel(0.01, 4)).toBe(3); // clamped to the last level
    expect(pickLevel(0.01, 1)).toBe(0);
  });
});

describe('indexAtLevel', () => {
  it('maps level-0 slice indices onto a halved level, voxel centres aligned', () => {
    expect(indexAtLevel(0, 100, 50)).toBe(0);
    expect(indexAtLevel(1, 100, 50)).toBe(0);
    expect(indexAtLevel(2, 100, 50)).toBe(1);
    expect(indexAtLevel(99, 100, 50)).toBe(49);
    expect(indexAtLevel(37, 100, 100)).toBe(37);
  });
});

describe('scaleBar', () => {
  it('picks 1, 2 or 5 × 10^k µm no longer than the target', () => {
    expect(scaleBar(1, 90)).toMatchObject({ um: 50, label: '50 µm' });
    expect(scaleBar(0.05, 90)).toMatchObject({ um: 1000, label: '1 mm' });
    expect(scaleBar(4.3, 90).um).toBe(20);
  });
});
