'use client';
/**
 * One orthogonal slice panel of the Multi-scale step (the geometry, pyramid level choice, zoom/pan,
 * crosshair and scale bar of viewer/slice-geometry, as the other steps' panels): the grey slice,
 * an optional data layer (raw values of the same slice, coloured here, with a read-out under the
 * pointer) and 3D boxes (interior footprints, given by their corners in voxel-index coordinates of
 * this volume) outlined where the slice cuts them. Click moves the crosshair; drag pans; wheel zooms.
 */
import { useEffect, useMemo, useRef, useState } from 'react';
import {
  FIT_VIEW, KEY_STEP, cursorAtPointer, cursorWithIndex, devicePixelRatio, drawCrosshair, drawScaleBar, drawSliceImage,
  sliceLayout, voxelAtPointer, type SliceAxis, type Vec3, type ViewState,
} from '@/app/_components/viewer/slice-geometry';
import { useElementSize } from '@/app/_components/viewer/use-element-size';
import { useLatestImage } from '@/app/_components/viewer/use-latest-image';
import { prepareCanvas, useDragPan, useWheelZoom } from '@/app/_components/viewer/pan-zoom';
import { paintDisc, paintLine } from '@/app/_components/annotate/paint-ops';

/** A box in voxel-index coordinates (voxel centres at integers; a whole voxel spans ±0.5). */
export interface Box3D { corners: Vec3[]; color: string; dashed?: boolean; label?: string; testId?: string }

/** Raw values of one slice (level 0), coloured by `rgba`, read out by `readout` under the pointer. */
export interface SliceLayer<D extends { width: number; height: number }> {
  /** changes when what is loaded changes (another run, another volume) */
  key: string;
  load: (axis: SliceAxis, index: number, signal: AbortSignal) => Promise<D>;
  /** changes when the colouring changes (threshold, channel): recoloured without loading again */
  styleKey: string;
  rgba: (d: D) => Uint8ClampedArray<ArrayBuffer>;
  readout?: (d: D, u: number, v: number) => string | null;
  opacity?: number;
}

/** Painting on the layer: left button paints `code` (0 erases) into `target(d)`; the slice is saved when the stroke ends. */
export interface SlicePaint<D> {
  code: number;
  radius: number;
  target: (d: D) => Uint8Array;
  /** `before`: the painted layer as it was when the stroke began (the save sends only what changed) */
  save: (axis: SliceAxis, index: number, d: D, before: Uint8Array) => Promise<void>;
}

export interface MsSlicePanelProps<D extends { width: number; height: number }> {
  axis: SliceAxis;
  shape: Vec3;
  spacing: Vec3;
  levelShapes: Vec3[];
  cursor: Vec3;
  onCursor: (c: Vec3) => void;
  greyUrl: (axis: SliceAxis, index: number, level: number) => string | null;
  layer?: SliceLayer<D>;
  boxes?: Box3D[];
  height?: number;
  testId: string;
  /** set: left drag paints instead of moving the crosshair (right/middle drag still pans) */
  paint?: SlicePaint<D> | null;
}

/** Convex hull (monotone chain) of 2D points. */
function hull(p: [number, number][]): [number, number][] {
  const s = [...p].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const cross = (o: number[], a: number[], b: number[]) => (a[0]! - o[0]!) * (b[1]! - o[1]!) - (a[1]! - o[1]!) * (b[0]! - o[0]!);
  const half = (pts: [number, number][]) => {
    const h: [number, number][] = [];
    for (const q of pts) {
      while (h.length >= 2 && cross(h[h.length - 2]!, h[h.length - 1]!, q) <= 1e-9) h.pop();
      h.push(q);
    }
    return h.slice(0, -1);
  };
  return [...half(s), ...half([...s].reverse())];
}

