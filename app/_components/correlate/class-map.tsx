'use client';
/**
 * The EDS legend with its class mapping: each mineral (colour, name, area %) and the training
 * class it becomes (or "— drop" to leave its pixels out of training). Changes are saved at once.
 */
import { formatPct } from '../format';
import { byArea } from './by-area';
import { ClassSelect } from './class-select';
import type { CorrelateState } from './status-line';

/** A mineral's area: a trace reads "<0.1 %", not "0.0 %" (a TIMA legend lists dozens of them; formatPct does it). */
const areaText = (f: number | undefined) => formatPct(f, 1);

/** A mineral name with line-break chances after _ / - (a TIMA legend's Muscovite_phengitic pushed the 250 px column past the page at 1280 px). */
function breakable(name: string) {
  const parts = name.split(/(?<=[_/-])/);
  return parts.map((p, i) => (i < parts.length - 1 ? <span key={i}>{p}<wbr /></span> : <span key={i}>{p}</span>));
}

/** Dropped minerals above this share of the map's classified pixels are named in a warning. */
const DROPPED_WARN = 0.05;

export function ClassMap({ state, onChange, onNewClass, busy }: {
  state: CorrelateState;
  onChange: (phaseId: number, classCode: number | null) => void;
  /** a new class named after the mineral (in its colour), which the mineral then becomes */
  onNewClass?: (phaseId: number, name: string, color: [number, number, number]) => void;
  busy?: boolean;
}) {
  const area = new Map((state.eds?.legend ?? []).map((l) => [l.id, l.areaFraction]));
  const rows = byArea(state.classMap, state.eds?.legend);
  if (!rows.length) return <p className="muted small">No EDS legend.</p>;
  // a map of other minerals than the class list's (an ore, a carbonate): say how much of it would not train
  const classified = rows.reduce((a, m) => a + (area.get(m.phaseId) ?? 0), 0);
  const dropped = rows.filter((m) => m.classCode == null);
  const droppedShare = classified > 0 ? dropped.reduce((a, m) => a + (area.get(m.phaseId) ?? 0), 0) / classified : 0;
  return (
    <>
    {droppedShare >= DROPPED_WARN && (
      <p className="small warn-text" data-testid="dropped-share">
        Dropped minerals cover {formatPct(droppedShare, 0)} of the map&apos;s classified pixels ({dropped.slice(0, 3).map((m) => `${m.name} ${formatPct((area.get(m.phaseId) ?? 0) / classified, 1)}`).join(', ')}{dropped.length > 3 ? ', …' : ''}): their pixels do not train the model, and the 3D map will show them as another class.
        Give each a class{onNewClass ? <>, or choose “+ new class” to add the mineral as a class of its own</> : null}.
      </p>
    )}
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
            <td>{breakable(m.name)}</td>
            <td className="r num" style={{ whiteSpace: 'nowrap' }}>{areaText(area.get(m.phaseId))}</td>
            <td>
              <ClassSelect name={m.name} value={m.classCode} classes={state.classes} disabled={busy}
                testId={`class-select-${m.phaseId}`} onChange={(c) => onChange(m.phaseId, c)}
                onNew={onNewClass ? () => onNewClass(m.phaseId, m.name, m.color as [number, number, number]) : undefined} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
    </>
  );
}
