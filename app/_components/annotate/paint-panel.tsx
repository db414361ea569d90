'use client';
/**
 * One orthogonal slice panel with a paint layer: the grey slice (dataset slice route, pyramid
 * level for the zoom), the predicted lithology (optional), the painted strokes (level 0, class
 * colours), the scan-proposal boxes that the slice cuts, the shared crosshair and the brush.
 *
 * Brush / eraser: left button paints (drag draws a stroke); the slice is saved when the stroke
 * ends. Right or middle drag pans, wheel zooms, double-click fits. Navigate tool: click moves the
 * crosshair, drag pans. Focus the panel: ←/→ ↑/↓ step one slice, PgUp/PgDn ten.
 */
import { useEffect, useRef, useState } from 'react';
import { changedOnly } from '@/lib/volume/slice-edit';
import {
  FIT_VIEW, KEY_STEP, cursorAtPointer, cursorWithIndex, devicePixelRatio, drawCrosshair, drawScaleBar, drawSliceImage,
  sliceLayout, voxelAtPointer, type SliceAxis, type Vec3, type ViewState,
} from '../viewer/slice-geometry';
import { useElementSize } from '../viewer/use-element-size';
import { useLatestImage } from '../viewer/use-latest-image';
import { boxOnSlice, labelsToRgba, paintDisc, paintLine, type BoxZYX, type Rgb, type SliceEdit } from './paint-ops';
import { prepareCanvas, useWheelZoom } from '../viewer/pan-zoom';

export type Tool = 'brush' | 'eraser' | 'navigate';

export interface PaintPanelProps {
  projectId: string;
  axis: SliceAxis;
  shape: Vec3;
  spacing: Vec3;
  levelShapes: Vec3[];
  cursor: Vec3;
  onCursor: (c: Vec3) => void;
  greyUrl: (axis: SliceAxis, index: number, level: number) => string;
  colors: Map<number, Rgb>;
  tool: Tool;
  code: number;
  radius: number;
  showStrokes: boolean;
  showPrediction: boolean;
  /** bump to refetch the painted slice (after any save, undo, redo) */
  strokesVersion: number;
  /** bump to refetch the prediction slice; null = no prediction */
  predictionVersion: number | null;
  boxes: { box: BoxZYX; color: Rgb; label: string }[];
  /** a finished stroke: the panel already saved `after` */
  onEdit: (e: SliceEdit) => void;
  onError: (message: string) => void;
}

async function fetchBytes(url: string, signal?: AbortSignal): Promise<{ data: Uint8Array; width: number; height: number }> {
  const res = await fetch(url, { signal, cache: 'no-store' });
  if (!res.ok) {
    const body = await res.json().catch(() => null);
    throw new Error(body?.error ?? `HTTP ${res.status} for ${url.split('?')[0]}`);
  }
  return { data: new Uint8Array(await res.arrayBuffer()), width: Number(res.headers.get('X-Slice-Width')), height: Number(res.headers.get('X-Slice-Height')) };
}

/**
 * Save an edit of one painted slice: only the voxels that differ between `from` (the slice as this
 * page had it) and `to` are sent; every other voxel is sent as KEEP_VOXEL and stays as stored (lib/volume/slice-edit.ts), so a
 * stroke saved meanwhile from another view (crossing this slice) or another tab is not erased by an
 * older copy of the slice.
 */
export async function putSlice(projectId: string, axis: SliceAxis, index: number, from: Uint8Array, to: Uint8Array): Promise<{ counts: Record<string, number>; changed: number }> {
  const data = changedOnly(from, to);
  const res = await fetch(`/api/projects/${encodeURIComponent(projectId)}/annotations/slice?axis=${axis}&index=${index}`, {
    method: 'PUT', body: data, headers: { 'Content-Type': 'application/octet-stream' },
  });
  const body = await res.json().catch(() => null);
  if (!res.ok) throw new Error(body?.error ?? `Saving the painted slice failed (HTTP ${res.status}).`);
  return body;
}

