'use client';
/**
 * The project's classes (lithologies): pick the class to paint, rename, recolour, delete (with
 * its strokes, after confirmation: a server job erases them, its progress shows in the class's
 * row), add new ones or the suggested ones. Painted voxels per class.
 */
import { useState } from 'react';
import { hexRgb, nextColor, rgbHex, type Rgb } from './paint-ops';

export interface ClassRow {
  code: number;
  name: string;
  color: Rgb;
  voxels: number;
}

export interface ClassesEditorProps {
  classes: ClassRow[];
  suggestions: { name: string; color: Rgb }[];
  active: number;
  onPick: (code: number) => void;
  onAdd: (c: { name: string; color: Rgb }) => Promise<unknown>;
  onUpdate: (code: number, patch: { name?: string; color?: Rgb }) => Promise<unknown>;
  onDelete: (code: number, eraseStrokes: boolean) => Promise<unknown>;
  busy: boolean;
  /** the deleted class whose strokes are being erased, and how far the job is */
  erasing: { code: number; progress: number } | null;
}

export function ClassesEditor({ classes, suggestions, active, onPick, onAdd, onUpdate, onDelete, busy, erasing }: ClassesEditorProps) {
  const [name, setName] = useState('');
  const [edit, setEdit] = useState<{ code: number; name: string } | null>(null);
  const add = async (n: string, color?: Rgb) => {
    setName('');
    await onAdd({ name: n, color: color ?? nextColor(classes.map((c) => c.color)) });
  };
  return (
    <div className="anno-classes" data-testid="classes-editor">
      <strong>Classes</strong>
      {classes.length === 0 && <p className="info">No classes yet. Add the lithologies you want to paint.</p>}
      <ul>
        {classes.map((c, i) => (
          <li key={c.code} className={c.code === active ? 'active' : undefined} data-testid={`class-row-${c.code}`}>
            <input type="radio" name="paint-class" checked={c.code === active} onChange={() => onPick(c.code)}
              aria-label={`Paint ${c.name}`} title={`Paint ${c.name} (key ${i + 1})`} />
            <input type="color" value={rgbHex(c.color)} aria-label={`Colour of ${c.name}`}
              onChange={(e) => void onUpdate(c.code, { color: hexRgb(e.target.value) })} />
            {edit?.code === c.code ? (
              <input type="text" value={edit.name} autoFocus aria-label="Class name" onChange={(e) => setEdit({ code: c.code, name: e.target.value })}
                onBlur={() => { if (edit.name.trim() && edit.name !== c.name) void onUpdate(c.code, { name: edit.name }); setEdit(null); }}
                onKeyDown={(e) => { if (e.key === 'Enter') (e.target as HTMLInputElement).blur(); if (e.key === 'Escape') setEdit(null); }} />
            ) : (
              <span className="name" onDoubleClick={() => setEdit({ code: c.code, name: c.name })} title="Double-click to rename" onClick={() => onPick(c.code)}>
                <span className="key">{i + 1}</span>{c.name}
              </span>
            )}
            {erasing?.code === c.code
              ? <span className="num" data-testid={`class-erasing-${c.code}`} title="erasing its painted voxels">erasing {(erasing.progress * 100).toFixed(0)} %</span>
              : <span className="num count" title="painted voxels">{c.voxels.toLocaleString('en')}</span>}
            <button type="button" className="icon" title={`Rename ${c.name}`} aria-label={`Rename ${c.name}`} onClick={() => setEdit({ code: c.code, name: c.name })}>✎</button>
            <button type="button" className="icon" title={`Delete ${c.name}`} aria-label={`Delete ${c.name}`} disabled={busy}
              onClick={() => {
                const erase = c.voxels > 0;
                if (erase && !window.confirm(`Delete class "${c.name}" and erase its ${c.voxels.toLocaleString('en')} painted voxels?`)) return;
                void onDelete(c.code, erase);
              }}>✕</button>
          </li>
        ))}
      </ul>
      <form className="controls" onSubmit={(e) => { e.preventDefault(); if (name.trim()) void add(name.trim()); }}>
        <input type="text" value={name} placeholder="new class, e.g. vuggy" aria-label="New class name" data-testid="new-class-name" onChange={(e) => setName(e.target.value)} />
        <button type="submit" disabled={busy || !name.trim()} data-testid="add-class">Add</button>
      </form>
      {suggestions.length > 0 && (
        <div className="controls">
          <span>Suggested:</span>
          {suggestions.map((s) => (
            <button key={s.name} type="button" disabled={busy} onClick={() => void add(s.name, classes.some((c) => rgbHex(c.color) === rgbHex(s.color)) ? undefined : s.color)}>+ {s.name}</button>
          ))}
        </div>
      )}
    </div>
  );
}
