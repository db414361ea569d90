'use client';
/**
 * EDS mineral map viewer: the classified map (or the BSE image) with zoom/pan, the legend with
 * area %, and a readout of the mineral under the pointer.
 */
import { useState } from 'react';
import { formatUm } from '../format';
import { EdsLegend, type LegendEntry } from './eds-legend';
import { ImagePanel } from './image-panel';
import { mineralAtColour } from '../correlate/overlay';

export interface EdsInfo {
  datasetId: string;
  width: number;
  height: number;
  pixelSizeUm: number;
  legend: LegendEntry[];
  unclassifiedFraction?: number | null;
  /** map area no field covers (TIMA mosaics) */
  notMeasuredFraction?: number | null;
  sampleName?: string;
  /** companion images present (e.g. 'BSE', 'Fe') */
  companions: string[];
}

export function EdsView({ info }: { info: EdsInfo }) {
  const hasBse = info.companions.some((c) => c.toUpperCase() === 'BSE');
  const [showBse, setShowBse] = useState(false);
  const [hover, setHover] = useState<{ u: number; v: number; rgb: [number, number, number]; alpha?: number } | null>(null);
  const base = `/api/datasets/${encodeURIComponent(info.datasetId)}`;
  const url = showBse ? `${base}/bse.png` : `${base}/eds.png`;
  // the map PNG is transparent where no field measured
  const under = hover && !showBse ? (hover.alpha === 0 ? 'not measured' : mineralAtColour(info.legend, hover.rgb)) : null;

  return (
    <div className="viewer" data-testid="eds-view">
      <div className="eds-layout">
        <div className="panel">
          <div className="panel-head">
            <span className="title">{showBse ? 'BSE image' : 'Mineral map'}</span>
            <span>{formatUm(info.width * info.pixelSizeUm)} × {formatUm(info.height * info.pixelSizeUm)}</span>
            <span style={{ flex: 1 }} />
            {hasBse && (
              <label style={{ display: 'flex', gap: 4, alignItems: 'center' }}>
                <input type="checkbox" checked={showBse} onChange={(e) => setShowBse(e.target.checked)} data-testid="bse-toggle" />
                BSE
              </label>
            )}
          </div>
          <ImagePanel
            url={url} width={info.width} height={info.height} pixelSizeUm={info.pixelSizeUm}
            onHover={setHover} className="eds-canvas" testId="eds-canvas"
          />
        </div>
        <div className="panel" style={{ padding: '0.5rem 0.7rem', gap: '0.6rem' }}>
          <strong style={{ color: 'var(--panel-text)' }}>Legend</strong>
          <EdsLegend legend={info.legend} unclassified={info.unclassifiedFraction} notMeasured={info.notMeasuredFraction} totalPixels={info.width * info.height} />
          <div className="info" data-testid="eds-hover">
            {hover
              ? `u ${hover.u} · v ${hover.v} px · ${formatUm((hover.u + 0.5) * info.pixelSizeUm)}, ${formatUm((hover.v + 0.5) * info.pixelSizeUm)}${under ? ` · ${under}` : ''}`
              : 'Point at the map to read the mineral.'}
          </div>
          <div className="info">wheel: zoom · drag: pan · double-click: fit</div>
        </div>
      </div>
    </div>
  );
}

/** Legend entry whose colour matches the pixel (exact, since the map is drawn unsmoothed). */
