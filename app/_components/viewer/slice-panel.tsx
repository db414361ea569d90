'use client';
/**
 * One orthogonal slice panel (XY, XZ or YZ) of a volume: a canvas showing the slice PNG from the
 * slice route handler, a slider and keyboard stepping through slices, wheel zoom, drag pan, and a
 * crosshair at the shared cursor. A click (no drag) moves the cursor, which moves the other
 * panels' slices.
 */
import { useEffect, useRef, useState } from 'react';
import {
  FIT_VIEW, KEY_STEP, cursorAtPointer, cursorWithIndex, devicePixelRatio, drawCrosshair, drawScaleBar, drawSliceImage,
  sliceLayout, type SliceAxis, type Vec3, type ViewState,
} from './slice-geometry';
import { useElementSize } from './use-element-size';
import { useLatestImage } from './use-latest-image';
import { prepareCanvas, useDragPan, useWheelZoom } from './pan-zoom';

export interface SlicePanelProps {
  axis: SliceAxis;
  /** level-0 shape and spacing, (z, y, x); spacing in µm */
  shape: Vec3;
  spacing: Vec3;
  /** shared cursor, level-0 voxel index (z, y, x) */
  cursor: Vec3;
  onCursor: (c: Vec3) => void;
  levelShapes: Vec3[];
  /** URL of the slice PNG; `index` is in the given level's voxels */
  sliceUrl: (axis: SliceAxis, index: number, level: number) => string;
}

export function SlicePanel({ axis, shape, spacing, cursor, onCursor, levelShapes, sliceUrl }: SlicePanelProps) {
  const boxRef = useRef<HTMLDivElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const { width: cw, height: ch } = useElementSize(boxRef);
  const [view, setView] = useState<ViewState>(FIT_VIEW);

  const dpr = devicePixelRatio();
  const { d, h, v, name, n, index, wUm, hUm, place, level, levelIndex } = sliceLayout(axis, shape, spacing, cursor, levelShapes, cw, ch, view, dpr);
  const url = cw > 0 ? sliceUrl(axis, levelIndex, level) : null;
  const { image, loadedUrl, loading, error } = useLatestImage(url);

  const setIndex = (i: number) => onCursor(cursorWithIndex(cursor, d, i, n));

  // Draw: image scaled to its physical extent (µm stay square), then the crosshair.
  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas || !place) return;
    const ctx = prepareCanvas(canvas, cw, ch, dpr);
    const iw = wUm * place.scale;
    const ih = hUm * place.scale;
    if (image) drawSliceImage(ctx, image, place, iw, ih, dpr);
    drawCrosshair(ctx, place, iw, ih, cursor, spacing, h, v);
    drawScaleBar(ctx, cw, ch, place.scale);
  }, [image, place?.scale, place?.ox, place?.oy, cw, ch, dpr, cursor, h, v, spacing, wUm, hUm]); // eslint-disable-line react-hooks/exhaustive-deps

  useWheelZoom(boxRef, setView);

  const { onPointerDown, onPointerMove, onPointerUp } = useDragPan(view, setView, (e) => {
    const c = place && cursorAtPointer(e, boxRef.current!, place, cursor, shape, spacing, h, v);
    if (c) onCursor(c);
  });

  function onKeyDown(e: React.KeyboardEvent) {
    // The range input steps itself with arrows; only handle keys aimed at the panel.
    if ((e.target as HTMLElement).tagName === 'INPUT') return;
    const step = KEY_STEP[e.key];
    if (step === undefined) return;
    e.preventDefault();
    setIndex(index + step);
  }

  const posUm = (index + 0.5) * spacing[d];
  return (
    <div className="panel" tabIndex={0} onKeyDown={onKeyDown} data-testid={`panel-${name}`} aria-label={`${name} slice panel`}>
      <div className="panel-head">
        <span className="title">{name}</span>
        <span className="num">{axis}</span>
        <input
          type="range" min={0} max={n - 1} value={index} aria-label={`${name} slice index`}
          data-testid={`slider-${name}`} onChange={(e) => setIndex(Number(e.target.value))}
        />
        <span className="num" data-testid={`index-${name}`} title="voxel index / number of slices">{index} / {n}</span>
        <button type="button" title="Fit the slice to the panel (or double-click it)" onClick={() => setView(FIT_VIEW)}>Fit</button>
      </div>
      <div
        className="panel-canvas" ref={boxRef}
        onPointerDown={onPointerDown} onPointerMove={onPointerMove} onPointerUp={onPointerUp}
        onDoubleClick={() => setView(FIT_VIEW)}
      >
        <canvas ref={canvasRef} data-testid={`canvas-${name}`} data-level={level} data-src={loadedUrl ?? ""} />
        <div className="overlay-text">
          {axis} = {posUm.toFixed(1)} µm · level {level} · {(view.zoom * 100).toFixed(0)} %
        </div>
        {loading && <div className="loading">loading…</div>}
        {error && <div className="loading" style={{ color: '#f28b82' }}>{error}</div>}
      </div>
    </div>
  );
}
