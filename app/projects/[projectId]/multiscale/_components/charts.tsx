'use client';
/** Multi-scale charts: d3 scales in useMemo, React renders the SVG. */
import { line, scaleBand, scaleLinear } from 'd3';
import { useMemo } from 'react';

// left: room for the y label beside 4-character ticks (it overlapped them at 46)
const M = { top: 26, right: 16, bottom: 34, left: 56 };

export interface ClassBar { name: string; value: number | null; low: number | null; high: number | null; measured: number | null; color: string }

/** Composite porosity per class with its 95 % interval (bar + whisker); the measured mean as a dot. */
export function ClassPorosityChart({ rows, width = 420, height = 220 }: { rows: ClassBar[]; width?: number; height?: number }) {
  const s = useMemo(() => {
    const x = scaleBand().domain(rows.map((r) => r.name)).range([M.left, width - M.right]).padding(0.3);
    const top = Math.max(0.05, ...rows.flatMap((r) => [r.high ?? 0, r.measured ?? 0]));
    const y = scaleLinear().domain([0, top * 1.1]).nice().range([height - M.bottom, M.top]);
    return { x, y };
  }, [rows, width, height]);
  return (
    <svg width={width} height={height} className="chart" role="img" aria-label="Porosity per class" data-testid="ms-class-chart">
      {s.y.ticks(5).map((t) => (
        <g key={t} className="axis" transform={`translate(${M.left},${s.y(t)})`}><line x2={-4} /><text x={-7} dy="0.32em" textAnchor="end">{t.toFixed(2)}</text></g>
      ))}
      <text transform={`translate(12,${(height - M.bottom + M.top) / 2}) rotate(-90)`} textAnchor="middle" className="axis-label">porosity (fraction)</text>
      <g className="legend-svg" data-testid="ms-class-legend" transform={`translate(${M.left},10)`}>
        <text>bar: composite porosity, whisker: its 95 % interval, ○: measured mean</text>
      </g>
      {rows.map((r) => {
        const x0 = s.x(r.name)!, w = s.x.bandwidth();
        return (
          <g key={r.name}>
            {r.value != null ? <rect x={x0} width={w} y={s.y(r.value)} height={s.y(0) - s.y(r.value)} fill={r.color} opacity={0.8} />
              : <text x={x0 + w / 2} y={s.y(0) - 6} textAnchor="middle" className="info">not measured</text>}
            {r.low != null && r.high != null && <line x1={x0 + w / 2} x2={x0 + w / 2} y1={s.y(r.low)} y2={s.y(r.high)} stroke="#222" strokeWidth={1.5} />}
            {r.measured != null && <circle cx={x0 + w / 2} cy={s.y(r.measured)} r={3} fill="#fff" stroke="#222" />}
            <text x={x0 + w / 2} y={height - M.bottom + 14} textAnchor="middle">{r.name}</text>
          </g>
        );
      })}
      <line className="axis" x1={M.left} x2={width - M.right} y1={s.y(0)} y2={s.y(0)} stroke="#888" />
    </svg>
  );
}

/** Mean composite porosity of each slice against depth (µm). */
export function DepthPorosityChart({ depth, voxelUm, width = 420, height = 220 }: { depth: { z: number; porosity: number | null }[]; voxelUm: number; width?: number; height?: number }) {
  const s = useMemo(() => {
    const pts = depth.filter((d) => d.porosity != null && Number.isFinite(d.porosity));
    const x = scaleLinear().domain([0, Math.max(1, depth.length) * voxelUm]).range([M.left, width - M.right]);
    const y = scaleLinear().domain([0, Math.max(0.05, ...pts.map((d) => d.porosity!)) * 1.1]).nice().range([height - M.bottom, M.top]);
    const path = line<{ z: number; porosity: number | null }>().x((d) => x(d.z * voxelUm)).y((d) => y(d.porosity!))(pts) ?? '';
    return { x, y, path };
  }, [depth, voxelUm, width, height]);
  return (
    <svg width={width} height={height} className="chart" role="img" aria-label="Porosity per depth" data-testid="ms-depth-chart">
      {s.y.ticks(5).map((t) => (
        <g key={t} className="axis" transform={`translate(${M.left},${s.y(t)})`}><line x2={-4} /><text x={-7} dy="0.32em" textAnchor="end">{t.toFixed(2)}</text></g>
      ))}
      {s.x.ticks(5).map((t) => (
        <g key={t} className="axis" transform={`translate(${s.x(t)},${height - M.bottom})`}><line y2={4} /><text y={15} textAnchor="middle">{t}</text></g>
      ))}
      <text x={(M.left + width - M.right) / 2} y={height - 4} textAnchor="middle" className="axis-label">depth below the top of the scan (µm)</text>
      <text transform={`translate(12,${(height - M.bottom + M.top) / 2}) rotate(-90)`} textAnchor="middle" className="axis-label">mean porosity (fraction)</text>
      <line className="axis" x1={M.left} x2={width - M.right} y1={height - M.bottom} y2={height - M.bottom} stroke="#888" />
      <path d={s.path} className="curve" stroke="#2f6fb3" fill="none" />
    </svg>
  );
}
