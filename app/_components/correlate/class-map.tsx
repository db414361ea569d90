'use client';
/**
 * The EDS legend with its class mapping: each mineral (colour, name, area %) and the training
 * class it becomes (or "— drop" to leave its pixels out of training). Changes are saved at once.
 */
import { formatPct } from '../format';
import { ClassSelect } from './class-select';
import type { CorrelateState } from './status-line';

export function ClassMap({ state, onChange, busy }: {
  state: CorrelateState;
  onChange: (phaseId: number, classCode: number | null) => void;
  busy?: boolean;
}) {
  const area = new Map((state.eds?.legend ?? []).map((l) => [l.id, l.areaFraction]));
  const rows = [...state.classMap].sort((a, b) => (area.get(b.phaseId) ?? -1) - (area.get(a.phaseId) ?? -1));
  if (!rows.length) return <p className="muted small">No EDS legend.</p>;
  return (
    <table className="class-map" data-testid="class-map">
      <thead>
        <tr>
          <th colSpan={2}>Mineral</th>
          <th className="r">Area</th>
          <th>Class</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((m) => (
          <tr key={m.phaseId} data-testid={`class-row-${m.phaseId}`}>
            <td><span className="swatch" style={{ background: `rgb(${m.color.join(',')})` }} /></td>
            <td>{m.name}</td>
            <td className="r num">{formatPct(area.get(m.phaseId), 1)}</td>
            <td>
              <ClassSelect name={m.name} value={m.classCode} classes={state.classes} disabled={busy}
                testId={`class-select-${m.phaseId}`} onChange={(c) => onChange(m.phaseId, c)} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
