import { TRPCError, tracked } from '@trpc/server';
import { on } from 'node:events';
import { z } from 'zod';
import type { JobEvent } from '../jobs/runner';
import { publicProcedure, router } from '../trpc';

const jobId = z.string().min(1).max(64).regex(/^[a-z0-9]+$/i, 'not a job id');

export const jobsRouter = router({
  list: publicProcedure.input(z.object({ projectId: z.string().max(64).optional() }).optional()).query(({ ctx, input }) => ctx.svc.repo.listJobs(input?.projectId)),
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