function toCanvas(rgba: Uint8ClampedArray<ArrayBuffer>, w: number, h: number): HTMLCanvasElement {
  const c = document.createElement('canvas');
  c.width = w;
  c.height = h;
  c.getContext('2d')!.putImageData(new ImageData(rgba, w, h), 0, 0);
  return c;
}

export function PaintPanel(p: PaintPanelProps) {
  const { axis, shape, spacing, cursor, levelShapes } = p;
  const boxRef = useRef<HTMLDivElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const { width: cw, height: ch } = useElementSize(boxRef);
  const [view, setView] = useState<ViewState>(FIT_VIEW);
  const [hover, setHover] = useState<{ x: number; y: number } | null>(null);
  const [redraw, setRedraw] = useState(0);
  const pan = useRef<{ x: number; y: number; panX: number; panY: number; moved: boolean; button: number } | null>(null);
  const stroke = useRef<{ before: Uint8Array; last: [number, number]; changed: number } | null>(null);
  const labels = useRef<{ key: string; data: Uint8Array; width: number; height: number } | null>(null);
  const strokesLayer = useRef<HTMLCanvasElement | null>(null);
  const predLayer = useRef<{ key: string; canvas: HTMLCanvasElement } | null>(null);
  const [saving, setSaving] = useState(false);
  const [loadError, setLoadError] = useState<string | null>(null);

  const dpr = devicePixelRatio();
  const { d, h, v, name, n, index, wUm, hUm, place, level, levelIndex } = sliceLayout(axis, shape, spacing, cursor, levelShapes, cw, ch, view, dpr);
  const { image, loadedUrl, loading, error } = useLatestImage(cw > 0 ? p.greyUrl(axis, levelIndex, level) : null);
  const sliceKey = `${axis}:${index}`;

  const rebuildStrokes = () => {
    const l = labels.current;
    strokesLayer.current = l ? toCanvas(labelsToRgba(l.data, p.colors, 190), l.width, l.height) : null;
    setRedraw((r) => r + 1);
  };

  // painted slice: refetch on slice change and whenever someone saved
  useEffect(() => {
    if (stroke.current) return;
    const ac = new AbortController();
    fetchBytes(`/api/projects/${encodeURIComponent(p.projectId)}/annotations/slice?axis=${axis}&index=${index}`, ac.signal)
      .then((r) => {
        if (stroke.current) return; // a stroke started meanwhile: keep the local pixels
        labels.current = { key: sliceKey, ...r };
        setLoadError(null);
        rebuildStrokes();
      })
      .catch((e) => !ac.signal.aborted && setLoadError(`Painted slice: ${e.message}`));
    return () => ac.abort();
  }, [p.projectId, axis, index, p.strokesVersion]); // eslint-disable-line react-hooks/exhaustive-deps

  useEffect(rebuildStrokes, [p.colors]);

  // predicted lithology slice
  useEffect(() => {
    if (p.predictionVersion === null || !p.showPrediction) return;
    const key = `${sliceKey}:${p.predictionVersion}`;
    if (predLayer.current?.key === key) return;
    const ac = new AbortController();
    fetchBytes(`/api/projects/${encodeURIComponent(p.projectId)}/annotations/prediction?axis=${axis}&index=${index}&v=${p.predictionVersion}`, ac.signal)
      .then((r) => {
        predLayer.current = { key, canvas: toCanvas(labelsToRgba(r.data, p.colors, 255), r.width, r.height) };
        setRedraw((x) => x + 1);
      })
      .catch((e) => !ac.signal.aborted && setLoadError(`Predicted map: ${e.message}`));
    return () => ac.abort();
  }, [p.projectId, axis, index, p.predictionVersion, p.showPrediction, p.colors]); // eslint-disable-line react-hooks/exhaustive-deps

  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas || !place) return;
    const ctx = prepareCanvas(canvas, cw, ch, dpr);
    const iw = wUm * place.scale, ih = hUm * place.scale;
    if (image) drawSliceImage(ctx, image, place, iw, ih, dpr);
    ctx.imageSmoothingEnabled = false;
    const pred = predLayer.current;
    if (p.showPrediction && pred && pred.key.startsWith(`${sliceKey}:`)) {
      ctx.globalAlpha = 0.45;
      ctx.drawImage(pred.canvas, place.ox, place.oy, iw, ih);
      ctx.globalAlpha = 1;
    }
    if (p.showStrokes && strokesLayer.current && labels.current?.key === sliceKey) ctx.drawImage(strokesLayer.current, place.ox, place.oy, iw, ih);
    // proposal boxes cut by this slice
    ctx.setLineDash([]);
    ctx.lineWidth = 2;
    ctx.font = '11px ui-monospace, monospace';
    for (const b of p.boxes) {
      const r = boxOnSlice(b.box, axis, index);
      if (!r) continue;
      const x0 = place.ox + r.u0 * spacing[h] * place.scale, y0 = place.oy + r.v0 * spacing[v] * place.scale;
      const bw = (r.u1 - r.u0) * spacing[h] * place.scale, bh = (r.v1 - r.v0) * spacing[v] * place.scale;
      ctx.strokeStyle = '#000';
      ctx.lineWidth = 4;
      ctx.strokeRect(x0, y0, bw, bh);
      ctx.strokeStyle = `rgb(${b.color.join(',')})`;
      ctx.lineWidth = 2;
      ctx.strokeRect(x0, y0, bw, bh);
      ctx.fillStyle = '#fff';
      ctx.fillText(b.label, x0 + 3, y0 + 12);
    }
    drawCrosshair(ctx, place, iw, ih, cursor, spacing, h, v, 0.7);
    // brush outline
    if (hover && p.tool !== 'navigate') {
      ctx.setLineDash([]);
      ctx.strokeStyle = p.tool === 'eraser' ? '#fff' : `rgb(${(p.colors.get(p.code) ?? [255, 255, 255]).join(',')})`;
      ctx.beginPath();
      ctx.ellipse(hover.x, hover.y, Math.max(2, (p.radius + 0.5) * spacing[h] * place.scale), Math.max(2, (p.radius + 0.5) * spacing[v] * place.scale), 0, 0, 2 * Math.PI);
      ctx.stroke();
    }
    drawScaleBar(ctx, cw, ch, place.scale);
  }, [image, place?.scale, place?.ox, place?.oy, cw, ch, dpr, cursor, h, v, spacing, wUm, hUm, redraw, hover, p.tool, p.radius, p.code, p.showPrediction, p.showStrokes, p.boxes, sliceKey]); // eslint-disable-line react-hooks/exhaustive-deps

  useWheelZoom(boxRef, setView);

  /** Slice voxel (u, v) under a pointer event, possibly outside the slice. */
  const voxelAt = (e: React.PointerEvent) => voxelAtPointer(e, boxRef.current!, place!, spacing, h, v);
  const paintCode = p.tool === 'eraser' ? 0 : p.code;

  function onPointerDown(e: React.PointerEvent) {
    if (!place) return;
    (e.currentTarget as Element).setPointerCapture(e.pointerId);
    const l = labels.current;
    if (e.button === 0 && p.tool !== 'navigate') {
      if (!l || l.key !== sliceKey) return; // painted slice not loaded yet
      if (p.tool === 'brush' && !p.colors.has(p.code)) return p.onError('Add a class and pick it before painting.');
      const [u, vv] = voxelAt(e);
      stroke.current = { before: l.data.slice(), last: [u, vv], changed: 0 };
      stroke.current.changed += paintDisc(l.data, l.width, l.height, u, vv, p.radius, paintCode);
      rebuildStrokes();
      return;
    }
    pan.current = { x: e.clientX, y: e.clientY, panX: view.panX, panY: view.panY, moved: false, button: e.button };
  }

  function onPointerMove(e: React.PointerEvent) {
    const r = boxRef.current!.getBoundingClientRect();
    setHover({ x: e.clientX - r.left, y: e.clientY - r.top });
    const s = stroke.current, l = labels.current;
    if (s && l) {
      const [u, vv] = voxelAt(e);
      s.changed += paintLine(l.data, l.width, l.height, s.last[0], s.last[1], u, vv, p.radius, paintCode);
      s.last = [u, vv];
      rebuildStrokes();
      return;
    }
    const g = pan.current;
    if (!g) return;
    const dx = e.clientX - g.x, dy = e.clientY - g.y;
    if (!g.moved && Math.hypot(dx, dy) < 4) return;
    g.moved = true;
    setView((vs) => ({ ...vs, panX: g.panX + dx, panY: g.panY + dy }));
  }

  async function onPointerUp(e: React.PointerEvent) {
    const s = stroke.current, l = labels.current;
    if (s && l) {
      stroke.current = null;
      if (!s.changed) return;
      const after = l.data.slice();
      setSaving(true);
      try {
        await putSlice(p.projectId, axis, index, s.before, after);
        p.onEdit({ axis, index, before: s.before, after });
      } catch (err) {
        // put the slice back as it is stored
        l.data.set(s.before);
        rebuildStrokes();
        p.onError((err as Error).message);
      } finally {
        setSaving(false);
      }
      return;
    }
    const g = pan.current;
    pan.current = null;
    if (!g || g.moved || g.button !== 0 || !place) return;
    const c = cursorAtPointer(e, boxRef.current!, place, cursor, shape, spacing, h, v);
    if (c) p.onCursor(c);
  }

  function onKeyDown(e: React.KeyboardEvent) {
    if ((e.target as HTMLElement).tagName === 'INPUT') return;
    const step = KEY_STEP[e.key];
    if (step === undefined) return;
    e.preventDefault();
    p.onCursor(cursorWithIndex(cursor, d, index + step, n));
  }

  const posUm = (index + 0.5) * spacing[d];
  return (
    <div className="panel" tabIndex={0} onKeyDown={onKeyDown} data-testid={`paint-panel-${name}`} aria-label={`${name} paint panel`}>
      <div className="panel-head">
        <span className="title">{name}</span>
        <input type="range" min={0} max={n - 1} value={index} aria-label={`${name} slice index`} data-testid={`paint-slider-${name}`}
          onChange={(e) => p.onCursor(cursorWithIndex(cursor, d, Number(e.target.value), n))} />
        <span className="num" data-testid={`paint-index-${name}`}>{index} / {n}</span>
        <button type="button" title="Fit the slice to the panel (or double-click it)" onClick={() => setView(FIT_VIEW)}>Fit</button>
      </div>
      <div
        className={`panel-canvas paint-canvas tool-${p.tool}`} ref={boxRef}
        onPointerDown={onPointerDown} onPointerMove={onPointerMove} onPointerUp={onPointerUp}
        onPointerLeave={() => setHover(null)} onContextMenu={(e) => e.preventDefault()} onDoubleClick={() => setView(FIT_VIEW)}
      >
        <canvas ref={canvasRef} data-testid={`paint-canvas-${name}`} data-level={level} data-src={loadedUrl ?? ''}
          data-strokes-loaded={labels.current?.key === sliceKey ? 'yes' : 'no'} data-saving={saving ? 'yes' : 'no'} />
        <div className="overlay-text">{axis} = {posUm.toFixed(1)} µm · level {level} · {(view.zoom * 100).toFixed(0)} %</div>
        {(loading || saving) && <div className="loading">{saving ? 'saving…' : 'loading…'}</div>}
        {(error || loadError) && <div className="loading" style={{ color: '#f28b82' }}>{loadError ?? error}</div>}
      </div>
    </div>
  );
}
