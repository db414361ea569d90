'use client';
/** The class a mineral of the EDS legend becomes, or "— drop" (null) to leave it out of training. */
export function ClassSelect({ name, value, classes, onChange, onNew, disabled, testId }: {
  /** the mineral's name, for the accessible label */
  name: string;
  value: number | null;
  classes: { code: number; name: string }[];
  onChange: (classCode: number | null) => void;
  /** offered when no class has the mineral's name: a new class named after the mineral, which it then becomes */
  onNew?: () => void;
  disabled?: boolean;
  testId?: string;
}) {
  const canAdd = !!onNew && !classes.some((c) => c.name.trim().toLowerCase() === name.trim().toLowerCase());
  return (
    <select
      value={value == null ? '' : String(value)} disabled={disabled}
      data-testid={testId} aria-label={`Class for ${name}`}
      onChange={(e) => (e.target.value === 'new' ? onNew?.() : onChange(e.target.value === '' ? null : Number(e.target.value)))}
    >
      {classes.map((c) => (
        <option key={c.code} value={c.code}>{c.name}</option>
      ))}
      <option value="">— drop</option>
      {canAdd && <option value="new">+ new class “{name}”</option>}
    </select>
  );
}
