import { TRPCError } from '@trpc/server';
import { rm } from 'node:fs/promises';
import { z } from 'zod';
import { publicProcedure, router } from '../trpc';

export const projectId = z.string().min(1).max(64).regex(/^[a-z0-9]+$/i, 'not a project id');

export const projectsRouter = router({
  list: publicProcedure.query(({ ctx }) => ctx.svc.repo.listProjects()),
  byId: publicProcedure.input(z.object({ id: projectId })).query(({ ctx, input }) => {
    const p = ctx.svc.repo.project(input.id);
    if (!p) throw new TRPCError({ code: 'NOT_FOUND', message: `There is no project ${input.id}.` });
    return p;
  }),
  create: publicProcedure
    .input(z.object({ name: z.string().trim().min(1, 'Give the project a name.').max(120), kind: z.enum(['mineralogy', 'lithology']).default('mineralogy') }))
    .mutation(({ ctx, input }) => ctx.svc.repo.createProject(input.name, input.kind)),
  delete: publicProcedure.input(z.object({ id: projectId })).mutation(async ({ ctx, input }) => {
    const { repo, ws } = ctx.svc;
    const datasets = repo.listDatasets(input.id);
    repo.deleteProject(input.id);
    for (const d of datasets) await rm(ws.datasetDir(d.id), { recursive: true, force: true });
    await rm(ws.projectDir(input.id), { recursive: true, force: true });
    return { ok: true };
  }),
});
