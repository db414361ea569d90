'use client';
/**
 * One Correlate panel: an image (EDS map or surface slab) with wheel zoom, drag pan and
 * double-click fit (the viewer's slice-geometry), numbered landmark markers that can be dragged,
 * a click-to-pick callback, and optionally a second image composed on top (the EDS map warped
 * onto the slab): blend, swipe, checkerboard or outlines.
 *
 * Markers and the swipe divider are DOM elements over the canvas so they stay crisp and can be
 * grabbed; images are drawn unsmoothed (label colours must not mix into a third mineral).
 */
import { useEffect, useRef, useState, type ReactNode } from 'react';
import { FIT_VIEW, drawScaleBar, placeImage, type ViewState } from '../viewer/slice-geometry';
import { useElementSize } from '../viewer/use-element-size';
import { useLatestImage } from '../viewer/use-latest-image';
import type { Pt, Side } from './landmarks';
import { checkerTiles, imageToScreen, insideImage, screenToImage, type OverlayMode } from './overlay';
import { prepareCanvas, useWheelZoom } from '../viewer/pan-zoom';

export interface StageMarker {
  /** index of the pair in the pair list (number shown = index + 1) */
  index: number;
  pt: Pt;
  color: string;
  /** the pair still waits for its match on the other image */
  pending?: boolean;
  high?: boolean;
}

export interface StageOverlay {
  url: string;
  mode: OverlayMode;
  /** blend opacity 0..1 */
  alpha: number;
  /** swipe divider, fraction of the image width (EDS shown left of it) */
  swipe: number;
  /** checkerboard tile, image pixels */
  tile: number;
}

interface Props {
  width: number;
  height: number;
  pixelSizeUm: number;
  url: string | null;
  overlay?: StageOverlay | null;
  markers?: StageMarker[];
  /** prefix of the markers' test ids: `lm-<side>-<n>` */
  side?: Side;
  onPick?: (pt: Pt) => void;
  onMarkerDragStart?: (index: number) => void;
  onMarkerMove?: (index: number, pt: Pt) => void;
  onSwipe?: (fraction: number) => void;
  /** image pixel under the pointer and its colour in the base image (null when outside) */
  /** alpha 0: a transparent pixel (an EDS map's "not measured" area) */
  onHover?: (px: { u: number; v: number; rgb: [number, number, number]; alpha: number } | null) => void;
  testId: string;
  className?: string;
  caption?: ReactNode;
}

