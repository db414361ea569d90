'use client';
/**
 * The composite model on the large scan's three views: porosity (or its 1 σ uncertainty, toggle)
 * coloured with viridis over the grey scan, a d3 colour bar, and under the pointer the voxel's
 * porosity ± uncertainty and its lithology class. Voxels of a class no interior covers carry no
 * value (NaN): they stay grey and the read-out says so. Slices come from the binary route
 * /api/projects/:id/multiscale/slice (float32 porosity then uncertainty) and the predicted map
 * from /api/projects/:id/annotations/prediction.
 */
import { color, interpolateViridis, scaleLinear, scaleSequential } from 'd3';
import { useMemo, useState } from 'react';
import type { RouterOutputs } from '@/app/_components/api-types';
import type { SliceAxis, Vec3 } from '@/app/_components/viewer/slice-geometry';
import { guessLevelShapes, sliceUrl } from '@/app/_components/viewer/volume-info';
import { MsSlicePanel, type Box3D, type SliceLayer } from './ms-slice-panel';

type State = RouterOutputs['multiscale']['state'];
type Result = NonNullable<State['result']>;

interface CompositeSlice { width: number; height: number; porosity: Float32Array; uncertainty: Float32Array; classes: Uint8Array | null }

async function fetchBuf(url: string, signal: AbortSignal) {
  const res = await fetch(url, { signal, cache: 'no-store' });
  if (!res.ok) throw new Error(((await res.json().catch(() => null)) as { error?: string } | null)?.error ?? `HTTP ${res.status}`);
  return { buf: await res.arrayBuffer(), width: Number(res.headers.get('X-Slice-Width')), height: Number(res.headers.get('X-Slice-Height')) };
}

async function loadSlice(projectId: string, axis: SliceAxis, index: number, signal: AbortSignal): Promise<CompositeSlice> {
  const id = encodeURIComponent(projectId);
  const [c, k] = await Promise.all([
    fetchBuf(`/api/projects/${id}/multiscale/slice?axis=${axis}&index=${index}`, signal),
    fetchBuf(`/api/projects/${id}/annotations/prediction?axis=${axis}&index=${index}`, signal).catch(() => null),
  ]);
  const n = c.width * c.height, all = new Float32Array(c.buf);
  return { width: c.width, height: c.height, porosity: all.subarray(0, n), uncertainty: all.subarray(n, 2 * n), classes: k ? new Uint8Array(k.buf) : null };
}

/** A d3 colour bar: the gradient and a linear axis, React renders the SVG. */
export function ColourBar({ domain, label, width = 260 }: { domain: [number, number]; label: string; width?: number }) {
  const m = { l: 10, r: 14 };
  const s = useMemo(() => {
    const x = scaleLinear().domain(domain).range([m.l, width - m.r]);
    const c = scaleSequential(interpolateViridis).domain(domain);
    const stops = Array.from({ length: 11 }, (_, i) => domain[0] + ((domain[1] - domain[0]) * i) / 10);
    return { x, c, stops, fmt: x.tickFormat(5) };
  }, [domain[0], domain[1], width]); // eslint-disable-line react-hooks/exhaustive-deps
  return (
    <svg width={width} height={46} className="chart" role="img" aria-label={`Colour bar: ${label}`} data-testid="ms-colour-bar">
      <defs>
        <linearGradient id="ms-viridis">
          {s.stops.map((v, i) => <stop key={i} offset={`${i * 10}%`} stopColor={s.c(v)} />)}
        </linearGradient>
      </defs>
      <rect x={m.l} y={4} width={width - m.l - m.r} height={12} fill="url(#ms-viridis)" stroke="#444" />
      {s.x.ticks(5).map((t) => (
        <g key={t} className="axis" transform={`translate(${s.x(t)},16)`}><line y2={4} stroke="#888" /><text y={14} textAnchor="middle">{s.fmt(t)}</text></g>
      ))}
      <text x={width / 2} y={44} textAnchor="middle" className="axis-label">{label}</text>
    </svg>
  );
}

