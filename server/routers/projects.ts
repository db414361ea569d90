import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { withProjectLock } from '../pipeline/annotate';
import { finishPendingOnOpen } from '../pipeline/switch-volume';
import { isDatasetId, removeDatasetFolderOf, removeProjectFolder } from '../storage/sweep';
import { publicProcedure, router } from '../trpc';

export const projectId = z.string().min(1).max(64).regex(/^[a-z0-9]+$/i, 'not a project id');

export const projectsRouter = router({
  list: publicProcedure.query(({ ctx }) => ctx.svc.repo.listProjects()),
  /** Opening a project: a volume switch of it that stopped half way is finished first (pipeline/switch-volume). */
  byId: publicProcedure.input(z.object({ id: projectId })).query(async ({ ctx, input }) => {
    const p = ctx.svc.repo.project(input.id);
    if (!p) throw new TRPCError({ code: 'NOT_FOUND', message: `There is no project ${input.id}.` });
    await finishPendingOnOpen(ctx.svc, input.id);
    return p;
  }),
  create: publicProcedure
    .input(z.object({ name: z.string().trim().min(1, 'Give the project a name.').max(120), kind: z.enum(['mineralogy', 'lithology']).default('mineralogy') }))
    .mutation(({ ctx, input }) => {
      // two projects of one name are told apart only by their ids: the jobs table, downloads named
      // after the project and the home list would show the same words for two samples
      const key = (n: string) => n.trim().replace(/\s+/g, ' ').toLowerCase();
      const same = ctx.svc.repo.listProjects().find((p) => key(p.name) === key(input.name));
      if (same) {
        throw new TRPCError({ code: 'CONFLICT', message: `Name: a project named "${same.name}" already exists (created ${same.createdAt.toISOString().slice(0, 10)}). Open it from the project list, or give this one another name, e.g. "${input.name} (2)".` });
      }
      return ctx.svc.repo.createProject(input.name, input.kind);
    }),
  /**
   * Its jobs are cancelled and awaited first (they would write into the folders being removed);
   * then, under the project's lock, the row (datasets, jobs, artifacts go with it) and the folders. A job that overran the
   * wait has its leftovers removed when it ends. Folders go by the dataset delete's rule
   * (storage/sweep: a dataset folder only under a dataset id petromap makes, and only what petromap
   * wrote in it; the project folder only under a project id petromap makes): an id edited in SQLite
   * (`../../victim`) never takes a folder outside the workspace with it.
   */
  delete: publicProcedure.input(z.object({ id: projectId })).mutation(async ({ ctx, input }) => {
    const { repo, ws, jobs } = ctx.svc;
    const stop = await jobs.stopProject(input.id);
    let datasetIds: string[] = [];
    const removeAll = async () => {
      for (const id of datasetIds) await removeDatasetFolderOf(ws.root, id);
      await removeProjectFolder(ws.root, input.id);
    };
    // under the project's lock: a volume switch being finished (on opening the project) would write
    // into the folders after they are removed; it ends first, and finds no project after this
    await withProjectLock(input.id, async () => {
      try {
        datasetIds = repo.listDatasets(input.id).map((d) => d.id);
        const odd = datasetIds.filter((id) => !isDatasetId(id));
        if (odd.length) console.warn(`petromap: deleting project ${input.id}: dataset id(s) ${odd.map((id) => JSON.stringify(id)).join(', ')} are not ids petromap makes; no folder is removed for them`);
        repo.deleteProject(input.id);
      } catch (err) {
        jobs.reopenProject(input.id);
        throw err;
      }
      await removeAll();
    });
    if (stop.overran.length) void stop.settled.then(removeAll).catch((err) => console.error(`petromap: cleaning up deleted project ${input.id}:`, err));
    return { ok: true, cancelledJobs: stop.stopped.length };
  }),
});
