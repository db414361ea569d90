'use client';
/**
 * Scan proposals: the user gives the field of view of the high-resolution scan (µm, x × y × z);
 * Propose starts the proposals job (annotate.propose), whose progress shows here until its stored
 * result is ready (annotate.proposals polls); then for each class the purest box of that size is
 * listed (table below the viewer), drawn on the slices, and downloadable as CSV (the stored
 * result of that field of view).
 */
import { skipToken, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { useTRPC } from '@/app/_trpc/client';
import type { RouterOutputs } from '../api-types';
import type { Vec3 } from '../viewer/slice-geometry';
import type { Rgb } from './paint-ops';

type ProposalsStatus = RouterOutputs['annotate']['proposals'];
export type ProposalsOut = Extract<ProposalsStatus, { status: 'ready' }>;
type Fov = [number, number, number];

export interface ProposalsPanelProps {
  projectId: string;
  spacing: Vec3;
  shape: Vec3;
  source: 'prediction' | 'strokes';
  /** field of view (µm, z y x) of the latest stored or running proposals: shown again on load */
  initialFovUm: Fov | null;
  /** changes when what proposals are computed from changes (prediction, strokes, classes): the status is read again */
  inputsVersion: string;
  /** a class is being erased: proposing waits */
  disabledReason: string | null;
  result: ProposalsOut | null;
  onResult: (r: ProposalsOut | null) => void;
  onError: (m: string) => void;
  onGoto: (box: { start: [number, number, number]; shape: [number, number, number] }) => void;
  colors: Map<number, Rgb>;
}

export function ProposalsPanel(p: ProposalsPanelProps) {
  const { projectId, spacing, shape, result, onResult, onError, onGoto, colors } = p;
  const trpc = useTRPC();
  const qc = useQueryClient();
  // default field of view: a quarter of the smallest extent, rounded to 10 µm
  const def = Math.max(10, Math.round(Math.min(...shape.map((n, a) => n * spacing[a]!)) / 4 / 10) * 10);
  const init = p.initialFovUm;
  const [fov, setFov] = useState<{ x: number; y: number; z: number }>(init ? { z: init[0], y: init[1], x: init[2] } : { x: def, y: def, z: def });
  /** the field of view whose proposals are shown (or being computed) */
  const [submitted, setSubmitted] = useState<Fov | null>(init);
  const statusQ = useQuery(trpc.annotate.proposals.queryOptions(submitted ? { projectId, fovUm: submitted } : skipToken, {
    refetchInterval: (q) => (q.state.data?.status === 'pending' ? 700 : false),
  }));
  const st = submitted ? statusQ.data : undefined;
  const m = useMutation(trpc.annotate.propose.mutationOptions({
    onSuccess: (r, v) => {
      setSubmitted(v.fovUm as Fov);
      qc.setQueryData(trpc.annotate.proposals.queryKey({ projectId, fovUm: v.fovUm as Fov }), r);
    },
    onError: (e) => onError(e.message),
  }));

  // the strokes, the prediction or the classes changed: read the status again (a stored result may be stale now)
  const { refetch } = statusQ;
  useEffect(() => {
    if (submitted) void refetch();
  }, [p.inputsVersion]); // eslint-disable-line react-hooks/exhaustive-deps

  // show the stored result when it is there, nothing otherwise
  const readyAt = st?.status === 'ready' ? st.createdAt : null;
  useEffect(() => {
    onResult(st?.status === 'ready' ? st : null);
  }, [readyAt, st?.status]); // eslint-disable-line react-hooks/exhaustive-deps

  const ok = [fov.x, fov.y, fov.z].every((v) => Number.isFinite(v) && v > 0);
  const pending = m.isPending || st?.status === 'pending';
  const shown = st?.status === 'ready' ? st.fovUm : null;
  const csvHref = shown ? `/api/projects/${encodeURIComponent(projectId)}/annotations/proposals.csv?fovZ=${shown[0]}&fovY=${shown[1]}&fovX=${shown[2]}` : undefined;
  const field = (k: 'x' | 'y' | 'z') => (
    <label key={k}>{k} <input type="number" min={1} step="any" value={fov[k]} aria-label={`Field of view ${k} (µm)`} data-testid={`fov-${k}`}
      onChange={(e) => setFov({ ...fov, [k]: Number(e.target.value) })} /></label>
  );
  return (
    <div className="anno-propose" data-testid="proposals-box">
      <strong>Scan locations</strong>
      <p className="info">Field of view of the high-resolution scan (µm). Proposals use the {p.source === 'prediction' ? 'predicted map' : 'painted strokes (no prediction yet)'}.</p>
      <div className="controls">{field('x')}{field('y')}{field('z')}</div>
      <div className="controls">
        <button type="button" className="primary" disabled={!ok || pending || !!p.disabledReason} title={p.disabledReason ?? undefined} data-testid="propose"
          onClick={() => m.mutate({ projectId, fovUm: [fov.z, fov.y, fov.x] })}>
          {pending ? 'Searching…' : 'Propose'}
        </button>
        {result && <button type="button" onClick={() => { setSubmitted(null); onResult(null); }}>Clear boxes</button>}
        <a className="button" href={csvHref} download data-testid="proposals-csv" aria-disabled={!csvHref}
          title={csvHref ? `The proposals for ${shown![2]} × ${shown![1]} × ${shown![0]} µm as CSV` : 'Propose scan locations first'}>CSV</a>
      </div>
      {st?.status === 'pending' && (
        <div data-testid="proposals-progress">
          <div className="progress"><div style={{ width: `${(st.progress * 100).toFixed(0)}%` }} /></div>
          <span className="info">{(st.progress * 100).toFixed(0)} % {st.message ?? 'waiting to start'}</span>
        </div>
      )}
      {st?.status === 'failed' && <p className="error" data-testid="proposals-failed">Proposing scan locations failed: {st.error}</p>}
      {st?.status === 'none' && <p className="info" data-testid="proposals-none">{st.message}</p>}
      {result && (
        <ul className="fractions" data-testid="proposals-list">
          {result.proposals.map((q) => (
            <li key={q.code}>
              <span className="swatch" style={{ background: `rgb(${(colors.get(q.code) ?? [128, 128, 128]).join(',')})` }} />
              <button type="button" className="link" onClick={() => onGoto(q.box)} title="Show this box on the slices">{q.name}</button>
              <span className="num"> {(q.purity * 100).toFixed(0)} % pure</span>
            </li>
          ))}
          {result.proposals.length === 0 && <li>No class found in the map.</li>}
        </ul>
      )}
    </div>
  );
}
