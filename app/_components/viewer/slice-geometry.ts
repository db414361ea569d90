/**
 * Geometry of one orthogonal slice panel: which volume axes the screen axes show, how the image
 * is fitted, zoomed and panned, and which pyramid level has enough pixels for the panel; plus
 * the pieces every slice panel (viewer, results overlays, paint panels) draws and handles alike:
 * slice image, crosshair, scale bar, pointer → voxel, slice-stepping keys.
 * Pure functions (the draw* ones only draw on the given context); dims are indices into (z, y, x).
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

/** Keys that step the slice index of a focused panel: arrows one slice, PgUp/PgDn ten. */
export const KEY_STEP: Readonly<Record<string, number>> = { ArrowUp: 1, ArrowRight: 1, ArrowDown: -1, ArrowLeft: -1, PageUp: 10, PageDown: -10 };

/** The browser's device pixel ratio (1 on the server). */
export function devicePixelRatio(): number {
  return typeof window === 'undefined' ? 1 : window.devicePixelRatio || 1;
}

/** Where a slice panel of a (cw, ch) box shows `axis` at `cursor`, and which pyramid level it loads. */
export interface SliceLayout {
  /** dim of (z, y, x) the slice cuts, and the in-plane column (h) and row (v) dims */
  d: 0 | 1 | 2;
  h: 0 | 1 | 2;
  v: 0 | 1 | 2;
  name: string;
  /** number of slices and the current one (level 0) */
  n: number;
  index: number;
  /** physical size of the slice, µm */
  wUm: number;
  hUm: number;
  /** null until the panel has a size */
  place: Placement | null;
  level: number;
  /** `index` in the voxels of `level` */
  levelIndex: number;
}

export function sliceLayout(
  axis: SliceAxis, shape: Vec3, spacing: Vec3, cursor: Vec3, levelShapes: Vec3[],
  cw: number, ch: number, view: ViewState, dpr: number,
): SliceLayout {
  const d = AXIS_DIM[axis];
  const { h, v, name } = planeDims(axis);
  const n = shape[d];
  const index = cursor[d];
  const wUm = shape[h] * spacing[h];
  const hUm = shape[v] * spacing[v];
  const place = cw > 0 ? placeImage(cw, ch, wUm, hUm, view) : null;
  // Device pixels per level-0 voxel along the finer in-plane axis decides the pyramid level.
  const pxPerVoxel = place ? place.scale * Math.min(spacing[h], spacing[v]) * dpr : 1;
  const level = pickLevel(pxPerVoxel, levelShapes.length);
  const levelIndex = indexAtLevel(index, n, levelShapes[level]?.[d] ?? n);
  return { d, h, v, name, n, index, wUm, hUm, place, level, levelIndex };
}

/** `cursor` with its `d` component set to slice `i` (rounded, clamped to 0..n-1). */
export function cursorWithIndex(cursor: Vec3, d: 0 | 1 | 2, i: number, n: number): Vec3 {
  const c: Vec3 = [...cursor];
  c[d] = clampIndex(i, n);
  return c;
}

/** Slice voxel (column, row) under a pointer in the panel box `box`; may lie outside the slice. */
export function voxelAtPointer(
  e: { clientX: number; clientY: number }, box: Element, place: Placement, spacing: Vec3, h: number, v: number,
): [number, number] {
  const r = box.getBoundingClientRect();
  return [
    Math.floor((e.clientX - r.left - place.ox) / place.scale / spacing[h]),
    Math.floor((e.clientY - r.top - place.oy) / place.scale / spacing[v]),
  ];
}

/** `cursor` moved to in-plane voxel (uh, uv), or null when that voxel is outside the slice. */
export function cursorAtVoxel(cursor: Vec3, shape: Vec3, h: number, v: number, uh: number, uv: number): Vec3 | null {
  if (uh < 0 || uv < 0 || uh >= shape[h] || uv >= shape[v]) return null;
  const c: Vec3 = [...cursor];
  c[h] = uh;
  c[v] = uv;
  return c;
}

/** `cursor` moved to the slice voxel under a pointer in the panel box, or null when outside the slice. */
export function cursorAtPointer(
  e: { clientX: number; clientY: number }, box: Element, place: Placement, cursor: Vec3, shape: Vec3, spacing: Vec3, h: number, v: number,
): Vec3 | null {
  return cursorAtVoxel(cursor, shape, h, v, ...voxelAtPointer(e, box, place, spacing, h, v));
}

/**
 * Draw the slice image at its placement, (iw, ih) CSS px. Nearest neighbour once an image pixel
 * is bigger than 1.5 device pixels: show voxels as they are.
 */
export function drawSliceImage(
  ctx: CanvasRenderingContext2D, image: HTMLImageElement, place: Placement, iw: number, ih: number, dpr: number,
): void {
  ctx.imageSmoothingEnabled = (iw * dpr) / image.naturalWidth < 1.5;
  ctx.drawImage(image, place.ox, place.oy, iw, ih);
}

/**
 * Dashed amber crosshair across the (iw, ih) slice image through the centre of the cursor's
 * in-plane voxel. Leaves the line dash set.
 */
export function drawCrosshair(
  ctx: CanvasRenderingContext2D, place: Placement, iw: number, ih: number,
  cursor: Vec3, spacing: Vec3, h: number, v: number, alpha = 0.85,
): void {
  ctx.strokeStyle = `rgba(255, 204, 51, ${alpha})`;
  ctx.lineWidth = 1;
  ctx.setLineDash([4, 3]);
  const cx = place.ox + (cursor[h] + 0.5) * spacing[h] * place.scale;
  const cy = place.oy + (cursor[v] + 0.5) * spacing[v] * place.scale;
  ctx.beginPath();
  ctx.moveTo(Math.round(cx) + 0.5, place.oy);
  ctx.lineTo(Math.round(cx) + 0.5, place.oy + ih);
  ctx.moveTo(place.ox, Math.round(cy) + 0.5);
  ctx.lineTo(place.ox + iw, Math.round(cy) + 0.5);
  ctx.stroke();
}
