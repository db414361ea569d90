/**
 * Pure geometry of the Correlate panels: image pixel ↔ screen position under the shared
 * fit/zoom/pan placement (viewer/slice-geometry), marker hit-testing, the overlay modes and the
 * checkerboard tiles, and the status-line wording.
 */
import type { Placement } from '../viewer/slice-geometry';
import type { Pt } from './landmarks';

/** Screen (CSS px, relative to the panel) of image pixel centre (u, v); centres at integers. */
export function imageToScreen(place: Placement, pixelUm: number, u: number, v: number): Pt {
  return [place.ox + (u + 0.5) * pixelUm * place.scale, place.oy + (v + 0.5) * pixelUm * place.scale];
}

/** Inverse of imageToScreen. */
export function screenToImage(place: Placement, pixelUm: number, x: number, y: number): Pt {
  return [(x - place.ox) / (pixelUm * place.scale) - 0.5, (y - place.oy) / (pixelUm * place.scale) - 0.5];
}

/** Inside the image (pixel footprints included: -0.5 .. size - 0.5). */
export function insideImage(pt: Pt, width: number, height: number): boolean {
  return pt[0] >= -0.5 && pt[1] >= -0.5 && pt[0] <= width - 0.5 && pt[1] <= height - 0.5;
}

/** Index of the marker whose screen position is nearest to (x, y) within `radius` CSS px. */
export function hitMarker(markers: readonly (Pt | null)[], x: number, y: number, radius = 10): number {
  let best = -1;
  let bestD = radius * radius;
  markers.forEach((m, i) => {
    if (!m) return;
    const d = (m[0] - x) ** 2 + (m[1] - y) ** 2;
    if (d <= bestD) {
      bestD = d;
      best = i;
    }
  });
  return best;
}

export const OVERLAY_MODES = ['blend', 'swipe', 'checkerboard', 'outlines'] as const;
export type OverlayMode = (typeof OVERLAY_MODES)[number];
export const OVERLAY_LABEL: Record<OverlayMode, string> = {
  blend: 'Blend',
  swipe: 'Swipe',
  checkerboard: 'Checkerboard',
  outlines: 'Outlines',
};

export function nextOverlayMode(m: OverlayMode): OverlayMode {
  return OVERLAY_MODES[(OVERLAY_MODES.indexOf(m) + 1) % OVERLAY_MODES.length]!;
}

/**
 * Checkerboard tiles, in image pixels, that show the EDS map: (i + j) even. Tiles start at the
 * image's top-left corner (-0.5, -0.5 in pixel-centre coordinates) and are clipped to the image.
 */
export function checkerTiles(width: number, height: number, tile: number): { x: number; y: number; w: number; h: number }[] {
  const t = Math.max(1, tile);
  const out: { x: number; y: number; w: number; h: number }[] = [];
  for (let j = 0; j * t < height; j++) {
    for (let i = 0; i * t < width; i++) {
      if ((i + j) % 2) continue;
      out.push({ x: i * t - 0.5, y: j * t - 0.5, w: Math.min(t, width - i * t), h: Math.min(t, height - j * t) });
    }
  }
  return out;
}

/** "1 min 05 s", "12 s", "–" */
export function formatEta(seconds: number | null | undefined): string {
  if (seconds == null || !Number.isFinite(seconds) || seconds < 0) return '–';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
}

/** Short number for quality figures. */
export function fmt(v: number | null | undefined, digits = 2): string {
  if (v == null || !Number.isFinite(v)) return '–';
  return v.toFixed(digits);
}

/** A cache buster for the warped-EDS image: changes whenever the registration does. */
export function registrationVersion(edsToSlab: readonly number[] | null | undefined, extra = ''): string {
  if (!edsToSlab) return 'none';
  let h = 2166136261;
  const s = edsToSlab.map((x) => x.toPrecision(8)).join(',') + extra;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619) >>> 0;
  return h.toString(36);
}

/** Apply the EDS → slab affine [a, b, c, d, e, f]. */
export function edsToSlabPoint(m: readonly number[], u: number, v: number): Pt {
  return [m[0]! * u + m[1]! * v + m[2]!, m[3]! * u + m[4]! * v + m[5]!];
}

/** Scale of an affine (geometric mean of the axis scales): slab px per EDS px. */
export function affineScale(m: readonly number[]): number {
  return Math.sqrt(Math.abs(m[0]! * m[4]! - m[1]! * m[3]!));
}

/** Rotation of an affine in degrees (of its u axis). */
export function affineRotationDeg(m: readonly number[]): number {
  return (Math.atan2(m[3]!, m[0]!) * 180) / Math.PI;
}

/**
 * Mineral whose legend colour matches a pixel of the EDS map image (drawn unsmoothed, so the
 * match is exact up to PNG colour rounding); 'unclassified' for black, null for no match.
 */
export function mineralAtColour(legend: readonly { name: string; color: readonly number[] }[], rgb: readonly number[], tolerance = 12): string | null {
  let best: string | null = null;
  let bestD = tolerance;
  for (const m of legend) {
    const d = Math.abs(m.color[0]! - rgb[0]!) + Math.abs(m.color[1]! - rgb[1]!) + Math.abs(m.color[2]! - rgb[2]!);
    if (d < bestD) {
      bestD = d;
      best = m.name;
    }
  }
  return best ?? (rgb[0] === 0 && rgb[1] === 0 && rgb[2] === 0 ? 'unclassified' : null);
}