export function ImageStage(p: Props) {
  const { width, height, pixelSizeUm, overlay } = p;
  const boxRef = useRef<HTMLDivElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const { width: cw, height: ch } = useElementSize(boxRef);
  const [view, setView] = useState<ViewState>(FIT_VIEW);
  const drag = useRef<{ x: number; y: number; panX: number; panY: number; moved: boolean } | null>(null);
  const base = useLatestImage(p.url);
  const top = useLatestImage(overlay?.url ?? null);
  const topImage = overlay && top.loadedUrl ? top.image : null;
  const place = cw > 0 ? placeImage(cw, ch, width * pixelSizeUm, height * pixelSizeUm, view) : null;
  const pick = useRef<CanvasRenderingContext2D | null>(null);

  // An offscreen copy of the base image at native resolution, to read the pixel under the pointer.
  useEffect(() => {
    pick.current = null;
    if (!base.image || !p.onHover) return;
    const c = document.createElement('canvas');
    c.width = base.image.naturalWidth;
    c.height = base.image.naturalHeight;
    const ctx = c.getContext('2d', { willReadFrequently: true })!;
    ctx.drawImage(base.image, 0, 0);
    pick.current = ctx;
  }, [base.image]); // eslint-disable-line react-hooks/exhaustive-deps

  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas || !place) return;
    const dpr = window.devicePixelRatio || 1;
    const ctx = prepareCanvas(canvas, cw, ch, dpr);
    if (!base.image) return;
    const s = pixelSizeUm * place.scale; // CSS px per image pixel
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(base.image, place.ox, place.oy, width * s, height * s);
    if (overlay && topImage) {
      ctx.save();
      const x0 = place.ox, y0 = place.oy;
      if (overlay.mode === 'blend') ctx.globalAlpha = Math.max(0, Math.min(1, overlay.alpha));
      if (overlay.mode === 'swipe') {
        ctx.beginPath();
        ctx.rect(x0, y0, width * s * overlay.swipe, height * s);
        ctx.clip();
      }
      if (overlay.mode === 'checkerboard') {
        ctx.beginPath();
        for (const t of checkerTiles(width, height, overlay.tile)) ctx.rect(x0 + (t.x + 0.5) * s, y0 + (t.y + 0.5) * s, t.w * s, t.h * s);
        ctx.clip();
      }
      ctx.drawImage(topImage, x0, y0, width * s, height * s);
      ctx.restore();
    }
    drawScaleBar(ctx, cw, ch, place.scale);
  }, [base.image, topImage, overlay?.mode, overlay?.alpha, overlay?.swipe, overlay?.tile, place?.scale, place?.ox, place?.oy, cw, ch, width, height, pixelSizeUm]); // eslint-disable-line react-hooks/exhaustive-deps

  useWheelZoom(boxRef, setView);

  /** Image pixel under a client position. */
  const toImage = (clientX: number, clientY: number): Pt | null => {
    if (!place || !boxRef.current) return null;
    const r = boxRef.current.getBoundingClientRect();
    return screenToImage(place, pixelSizeUm, clientX - r.left, clientY - r.top);
  };
  const clampPt = (q: Pt): Pt => [Math.max(-0.5, Math.min(width - 0.5, q[0])), Math.max(-0.5, Math.min(height - 0.5, q[1]))];

  // Drags of a marker or of the swipe divider, tracked on the element that was grabbed.
  const grab = (e: React.PointerEvent, onMove: (q: Pt) => void, onStart?: () => void) => {
    if (e.button !== 0) return;
    e.stopPropagation();
    e.preventDefault();
    const el = e.currentTarget as HTMLElement;
    el.setPointerCapture(e.pointerId);
    onStart?.();
    const move = (ev: PointerEvent) => {
      const q = toImage(ev.clientX, ev.clientY);
      if (q) onMove(clampPt(q));
    };
    const up = () => {
      el.removeEventListener('pointermove', move);
      el.removeEventListener('pointerup', up);
      el.removeEventListener('pointercancel', up);
    };
    el.addEventListener('pointermove', move);
    el.addEventListener('pointerup', up);
    el.addEventListener('pointercancel', up);
  };

  const swipeX = place && overlay?.mode === 'swipe' ? place.ox + width * pixelSizeUm * place.scale * overlay.swipe : null;

  return (
    <div
      className={`panel-canvas stage ${p.onPick ? 'pickable' : ''} ${p.className ?? ''}`} ref={boxRef}
      data-testid={`${p.testId}-box`}
      data-image-rect={place ? [place.ox, place.oy, width * pixelSizeUm * place.scale, height * pixelSizeUm * place.scale].map((x) => x.toFixed(1)).join(',') : ''}
      onPointerDown={(e) => {
        if (e.button !== 0) return;
        (e.currentTarget as Element).setPointerCapture(e.pointerId);
        drag.current = { x: e.clientX, y: e.clientY, panX: view.panX, panY: view.panY, moved: false };
      }}
      onPointerMove={(e) => {
        const g = drag.current;
        if (!g) {
          if (!p.onHover) return;
          const q = toImage(e.clientX, e.clientY);
          const u = q ? Math.round(q[0]) : -1, v = q ? Math.round(q[1]) : -1;
          if (!pick.current || u < 0 || v < 0 || u >= width || v >= height) return p.onHover(null);
          const d = pick.current.getImageData(u, v, 1, 1).data;
          return p.onHover({ u, v, rgb: [d[0]!, d[1]!, d[2]!], alpha: d[3]! });
        }
        if (!g.moved && Math.hypot(e.clientX - g.x, e.clientY - g.y) < 4) return;
        g.moved = true;
        setView((vs) => ({ ...vs, panX: g.panX + e.clientX - g.x, panY: g.panY + e.clientY - g.y }));
      }}
      onPointerUp={(e) => {
        const g = drag.current;
        drag.current = null;
        if (!g || g.moved || !p.onPick) return;
        const q = toImage(e.clientX, e.clientY);
        if (q && insideImage(q, width, height)) p.onPick(q);
      }}
      onPointerLeave={() => p.onHover?.(null)}
      onDoubleClick={() => setView(FIT_VIEW)}
    >
      <canvas
        ref={canvasRef} data-testid={p.testId} data-src={base.loadedUrl ?? ''}
        data-overlay-src={overlay ? (top.loadedUrl ?? '') : ''}
      />
      {place && p.markers?.map((m) => {
        const [x, y] = imageToScreen(place, pixelSizeUm, m.pt[0], m.pt[1]);
        if (x < -20 || y < -20 || x > cw + 20 || y > ch + 20) return null;
        return (
          <div
            key={m.index} className={`lm-marker${m.pending ? ' pending' : ''}${m.high ? ' high' : ''}`}
            style={{ left: x, top: y, ['--c' as string]: m.color }}
            data-testid={p.side ? `lm-${p.side}-${m.index + 1}` : undefined}
            title={`Landmark ${m.index + 1}: u ${m.pt[0].toFixed(1)}, v ${m.pt[1].toFixed(1)} px${m.pending ? ' (click its match on the other image)' : ''} — drag to move`}
            onPointerDown={p.onMarkerMove ? (e) => grab(e, (q) => p.onMarkerMove!(m.index, q), () => p.onMarkerDragStart?.(m.index)) : undefined}
            onDoubleClick={(e) => e.stopPropagation()}
          >
            <span>{m.index + 1}</span>
          </div>
        );
      })}
      {swipeX != null && overlay && (
        <div
          className="swipe-divider" style={{ left: swipeX }} data-testid="swipe-divider" title="Drag to move the divider"
          onPointerDown={(e) => grab(e, (q) => p.onSwipe?.(Math.max(0, Math.min(1, (q[0] + 0.5) / width))))}
        />
      )}
      <div className="overlay-text">
        {p.caption ?? <>{width} × {height} px · {+pixelSizeUm.toPrecision(4)} µm/px</>} · {(view.zoom * 100).toFixed(0)} %
      </div>
      {base.error && <div className="loading" style={{ color: '#f28b82' }}>Could not load the image ({(p.url ?? '').split('?')[0]}).</div>}
      {!base.error && top.error && overlay && <div className="loading" style={{ color: '#f28b82' }}>No warped EDS map yet: register first.</div>}
      {base.loading && !base.image && <div className="loading">loading…</div>}
    </div>
  );
}
