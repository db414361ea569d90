import { createCallerFactory, router } from '../trpc';
import { annotateRouter } from './annotate';
import { correlateRouter } from './correlate';
import { datasetsRouter } from './datasets';
import { jobsRouter } from './jobs';
import { projectsRouter } from './projects';
import { trainRouter } from './train';
import { resultsRouter } from './results';
import { workersRouter } from './workers';
import { multiscaleRouter } from './multiscale';

export const appRouter = router({
  projects: projectsRouter,
  datasets: datasetsRouter,
  jobs: jobsRouter,
  correlate: correlateRouter,
  annotate: annotateRouter,
  train: trainRouter,
  results: resultsRouter,
  workers: workersRouter,
  multiscale: multiscaleRouter,
});

export type AppRouter = typeof appRouter;
export const createCaller = createCallerFactory(appRouter);