export function MsSlicePanel<D extends { width: number; height: number }>(p: MsSlicePanelProps<D>) {
  const { axis, shape, spacing, cursor, levelShapes, layer } = p;
  const boxRef = useRef<HTMLDivElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const { width: cw, height: ch } = useElementSize(boxRef);
  const [view, setView] = useState<ViewState>(FIT_VIEW);
  const [data, setData] = useState<{ key: string; d: D } | null>(null);
  const [layerError, setLayerError] = useState<string | null>(null);
  const [hover, setHover] = useState<[number, number] | null>(null);
  const [painted, setPainted] = useState(0);
  const stroke = useRef<{ last: [number, number]; before: Uint8Array } | null>(null);
  const dpr = devicePixelRatio();
  const { d, h, v, name, n, index, wUm, hUm, place, level, levelIndex } = sliceLayout(axis, shape, spacing, cursor, levelShapes, cw, ch, view, dpr);
  const base = useLatestImage(cw > 0 ? p.greyUrl(axis, levelIndex, level) : null);
  const dataKey = layer ? `${layer.key}:${axis}:${index}` : null;

  useEffect(() => {
    if (!layer || !dataKey) return;
    const ac = new AbortController();
    layer.load(axis, index, ac.signal)
      .then((r) => { setData({ key: dataKey, d: r }); setLayerError(null); })
      .catch((e: Error) => !ac.signal.aborted && setLayerError(e.message));
    return () => ac.abort();
  }, [dataKey]); // eslint-disable-line react-hooks/exhaustive-deps

  const layerCanvas = useMemo(() => {
    if (!layer || !data) return null;
    const c = document.createElement('canvas');
    c.width = data.d.width;
    c.height = data.d.height;
    c.getContext('2d')!.putImageData(new ImageData(layer.rgba(data.d), data.d.width, data.d.height), 0, 0);
    return c;
  }, [data, layer?.styleKey, painted]); // eslint-disable-line react-hooks/exhaustive-deps

  // the boxes this slice (voxel `index`, spanning index ± 0.5) cuts
  const cut = (p.boxes ?? []).filter((b) => {
    const along = b.corners.map((c) => c[d]);
    return index + 0.5 > Math.min(...along) && index - 0.5 < Math.max(...along);
  });
  const boxKey = JSON.stringify(cut);
  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas || !place) return;
    const ctx = prepareCanvas(canvas, cw, ch, dpr);
    const iw = wUm * place.scale, ih = hUm * place.scale;
    if (base.image) drawSliceImage(ctx, base.image, place, iw, ih, dpr);
    if (layerCanvas) {
      ctx.globalAlpha = layer?.opacity ?? 1;
      ctx.imageSmoothingEnabled = false;
      ctx.drawImage(layerCanvas, place.ox, place.oy, iw, ih);
      ctx.globalAlpha = 1;
    }
    const sx = (u: number) => place.ox + (u + 0.5) * spacing[h] * place.scale;
    const sy = (w: number) => place.oy + (w + 0.5) * spacing[v] * place.scale;
    ctx.font = '11px ui-monospace, monospace';
    for (const b of cut) {
      const poly = hull(b.corners.map((c) => [sx(c[h]), sy(c[v])] as [number, number]));
      if (poly.length < 2) continue;
      ctx.beginPath();
      poly.forEach(([x, y], i) => (i ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
      ctx.closePath();
      ctx.setLineDash(b.dashed ? [5, 4] : []);
      ctx.strokeStyle = 'rgba(0,0,0,0.8)';
      ctx.lineWidth = 4;
      ctx.stroke();
      ctx.strokeStyle = b.color;
      ctx.lineWidth = 2;
      ctx.stroke();
      if (b.label) {
        const top = poly.reduce((a, q) => (q[1] < a[1] || (q[1] === a[1] && q[0] < a[0]) ? q : a));
        ctx.fillStyle = '#fff';
        ctx.shadowColor = '#000';
        ctx.shadowBlur = 3;
        // keep the label inside the panel
        const tx = Math.max(2, Math.min(top[0] + 3, cw - ctx.measureText(b.label).width - 4)), ty = Math.max(12, top[1] - 4);
        ctx.fillText(b.label, tx, ty);
        ctx.shadowBlur = 0;
      }
    }
    drawCrosshair(ctx, place, iw, ih, cursor, spacing, h, v);
    drawScaleBar(ctx, cw, ch, place.scale);
  }, [base.image, layerCanvas, boxKey, place?.scale, place?.ox, place?.oy, cw, ch, dpr, cursor, h, v, d, index, spacing, wUm, hUm]); // eslint-disable-line react-hooks/exhaustive-deps

  useWheelZoom(boxRef, setView);
  const drag = useDragPan(view, setView, (e) => {
    const c = place && cursorAtPointer(e, boxRef.current!, place, cursor, shape, spacing, h, v);
    if (c) p.onCursor(c);
  });
  function onPointerDown(e: React.PointerEvent) {
    const t = data?.key === dataKey ? data?.d : undefined;
    if (p.paint && e.button === 0 && place && t) {
      (e.currentTarget as Element).setPointerCapture(e.pointerId);
      const [u, w] = voxelAtPointer(e, boxRef.current!, place, spacing, h, v);
      const before = p.paint.target(t).slice();
      paintDisc(p.paint.target(t), t.width, t.height, u, w, p.paint.radius, p.paint.code);
      stroke.current = { last: [u, w], before };
      setPainted((x) => x + 1);
      return;
    }
    drag.onPointerDown(e);
  }
  function onPointerMove(e: React.PointerEvent) {
    if (!place) return;
    const at = voxelAtPointer(e, boxRef.current!, place, spacing, h, v);
    setHover(at);
    const t = data?.d;
    if (stroke.current && p.paint && t) {
      paintLine(p.paint.target(t), t.width, t.height, ...stroke.current.last, ...at, p.paint.radius, p.paint.code);
      stroke.current.last = at;
      setPainted((x) => x + 1);
      return;
    }
    drag.onPointerMove(e);
  }
  function onPointerUp(e: React.PointerEvent) {
    if (stroke.current && p.paint && data) {
      const { before } = stroke.current;
      stroke.current = null;
      void p.paint.save(axis, index, data.d, before);
      return;
    }
    drag.onPointerUp(e);
  }
  function onKeyDown(e: React.KeyboardEvent) {
    const step = KEY_STEP[e.key];
    if (step === undefined) return;
    e.preventDefault();
    p.onCursor(cursorWithIndex(cursor, d, index + step, n));
  }

  const inside = hover && hover[0] >= 0 && hover[1] >= 0 && hover[0] < shape[h] && hover[1] < shape[v];
  const readout = inside && layer?.readout && data?.key === dataKey ? layer.readout(data.d, hover[0], hover[1]) : null;
  const names = ['z', 'y', 'x'];
  return (
    <div className="panel" tabIndex={0} onKeyDown={onKeyDown} data-testid={`${p.testId}-${name}`} aria-label={`${name} slice panel`}>
      <div className="panel-head">
        <span className="title">{name}</span>
        <input type="range" min={0} max={n - 1} value={index} aria-label={`${name} slice index`} onChange={(e) => p.onCursor(cursorWithIndex(cursor, d, Number(e.target.value), n))} />
        <span className="num">{index} / {n}</span>
        <button type="button" title="Fit the slice to the panel (or double-click it)" onClick={() => setView(FIT_VIEW)}>Fit</button>
      </div>
      <div className="panel-canvas" ref={boxRef} style={{ height: p.height ?? 240 }}
        onPointerDown={onPointerDown} onPointerMove={onPointerMove} onPointerUp={onPointerUp} onContextMenu={(e) => p.paint && e.preventDefault()} onPointerLeave={() => setHover(null)}
        onDoubleClick={() => setView(FIT_VIEW)}>
        <canvas ref={canvasRef} data-testid={`${p.testId}-canvas-${name}`} data-layer={layerCanvas ? 'yes' : 'no'}
          data-boxes={cut.map((b) => b.testId ?? '').filter(Boolean).join(',')} />
        <div className="overlay-text" data-testid={`${p.testId}-readout-${name}`}>
          {inside ? `${names[h]} ${hover[0]}, ${names[v]} ${hover[1]}${readout ? ` · ${readout}` : ''}` : `${axis} = ${index}`}
        </div>
        {base.loading && <div className="loading">loading…</div>}
        {(base.error || layerError) && <div className="loading" style={{ color: '#f28b82' }}>{base.error ?? layerError}</div>}
      </div>
    </div>
  );
}
