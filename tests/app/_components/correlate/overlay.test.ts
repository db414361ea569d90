import { describe, expect, it } from 'vitest';
import {
  affineRotationDeg, affineScale, checkerTiles, mineralAtColour, edsToSlabPoint, formatEta, hitMarker, imageToScreen, insideImage, nextOverlayMode,
  registrationVersion, screenToImage, OVERLAY_MODES, type OverlayMode,
} from '@/app/_components/correlate/overlay';
import { placeImage } from '@/app/_components/viewer/slice-geometry';

describe('panel geometry', () => {
  const place = placeImage(400, 300, 160 * 2.5, 100 * 2.5, { zoom: 2, panX: 13, panY: -7 });

  it('image pixel centres ↔ screen round-trip, centres at integers', () => {
    for (const [u, v] of [[0, 0], [159, 99], [42.3, 17.8]] as const) {
      const [x, y] = imageToScreen(place, 2.5, u, v);
      const [u2, v2] = screenToImage(place, 2.5, x, y);
      expect(u2).toBeCloseTo(u, 9);
      expect(v2).toBeCloseTo(v, 9);
    }
    // the top-left corner of the image is pixel (-0.5, -0.5)
    const [u, v] = screenToImage(place, 2.5, place.ox, place.oy);
    expect([u, v]).toEqual([-0.5, -0.5]);
  });

  it('inside includes the pixel footprints of the border pixels only', () => {
    expect(insideImage([-0.5, 99.5], 160, 100)).toBe(true);
    expect(insideImage([-0.6, 0], 160, 100)).toBe(false);
    expect(insideImage([0, 99.6], 160, 100)).toBe(false);
  });

  it('hit-tests the nearest marker within the radius', () => {
    const m: ([number, number] | null)[] = [[10, 10], null, [14, 10], [100, 100]];
    expect(hitMarker(m, 13, 10)).toBe(2);
    expect(hitMarker(m, 11, 10)).toBe(0);
    expect(hitMarker(m, 50, 50)).toBe(-1);
  });
});

describe('overlay', () => {
  it("'o' cycles blend → swipe → checkerboard → outlines → blend", () => {
    let m: OverlayMode = OVERLAY_MODES[0];
    const seen: OverlayMode[] = [m];
    for (let i = 0; i < 4; i++) seen.push((m = nextOverlayMode(m)));
    expect(seen).toEqual(['blend', 'swipe', 'checkerboard', 'outlines', 'blend']);
  });

  it('checkerboard tiles cover half the image, alternate, and are clipped at the edges', () => {
    const tiles = checkerTiles(10, 7, 4);
    // 3 x 2 tile grid, (i + j) even: (0,0) (2,0) (1,1)
    expect(tiles).toEqual([
      { x: -0.5, y: -0.5, w: 4, h: 4 },
      { x: 7.5, y: -0.5, w: 2, h: 4 },
      { x: 3.5, y: 3.5, w: 4, h: 3 },
    ]);
    const area = checkerTiles(64, 64, 8).reduce((s, t) => s + t.w * t.h, 0);
    expect(area).toBe(64 * 64 / 2);
    expect(checkerTiles(3, 3, 0).length).toBe(5); // tile clamped to 1 px
  });

  it('the cache buster follows the registration', () => {
    const a = registrationVersion([1, 0, 5, 0, 1, 7]);
    expect(registrationVersion([1, 0, 5, 0, 1, 7])).toBe(a);
    expect(registrationVersion([1, 0, 5.01, 0, 1, 7])).not.toBe(a);
    expect(registrationVersion(null)).toBe('none');
  });

  it('formats the ETA', () => {
    expect(formatEta(12.4)).toBe('12 s');
    expect(formatEta(65)).toBe('1 min 05 s');
    expect(formatEta(null)).toBe('–');
    expect(formatEta(-1)).toBe('–');
  });

  it('applies and describes the EDS → slab affine', () => {
    const th = (30 * Math.PI) / 180;
    const m = [0.5 * Math.cos(th), -0.5 * Math.sin(th), 10, 0.5 * Math.sin(th), 0.5 * Math.cos(th), 20];
    expect(edsToSlabPoint(m, 0, 0)).toEqual([10, 20]);
    expect(affineScale(m)).toBeCloseTo(0.5);
    expect(affineRotationDeg(m)).toBeCloseTo(30);
  });
});

describe('mineral under the pointer', () => {
  const legend = [{ name: 'Quartz', color: [238, 221, 170] }, { name: 'Pyrite', color: [255, 230, 0] }];
  it('matches legend colours up to PNG rounding, black is unclassified', () => {
    expect(mineralAtColour(legend, [238, 221, 170])).toBe('Quartz');
    expect(mineralAtColour(legend, [240, 220, 171])).toBe('Quartz');
    expect(mineralAtColour(legend, [254, 231, 2])).toBe('Pyrite');
    expect(mineralAtColour(legend, [0, 0, 0])).toBe('unclassified');
    expect(mineralAtColour(legend, [10, 120, 240])).toBeNull();
  });
});
