'use client';
/**
 * A 2D image on a dark canvas with wheel zoom, drag pan and double-click fit, kept at its
 * physical aspect (µm square). Reports the image pixel under the pointer so callers can show
 * what is there (mineral name, grey value).
 */
import { useEffect, useRef, useState } from 'react';
import { FIT_VIEW, drawScaleBar, placeImage, type ViewState } from '../viewer/slice-geometry';
import { useElementSize } from '../viewer/use-element-size';
import { useLatestImage } from '../viewer/use-latest-image';
import { prepareCanvas, useWheelZoom } from '../viewer/pan-zoom';

interface Props {
  url: string;
  /** image size in its own pixels and the size of one pixel, µm */
  width: number;
  height: number;
  pixelSizeUm: number;
  /** alpha 0: a transparent pixel (an EDS map's "not measured" area) */
  onHover?: (px: { u: number; v: number; rgb: [number, number, number]; alpha: number } | null) => void;
  className?: string;
  testId?: string;
}

/** Two light greys in 45° stripes (the "not measured" swatch of the legend and the preview PNG). */
function hatchPattern(ctx: CanvasRenderingContext2D): CanvasPattern | null {
  const t = document.createElement('canvas');
  t.width = t.height = 8;
  const g = t.getContext('2d');
  if (!g) return null;
  for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) {
    g.fillStyle = ((x + y) >> 2) & 1 ? '#cdcdcd' : '#ececec';
    g.fillRect(x, y, 1, 1);
  }
  return ctx.createPattern(t, 'repeat');
}

export function ImagePanel({ url, width, height, pixelSizeUm, onHover, className, testId }: Props) {
  const boxRef = useRef<HTMLDivElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const pick = useRef<CanvasRenderingContext2D | null>(null);
  const { width: cw, height: ch } = useElementSize(boxRef);
  const [view, setView] = useState<ViewState>(FIT_VIEW);
  const drag = useRef<{ x: number; y: number; panX: number; panY: number } | null>(null);
  const { image, loadedUrl, error } = useLatestImage(url);
  const place = cw > 0 ? placeImage(cw, ch, width * pixelSizeUm, height * pixelSizeUm, view) : null;

  // An offscreen copy at native resolution to read the pixel under the pointer.
  useEffect(() => {
    if (!image) return;
    const c = document.createElement('canvas');
    c.width = image.naturalWidth;
    c.height = image.naturalHeight;
    const ctx = c.getContext('2d', { willReadFrequently: true })!;
    ctx.drawImage(image, 0, 0);
    pick.current = ctx;
  }, [image]);

  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas || !place) return;
    const dpr = window.devicePixelRatio || 1;
    const ctx = prepareCanvas(canvas, cw, ch, dpr);
    if (!image) return;
    const iw = width * pixelSizeUm * place.scale;
    // Label maps must never be interpolated: a blend of two mineral colours is a third mineral.
    ctx.imageSmoothingEnabled = false;
    // transparent map pixels (an EDS map's "not measured" area) show a light hatch, as in the legend
    const ih = height * pixelSizeUm * place.scale;
    const hatch = hatchPattern(ctx);
    if (hatch) {
      ctx.fillStyle = hatch;
      ctx.fillRect(place.ox, place.oy, iw, ih);
    }
    ctx.drawImage(image, place.ox, place.oy, iw, ih);
    drawScaleBar(ctx, cw, ch, place.scale);
  }, [image, place?.scale, place?.ox, place?.oy, cw, ch, width, height, pixelSizeUm]); // eslint-disable-line react-hooks/exhaustive-deps

  useWheelZoom(boxRef, setView);

  function hover(e: React.PointerEvent) {
    if (!onHover || !place || !image || !pick.current) return;
    const r = boxRef.current!.getBoundingClientRect();
    const u = Math.floor(((e.clientX - r.left - place.ox) / place.scale / pixelSizeUm) * (image.naturalWidth / width));
    const v = Math.floor(((e.clientY - r.top - place.oy) / place.scale / pixelSizeUm) * (image.naturalHeight / height));
    if (u < 0 || v < 0 || u >= image.naturalWidth || v >= image.naturalHeight) return onHover(null);
    const d = pick.current.getImageData(u, v, 1, 1).data;
    onHover({ u, v, rgb: [d[0]!, d[1]!, d[2]!], alpha: d[3]! });
  }

  return (
    <div
      className={`panel-canvas ${className ?? ''}`} ref={boxRef} style={{ cursor: 'grab' }}
      onPointerDown={(e) => {
        (e.currentTarget as Element).setPointerCapture(e.pointerId);
        drag.current = { x: e.clientX, y: e.clientY, panX: view.panX, panY: view.panY };
      }}
      onPointerMove={(e) => {
        const g = drag.current;
        if (g) setView((vs) => ({ ...vs, panX: g.panX + e.clientX - g.x, panY: g.panY + e.clientY - g.y }));
        else hover(e);
      }}
      onPointerUp={() => (drag.current = null)}
      onPointerLeave={() => onHover?.(null)}
      onDoubleClick={() => setView(FIT_VIEW)}
    >
      <canvas ref={canvasRef} data-testid={testId} data-src={loadedUrl ?? ''} />
      <div className="overlay-text">
        {width} × {height} px · {+pixelSizeUm.toPrecision(4)} µm/px · {(view.zoom * 100).toFixed(0)} %
      </div>
      {error && <div className="loading" style={{ color: '#f28b82' }}>{error}</div>}
    </div>
  );
}
