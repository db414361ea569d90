import { z } from 'zod';
import { publicProcedure, router } from '../trpc';
import { projectId } from './projects';
import { resultsState } from '../pipeline/results';

export const resultsRouter = router({
  state: publicProcedure.input(z.object({ projectId })).query(({ ctx, input }) => resultsState(ctx.svc, input.projectId)),
});
