import { TRPCError, tracked } from '@trpc/server';
import { on } from 'node:events';
import { z } from 'zod';
import type { JobRecord, JobState } from '../db/repo';
import type { JobEvent } from '../jobs/runner';
import { publicProcedure, router } from '../trpc';

const jobId = z.string().min(1).max(64).regex(/^[a-z0-9]+$/i, 'not a job id');
const JOB_STATES = ['queued', 'running', 'done', 'failed', 'cancelled', 'interrupted'] as const satisfies readonly JobState[];

/**
 * A row of the Jobs page: what the job is, where it belongs (project name; the dataset an import
 * made, for the link to its result), when it started and ended, its ETA from the progress rate
 * while it runs, and its error. Parameters and results stay on the server.
 */
export function jobRow(j: JobRecord, projectName: string | null, etaSeconds: number | null) {
  const result = j.result as { datasetId?: unknown } | null;
  return {
    id: j.id,
    kind: j.kind,
    state: j.state,
    progress: j.progress,
    message: j.message,
    error: j.error,
    projectId: j.projectId,
    projectName,
    datasetId: typeof result?.datasetId === 'string' ? result.datasetId : null,
    createdAt: j.createdAt,
    startedAt: j.startedAt,
    finishedAt: j.finishedAt,
    etaSeconds: j.state === 'running' ? etaSeconds : null,
  };
}
export type JobRow = ReturnType<typeof jobRow>;

export const jobsRouter = router({
  /** The newest 200 jobs (of one project), newest first, optionally only those in the given states. */
  list: publicProcedure
    .input(z.object({ projectId: z.string().max(64).optional(), states: z.array(z.enum(JOB_STATES)).max(JOB_STATES.length).optional() }).optional())
    .query(({ ctx, input }) => {
      const names = new Map(ctx.svc.repo.listProjects().map((p) => [p.id, p.name]));
      const now = Date.now();
      return ctx.svc.repo
        .listJobs(input?.projectId, input?.states)
        .map((j) => jobRow(j, j.projectId ? (names.get(j.projectId) ?? null) : null, ctx.svc.jobs.etaOf(j.id, now)));
    }),
  byId: publicProcedure.input(z.object({ id: jobId })).query(({ ctx, input }) => {
    const j = ctx.svc.repo.job(input.id);
    if (!j) throw new TRPCError({ code: 'NOT_FOUND', message: `There is no job ${input.id}.` });
    return j;
  }),
  cancel: publicProcedure.input(z.object({ id: jobId })).mutation(({ ctx, input }) => {
    const j = ctx.svc.repo.job(input.id);
    if (!j) throw new TRPCError({ code: 'NOT_FOUND', message: `There is no job ${input.id}.` });
    return { cancelled: ctx.svc.jobs.cancel(input.id) };
  }),
  /** Live progress of every job (or one job), streamed over SSE. */
  onUpdate: publicProcedure.input(z.object({ id: jobId.optional() }).optional()).subscription(async function* ({ ctx, input, signal }) {
    const name = input?.id ? `job:${input.id}` : 'job';
    let n = 0;
    for await (const [e] of on(ctx.svc.jobs.events, name, { signal })) {
      yield tracked(String(n++), e as JobEvent);
    }
  }),
});
