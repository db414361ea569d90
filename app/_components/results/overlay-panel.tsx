'use client';
/**
 * A slice panel of the viewer (same geometry, pyramid level choice, zoom/pan, crosshair and
 * keyboard stepping as viewer/slice-panel) with image overlays drawn over the grey slice:
 * predicted classes, the model preview, uncertainty. Overlays are drawn at the slice's physical
 * extent whatever their pixel size.
 */
import { useEffect, useRef, useState } from 'react';
import {
  AXIS_DIM, FIT_VIEW, clampIndex, drawScaleBar, indexAtLevel, pickLevel, placeImage, planeDims,
  type SliceAxis, type Vec3, type ViewState,
} from '../viewer/slice-geometry';
import { useElementSize } from '../viewer/use-element-size';
import { useLatestImage } from '../viewer/use-latest-image';
import { prepareCanvas, useDragPan, useWheelZoom } from '../viewer/pan-zoom';

export type UrlFor = (axis: SliceAxis, index: number, level: number) => string | null;

export interface Overlay {
  key: string;
  url: UrlFor;
  opacity: number;
  visible: boolean;
}

export interface OverlayPanelProps {
  axis: SliceAxis;
  shape: Vec3;
  spacing: Vec3;
  cursor: Vec3;
  onCursor: (c: Vec3) => void;
  levelShapes: Vec3[];
  sliceUrl: UrlFor;
  overlays: Overlay[];
  height?: number;
  /** extra keys (e.g. 'o' toggles the overlay) */
  onKey?: (e: React.KeyboardEvent) => boolean;
}

const KEY_STEP: Record<string, number> = { ArrowUp: 1, ArrowRight: 1, ArrowDown: -1, ArrowLeft: -1, PageUp: 10, PageDown: -10 };

function OverlayImage({ url, onImage }: { url: string | null; onImage: (img: HTMLImageElement | null, loading: boolean, error: string | null) => void }) {
  const r = useLatestImage(url);
  useEffect(() => onImage(url ? r.image : null, r.loading, r.error), [r.image, r.loading, r.error, url]); // eslint-disable-line react-hooks/exhaustive-deps
  return null;
}

