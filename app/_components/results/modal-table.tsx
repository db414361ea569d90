/**
 * The modal mineralogy table: 3D volume % below the surface next to the 2D EDS area % of the same
 * classes (of the classified EDS pixels), and under it what the EDS % leave out, each apart:
 * measured but unclassified pixels, map area no field measured, phases the class table drops.
 */
import { formatPct } from '../format';

export interface ModalTableRow {
  code: number;
  name: string;
  volumePct: number;
  edsAreaPct: number | null;
}

/** EDS pixels outside the EDS %, as fractions of all map pixels (null: no EDS map, or a report from before issue 16). */
export interface ModalEdsApart {
  unclassified: number;
  notMeasured: number;
  dropped: number;
}

export function ModalTable({ rows, edsApart }: { rows: ModalTableRow[]; edsApart?: ModalEdsApart | null }) {
  return (
    <table className="metrics small" data-testid="modal-table">
      <thead><tr><th>class</th><th className="r">3D volume %</th><th className="r">2D EDS area %</th></tr></thead>
      <tbody>{rows.map((m) => <tr key={m.code}><td>{m.name}</td><td className="r num">{m.volumePct.toFixed(1)}</td><td className="r num">{m.edsAreaPct == null ? '–' : m.edsAreaPct.toFixed(1)}</td></tr>)}</tbody>
      {edsApart && (
        <tfoot className="muted" data-testid="modal-eds-apart">
          <tr><td colSpan={3} className="small">EDS map pixels not in the 2D %:</td></tr>
          <tr><td>unclassified (measured, no mineral)</td><td /><td className="r num">{formatPct(edsApart.unclassified, 1)}</td></tr>
          {edsApart.notMeasured > 0 && <tr data-testid="modal-not-measured"><td>not measured (no EDS field)</td><td /><td className="r num">{formatPct(edsApart.notMeasured, 1)}</td></tr>}
          {edsApart.dropped > 0 && <tr><td>phases left out of the class table</td><td /><td className="r num">{formatPct(edsApart.dropped, 1)}</td></tr>}
        </tfoot>
      )}
    </table>
  );
}
