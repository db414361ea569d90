'use client';
/** All jobs (imports, registration, training, prediction) with state, progress and errors. */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTRPC } from '@/app/_trpc/client';
import { formatDate, formatPct } from '../format';

const ACTIVE = new Set(['queued', 'running']);

export function JobTable() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  // Poll while something runs; the per-job progress subscription is for the step pages.
  const jobs = useQuery({
    ...trpc.jobs.list.queryOptions(),
    refetchInterval: (q) => (q.state.data?.some((j) => ACTIVE.has(j.state)) ? 2000 : false),
  });
  const cancel = useMutation(
    trpc.jobs.cancel.mutationOptions({ onSettled: () => qc.invalidateQueries({ queryKey: trpc.jobs.list.queryKey() }) }),
  );

  if (jobs.isPending) return <p className="muted">Loading jobs…</p>;
  if (jobs.error) return <div className="error">Could not load the jobs: {jobs.error.message}</div>;
  if (jobs.data.length === 0) return <p className="muted">No jobs yet. Imports, registration, training and prediction appear here.</p>;
  return (
    <table className="data" data-testid="job-table">
      <thead>
        <tr>
          <th>Job</th>
          <th>State</th>
          <th style={{ width: 220 }}>Progress</th>
          <th>Started</th>
          <th />
        </tr>
      </thead>
      <tbody>
        {jobs.data.map((j) => (
          <tr key={j.id}>
            <td><code>{j.kind}</code> <span className="muted small">#{j.id}</span></td>
            <td>{j.state}</td>
            <td>
              <div className="progress"><div style={{ width: `${(j.progress ?? 0) * 100}%` }} /></div>
              <div className="small muted">{formatPct(j.progress ?? 0, 0)} {j.message ?? ''}</div>
              {j.error && <div className="small" style={{ color: 'var(--danger)' }}>{j.error}</div>}
            </td>
            <td className="num">{formatDate(j.createdAt)}</td>
            <td>
              {ACTIVE.has(j.state) && (
                <button type="button" className="danger" disabled={cancel.isPending} onClick={() => cancel.mutate({ id: j.id })}>Cancel</button>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
