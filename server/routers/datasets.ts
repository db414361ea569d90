import { TRPCError } from '@trpc/server';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { PICK_UPLOAD, startImportJob, type TimaPickResult } from '../storage/import-job';
import type { DatasetRecord } from '../db/repo';
import { publicProcedure, router } from '../trpc';
import type { VolumeMeta } from '@/lib/volume/types';
import { projectId } from './projects';
import type { Services } from '../services';
import { forgetMap } from '../pipeline/correlate';
import { forgetVolume } from '../pipeline/forget-volume';
import { projectDatasets } from '../pipeline/project-inputs';
import { withProjectLock } from '../pipeline/annotate';
import { finishPendingSwitch, restoreAside, switchVolume, volumeSwitchPlan } from '../pipeline/switch-volume';
import { removeDatasetFolder } from '../storage/sweep';

const jobId = z.string().min(1).max(64).regex(/^[a-z0-9]+$/i, 'not a job id');

/** The kept upload of an import job that waits for a TIMA dataset choice, checked against the project. */
function pendingPick(svc: Services, project: string, job: string) {
  const j = svc.repo.job(job);
  if (!j || j.kind !== 'import' || j.projectId !== project) throw new TRPCError({ code: 'NOT_FOUND', message: `There is no import ${job} in project ${project}.` });
  const pick = (j.result as Partial<TimaPickResult> | null)?.pick;
  if (!pick || !PICK_UPLOAD.test(pick.upload)) throw new TRPCError({ code: 'BAD_REQUEST', message: `Import ${job} is not waiting for a TIMA dataset to be chosen.` });
  const name = String((j.params as { name?: unknown } | null)?.name ?? 'the upload');
  const face = (j.params as { face?: unknown } | null)?.face === 'bottom' ? 'bottom' as const : undefined;
  return { pick, name, face, file: path.join(/*turbopackIgnore: true*/ svc.ws.root, 'tmp', pick.upload) };
}

export const datasetId = z.string().min(1).max(64).regex(/^[a-z0-9]+$/i, 'not a dataset id');

export interface EdsInfoOut {
  width: number;
  height: number;
  pixelSizeUm: number;
  /** areaFraction: of all map pixels; pixels: count (absent in datasets imported before issue 16) */
  legend: { id: number; name: string; color: [number, number, number]; areaFraction: number; pixels?: number }[];
  /** measured pixels with no mineral, fraction of all map pixels */
  unclassifiedFraction: number;
  /** map area no field covers (TIMA mosaics), fraction of all map pixels; absent = 0 */
  notMeasuredFraction?: number;
  /** the sample's name from the instrument's project files */
  sampleName?: string;
  companions: string[];
}

export interface VolumeInfoOut {
  meta: VolumeMeta;
  levels: number;
  /** the file gave no voxel size and the upload none: meta.spacingUm is the 1 µm the import assumed */
  spacingAssumed?: boolean;
}

/** The client's view of a dataset: no paths. */
export function datasetOut(d: DatasetRecord, refused?: string) {
  const base = {
    id: d.id, projectId: d.projectId, name: d.name, kind: d.kind, status: d.status, error: d.error, createdAt: d.createdAt, face: d.kind === 'eds' ? (d.face ?? 'top') : null,
    /** an EDS map whose registration on the bottom face was refused (why, in lib's words): not the project's bottom map */
    refused: refused ?? null,
  };
  if (d.kind === 'volume') {
    const info = d.info as VolumeInfoOut | null;
    return { ...base, meta: info?.meta, levels: info?.levels ?? 1, spacingAssumed: info?.spacingAssumed ?? false, eds: undefined as EdsInfoOut | undefined };
  }
  return { ...base, meta: undefined as VolumeMeta | undefined, levels: undefined as number | undefined, spacingAssumed: false, eds: (d.info as EdsInfoOut | null) ?? undefined };
}

