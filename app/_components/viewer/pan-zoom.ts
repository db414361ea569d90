/**
 * Zoom and pan shared by every image panel (slice viewer, EDS map, Correlate stages, results
 * overlays, paint panels): a non-passive wheel listener (so the page does not scroll) that zooms
 * about the pointer, and a canvas prepared for the device pixel ratio on a black surround.
 */
import { useEffect, useRef, type Dispatch, type RefObject, type SetStateAction } from 'react';
import { zoomAt, type ViewState } from './slice-geometry';

export function useWheelZoom(boxRef: RefObject<HTMLElement | null>, setView: Dispatch<SetStateAction<ViewState>>) {
  useEffect(() => {
    const el = boxRef.current;
    if (!el) return;
    const onWheel = (e: WheelEvent) => {
      e.preventDefault();
      const r = el.getBoundingClientRect();
      setView((vs) => zoomAt(vs, Math.exp(-e.deltaY * 0.0015), e.clientX - r.left, e.clientY - r.top, r.width, r.height));
    };
    el.addEventListener('wheel', onWheel, { passive: false });
    return () => el.removeEventListener('wheel', onWheel);
  }, []); // eslint-disable-line react-hooks/exhaustive-deps
}

/** Size the canvas for a cw x ch CSS-pixel box at the device pixel ratio, clear it to black. */
export function prepareCanvas(canvas: HTMLCanvasElement, cw: number, ch: number, dpr: number): CanvasRenderingContext2D {
  canvas.width = Math.round(cw * dpr);
  canvas.height = Math.round(ch * dpr);
  const ctx = canvas.getContext('2d')!;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, cw, ch);
  return ctx;
}

/**
 * Drag to pan (after 4 px of movement), click otherwise: pointer handlers for a panel whose click
 * does something (move the crosshair, ...).
 */
export function useDragPan(view: ViewState, setView: Dispatch<SetStateAction<ViewState>>, onClick: (e: React.PointerEvent) => void) {
  const drag = useRef<{ x: number; y: number; panX: number; panY: number; moved: boolean } | null>(null);
  return {
    onPointerDown(e: React.PointerEvent) {
      (e.currentTarget as Element).setPointerCapture(e.pointerId);
      drag.current = { x: e.clientX, y: e.clientY, panX: view.panX, panY: view.panY, moved: false };
    },
    onPointerMove(e: React.PointerEvent) {
      const g = drag.current;
      if (!g) return;
      const dx = e.clientX - g.x;
      const dy = e.clientY - g.y;
      if (!g.moved && Math.hypot(dx, dy) < 4) return;
      g.moved = true;
      setView((vs) => ({ ...vs, panX: g.panX + dx, panY: g.panY + dy }));
    },
    onPointerUp(e: React.PointerEvent) {
      const g = drag.current;
      drag.current = null;
      if (g && !g.moved) onClick(e);
    },
  };
}
