'use client';
/**
 * Scan proposals: the user gives the field of view of the high-resolution scan (µm, x × y × z);
 * for each class the purest box of that size is listed (table below the viewer), drawn on the
 * slices, and downloadable as CSV.
 */
import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import { useTRPC } from '@/app/_trpc/client';
import type { RouterOutputs } from '../api-types';
import type { Vec3 } from '../viewer/slice-geometry';
import type { Rgb } from './paint-ops';

export type ProposalsOut = RouterOutputs['annotate']['proposals'];

export interface ProposalsPanelProps {
  projectId: string;
  spacing: Vec3;
  shape: Vec3;
  source: 'prediction' | 'strokes';
  result: ProposalsOut | null;
  onResult: (r: ProposalsOut | null) => void;
  onError: (m: string) => void;
  onGoto: (box: { start: [number, number, number]; shape: [number, number, number] }) => void;
  colors: Map<number, Rgb>;
}

export function ProposalsPanel({ projectId, spacing, shape, source, result, onResult, onError, onGoto, colors }: ProposalsPanelProps) {
  const trpc = useTRPC();
  // default field of view: a quarter of the smallest extent, rounded to 10 µm
  const def = Math.max(10, Math.round(Math.min(...shape.map((n, a) => n * spacing[a]!)) / 4 / 10) * 10);
  const [fov, setFov] = useState<{ x: number; y: number; z: number }>({ x: def, y: def, z: def });
  const m = useMutation(trpc.annotate.proposals.mutationOptions({ onSuccess: (r) => onResult(r), onError: (e) => onError(e.message) }));
  const ok = [fov.x, fov.y, fov.z].every((v) => Number.isFinite(v) && v > 0);
  const csvHref = `/api/projects/${encodeURIComponent(projectId)}/annotations/proposals.csv?fovZ=${fov.z}&fovY=${fov.y}&fovX=${fov.x}`;
  const field = (k: 'x' | 'y' | 'z') => (
    <label key={k}>{k} <input type="number" min={1} step="any" value={fov[k]} aria-label={`Field of view ${k} (µm)`} data-testid={`fov-${k}`}
      onChange={(e) => setFov({ ...fov, [k]: Number(e.target.value) })} /></label>
  );
  return (
    <div className="anno-propose" data-testid="proposals-box">
      <strong>Scan locations</strong>
      <p className="info">Field of view of the high-resolution scan (µm). Proposals use the {source === 'prediction' ? 'predicted map' : 'painted strokes (no prediction yet)'}.</p>
      <div className="controls">{field('x')}{field('y')}{field('z')}</div>
      <div className="controls">
        <button type="button" className="primary" disabled={!ok || m.isPending} data-testid="propose" onClick={() => m.mutate({ projectId, fovUm: [fov.z, fov.y, fov.x] })}>
          {m.isPending ? 'Searching…' : 'Propose'}
        </button>
        {result && <button type="button" onClick={() => onResult(null)}>Clear boxes</button>}
        <a className="button" href={ok ? csvHref : undefined} download data-testid="proposals-csv" aria-disabled={!ok}>CSV</a>
      </div>
      {result && (
        <ul className="fractions" data-testid="proposals-list">
          {result.proposals.map((p) => (
            <li key={p.code}>
              <span className="swatch" style={{ background: `rgb(${(colors.get(p.code) ?? [128, 128, 128]).join(',')})` }} />
              <button type="button" className="link" onClick={() => onGoto(p.box)} title="Show this box on the slices">{p.name}</button>
              <span className="num"> {(p.purity * 100).toFixed(0)} % pure</span>
            </li>
          ))}
          {result.proposals.length === 0 && <li>No class found in the map.</li>}
        </ul>
      )}
    </div>
  );
}
