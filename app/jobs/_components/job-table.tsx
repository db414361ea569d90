'use client';
/**
 * All jobs (imports, registration, training, prediction, ...): the project with a link to the
 * job's result, state, progress with the ETA from the progress rate while it runs, the error of a
 * failed job, start time and duration; filters by project and state (kept in the URL); cancel.
 */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useEffect, useState } from 'react';
import { useTRPC } from '@/app/_trpc/client';
import { formatDuration } from '@/lib/eta';
import { formatDate, formatPct } from '../../_components/format';
import { jobResultLink, jobTitle, STATE_FILTERS, type StateFilter } from './job-links';

const ACTIVE = new Set(['queued', 'running']);
const STATE_BADGE: Record<string, string> = { done: 'ok', running: 'volume', failed: 'warn', interrupted: 'warn' };
const FAILED_STYLE = { color: 'var(--danger)', background: 'var(--danger-soft)', borderColor: '#f2b8b3' };

/** A clock that ticks every second while `on` (live durations). */
function useNow(on: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!on) return;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [on]);
  return now;
}

export function JobTable({ initialProject = '', initialState = '' }: { initialProject?: string; initialState?: StateFilter }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const router = useRouter();
  const [project, setProject] = useState(initialProject);
  const [state, setState] = useState<StateFilter>(initialState);
  const input = { projectId: project || undefined, states: [...STATE_FILTERS[state].states] };
  // poll while something runs (progress, ETA); the per-job subscriptions are for the step pages
  const jobs = useQuery({
    ...trpc.jobs.list.queryOptions(input),
    refetchInterval: (q) => (q.state.data?.some((j) => ACTIVE.has(j.state)) ? 1000 : 5000),
  });
  const projects = useQuery(trpc.projects.list.queryOptions());
  const cancel = useMutation(trpc.jobs.cancel.mutationOptions({ onSettled: () => qc.invalidateQueries({ queryKey: trpc.jobs.list.queryKey() }) }));
  const now = useNow(!!jobs.data?.some((j) => j.state === 'running'));

  const setFilter = (p: string, s: StateFilter) => {
    setProject(p);
    setState(s);
    const qs = new URLSearchParams();
    if (p) qs.set('project', p);
    if (s) qs.set('state', s);
    router.replace(qs.size ? `/jobs?${qs}` : '/jobs', { scroll: false });
  };

  const filters = (
    <div className="form-inline" style={{ marginBottom: '0.75rem' }}>
      <label className="small">
        Project{' '}
        <select data-testid="job-filter-project" value={project} onChange={(e) => setFilter(e.target.value, state)}>
          <option value="">All projects</option>
          {projects.data?.map((p) => <option key={p.id} value={p.id}>{p.name}</option>)}
          {project && projects.data && !projects.data.some((p) => p.id === project) && <option value={project}>(deleted project)</option>}
        </select>
      </label>
      <label className="small">
        State{' '}
        <select data-testid="job-filter-state" value={state} onChange={(e) => setFilter(project, e.target.value as StateFilter)}>
          {Object.entries(STATE_FILTERS).map(([k, f]) => <option key={k} value={k}>{f.label}</option>)}
        </select>
      </label>
      {jobs.data && <span className="small muted" data-testid="job-count">{jobs.data.length} job{jobs.data.length === 1 ? '' : 's'}</span>}
    </div>
  );

  if (jobs.isPending) return <>{filters}<p className="muted">Loading jobs…</p></>;
  if (jobs.error) return <>{filters}<div className="error">Could not load the jobs: {jobs.error.message}</div></>;
  if (jobs.data.length === 0) {
    return <>{filters}<p className="muted">{project || state ? 'No jobs match these filters.' : 'No jobs yet. Imports, registration, training and prediction appear here.'}</p></>;
  }
  return (
    <>
      {filters}
      <table className="data" data-testid="job-table">
        <thead>
          <tr>
            <th>Job</th>
            <th>Project · result</th>
            <th>State</th>
            <th style={{ width: 260 }}>Progress</th>
            <th>Started</th>
            <th>Duration</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {jobs.data.map((j) => {
            const link = jobResultLink(j);
            const started = j.startedAt ? new Date(j.startedAt).getTime() : null;
            const ended = j.finishedAt ? new Date(j.finishedAt).getTime() : null;
            const duration = started === null ? null : ((ended ?? (j.state === 'running' ? now : started)) - started) / 1000;
            return (
              <tr key={j.id} data-testid="job-row" data-job-id={j.id} data-state={j.state} data-kind={j.kind}>
                <td data-testid="job-title" title={`job kind: ${j.kind}`}>{jobTitle(j.kind)} <span className="muted small">#{j.id}</span></td>
                <td data-testid="job-project">
                  {j.projectName ?? (j.projectId ? <span className="muted">(deleted project)</span> : <span className="muted">–</span>)}
                  {link && j.projectName && (
                    <> · <Link href={link.href} data-testid="job-result-link">{link.label}</Link></>
                  )}
                </td>
                <td><span className={`badge ${STATE_BADGE[j.state] ?? ''}`} style={j.state === 'failed' || j.state === 'interrupted' ? FAILED_STYLE : undefined} data-testid="job-state">{j.state}</span></td>
                <td>
                  <div className="progress"><div style={{ width: `${(j.progress ?? 0) * 100}%` }} /></div>
                  <div className="small muted">
                    {formatPct(j.progress ?? 0, 0)} {j.message ?? ''}
                    {j.state === 'running' && (
                      <span data-testid="job-eta"> · {j.etaSeconds == null ? 'estimating time left…' : `about ${formatDuration(j.etaSeconds)} left`}</span>
                    )}
                  </div>
                  {j.error && <div className="small" data-testid="job-error" style={{ color: 'var(--danger)' }}>{j.error}</div>}
                </td>
                <td className="num" data-testid="job-started">{j.startedAt ? formatDate(j.startedAt) : <span className="muted">queued {formatDate(j.createdAt)}</span>}</td>
                <td className="num" data-testid="job-duration">{duration === null ? '–' : formatDuration(duration)}</td>
                <td>
                  {ACTIVE.has(j.state) && (
                    <button type="button" className="danger" data-testid="job-cancel" disabled={cancel.isPending} onClick={() => cancel.mutate({ id: j.id })}>Cancel</button>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </>
  );
}
