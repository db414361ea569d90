'use client';
/** A job's progress bar, or its error in words once it failed. */
import type { RouterOutputs } from '@/app/_components/api-types';

export type Job = RouterOutputs['multiscale']['state']['upscaleJob'];

export function JobLine({ job, what, failed }: { job: Job; what: string; failed: string }) {
  if (!job) return null;
  if (job.active) return (
    <div data-testid={`ms-progress-${what}`}>
      <div className="progress"><div style={{ width: `${(job.progress * 100).toFixed(0)}%` }} /></div>
      <span className="info">{(job.progress * 100).toFixed(0)} % {job.message ?? 'waiting to start'}</span>
    </div>
  );
  if (job.state === 'failed') return <p className="error" role="alert" data-testid={`ms-failed-${what}`}>{failed}: {job.error}</p>;
  if (job.state === 'interrupted') return <p className="error" data-testid={`ms-failed-${what}`}>{failed}: the server restarted during the job; start it again.</p>;
  return null;
}

