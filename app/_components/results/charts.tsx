'use client';
/**
 * Charts of the Train and Results steps: d3 scales in useMemo, React renders the SVG.
 * Training curves, confusion matrix heatmap, modal mineralogy (3D vs 2D), depth profile,
 * grey-value histograms per class.
 */
import { area, interpolateBlues, line, max, scaleBand, scaleLinear, scaleSequential, stack } from 'd3';
import { useMemo } from 'react';

export interface ClassInfo {
  code: number;
  name: string;
  color: [number, number, number];
}
const rgb = (c: [number, number, number]) => `rgb(${c[0]},${c[1]},${c[2]})`;
const M = { top: 14, right: 44, bottom: 30, left: 44 };

function AxisBottom({ x, y, ticks, fmt, label, width }: { x: (v: number) => number; y: number; ticks: number[]; fmt?: (v: number) => string; label?: string; width: number }) {
  return (
    <g className="axis">
      <line x1={M.left} x2={width - M.right} y1={y} y2={y} />
      {ticks.map((t) => (
        <g key={t} transform={`translate(${x(t)},${y})`}>
          <line y2={4} />
          <text y={14} textAnchor="middle">{fmt ? fmt(t) : t}</text>
        </g>
      ))}
      {label && <text x={(M.left + width - M.right) / 2} y={y + 26} textAnchor="middle" className="axis-label">{label}</text>}
    </g>
  );
}

function AxisLeft({ y, x, ticks, fmt, label, right, labelAt = 36 }: { y: (v: number) => number; x: number; ticks: number[]; fmt?: (v: number) => string; label?: string; right?: boolean; labelAt?: number }) {
  const s = right ? 1 : -1;
  return (
    <g className="axis">
      {ticks.map((t) => (
        <g key={t} transform={`translate(${x},${y(t)})`}>
          <line x2={4 * s} />
          <text x={8 * s} dy="0.32em" textAnchor={right ? 'start' : 'end'}>{fmt ? fmt(t) : t}</text>
        </g>
      ))}
      {label && ticks.length > 0 && <text transform={`translate(${x + s * labelAt},${(y(ticks[0]!) + y(ticks[ticks.length - 1]!)) / 2}) rotate(-90)`} textAnchor="middle" className="axis-label">{label}</text>}
    </g>
  );
}

export interface EpochPoint {
  epoch: number;
  loss: number;
  valLoss: number;
  valAccuracy: number;
}

