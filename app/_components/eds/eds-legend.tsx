/**
 * Legend of an EDS mineral map: colour swatch, mineral name, area % of the classified map.
 * Sorted by area so the major phases lead.
 */
import { formatPct } from '../format';

export interface LegendEntry {
  id: number;
  name: string;
  color: [number, number, number];
  /** fraction of all map pixels, 0..1, if known */
  areaFraction?: number | null;
}

export function EdsLegend({ legend, unclassified, light = false }: { legend: LegendEntry[]; unclassified?: number | null; light?: boolean }) {
  const rows = [...legend].sort((a, b) => (b.areaFraction ?? -1) - (a.areaFraction ?? -1));
  return (
    <ul className={`legend${light ? ' legend-light' : ''}`} data-testid="eds-legend">
      {rows.map((m) => (
        <li key={m.id}>
          <span className="swatch" style={{ background: `rgb(${m.color.join(',')})` }} />
          <span>{m.name}</span>
          <span className="pct">{formatPct(m.areaFraction, 1)}</span>
        </li>
      ))}
      {unclassified != null && (
        <li>
          <span className="swatch" style={{ background: '#000' }} />
          <span className={light ? 'muted' : undefined}>unclassified</span>
          <span className="pct">{formatPct(unclassified, 1)}</span>
        </li>
      )}
    </ul>
  );
}
