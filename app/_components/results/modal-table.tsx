/**
 * The modal mineralogy table: 3D volume % below the surface next to the 2D EDS area % of the same
 * classes (of the classified EDS pixels), and under it what the EDS % leave out, each apart:
 * measured but unclassified pixels, map area no field measured, phases the class table drops.
 * A model trained on both polished faces (issue 15 §1) shows each face's 2D % in its own column,
 * headed by the face and its map.
 */
import { formatPct } from '../format';

export interface ModalTableRow {
  code: number;
  name: string;
  volumePct: number;
  edsAreaPct: number | null;
  /** the bottom face's 2D EDS area % (null: one face) */
  edsBottomPct?: number | null;
}

/** The maps whose 2D % are shown, by face; bottom null with one face. */
export interface ModalFaces {
  top: string | null;
  bottom: string | null;
  bottomApart: ModalEdsApart | null;
}

/** EDS pixels outside the EDS %, as fractions of all map pixels (null: no EDS map, or a report from before issue 16). */
export interface ModalEdsApart {
  unclassified: number;
  notMeasured: number;
  dropped: number;
}

export function ModalTable({ rows, edsApart, faces }: { rows: ModalTableRow[]; edsApart?: ModalEdsApart | null; faces?: ModalFaces | null }) {
  const two = !!faces?.bottom;
  const pct = (v: number | null | undefined) => (v == null ? '–' : v.toFixed(1));
  const cols = two ? 4 : 3;
  const apartRow = (label: string, key: keyof ModalEdsApart, testId?: string) => (
    <tr data-testid={testId}><td>{label}</td><td /><td className="r num">{formatPct(edsApart![key], 1)}</td>{two && <td className="r num">{faces!.bottomApart ? formatPct(faces!.bottomApart[key], 1) : '–'}</td>}</tr>
  );
  return (
    <table className="metrics small" data-testid="modal-table">
      <thead>
        <tr>
          <th>class</th><th className="r">3D volume %</th>
          {two ? (
            <>
              <th className="r" data-testid="modal-face-top" title={faces!.top ?? undefined}>2D EDS area %<br />top face{faces!.top ? <span className="muted"> · {faces!.top}</span> : null}</th>
              <th className="r" data-testid="modal-face-bottom" title={faces!.bottom ?? undefined}>2D EDS area %<br />bottom face<span className="muted"> · {faces!.bottom}</span></th>
            </>
          ) : <th className="r">2D EDS area %</th>}
        </tr>
      </thead>
      <tbody>{rows.map((m) => <tr key={m.code}><td>{m.name}</td><td className="r num">{m.volumePct.toFixed(1)}</td><td className="r num">{pct(m.edsAreaPct)}</td>{two && <td className="r num">{pct(m.edsBottomPct)}</td>}</tr>)}</tbody>
      {edsApart && (
        <tfoot className="muted" data-testid="modal-eds-apart">
          <tr><td colSpan={cols} className="small">EDS map pixels not in the 2D %:</td></tr>
          {apartRow('unclassified (measured, no mineral)', 'unclassified')}
          {(edsApart.notMeasured > 0 || (two && (faces!.bottomApart?.notMeasured ?? 0) > 0)) && apartRow('not measured (no EDS field)', 'notMeasured', 'modal-not-measured')}
          {(edsApart.dropped > 0 || (two && (faces!.bottomApart?.dropped ?? 0) > 0)) && apartRow('phases left out of the class table', 'dropped')}
        </tfoot>
      )}
    </table>
  );
}