/** Training loss, held-out loss (left axis) and held-out accuracy (right axis) per epoch. */
export function TrainingCurves({ history, maxEpochs, bestEpoch, width = 476, height = 260 }: { history: EpochPoint[]; maxEpochs: number; bestEpoch?: number; width?: number; height?: number }) {
  // the legend has a band of its own above the plot (inside it, it covered the accuracy curve)
  const top = M.top + 40;
  const s = useMemo(() => {
    const x = scaleLinear().domain([1, Math.max(2, maxEpochs, history.length)]).range([M.left, width - M.right]);
    const lmax = max(history.flatMap((h) => [h.loss, h.valLoss]).filter(Number.isFinite)) ?? 1;
    const y = scaleLinear().domain([0, lmax * 1.05]).nice().range([height - M.bottom, top]);
    const ya = scaleLinear().domain([0, 1]).range([height - M.bottom, top]);
    const mk = (f: (h: EpochPoint) => number, sc: typeof y) => line<EpochPoint>().defined((h) => Number.isFinite(f(h))).x((h) => x(h.epoch + 1)).y((h) => sc(f(h)))(history) ?? '';
    return { x, y, ya, loss: mk((h) => h.loss, y), val: mk((h) => h.valLoss, y), acc: mk((h) => h.valAccuracy, ya) };
  }, [history, maxEpochs, width, height, top]);
  const last = history[history.length - 1];
  return (
    <svg width={width} height={height} className="chart" data-testid="training-curves" role="img" aria-label="Training curves">
      <AxisBottom x={s.x} y={height - M.bottom} ticks={s.x.ticks(6).filter(Number.isInteger)} label="epoch" width={width} />
      <AxisLeft y={s.y} x={M.left} ticks={s.y.ticks(4)} label="loss" />
      <AxisLeft y={s.ya} x={width - M.right} ticks={[0, 0.25, 0.5, 0.75, 1]} fmt={(v) => `${Math.round(v * 100)}%`} label="held-out accuracy" labelAt={42} right />
      {bestEpoch != null && bestEpoch >= 0 && <line className="best" x1={s.x(bestEpoch + 1)} x2={s.x(bestEpoch + 1)} y1={top} y2={height - M.bottom}><title>{`best epoch ${bestEpoch + 1}: the model kept`}</title></line>}
      <path d={s.loss} className="curve" stroke="#2f6fb3" />
      <path d={s.val} className="curve" stroke="#d9822b" />
      <path d={s.acc} className="curve" stroke="#2e9e5b" strokeDasharray="5 3" />
      {history.map((h) => (
        <g key={h.epoch}>
          <circle cx={s.x(h.epoch + 1)} cy={s.y(h.loss)} r={2} fill="#2f6fb3" />
          {Number.isFinite(h.valLoss) && <circle cx={s.x(h.epoch + 1)} cy={s.y(h.valLoss)} r={2} fill="#d9822b" />}
          {Number.isFinite(h.valAccuracy) && <circle cx={s.x(h.epoch + 1)} cy={s.ya(h.valAccuracy)} r={2} fill="#2e9e5b" />}
        </g>
      ))}
      <g className="legend-svg" data-testid="training-legend" transform={`translate(${M.left + 8},${M.top - 2})`}>
        <text fill="#2f6fb3">— training loss (dropout, L2){last ? ` ${last.loss.toFixed(3)}` : ''}</text>
        <text y={13} fill="#d9822b">— held-out loss{last ? ` ${last.valLoss.toFixed(3)}` : ''}</text>
        <text y={26} fill="#2e9e5b">- - held-out accuracy{last && Number.isFinite(last.valAccuracy) ? ` ${(last.valAccuracy * 100).toFixed(1)} %` : ''}</text>
        {/* the figures are the training's own check at the last epoch; the summary measures the model kept (best epoch) on the held-out tiles again: say which is which */}
        {last && <text x={250} y={26} fill="#666" data-testid="legend-last-epoch">figures at the last epoch, {last.epoch + 1}</text>}
        {bestEpoch != null && bestEpoch >= 0 && <text x={250} fill="#666" data-testid="legend-best-epoch">┆ best epoch {bestEpoch + 1}: the model kept</text>}
      </g>
    </svg>
  );
}

/** Confusion matrix (rows: true class, columns: predicted), cells coloured by row share. */
export function ConfusionMatrix({ classes, confusion, size = 300 }: { classes: ClassInfo[]; confusion: number[][]; size?: number }) {
  const lab = 74;
  const s = useMemo(() => {
    const band = scaleBand<number>().domain(classes.map((_, i) => i)).range([0, size - lab]).padding(0.04);
    const color = scaleSequential(interpolateBlues).domain([0, 1]);
    return { band, color };
  }, [classes, size]);
  return (
    <svg width={size} height={size - lab + 34} className="chart" data-testid="confusion-matrix" role="img" aria-label="Confusion matrix">
      <text x={lab + (size - lab) / 2} y={10} textAnchor="middle" className="axis-label">predicted</text>
      <text x={lab - 6} y={10} textAnchor="end" className="axis-label" data-testid="confusion-rows-label">EDS label ↓</text>
      <g transform={`translate(${lab},16)`}>
        {confusion.map((row, i) => {
          const tot = row.reduce((a, b) => a + b, 0) || 1;
          return row.map((n, j) => {
            const f = n / tot;
            return (
              <g key={`${i}-${j}`} transform={`translate(${s.band(j)},${s.band(i)})`}>
                <rect width={s.band.bandwidth()} height={s.band.bandwidth()} fill={s.color(f)}><title>{`true ${classes[i]?.name}, predicted ${classes[j]?.name}: ${n} (${(f * 100).toFixed(1)} %)`}</title></rect>
                <text x={s.band.bandwidth() / 2} y={s.band.bandwidth() / 2} dy="0.35em" textAnchor="middle" fill={f > 0.55 ? '#fff' : '#222'} className="cell">{n}</text>
              </g>
            );
          });
        })}
      </g>
      {classes.map((c, i) => (
        <text key={c.code} x={lab - 6} y={16 + (s.band(i) ?? 0) + s.band.bandwidth() / 2} dy="0.35em" textAnchor="end" className="tick">
          {c.name}
        </text>
      ))}
      {classes.map((c, j) => (
        <text key={`c${c.code}`} x={lab + (s.band(j) ?? 0) + s.band.bandwidth() / 2} y={size - lab + 30} textAnchor="middle" className="tick">{c.name.slice(0, 8)}</text>
      ))}
    </svg>
  );
}

