import { z } from 'zod';
import { publicProcedure, router } from '../trpc';
import { datasetId } from './datasets';
import { projectId } from './projects';
import { startPoreTraining, usePores } from '../pipeline/multiscale-pores';
import { multiscaleState, placeInterior, removeInterior, setInteriorThreshold, startRegister, startUpscale } from '../pipeline/multiscale';

const coord = z.number().finite().min(-1e6).max(1e6);

export const multiscaleRouter = router({
  /** the scan, its predicted map, the interior scans (placed, registered, views), jobs and the latest result; reads state only */
  state: publicProcedure.input(z.object({ projectId })).query(({ ctx, input }) => multiscaleState(ctx.svc, input.projectId)),
  /** place an interior scan: centre in voxels of the large scan (z, y, x) and turn about the scan axis (degrees) */
  place: publicProcedure
    .input(z.object({ projectId, datasetId, centre: z.tuple([coord, coord, coord]), angleDeg: z.number().finite().min(-180).max(180).default(0) }))
    .mutation(({ ctx, input }) => placeInterior(ctx.svc, input.projectId, input.datasetId, { centre: input.centre, angleDeg: input.angleDeg })),
  /** the pore/solid threshold of an interior scan (grey below = pore, in its stored grey values); null = automatic per class */
  threshold: publicProcedure
    .input(z.object({ projectId, datasetId, threshold: z.number().finite().min(-1e9).max(1e9).nullable() }))
    .mutation(({ ctx, input }) => setInteriorThreshold(ctx.svc, input.projectId, input.datasetId, input.threshold)),
  /** train the engine on an interior's painted pore/solid strokes and predict it whole (a job) */
  trainPores: publicProcedure.input(z.object({ projectId, datasetId })).mutation(({ ctx, input }) => startPoreTraining(ctx.svc, input.projectId, input.datasetId)),
  /** measure an interior with its trained pores (true) or the threshold (false) */
  usePores: publicProcedure.input(z.object({ projectId, datasetId, use: z.boolean() })).mutation(({ ctx, input }) => usePores(ctx.svc, input.projectId, input.datasetId, input.use)),
  remove: publicProcedure.input(z.object({ projectId, datasetId })).mutation(({ ctx, input }) => removeInterior(ctx.svc, input.projectId, input.datasetId)),
  register: publicProcedure.input(z.object({ projectId, datasetId })).mutation(({ ctx, input }) => startRegister(ctx.svc, input.projectId, input.datasetId)),
  /** measure every registered interior scan and build the composite model (a job) */
  measure: publicProcedure.input(z.object({ projectId })).mutation(({ ctx, input }) => startUpscale(ctx.svc, input.projectId)),
});
