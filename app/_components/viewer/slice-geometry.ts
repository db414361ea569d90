/**
 * Geometry of one orthogonal slice panel: which volume axes the screen axes show, how the image
 * is fitted, zoomed and panned, and which pyramid level has enough pixels for the panel.
 * Pure functions; dims are indices into (z, y, x).
 */
export type SliceAxis = 'z' | 'y' | 'x';
export type Vec3 = [number, number, number];

export const AXIS_DIM: Record<SliceAxis, 0 | 1 | 2> = { z: 0, y: 1, x: 2 };

/**
 * In-plane dims of a slice, as the slice route handler renders it: rows = v, columns = h.
 * XY (axis z): columns x, rows y. XZ (axis y): columns x, rows z. YZ (axis x): columns y, rows z.
 */
export function planeDims(axis: SliceAxis): { h: 0 | 1 | 2; v: 0 | 1 | 2; name: string } {
  if (axis === 'z') return { h: 2, v: 1, name: 'XY' };
  if (axis === 'y') return { h: 2, v: 0, name: 'XZ' };
  return { h: 1, v: 0, name: 'YZ' };
}

export interface ViewState {
  /** 1 = whole slice fits the panel */
  zoom: number;
  /** offset of the image centre from the panel centre, CSS px */
  panX: number;
  panY: number;
}

export const FIT_VIEW: ViewState = { zoom: 1, panX: 0, panY: 0 };

export interface Placement {
  /** CSS px per µm */
  scale: number;
  /** top-left of the image, CSS px */
  ox: number;
  oy: number;
}

/** Place an image of physical size (wUm, hUm) in a (cw, ch) panel, keeping µm square. */
export function placeImage(cw: number, ch: number, wUm: number, hUm: number, view: ViewState): Placement {
  const fit = Math.min(cw / wUm, ch / hUm) * 0.98;
  const scale = fit * view.zoom;
  return { scale, ox: cw / 2 - (wUm * scale) / 2 + view.panX, oy: ch / 2 - (hUm * scale) / 2 + view.panY };
}

/** Zoom by `factor` keeping the point under (px, py) fixed. */
export function zoomAt(view: ViewState, factor: number, px: number, py: number, cw: number, ch: number): ViewState {
  const zoom = Math.min(64, Math.max(0.5, view.zoom * factor));
  const f = zoom / view.zoom;
  // Image centre c = panel centre + pan; a point p stays fixed when c' = p - (p - c) * f.
  const cx = cw / 2 + view.panX;
  const cy = ch / 2 + view.panY;
  return { zoom, panX: px - (px - cx) * f - cw / 2, panY: py - (py - cy) * f - ch / 2 };
}

/**
 * Coarsest pyramid level that still gives at least one image pixel per device pixel.
 * `devicePxPerVoxel` is how many device pixels one level-0 voxel covers on screen.
 * Level k has 2^k fewer voxels along the in-plane axes.
 */
export function pickLevel(devicePxPerVoxel: number, levels: number): number {
  if (levels <= 1 || devicePxPerVoxel >= 1) return 0;
  return Math.max(0, Math.min(levels - 1, Math.floor(Math.log2(1 / devicePxPerVoxel))));
}

/** Level-0 index → index in a level of size `nLevel` along that axis (voxel centres aligned). */
export function indexAtLevel(index0: number, n0: number, nLevel: number): number {
  if (nLevel === n0) return index0;
  return Math.min(nLevel - 1, Math.max(0, Math.floor(((index0 + 0.5) * nLevel) / n0)));
}

export function clampIndex(i: number, n: number): number {
  return Math.max(0, Math.min(n - 1, Math.round(i)));
}

/** A round scale-bar length (1, 2 or 5 × 10^k µm) close to `targetPx` CSS px at `pxPerUm`. */
export function scaleBar(pxPerUm: number, targetPx = 90): { um: number; px: number; label: string } {
  const raw = targetPx / pxPerUm;
  const p = 10 ** Math.floor(Math.log10(raw));
  const um = [5, 2, 1].map((m) => m * p).find((v) => v <= raw) ?? p;
  return { um, px: um * pxPerUm, label: um >= 1000 ? `${um / 1000} mm` : `${+um.toPrecision(3)} µm` };
}

/** Draw a scale bar in the bottom-right corner of a (cw, ch) canvas. */
export function drawScaleBar(ctx: CanvasRenderingContext2D, cw: number, ch: number, pxPerUm: number): void {
  const bar = scaleBar(pxPerUm);
  const x1 = cw - 12;
  const x0 = x1 - bar.px;
  const y = ch - 12;
  ctx.setLineDash([]);
  ctx.strokeStyle = 'rgba(0,0,0,0.6)';
  ctx.lineWidth = 5;
  ctx.beginPath();
  ctx.moveTo(x0, y);
  ctx.lineTo(x1, y);
  ctx.stroke();
  ctx.strokeStyle = '#fff';
  ctx.lineWidth = 2;
  ctx.stroke();
  ctx.font = '11px ui-monospace, monospace';
  ctx.fillStyle = '#fff';
  ctx.textAlign = 'center';
  ctx.shadowColor = '#000';
  ctx.shadowBlur = 3;
  ctx.fillText(bar.label, (x0 + x1) / 2, y - 6);
  ctx.shadowBlur = 0;
}