/** The map of each face whose 2D shares a chart shows (bottom null: one face). */
export interface ChartFaces {
  top: string | null;
  bottom: string | null;
}

/**
 * Modal mineralogy: 3D volume % (solid) next to 2D EDS area % (hatched) per class. With two faces
 * (issue 15 §1) each class has three bars: 3D, the top face's 2D (hatched) and the bottom face's
 * 2D (cross-hatched), and the legend names each face's map.
 */
export function ModalBars({ rows, faces, width = 460, height = 230 }: { rows: (ClassInfo & { volumePct: number; edsAreaPct: number | null; edsBottomPct?: number | null })[]; faces?: ChartFaces | null; width?: number; height?: number }) {
  const two = !!faces?.bottom;
  // two faces: a legend band above the bars (three lines would cover the tallest bars)
  const top = two ? M.top + 40 : M.top;
  const s = useMemo(() => {
    const x = scaleBand<number>().domain(rows.map((r) => r.code)).range([M.left, width - 10]).padding(0.2);
    const inner = scaleBand<string>().domain(two ? ['3d', 'top', 'bottom'] : ['3d', 'top']).range([0, x.bandwidth()]).padding(0.08);
    const y = scaleLinear().domain([0, Math.max(10, max(rows.flatMap((r) => [r.volumePct, r.edsAreaPct ?? 0, r.edsBottomPct ?? 0])) ?? 0)]).nice().range([height - M.bottom, top]);
    return { x, inner, y };
  }, [rows, width, height, two, top]);
  const y0 = height - M.bottom;
  const bar = (r: ClassInfo, key: 'top' | 'bottom', pct: number | null | undefined, what: string) => pct == null ? null : (
    <g data-testid={`modal-bar-${key}-${r.code}`}>
      <rect x={s.inner(key)} y={s.y(pct)} width={s.inner.bandwidth()} height={y0 - s.y(pct)} fill={rgb(r.color)} stroke="#333" strokeWidth={0.6} />
      <rect x={s.inner(key)} y={s.y(pct)} width={s.inner.bandwidth()} height={y0 - s.y(pct)} fill={key === 'top' ? 'url(#hatch)' : 'url(#cross)'} opacity={0.35}>
        <title>{`${r.name}: ${pct.toFixed(1)} % of ${what}`}</title>
      </rect>
    </g>
  );
  const faceName = (f: string | null) => (f ? ` · ${f.length > 28 ? `${f.slice(0, 27)}…` : f}` : '');
  return (
    <svg width={width} height={height} className="chart" data-testid="modal-chart" role="img" aria-label="Modal mineralogy">
      <defs>
        <pattern id="hatch" width="5" height="5" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
          <rect width="5" height="5" fill="#fff" />
          <line x1="0" y1="0" x2="0" y2="5" stroke="#555" strokeWidth="2.5" />
        </pattern>
        <pattern id="cross" width="5" height="5" patternUnits="userSpaceOnUse">
          <rect width="5" height="5" fill="#fff" />
          <line x1="0" y1="2.5" x2="5" y2="2.5" stroke="#555" strokeWidth="1.6" />
          <line x1="2.5" y1="0" x2="2.5" y2="5" stroke="#555" strokeWidth="1.6" />
        </pattern>
      </defs>
      <AxisLeft y={s.y} x={M.left} ticks={s.y.ticks(5)} fmt={(v) => `${v}%`} label="share of the sample" />
      <line className="axis-line" x1={M.left} x2={width - 10} y1={y0} y2={y0} />
      {rows.map((r) => (
        <g key={r.code} transform={`translate(${s.x(r.code)},0)`}>
          <rect x={s.inner('3d')} y={s.y(r.volumePct)} width={s.inner.bandwidth()} height={y0 - s.y(r.volumePct)} fill={rgb(r.color)} stroke="#333" strokeWidth={0.6}>
            <title>{`${r.name}: ${r.volumePct.toFixed(1)} % of the 3D volume`}</title>
          </rect>
          {bar(r, 'top', r.edsAreaPct, two ? 'the top face\'s EDS map' : 'the EDS surface')}
          {two && bar(r, 'bottom', r.edsBottomPct, 'the bottom face\'s EDS map')}
          <text x={s.x.bandwidth() / 2} y={y0 + 13} textAnchor="middle" className="tick">{r.name}</text>
        </g>
      ))}
      <g className="legend-svg" data-testid="modal-chart-legend" transform={two ? `translate(${M.left + 8},${M.top - 4})` : `translate(${width - 170},${M.top + 2})`}>
        <rect width={10} height={10} fill="#999" /><text x={14} y={9}>3D volume % (below the surface)</text>
        <rect y={14} width={10} height={10} fill="url(#hatch)" stroke="#555" /><text x={14} y={23}>{two ? `2D EDS area %, top face${faceName(faces!.top)}` : '2D EDS area %'}</text>
        {two && <><rect y={28} width={10} height={10} fill="url(#cross)" stroke="#555" /><text x={14} y={37}>{`2D EDS area %, bottom face${faceName(faces!.bottom)}`}</text></>}
      </g>
    </svg>
  );
}