export function OverlayPanel({ axis, shape, spacing, cursor, onCursor, levelShapes, sliceUrl, overlays, height = 300, onKey }: OverlayPanelProps) {
  const boxRef = useRef<HTMLDivElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const { width: cw, height: ch } = useElementSize(boxRef);
  const [view, setView] = useState<ViewState>(FIT_VIEW);
  const [ov, setOv] = useState<Record<string, { img: HTMLImageElement | null; loading: boolean; error: string | null }>>({});

  const d = AXIS_DIM[axis];
  const { h, v, name } = planeDims(axis);
  const n = shape[d];
  const index = cursor[d];
  const wUm = shape[h] * spacing[h];
  const hUm = shape[v] * spacing[v];
  const place = cw > 0 ? placeImage(cw, ch, wUm, hUm, view) : null;
  const dpr = typeof window === 'undefined' ? 1 : window.devicePixelRatio || 1;
  const pxPerVoxel = place ? place.scale * Math.min(spacing[h], spacing[v]) * dpr : 1;
  const level = pickLevel(pxPerVoxel, levelShapes.length);
  const levelIndex = indexAtLevel(index, n, levelShapes[level]?.[d] ?? n);
  const url = cw > 0 ? sliceUrl(axis, levelIndex, level) : null;
  const base = useLatestImage(url);

  const setIndex = (i: number) => {
    const c: Vec3 = [...cursor];
    c[d] = clampIndex(i, n);
    onCursor(c);
  };

  const ovKey = overlays.map((o) => `${o.key}:${o.visible ? 1 : 0}:${o.opacity}:${ov[o.key]?.img?.src ?? ''}`).join('|');
  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas || !place) return;
    const ctx = prepareCanvas(canvas, cw, ch, dpr);
    const iw = wUm * place.scale;
    const ih = hUm * place.scale;
    if (base.image) {
      ctx.imageSmoothingEnabled = (iw * dpr) / base.image.naturalWidth < 1.5;
      ctx.drawImage(base.image, place.ox, place.oy, iw, ih);
    }
    for (const o of overlays) {
      const img = ov[o.key]?.img;
      if (!o.visible || !img) continue;
      ctx.globalAlpha = o.opacity;
      ctx.imageSmoothingEnabled = false;
      ctx.drawImage(img, place.ox, place.oy, iw, ih);
      ctx.globalAlpha = 1;
    }
    ctx.strokeStyle = 'rgba(255, 204, 51, 0.85)';
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
    drawScaleBar(ctx, cw, ch, place.scale);
  }, [base.image, ovKey, place?.scale, place?.ox, place?.oy, cw, ch, dpr, cursor, h, v, spacing, wUm, hUm]); // eslint-disable-line react-hooks/exhaustive-deps

  useWheelZoom(boxRef, setView);

  const { onPointerDown, onPointerMove, onPointerUp } = useDragPan(view, setView, (e) => {
    if (!place) return;
    const r = boxRef.current!.getBoundingClientRect();
    const uh = Math.floor((e.clientX - r.left - place.ox) / place.scale / spacing[h]);
    const uv = Math.floor((e.clientY - r.top - place.oy) / place.scale / spacing[v]);
    if (uh < 0 || uv < 0 || uh >= shape[h] || uv >= shape[v]) return;
    const c: Vec3 = [...cursor];
    c[h] = uh;
    c[v] = uv;
    onCursor(c);
  });
  function onKeyDown(e: React.KeyboardEvent) {
    if ((e.target as HTMLElement).tagName === 'INPUT') return;
    if (onKey?.(e)) return;
    const step = KEY_STEP[e.key];
    if (step === undefined) return;
    e.preventDefault();
    setIndex(index + step);
  }

  const posUm = (index + 0.5) * spacing[d];
  const ovLoading = overlays.some((o) => o.visible && ov[o.key]?.loading);
  const ovError = overlays.map((o) => (o.visible ? ov[o.key]?.error : null)).find(Boolean);
  return (
    <div className="panel" tabIndex={0} onKeyDown={onKeyDown} data-testid={`ovpanel-${name}`} aria-label={`${name} slice panel`}>
      {overlays.map((o) => (
        <OverlayImage key={o.key} url={o.visible && cw > 0 ? o.url(axis, levelIndex, level) : null}
          onImage={(img, loading, error) => setOv((s) => (s[o.key]?.img === img && s[o.key]?.loading === loading && s[o.key]?.error === error ? s : { ...s, [o.key]: { img, loading, error } }))} />
      ))}
      <div className="panel-head">
        <span className="title">{name}</span>
        <input type="range" min={0} max={n - 1} value={index} aria-label={`${name} slice index`} data-testid={`ovslider-${name}`} onChange={(e) => setIndex(Number(e.target.value))} />
        <span className="num" data-testid={`ovindex-${name}`}>{index} / {n}</span>
        <button type="button" title="Fit the slice to the panel (or double-click it)" onClick={() => setView(FIT_VIEW)}>Fit</button>
      </div>
      <div className="panel-canvas" ref={boxRef} style={{ height }}
        onPointerDown={onPointerDown} onPointerMove={onPointerMove} onPointerUp={onPointerUp} onDoubleClick={() => setView(FIT_VIEW)}>
        <canvas ref={canvasRef} data-testid={`ovcanvas-${name}`} data-overlays={overlays.filter((o) => o.visible && ov[o.key]?.img).map((o) => o.key).join(',')} />
        <div className="overlay-text">{axis} = {posUm.toFixed(1)} µm · level {level}</div>
        {(base.loading || ovLoading) && <div className="loading">{ovLoading ? 'computing overlay…' : 'loading…'}</div>}
        {(base.error || ovError) && <div className="loading" style={{ color: '#f28b82' }}>{base.error ?? ovError}</div>}
      </div>
    </div>
  );
}