export function CompositeViewer({ projectId, s, r, boxes }: { projectId: string; s: State; r: Result; boxes: Box3D[] }) {
  const meta = s.scan!.meta as { shape: number[]; spacingUm: number[] };
  const shape = meta.shape as Vec3, lowUm = meta.spacingUm as Vec3;
  const levelShapes = useMemo(() => guessLevelShapes(shape, s.scan!.levels), [shape.join(), s.scan!.levels]); // eslint-disable-line react-hooks/exhaustive-deps
  const [cursor, setCursor] = useState<Vec3>(shape.map((n) => Math.floor(n / 2)) as Vec3);
  const [show, setShow] = useState<'porosity' | 'uncertainty'>('porosity');
  const names = useMemo(() => new Map((s.prediction?.classes ?? []).map((c) => [c.code, c.name])), [s.prediction]);
  const covered = useMemo(() => new Set(r.classes.filter((c) => c.covered).map((c) => c.code)), [r]);
  // fixed colour ranges for the whole volume (not per slice): up to the highest measured class
  // porosity + 2 spreads, and up to twice the largest calibration residual
  const pMax = Math.min(1, Math.max(0.05, ...r.classes.map((c) => (c.calibration ? c.calibration.mean + 2 * c.calibration.std : 0))));
  const uMax = Math.max(0.01, ...r.classes.map((c) => 2 * (c.calibration?.residualStd ?? 0)));
  const domain: [number, number] = show === 'porosity' ? [0, +pMax.toFixed(2) || pMax] : [0, +uMax.toPrecision(2)];
  const layer: SliceLayer<CompositeSlice> = {
    key: `${projectId}:${r.at}`,
    load: (axis, index, signal) => loadSlice(projectId, axis, index, signal),
    styleKey: `${show}:${domain.join()}`,
    opacity: 0.85,
    rgba: (d) => {
      const v = show === 'porosity' ? d.porosity : d.uncertainty, out = new Uint8ClampedArray(4 * v.length);
      const c = scaleSequential(interpolateViridis).domain(domain).clamp(true);
      const lut: [number, number, number][] = Array.from({ length: 256 }, (_, i) => {
        const q = color(c(domain[0] + ((domain[1] - domain[0]) * i) / 255))!.rgb();
        return [q.r, q.g, q.b];
      });
      for (let i = 0; i < v.length; i++) {
        const x = v[i]!;
        if (!Number.isFinite(x)) continue; // no measurement: the grey scan shows through
        const k = Math.max(0, Math.min(255, Math.round(((x - domain[0]) / (domain[1] - domain[0])) * 255)));
        out.set(lut[k]!, 4 * i);
        out[4 * i + 3] = 255;
      }
      return out;
    },
    readout: (d, u, v) => {
      const i = v * d.width + u, p = d.porosity[i]!, q = d.uncertainty[i]!, code = d.classes?.[i] ?? 0;
      const cls = code ? names.get(code) ?? `class ${code}` : 'unlabelled';
      if (!Number.isFinite(p)) return code && !covered.has(code) ? `${cls}: no high-res measurement` : `${cls}: no porosity`;
      return `porosity ${p.toFixed(3)} ± ${q.toFixed(3)} · ${cls}`;
    },
  };
  const uncovered = r.classes.filter((c) => !c.covered);
  return (
    <div className="ms-composite" data-testid="ms-composite">
      <h3>Composite model</h3>
      <div className="controls">
        <label><input type="radio" name="ms-show" checked={show === 'porosity'} onChange={() => setShow('porosity')} data-testid="ms-show-porosity" /> porosity</label>
        <label><input type="radio" name="ms-show" checked={show === 'uncertainty'} onChange={() => setShow('uncertainty')} data-testid="ms-show-uncertainty" /> uncertainty (1 σ)</label>
        <ColourBar domain={domain} label={show === 'porosity' ? 'porosity (fraction)' : 'porosity uncertainty, 1 σ'} />
      </div>
      {uncovered.length > 0 && (
        <p className="info" data-testid="ms-uncovered">
          Left grey: {uncovered.map((c) => `“${c.name}”`).join(', ')} — no interior scan covers {uncovered.length === 1 ? 'this class' : 'these classes'}, so no porosity is given there.
        </p>
      )}
      <div className="ortho" style={{ display: 'grid', gridTemplateColumns: 'repeat(3, minmax(0, 1fr))', gap: 6 }}>
        {(['z', 'y', 'x'] as const).map((axis) => (
          <MsSlicePanel key={axis} axis={axis} shape={shape} spacing={lowUm} levelShapes={levelShapes} cursor={cursor} onCursor={setCursor} testId="ms-comp-view"
            greyUrl={(a, index, level) => sliceUrl(s.scan!.id, { axis: a, index, level, channel: 0, format: 'png' })} layer={layer} boxes={boxes} height={240} />
        ))}
      </div>
      <p className="info">Hover a voxel for its porosity ± uncertainty and class; click to move the slices. Outlines: the registered interior scans.</p>
    </div>
  );
}