/** A face's 2D EDS shares (class code -> fraction of the map's classified pixels) and where the profile shows them. */
export interface DepthFace {
  name: string | null;
  shares: Record<number, number>;
  /** depth of the face below the top surface at the volume's centre (µm); the top face is at 0 */
  depthUm?: number | null;
}

/**
 * Class fractions per depth below the surface, stacked areas. With `faces` each face's 2D EDS
 * shares stand as a stacked bar at its end of the profile: the top face's at depth 0 (left), the
 * bottom face's at the right, with a dashed line at the bottom face's depth.
 */
export function DepthProfile({ classes, depthsUm, fractions, voxels, faces, width = 460, height = 230 }: { classes: ClassInfo[]; depthsUm: number[]; fractions: Record<number, number>[]; voxels: number[]; faces?: { top: DepthFace | null; bottom: DepthFace | null } | null; width?: number; height?: number }) {
  const strip = 10;
  const left = faces?.top ? M.left + strip + 6 : M.left;
  const legendW = 100;
  const right = width - 12 - legendW - (faces?.bottom ? strip + 6 : 0);
  const s = useMemo(() => {
    const keep = depthsUm.map((_, j) => j).filter((j) => voxels[j]! > 0);
    const data = keep.map((j) => ({ d: depthsUm[j]!, ...Object.fromEntries(classes.map((c) => [String(c.code), fractions[j]?.[c.code] ?? 0])) })) as ({ d: number } & Record<string, number>)[];
    const x = scaleLinear().domain([0, max([...data.map((r) => r.d), faces?.bottom?.depthUm ?? 0]) ?? 1]).nice().range([left, right]);
    const y = scaleLinear().domain([0, 1]).range([height - M.bottom, M.top + (faces ? 12 : 0)]);
    const series = stack<{ d: number } & Record<string, number>>().keys(classes.map((c) => String(c.code)))(data);
    const ar = area<[number, number] & { data: { d: number } }>().x((p) => x(p.data.d)).y0((p) => y(p[0])).y1((p) => y(p[1]));
    return { x, y, paths: series.map((sr) => ({ key: Number(sr.key), d: ar(sr as never) ?? '' })) };
  }, [classes, depthsUm, fractions, voxels, faces, left, right, height]);
  /** a face's shares as a stacked bar at x0, in the order of the areas */
  const faceBar = (f: DepthFace, x0: number, key: 'top' | 'bottom') => {
    const tot = classes.reduce((a, c) => a + (f.shares[c.code] ?? 0), 0) || 1;
    let acc = 0;
    return (
      <g data-testid={`depth-face-${key}`}>
        {classes.map((c) => {
          const v = (f.shares[c.code] ?? 0) / tot;
          const y1 = s.y(acc), y2 = s.y(acc + v);
          acc += v;
          return v > 0 ? <rect key={c.code} x={x0} y={y2} width={strip} height={y1 - y2} fill={rgb(c.color)} stroke="#333" strokeWidth={0.4}><title>{`${key} face's EDS map${f.name ? ` (${f.name})` : ''}: ${c.name} ${(v * 100).toFixed(1)} %`}</title></rect> : null;
        })}
        <text x={x0 + strip / 2} y={M.top + 4} textAnchor="middle" className="tick">{key}</text>
      </g>
    );
  };
  const bd = faces?.bottom?.depthUm;
  return (
    <svg width={width} height={height} className="chart" data-testid="depth-chart" role="img" aria-label="Depth profile">
      {s.paths.map((p) => {
        const c = classes.find((k) => k.code === p.key)!;
        return <path key={p.key} d={p.d} fill={rgb(c.color)} stroke="#333" strokeWidth={0.4}><title>{c.name}</title></path>;
      })}
      {faces?.top && faceBar(faces.top, M.left + 3, 'top')}
      {faces?.bottom && faceBar(faces.bottom, right + 6, 'bottom')}
      {bd != null && Number.isFinite(bd) && <line className="best" data-testid="depth-bottom-face" x1={s.x(bd)} x2={s.x(bd)} y1={s.y(1)} y2={height - M.bottom}><title>{`bottom face at ${bd.toFixed(0)} µm below the top face (volume centre)`}</title></line>}
      <AxisBottom x={s.x} y={height - M.bottom} ticks={s.x.ticks(6)} label="depth below the top surface (µm)" width={right + M.right} />
      <AxisLeft y={s.y} x={M.left} ticks={[0, 0.25, 0.5, 0.75, 1]} fmt={(v) => `${Math.round(v * 100)}%`} label="share of the voxels at that depth" />
      <SwatchLegend classes={[...classes].reverse()} x={width - legendW + 4} y={M.top + (faces ? 12 : 0)} testId="depth-legend" />
    </svg>
  );
}

