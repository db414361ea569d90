'use client';
/**
 * Grey-value histogram with a draggable window (two handles). d3 computes the scales; React
 * renders the SVG. Counts are drawn on a sqrt scale so the sparse mineral peaks stay visible next
 * to the huge pore/air peak.
 */
import { scaleLinear, scaleSqrt } from 'd3';
import { useMemo, useRef, useState } from 'react';
import { formatValue } from '../format';
import type { HistogramData } from './histogram-stats';

export interface WindowRange {
  min: number;
  max: number;
}

interface Props {
  data: HistogramData;
  window: WindowRange;
  onChange: (w: WindowRange) => void;
  width?: number;
  height?: number;
}

const M = { top: 6, right: 10, bottom: 18, left: 10 };

export function Histogram({ data, window: win, onChange, width = 300, height = 110 }: Props) {
  const svgRef = useRef<SVGSVGElement>(null);
  const [drag, setDrag] = useState<null | 'min' | 'max'>(null);
  const innerW = width - M.left - M.right;
  const innerH = height - M.top - M.bottom;

  const { x, y, bw } = useMemo(() => {
    const x = scaleLinear().domain([data.lo, data.hi]).range([0, innerW]);
    const y = scaleSqrt().domain([0, Math.max(1, ...data.counts)]).range([innerH, 0]);
    return { x, y, bw: innerW / data.counts.length };
  }, [data, innerW, innerH]);

  const ticks = x.ticks(5);

  function valueAt(clientX: number): number {
    const rect = svgRef.current!.getBoundingClientRect();
    const px = ((clientX - rect.left) / rect.width) * width - M.left;
    return x.invert(Math.max(0, Math.min(innerW, px)));
  }

  function onPointerMove(e: React.PointerEvent) {
    if (!drag) return;
    const v = valueAt(e.clientX);
    // Keep min < max: a handle dragged past the other stops just short of it.
    const eps = (data.hi - data.lo) / 1000;
    if (drag === 'min') onChange({ min: Math.min(v, win.max - eps), max: win.max });
    else onChange({ min: win.min, max: Math.max(v, win.min + eps) });
  }

  const handle = (which: 'min' | 'max', value: number) => {
    const hx = Math.max(0, Math.min(innerW, x(value)));
    return (
      <g
        key={which}
        data-testid={`hist-${which}`}
        onPointerDown={(e) => {
          (e.target as Element).setPointerCapture?.(e.pointerId);
          setDrag(which);
        }}
      >
        <line className="handle" x1={hx} x2={hx} y1={0} y2={innerH} />
        <rect className="handle-grip" x={hx - 4} y={which === 'min' ? innerH - 12 : 0} width={8} height={12} rx={2} />
        <rect x={hx - 6} y={0} width={12} height={innerH} fill="transparent" style={{ cursor: 'ew-resize' }} />
      </g>
    );
  };

  return (
    <div className="histogram">
      <svg
        ref={svgRef}
        width={width}
        height={height}
        onPointerMove={onPointerMove}
        onPointerUp={() => setDrag(null)}
        onPointerLeave={() => setDrag(null)}
        role="img"
        aria-label="Grey-value histogram with display window"
      >
        <g transform={`translate(${M.left},${M.top})`}>
          <rect
            className="win"
            x={Math.max(0, x(win.min))}
            width={Math.max(0, Math.min(innerW, x(win.max)) - Math.max(0, x(win.min)))}
            y={0}
            height={innerH}
          />
          {data.counts.map((c, i) => (
            <rect key={i} className="bar" x={i * bw} width={Math.max(0.5, bw - 0.3)} y={y(c)} height={innerH - y(c)} />
          ))}
          <g className="axis" transform={`translate(0,${innerH})`}>
            <line x1={0} x2={innerW} y1={0} y2={0} />
            {ticks.map((t) => (
              <g key={t} transform={`translate(${x(t)},0)`}>
                <line y2={3} />
                <text y={13} textAnchor="middle">
                  {formatValue(t)}
                </text>
              </g>
            ))}
          </g>
          {handle('min', win.min)}
          {handle('max', win.max)}
        </g>
      </svg>
    </div>
  );
}
