'use client';
/**
 * A slice panel of the viewer (same geometry, pyramid level choice, zoom/pan, crosshair and
 * keyboard stepping as viewer/slice-panel) with image overlays drawn over the grey slice:
 * predicted classes, the model preview, uncertainty. Overlays are drawn at the slice's physical
 * extent whatever their pixel size.
 */
import { useEffect, useRef, useState } from 'react';
import {
  FIT_VIEW, KEY_STEP, cursorAtPointer, cursorWithIndex, devicePixelRatio, drawCrosshair, drawScaleBar, drawSliceImage,
  sliceLayout, type SliceAxis, type Vec3, type ViewState,
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
  /**
   * Draw only the image of the slice in view: an overlay that takes long to compute (the model
   * preview) is not left over another slice meanwhile (its colours would not belong there).
   */
  exact?: boolean;
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
  /** what the panel says while an overlay is being computed (default 'computing overlay…') */
  loadingText?: string;
}

type OverlayState = { img: HTMLImageElement | null; loading: boolean; error: string | null; loadedUrl: string | null };

function OverlayImage({ url, onImage }: { url: string | null; onImage: (s: OverlayState) => void }) {
  const r = useLatestImage(url);
  useEffect(() => onImage({ img: url ? r.image : null, loading: r.loading, error: r.error, loadedUrl: url ? r.loadedUrl : null }), [r.image, r.loading, r.error, r.loadedUrl, url]); // eslint-disable-line react-hooks/exhaustive-deps
  return null;
}

export function OverlayPanel({ axis, shape, spacing, cursor, onCursor, levelShapes, sliceUrl, overlays, height = 300, onKey, loadingText = 'computing overlay…' }: OverlayPanelProps) {
  const boxRef = useRef<HTMLDivElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const { width: cw, height: ch } = useElementSize(boxRef);
  const [view, setView] = useState<ViewState>(FIT_VIEW);
  const [ov, setOv] = useState<Record<string, OverlayState>>({});

  const dpr = devicePixelRatio();
  const { d, h, v, name, n, index, wUm, hUm, place, level, levelIndex } = sliceLayout(axis, shape, spacing, cursor, levelShapes, cw, ch, view, dpr);
  const url = cw > 0 ? sliceUrl(axis, levelIndex, level) : null;
  const base = useLatestImage(url);

  const setIndex = (i: number) => onCursor(cursorWithIndex(cursor, d, i, n));

  // the overlays drawn: visible, loaded, and (exact ones) of the slice in view
  const shown = (o: Overlay) => o.visible && !!ov[o.key]?.img && (!o.exact || ov[o.key]!.loadedUrl === o.url(axis, levelIndex, level));
  const ovKey = overlays.map((o) => `${o.key}:${shown(o) ? 1 : 0}:${o.opacity}:${ov[o.key]?.img?.src ?? ''}`).join('|');
  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas || !place) return;
    const ctx = prepareCanvas(canvas, cw, ch, dpr);
    const iw = wUm * place.scale;
    const ih = hUm * place.scale;
    if (base.image) drawSliceImage(ctx, base.image, place, iw, ih, dpr);
    for (const o of overlays) {
      const img = ov[o.key]?.img;
      if (!img || !shown(o)) continue;
      ctx.globalAlpha = o.opacity;
      ctx.imageSmoothingEnabled = false;
      ctx.drawImage(img, place.ox, place.oy, iw, ih);
      ctx.globalAlpha = 1;
    }
    drawCrosshair(ctx, place, iw, ih, cursor, spacing, h, v);
    drawScaleBar(ctx, cw, ch, place.scale);
  }, [base.image, ovKey, place?.scale, place?.ox, place?.oy, cw, ch, dpr, cursor, h, v, spacing, wUm, hUm]); // eslint-disable-line react-hooks/exhaustive-deps

  useWheelZoom(boxRef, setView);

  const { onPointerDown, onPointerMove, onPointerUp } = useDragPan(view, setView, (e) => {
    const c = place && cursorAtPointer(e, boxRef.current!, place, cursor, shape, spacing, h, v);
    if (c) onCursor(c);
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
          onImage={(n) => setOv((s) => {
            const c = s[o.key];
            return c && c.img === n.img && c.loading === n.loading && c.error === n.error && c.loadedUrl === n.loadedUrl ? s : { ...s, [o.key]: n };
          })} />
      ))}
      <div className="panel-head">
        <span className="title">{name}</span>
        <input type="range" min={0} max={n - 1} value={index} aria-label={`${name} slice index`} data-testid={`ovslider-${name}`} onChange={(e) => setIndex(Number(e.target.value))} />
        <span className="num" data-testid={`ovindex-${name}`}>{index} / {n}</span>
        <button type="button" title="Fit the slice to the panel (or double-click it)" onClick={() => setView(FIT_VIEW)}>Fit</button>
      </div>
      <div className="panel-canvas" ref={boxRef} style={{ height }}
        onPointerDown={onPointerDown} onPointerMove={onPointerMove} onPointerUp={onPointerUp} onDoubleClick={() => setView(FIT_VIEW)}>
        <canvas ref={canvasRef} data-testid={`ovcanvas-${name}`} data-overlays={overlays.filter(shown).map((o) => o.key).join(',')} />
        <div className="overlay-text">{axis} = {posUm.toFixed(1)} µm · level {level}</div>
        {(base.loading || ovLoading) && <div className="loading" data-testid={`ovloading-${name}`}>{ovLoading ? loadingText : 'loading…'}</div>}
        {(base.error || ovError) && <div className="loading" style={{ color: '#f28b82' }}>{base.error ?? ovError}</div>}
      </div>
    </div>
  );
}
