import { createCallerFactory, router } from '../trpc';
import { annotateRouter } from './annotate';
import { correlateRouter } from './correlate';
import { datasetsRouter } from './datasets';
import { jobsRouter } from './jobs';
import { projectsRouter } from './projects';

export const appRouter = router({
  projects: projectsRouter,
  datasets: datasetsRouter,
  jobs: jobsRouter,
  correlate: correlateRouter,
  annotate: annotateRouter,
});

export type AppRouter = typeof appRouter;
export const createCaller = createCallerFactory(appRouter);
