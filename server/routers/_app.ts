import { createCallerFactory, router } from '../trpc';
import { datasetsRouter } from './datasets';
import { jobsRouter } from './jobs';
import { projectsRouter } from './projects';

export const appRouter = router({
  projects: projectsRouter,
  datasets: datasetsRouter,
  jobs: jobsRouter,
});

export type AppRouter = typeof appRouter;
export const createCaller = createCallerFactory(appRouter);