export const datasetsRouter = router({
  /**
   * The user's choice of a dataset from an uploaded TIMA project (an import job that ended with
   * `pick`): starts the import of that dataset from the kept upload. The upload is taken over
   * first (renamed), so a second choice of the same upload is refused instead of racing.
   */
  importTimaDataset: publicProcedure
    .input(z.object({ projectId, jobId, dataset: z.string().trim().min(1).max(200) }))
    .mutation(async ({ ctx, input }) => {
      const { pick, name, face, file } = pendingPick(ctx.svc, input.projectId, input.jobId);
      const chosen = pick.datasets.find((d) => d.id === input.dataset);
      if (!chosen) throw new TRPCError({ code: 'BAD_REQUEST', message: `${name} holds no TIMA dataset ${input.dataset}; it holds ${pick.datasets.map((d) => d.label).join(', ')}.` });
      const taken = ctx.svc.ws.tmpPath('upload') + '.zip';
      try {
        await rename(file, taken);
      } catch {
        throw new TRPCError({ code: 'CONFLICT', message: `${name} was already imported from this upload, discarded, or the server restarted since; upload it again to choose another dataset.` });
      }
      try {
        const job = startImportJob(ctx.svc, { projectId: input.projectId, kind: 'eds', name, file: taken, dataset: chosen.id, face });
        return { jobId: job.id, label: chosen.label };
      } catch (err) {
        await rm(taken, { force: true });
        throw err;
      }
    }),
  /**
   * Which polished face an EDS map shows (issue 15 §1): 'bottom' makes it the project's bottom-face
   * map (registered on its own on Correlate, trained on with the top map); 'top' makes it a top map again.
   */
  setFace: publicProcedure.input(z.object({ id: datasetId, face: z.enum(['top', 'bottom']) })).mutation(({ ctx, input }) => {
    const d = ctx.svc.repo.dataset(input.id);
    if (!d) throw new TRPCError({ code: 'NOT_FOUND', message: `There is no dataset ${input.id}.` });
    if (d.kind !== 'eds') throw new TRPCError({ code: 'BAD_REQUEST', message: `${d.name} is an XRM volume: only an EDS map shows a face of the sample.` });
    ctx.svc.repo.setDatasetFace(d.id, input.face === 'bottom' ? 'bottom' : null);
    // marked again by the user: a map refused as the bottom face may be placed with landmarks now
    const refused = ctx.svc.repo.artifact(d.projectId, 'refusedMaps');
    if (refused?.[d.id]) {
      delete refused[d.id];
      ctx.svc.repo.setArtifact(d.projectId, 'refusedMaps', refused);
    }
    return { ok: true };
  }),
  /** Drops the kept upload of a TIMA project when the user picks nothing. */
  discardTimaUpload: publicProcedure.input(z.object({ projectId, jobId })).mutation(async ({ ctx, input }) => {
    const { file } = pendingPick(ctx.svc, input.projectId, input.jobId);
    await rm(file, { force: true });
    return { ok: true };
  }),
  list: publicProcedure.input(z.object({ projectId })).query(({ ctx, input }) => {
    const refused = ctx.svc.repo.artifact(input.projectId, 'refusedMaps') ?? {};
    // inUse: the volume and maps the project's steps take (projectDatasets' rule), which the Data step names
    const used = ctx.svc.repo.project(input.projectId) ? projectDatasets(ctx.svc, input.projectId) : undefined;
    const inUse = new Set([used?.volume?.id, used?.eds?.id, used?.bottomEds?.id]);
    return ctx.svc.repo.listDatasets(input.projectId).map((d) => ({ ...datasetOut(d, refused[d.id]?.reason), inUse: inUse.has(d.id) }));
  }),
  /**
   * What making volume `id` the one the project uses would do (the confirmation the Data step asks
   * first): the volume used now, what is set aside with it, what comes back with the chosen one,
   * and why it cannot happen now (a running job), if so. Reads only.
   */
  volumeSwitch: publicProcedure.input(z.object({ projectId, id: datasetId })).query(({ ctx, input }) => volumeSwitchPlan(ctx.svc, input.projectId, input.id)),
  /**
   * Make volume `id` the one the project's steps use (pipeline/switch-volume.ts): what was derived
   * from the volume used now is set aside with it (and comes back when it is chosen again); what was
   * set aside for the chosen one comes back. Refused while a job of the project runs.
   */
  useVolume: publicProcedure.input(z.object({ projectId, id: datasetId })).mutation(async ({ ctx, input }) => {
    const r = await switchVolume(ctx.svc, input.projectId, input.id);
    return { changed: r.changed, from: r.from, to: r.to, aside: r.aside, back: r.back, kept: r.kept };
  }),
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
    // one switch or delete of a project at a time (a switch that stopped half way is finished first)
    const gone = await withProjectLock(d.projectId, async () => {
      if (!ctx.svc.repo.dataset(d.id)) return true; // deleted by another request meanwhile
      await finishPendingSwitch(ctx.svc, d.projectId);
      const wasInUse = d.kind === 'volume' && projectDatasets(ctx.svc, d.projectId).volume?.id === d.id;
      ctx.svc.repo.deleteDataset(d.id);
      // what belonged to this dataset in its project (a map: its registrations and their overlays; a
      // volume: the registrations, slabs, strokes and predictions made on it), then its folder: only
      // what petromap wrote in it (a folder holding anything else stays, with that)
      if (d.kind === 'eds') await forgetMap(ctx.svc, d.projectId, d.id);
      else await forgetVolume(ctx.svc, d.projectId, d.id);
      // the volume in use went: the one that takes its place gets back what a switch set aside for it
      // (never over the model in use, which stays: what does not come back stays in its folder)
      const next = wasInUse ? projectDatasets(ctx.svc, d.projectId).volume : undefined;
      if (next) await restoreAside(ctx.svc, d.projectId, next.id);
      return false;
    });
    if (gone) return { ok: true };
    const dir = ctx.svc.ws.datasetDir(d.id);
    await removeDatasetFolder(dir);
    if (stop.overran.length) void stop.settled.then(() => removeDatasetFolder(dir)).catch(() => undefined);
    return { ok: true };
  }),
});
