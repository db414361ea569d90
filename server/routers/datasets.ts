import { TRPCError } from '@trpc/server';
import { rm } from 'node:fs/promises';
import { z } from 'zod';
import type { DatasetRecord } from '../db/repo';
import { publicProcedure, router } from '../trpc';
import type { VolumeMeta } from '@/lib/volume/types';
import { projectId } from './projects';

export const datasetId = z.string().min(1).max(64).regex(/^[a-z0-9]+$/i, 'not a dataset id');

export interface EdsInfoOut {
  width: number;
  height: number;
  pixelSizeUm: number;
  legend: { id: number; name: string; color: [number, number, number]; areaFraction: number }[];
  unclassifiedFraction: number;
  companions: string[];
}

export interface VolumeInfoOut {
  meta: VolumeMeta;
  levels: number;
}

/** The client's view of a dataset: no paths. */
export function datasetOut(d: DatasetRecord) {
  const base = { id: d.id, projectId: d.projectId, name: d.name, kind: d.kind, status: d.status, error: d.error, createdAt: d.createdAt };
  if (d.kind === 'volume') {
    const info = d.info as VolumeInfoOut | null;
    return { ...base, meta: info?.meta, levels: info?.levels ?? 1, eds: undefined as EdsInfoOut | undefined };
  }
  return { ...base, meta: undefined as VolumeMeta | undefined, levels: undefined as number | undefined, eds: (d.info as EdsInfoOut | null) ?? undefined };
}

export const datasetsRouter = router({
  list: publicProcedure.input(z.object({ projectId })).query(({ ctx, input }) => ctx.svc.repo.listDatasets(input.projectId).map(datasetOut)),
  byId: publicProcedure.input(z.object({ id: datasetId })).query(({ ctx, input }) => {
    const d = ctx.svc.repo.dataset(input.id);
    if (!d) throw new TRPCError({ code: 'NOT_FOUND', message: `There is no dataset ${input.id}.` });
    return datasetOut(d);
  }),
  delete: publicProcedure.input(z.object({ id: datasetId })).mutation(async ({ ctx, input }) => {
    const d = ctx.svc.repo.dataset(input.id);
    if (!d) throw new TRPCError({ code: 'NOT_FOUND', message: `There is no dataset ${input.id}.` });
    // jobs naming this dataset are cancelled and awaited first: they would write into its folder
    const stop = await ctx.svc.jobs.stopDataset(d.id);
    ctx.svc.repo.deleteDataset(d.id);
    const dir = ctx.svc.ws.datasetDir(d.id);
    await rm(dir, { recursive: true, force: true });
    if (stop.overran.length) void stop.settled.then(() => rm(dir, { recursive: true, force: true })).catch(() => undefined);
    return { ok: true };
  }),
});
