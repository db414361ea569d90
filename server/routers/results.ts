import { z } from 'zod';
import { publicProcedure, router } from '../trpc';
import { projectId } from './projects';
import { resultsState, scheduleResultsStats } from '../pipeline/results';
import { finishPendingOnOpen } from '../pipeline/switch-volume';

export const resultsRouter = router({
  /** The Results page; the statistics are read as stored (stats.status 'pending' while their job runs). */
  state: publicProcedure.input(z.object({ projectId })).query(async ({ ctx, input }) => {
    // a volume switch that stopped half way is finished first (never waits: pipeline/switch-volume); its statistics job waits for it
    await finishPendingOnOpen(ctx.svc, input.projectId);
    return resultsState(ctx.svc, input.projectId);
  }),
  /** Compute the statistics of the current prediction again (after a failure); returns the job, if one was started. */
  computeStats: publicProcedure.input(z.object({ projectId })).mutation(({ ctx, input }) => {
    const job = scheduleResultsStats(ctx.svc, input.projectId, { force: true });
    return { jobId: job?.id ?? null };
  }),
});
