import { createCallerFactory, router } from '../trpc';
import { correlateRouter } from './correlate';
import { datasetsRouter } from './datasets';
import { jobsRouter } from './jobs';
import { projectsRouter } from './projects';

export const appRouter = router({
  projects: projectsRouter,
  datasets: datasetsRouter,
  jobs: jobsRouter,
  correlate: correlateRouter,
});

export type AppRouter = typeof appRouter;
export const createCaller = createCallerFactory(appRouter);
