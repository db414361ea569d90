import { z } from 'zod';
import { publicProcedure, router } from '../trpc';
import { projectId } from './projects';
import { setClassColor, setProjectFeatureSet, startPredict, startTrain, trainState } from '../pipeline/train';

const filter = z.enum(['intensity', 'gaussian', 'gradientMagnitude', 'laplacian', 'dog', 'hessianEigen', 'structureTensorEigen', 'localMean', 'localVariance', 'nonLocalMean']);

export const trainRouter = router({
  state: publicProcedure.input(z.object({ projectId })).query(({ ctx, input }) => trainState(ctx.svc, input.projectId)),
  setFeatureSet: publicProcedure
    .input(z.object({ projectId, specs: z.array(z.object({ filter, sigmaUm: z.number().finite().min(0).max(1000) })).min(1).max(200) }))
    .mutation(({ ctx, input }) => setProjectFeatureSet(ctx.svc, input.projectId, input.specs)),
  start: publicProcedure
    .input(z.object({ projectId, hidden: z.array(z.number().int().min(2).max(1024)).min(1).max(4).optional(), epochs: z.number().int().min(1).max(500).optional() }))
    .mutation(({ ctx, input }) => ({ jobId: startTrain(ctx.svc, input.projectId, { hidden: input.hidden, epochs: input.epochs }).id })),
  setClassColor: publicProcedure
    .input(z.object({ projectId, code: z.number().int().min(1).max(255), color: z.tuple([z.number().int().min(0).max(255), z.number().int().min(0).max(255), z.number().int().min(0).max(255)]) }))
    .mutation(({ ctx, input }) => setClassColor(ctx.svc, input.projectId, input.code, input.color)),
  predict: publicProcedure.input(z.object({ projectId })).mutation(({ ctx, input }) => ({ jobId: startPredict(ctx.svc, input.projectId).id })),
});