/** Class names beside colour swatches, in dark text (a pale class colour as text could not be read on white). */
function SwatchLegend({ classes, x, y, testId }: { classes: ClassInfo[]; x: number; y: number; testId?: string }) {
  return (
    <g className="legend-svg" data-testid={testId} transform={`translate(${x},${y})`}>
      {classes.map((c, i) => (
        <g key={c.code} transform={`translate(0,${i * 13})`}>
          <rect width={10} height={10} fill={rgb(c.color)} stroke="#555" strokeWidth={0.6} />
          <text x={14} y={9} fill="#333">{c.name.length > 14 ? `${c.name.slice(0, 13)}…` : c.name}</text>
        </g>
      ))}
    </g>
  );
}

/** Grey-value histogram of each predicted class (share of the class's voxels per bin). */
export function ClassHistograms({ classes, lo, hi, counts, width = 460, height = 230 }: { classes: ClassInfo[]; lo: number; hi: number; counts: Record<number, number[]>; width?: number; height?: number }) {
  const s = useMemo(() => {
    const bins = counts[classes[0]?.code ?? 0]?.length ?? 1;
    const w = (hi - lo) / bins;
    const norm = classes.map((c) => {
      const a = counts[c.code] ?? [];
      const t = a.reduce((p, q) => p + q, 0) || 1;
      return { c, pts: a.map((n, b) => [lo + (b + 0.5) * w, n / t] as [number, number]) };
    });
    const x = scaleLinear().domain([lo, hi]).range([M.left, width - 12]);
    const y = scaleLinear().domain([0, max(norm.flatMap((n) => n.pts.map((p) => p[1]))) ?? 1]).nice().range([height - M.bottom, M.top]);
    const ln = line<[number, number]>().x((p) => x(p[0])).y((p) => y(p[1]));
    return { x, y, paths: norm.map((n) => ({ c: n.c, d: ln(n.pts) ?? '' })) };
  }, [classes, lo, hi, counts, width, height]);
  return (
    <svg width={width} height={height} className="chart" data-testid="histogram-chart" role="img" aria-label="Grey-value histograms per class">
      {s.paths.map((p) => <path key={p.c.code} d={p.d} className="curve" stroke={rgb(p.c.color)} strokeWidth={2}><title>{p.c.name}</title></path>)}
      <AxisBottom x={s.x} y={height - M.bottom} ticks={s.x.ticks(6)} label="grey value" width={width + M.right - 12} />
      <AxisLeft y={s.y} x={M.left} ticks={s.y.ticks(4)} fmt={(v) => `${(v * 100).toFixed(0)}%`} label="share of the class's voxels" />
      <SwatchLegend classes={classes} x={width - 100} y={M.top} testId="histogram-legend" />
    </svg>
  );
}
