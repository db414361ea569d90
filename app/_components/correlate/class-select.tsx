'use client';
/** The class a mineral of the EDS legend becomes, or "— drop" (null) to leave it out of training. */
export function ClassSelect({ name, value, classes, onChange, disabled, testId }: {
  /** the mineral's name, for the accessible label */
  name: string;
  value: number | null;
  classes: { code: number; name: string }[];
  onChange: (classCode: number | null) => void;
  disabled?: boolean;
  testId?: string;
}) {
  return (
    <select
      value={value == null ? '' : String(value)} disabled={disabled}
      data-testid={testId} aria-label={`Class for ${name}`}
      onChange={(e) => onChange(e.target.value === '' ? null : Number(e.target.value))}
    >
      {classes.map((c) => (
        <option key={c.code} value={c.code}>{c.name}</option>
      ))}
      <option value="">— drop</option>
    </select>
  );
}
