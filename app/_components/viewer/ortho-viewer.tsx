'use client';
/**
 * Orthogonal slice viewer: XY, XZ and YZ panels sharing one cursor (a click in one panel moves
 * the others' slices) and one display window, plus a side panel with the histogram window/level
 * control and the cursor position in voxels and µm.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { formatValue } from '../format';
import { Histogram, type WindowRange } from './histogram';
import { SlicePanel } from './slice-panel';
import { useElementSize } from './use-element-size';
import type { SliceAxis, Vec3 } from './slice-geometry';
import { useVolumeHistogram } from './use-volume-histogram';
import { sliceUrl, type VolumeInfo } from './volume-info';

export function OrthoViewer({ info }: { info: VolumeInfo }) {
  const { shape, spacing } = info;
  const [cursor, setCursor] = useState<Vec3>(() => [Math.floor(shape[0] / 2), Math.floor(shape[1] / 2), Math.floor(shape[2] / 2)]);
  const [channel, setChannel] = useState(0);
  const [win, setWin] = useState<WindowRange | null>(null);
  const hist = useVolumeHistogram(info, channel);
  const sideRef = useRef<HTMLDivElement>(null);
  const sideWidth = useElementSize(sideRef).width;

  // Auto window (1–99 %) as soon as the histogram of this channel is known.
  const auto = useCallback(() => {
    if (hist.data) setWin({ min: hist.data.p1, max: hist.data.p99 });
  }, [hist.data]);
  useEffect(auto, [auto]);

  const urlFor = useCallback(
    (axis: SliceAxis, index: number, level: number) =>
      sliceUrl(info.datasetId, { axis, index, level, channel, format: 'png', min: win?.min, max: win?.max }),
    [info.datasetId, channel, win?.min, win?.max],
  );

  const panel = (axis: SliceAxis) => (
    <SlicePanel
      axis={axis} shape={shape} spacing={spacing} cursor={cursor} onCursor={setCursor}
      levelShapes={info.levelShapes} sliceUrl={urlFor}
    />
  );

  return (
    <div className="viewer" data-testid="ortho-viewer">
      <div className="viewer-grid">
        {panel('z')}
        {panel('y')}
        {panel('x')}
        <div className="panel" ref={sideRef} style={{ padding: '0.5rem 0.7rem', gap: '0.5rem' }}>
          <div className="controls">
            <strong style={{ color: 'var(--panel-text)' }}>Window / level</strong>
            {info.channels.length > 1 && (
              <select value={channel} onChange={(e) => { setChannel(Number(e.target.value)); setWin(null); }} aria-label="Channel">
                {info.channels.map((c, i) => <option key={c + i} value={i}>{c}</option>)}
              </select>
            )}
            <button type="button" onClick={auto} disabled={!hist.data} title="Window from the 1st to the 99th percentile">Auto 1–99 %</button>
            {hist.data && (
              <button type="button" onClick={() => setWin({ min: hist.data.min, max: hist.data.max })} title="Full value range">Full</button>
            )}
          </div>
          {hist.data && win ? (
            <Histogram data={hist.data} window={win} onChange={setWin} width={Math.max(240, sideWidth - 24)} height={120} />
          ) : (
            <div className="info" style={{ height: 120 }}>
              {hist.error ? `Histogram unavailable: ${hist.error.message}` : 'Reading histogram…'}
            </div>
          )}
          <div className="controls">
            <label>min <input type="number" data-testid="win-min" value={win ? formatValue(win.min) : ''} step="any"
              onChange={(e) => win && setWin({ ...win, min: Number(e.target.value) })} /></label>
            <label>max <input type="number" data-testid="win-max" value={win ? formatValue(win.max) : ''} step="any"
              onChange={(e) => win && setWin({ ...win, max: Number(e.target.value) })} /></label>
            <span>{info.dtype}</span>
          </div>
          <CursorInfo cursor={cursor} spacing={spacing} shape={shape} />
          <div className="info">
            Click: move crosshair · wheel: zoom · drag: pan · double-click: fit
            <br />
            Focus a panel, then ←/→ ↑/↓ step 1 slice, PgUp/PgDn 10
          </div>
        </div>
      </div>
    </div>
  );
}

function CursorInfo({ cursor, spacing, shape }: { cursor: Vec3; spacing: Vec3; shape: Vec3 }) {
  const [z, y, x] = cursor;
  const um = (i: number, d: number) => ((i + 0.5) * spacing[d]).toFixed(1);
  return (
    <div className="info" data-testid="cursor-info">
      cursor (voxels) x {x} / {shape[2]} · y {y} / {shape[1]} · z {z} / {shape[0]}
      <br />
      cursor (µm) x {um(x, 2)} · y {um(y, 1)} · z {um(z, 0)}
    </div>
  );
}
