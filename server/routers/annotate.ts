import { z } from 'zod';
import { publicProcedure, router } from '../trpc';
import { projectId } from './projects';
import { MAX_EPOCHS, MAX_FOV_UM } from './bounds';
import { addClass, annotationState, clearAnnotations, startTrainFromStrokes, updateClass } from '../pipeline/annotate';
import { deleteClass, proposalsStatus, startProposals } from '../pipeline/annotate-jobs';

const code = z.number().int().min(1).max(255);
const color = z.tuple([z.number().int().min(0).max(255), z.number().int().min(0).max(255), z.number().int().min(0).max(255)]);
const name = z.string().trim().min(1, 'A class needs a name.').max(60);
const um = z.number().finite().positive().max(MAX_FOV_UM, `A field of view is at most ${MAX_FOV_UM} µm.`);
const fovUm = z.tuple([um, um, um]);

export const annotateRouter = router({
  state: publicProcedure.input(z.object({ projectId })).query(({ ctx, input }) => annotationState(ctx.svc, input.projectId)),
  addClass: publicProcedure
    .input(z.object({ projectId, name, color }))
    .mutation(({ ctx, input }) => addClass(ctx.svc, input.projectId, { name: input.name, color: input.color })),
  updateClass: publicProcedure
    .input(z.object({ projectId, code, name: name.optional(), color: color.optional() }))
    .mutation(({ ctx, input }) => updateClass(ctx.svc, input.projectId, input.code, { name: input.name, color: input.color })),
  /** deletes at once ({ jobId: null }) or starts the job erasing the class's strokes ({ jobId }) */
  deleteClass: publicProcedure
    .input(z.object({ projectId, code, eraseStrokes: z.boolean().default(false) }))
    .mutation(({ ctx, input }) => deleteClass(ctx.svc, input.projectId, input.code, input.eraseStrokes)),
  clearStrokes: publicProcedure.input(z.object({ projectId })).mutation(async ({ ctx, input }) => {
    await clearAnnotations(ctx.svc, input.projectId);
    return { ok: true };
  }),
  train: publicProcedure
    .input(z.object({ projectId, epochs: z.number().int().min(1).max(MAX_EPOCHS, `Train for at most ${MAX_EPOCHS} epochs.`).optional() }))
    .mutation(({ ctx, input }) => ({ jobId: startTrainFromStrokes(ctx.svc, input.projectId, { epochs: input.epochs }).id })),
  /** start the proposals job for a field of view (or find its result stored / its job running) */
  propose: publicProcedure
    .input(z.object({ projectId, fovUm }))
    .mutation(({ ctx, input }) => startProposals(ctx.svc, input.projectId, input.fovUm)),
  /** the proposals of a field of view: ready (stored), pending (the job's progress), failed or none; reads state only */
  proposals: publicProcedure
    .input(z.object({ projectId, fovUm }))
    .query(({ ctx, input }) => proposalsStatus(ctx.svc, input.projectId, input.fovUm)),
});
