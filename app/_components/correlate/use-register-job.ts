'use client';
/**
 * Progress of the auto-register job: live events over the jobs.onUpdate subscription, with a
 * jobs.byId poll as a safety net (a job that ends before the subscription connects would
 * otherwise never report). Calls `onEnd` once when the job is done, failed or cancelled.
 */
import { skipToken, useQuery } from '@tanstack/react-query';
import { useSubscription } from '@trpc/tanstack-react-query';
import { useEffect, useRef, useState } from 'react';
import { useTRPC } from '@/app/_trpc/client';

export interface JobProgress {
  id: string;
  state: string;
  progress: number;
  message: string | null;
  error: string | null;
  etaSeconds: number | null;
}

const ENDED = new Set(['done', 'failed', 'cancelled', 'interrupted']);
export const jobEnded = (state: string | undefined) => !!state && ENDED.has(state);

export function useRegisterJob(jobId: string | null, onEnd: (p: JobProgress) => void): JobProgress | null {
  const trpc = useTRPC();
  const [live, setLive] = useState<JobProgress | null>(null);
  const ended = useRef<string | null>(null);

  useEffect(() => setLive(null), [jobId]);

  useSubscription(
    trpc.jobs.onUpdate.subscriptionOptions(jobId ? { id: jobId } : skipToken, {
      enabled: !!jobId,
      onData: (d) => {
        // tracked() events arrive as { id, data }
        const e = ((d as { data?: unknown }).data ?? d) as JobProgress;
        if (e && e.id === jobId) setLive(e);
      },
    }),
  );

  const polled = useQuery(
    trpc.jobs.byId.queryOptions(jobId ? { id: jobId } : skipToken, {
      refetchInterval: (q) => (jobEnded(q.state.data?.state) ? false : 1500),
    }),
  );

  const poll: JobProgress | null = polled.data
    ? { id: polled.data.id, state: polled.data.state, progress: polled.data.progress, message: polled.data.message, error: polled.data.error, etaSeconds: null }
    : null;
  // Prefer the live event unless the poll already knows the job has ended.
  const cur = poll && jobEnded(poll.state) && !jobEnded(live?.state) ? poll : (live ?? poll);

  useEffect(() => {
    if (!jobId || !cur || !jobEnded(cur.state) || ended.current === jobId) return;
    ended.current = jobId;
    onEnd(cur);
  }, [jobId, cur?.state]); // eslint-disable-line react-hooks/exhaustive-deps

  return jobId ? cur : null;
}
