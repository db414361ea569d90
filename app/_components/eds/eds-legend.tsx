/**
 * Legend of an EDS mineral map: colour swatch, mineral name, area % of the map. Sorted by area so
 * the major phases lead; phases under the minor threshold (10 px) are one "minor phases" row that
 * opens to list them; "unclassified" (measured, no mineral) and "not measured" (no field covers
 * it) are separate rows.
 */
import { groupMinorPhases, MINOR_PHASE_PX } from '@/lib/eds/minor-phases';
import type { ReactNode } from 'react';
import { formatPct } from '../format';

export interface LegendEntry {
  id: number;
  name: string;
  color: [number, number, number];
  /** fraction of all map pixels, 0..1, if known */
  areaFraction?: number | null;
  /** pixels of the phase, if known */
  pixels?: number | null;
}

interface Props {
  legend: LegendEntry[];
  unclassified?: number | null;
  notMeasured?: number | null;
  /** map pixels (to tell minor phases of datasets stored without pixel counts) */
  totalPixels?: number;
  minorThresholdPx?: number;
  light?: boolean;
}

/** The swatch of "not measured": the light hatch the preview PNG uses too. */
const HATCH = 'repeating-linear-gradient(45deg, #ececec 0 3px, #cdcdcd 3px 6px)';

function Row({ swatch, name, value, muted, testId }: { swatch: string; name: ReactNode; value: number | null | undefined; muted?: boolean; testId?: string }) {
  return (
    <li data-testid={testId}>
      <span className="swatch" style={{ background: swatch }} />
      <span className={muted ? 'muted' : undefined}>{name}</span>
      <span className="pct">{formatPct(value, 1)}</span>
    </li>
  );
}

export function EdsLegend({ legend, unclassified, notMeasured, totalPixels, minorThresholdPx = MINOR_PHASE_PX, light = false }: Props) {
  const { major, minor } = groupMinorPhases(legend, minorThresholdPx, totalPixels);
  const stripes = minor ? `linear-gradient(90deg, ${minor.phases.slice(0, 6).map((p, k, a) => `rgb(${p.color.join(',')}) ${(100 * k) / a.length}% ${(100 * (k + 1)) / a.length}%`).join(', ')})` : '';
  return (
    <ul className={`legend${light ? ' legend-light' : ''}`} data-testid="eds-legend">
      {major.map((m) => (
        <Row key={m.id} swatch={`rgb(${m.color.join(',')})`} name={m.name} value={m.areaFraction} />
      ))}
      {minor && (
        <li data-testid="legend-minor" style={{ display: 'block' }}>
          <details>
            <summary style={{ display: 'flex', gap: '0.4rem', alignItems: 'center', cursor: 'pointer' }}>
              <span className="swatch" style={{ background: stripes }} />
              <span title={minor.phases.map((p) => p.name).join(', ')}>
                {minor.phases.length} minor phase{minor.phases.length === 1 ? '' : 's'} (&lt; {minor.thresholdPx} px each)
              </span>
              <span className="pct" style={{ marginLeft: 'auto' }}>{formatPct(minor.areaFraction, 2)}</span>
            </summary>
            <div className="small muted" data-testid="legend-minor-names">
              {minor.phases.map((p) => `${p.name}${p.pixels != null ? ` (${p.pixels} px)` : ''}`).join(', ')}
            </div>
          </details>
        </li>
      )}
      {unclassified != null && <Row swatch="#000" name="unclassified" value={unclassified} muted={light} testId="legend-unclassified" />}
      {notMeasured != null && notMeasured > 0 && <Row swatch={HATCH} name="not measured" value={notMeasured} muted={light} testId="legend-not-measured" />}
    </ul>
  );
}
