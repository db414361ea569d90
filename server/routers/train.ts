import { z } from 'zod';
import { invalidInput } from '@/lib/errors';
import type { FeatureSpec } from '@/lib/features/types';
import type { Services } from '../services';
import { publicProcedure, router } from '../trpc';
import { projectId } from './projects';
import { MAX_EPOCHS, MAX_FEATURE_SPECS, MAX_HIDDEN_LAYERS, MAX_HIDDEN_WIDTH, MAX_SIGMA_UM, MAX_SIGMA_VOX } from './bounds';
import { projectFeatureSet, setClassColor, setProjectFeatureSet, startPredict, startTrain, trainState } from '../pipeline/train';
import { projectDatasets } from '../pipeline/project-inputs';
import { finishPendingOnOpen } from '../pipeline/switch-volume';
import { volumeStore } from '../storage/open-stores';

const filter = z.enum(['intensity', 'gaussian', 'gradientMagnitude', 'laplacian', 'dog', 'hessianEigen', 'structureTensorEigen', 'localMean', 'localVariance', 'nonLocalMean']);

const spec = z.object({ filter, sigmaUm: z.number().finite().min(0).max(MAX_SIGMA_UM, `A scale is at most ${MAX_SIGMA_UM} µm.`) });

/**
 * Scales of at most MAX_SIGMA_VOX voxels of the project's volume (its smallest voxel size), when
 * it has one: returns that volume's spacing, or undefined without a volume.
 */
async function checkScales(svc: Services, project: string, specs: FeatureSpec[] | ((spacing: [number, number, number]) => FeatureSpec[])) {
  const { volume } = projectDatasets(svc, project);
  if (!volume) return;
  const { spacingUm } = (await volumeStore(svc, volume.id)).meta;
  const unit = Math.min(...spacingUm);
  const list = typeof specs === 'function' ? specs(spacingUm) : specs;
  const max = MAX_SIGMA_VOX * unit;
  const over = list.filter((s) => s.filter !== 'intensity' && s.sigmaUm > max + 1e-9);
  if (over.length) {
    throw invalidInput(
      `The feature scales must be at most ${MAX_SIGMA_VOX} voxels (${+max.toFixed(3)} µm for the ${unit} µm voxels of "${volume.name}"): ` +
        `${over.map((s) => `${s.filter} at ${s.sigmaUm} µm`).join(', ')} is too large. Choose smaller scales on the Train step.`,
    );
  }
}

export const trainRouter = router({
  state: publicProcedure.input(z.object({ projectId })).query(async ({ ctx, input }) => {
    // a volume switch that stopped half way is finished first (never waits: pipeline/switch-volume); the label count waits for it
    await finishPendingOnOpen(ctx.svc, input.projectId);
    return trainState(ctx.svc, input.projectId);
  }),
  setFeatureSet: publicProcedure
    .input(z.object({ projectId, specs: z.array(spec).min(1).max(MAX_FEATURE_SPECS, `A feature set has at most ${MAX_FEATURE_SPECS} filters.`) }))
    .mutation(async ({ ctx, input }) => {
      await checkScales(ctx.svc, input.projectId, input.specs);
      return setProjectFeatureSet(ctx.svc, input.projectId, input.specs);
    }),
  start: publicProcedure
    .input(z.object({
      projectId,
      hidden: z.array(z.number().int().min(2).max(MAX_HIDDEN_WIDTH)).min(1).max(MAX_HIDDEN_LAYERS).optional(),
      epochs: z.number().int().min(1).max(MAX_EPOCHS, `Train for at most ${MAX_EPOCHS} epochs (training stops early when the held-out loss stops improving).`).optional(),
    }))
    .mutation(async ({ ctx, input }) => {
      // a feature set saved before the volume was known (or before these bounds) is checked again
      await checkScales(ctx.svc, input.projectId, (spacing) => projectFeatureSet(ctx.svc, input.projectId, spacing).specs);
      return { jobId: startTrain(ctx.svc, input.projectId, { hidden: input.hidden, epochs: input.epochs }).id };
    }),
  setClassColor: publicProcedure
    .input(z.object({ projectId, code: z.number().int().min(1).max(255), color: z.tuple([z.number().int().min(0).max(255), z.number().int().min(0).max(255), z.number().int().min(0).max(255)]) }))
    .mutation(({ ctx, input }) => setClassColor(ctx.svc, input.projectId, input.code, input.color)),
  predict: publicProcedure.input(z.object({ projectId })).mutation(({ ctx, input }) => ({ jobId: startPredict(ctx.svc, input.projectId).id })),
});
