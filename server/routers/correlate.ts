import { z } from 'zod';
import { publicProcedure, router } from '../trpc';
import { projectId } from './projects';
import { volumeStore } from '../storage/open-stores';
import { faceDatasets, projectClasses, projectClassMap, projectDatasets } from '../pipeline/project-inputs';
import {
  acceptRegistration, currentSlab, edsInfoOf, edsTimaFields, fitProjectLandmarks, latestSlabJob, registrationKey, startAutoRegister, startSlabJob, useRegistrationModel,
} from '../pipeline/correlate';
import { registerAtFoundSize, scaleSearchState, startScaleSearch } from '../pipeline/correlate-scale';

const px = z.tuple([z.number().finite(), z.number().finite()]);
const landmarks = z.array(z.object({ eds: px, slab: px })).max(200);
const model = z.enum(['similarity', 'affine']).default('similarity');
/** the registration's transform model (issue 19); 'auto' keeps the affine / field shifts only where the map supports them */
const registrationModel = z.enum(['auto', 'similarity', 'affine', 'fields']).default('auto');
const fieldGrid = z.tuple([z.number().int().min(1).max(64), z.number().int().min(1).max(64)]);
/** the polished face whose EDS map is registered (issue 15 §1); default top, as projects with one map */
const face = z.enum(['top', 'bottom']).default('top');

export const correlateRouter = router({
  /**
   * Everything the Correlate page shows, from stored records only (dataset info, the stored slab
   * record, the registration artifact, job rows): no volume or map pass. While the surface-slab
   * job runs, `slabStatus` is 'pending' and `slabJob` carries its id and progress.
   */
  state: publicProcedure.input(z.object({ projectId, face })).query(async ({ ctx, input }) => {
    const svc = ctx.svc;
    const { volume, eds } = faceDatasets(svc, input.projectId, input.face);
    const all = projectDatasets(svc, input.projectId);
    const store = volume ? await volumeStore(svc, volume.id) : undefined;
    const info = eds ? edsInfoOf(eds) : undefined;
    const slab = volume ? await currentSlab(svc, input.projectId, volume.id, input.face) : undefined;
    const job = volume && !slab ? latestSlabJob(svc, input.projectId, volume.id, input.face) : undefined;
    const slabStatus: 'none' | 'ready' | 'pending' | 'failed' = !volume ? 'none'
      : slab ? 'ready'
        : job?.state === 'queued' || job?.state === 'running' ? 'pending'
          : job && job.state !== 'done' ? 'failed' : 'none';
    const reg = svc.repo.artifact(input.projectId, registrationKey(input.face));
    const fresh = reg && volume && eds && reg.volumeId === volume.id && reg.edsId === eds.id ? reg : null;
    const accepted = (f: 'top' | 'bottom', d: { id: string } | undefined) => {
      const r = svc.repo.artifact(input.projectId, registrationKey(f));
      return !!(r?.accepted && d && volume && r.edsId === d.id && r.volumeId === volume.id);
    };
    return {
      face: input.face,
      /** both faces at a glance (the face selector): the map's name, and whether its registration is accepted */
      faces: {
        top: all.eds ? { name: all.eds.name, accepted: accepted('top', all.eds) } : null,
        bottom: all.bottomEds ? { name: all.bottomEds.name, accepted: accepted('bottom', all.bottomEds) } : null,
      },
      volume: volume && store ? { id: volume.id, name: volume.name, shape: store.meta.shape, spacingUm: store.meta.spacingUm } : null,
      eds: eds && info
        ? { id: eds.id, name: eds.name, width: info.width, height: info.height, pixelSizeUm: info.pixelSizeUm, legend: info.legend.map((p) => ({ id: p.id, name: p.name, color: p.color, areaFraction: p.areaFraction ?? 0 })), unclassifiedFraction: info.unclassifiedFraction ?? 0, notMeasuredFraction: info.notMeasuredFraction ?? 0, timaFields: await edsTimaFields(svc, eds) }
        : null,
      slab: slab && store
        ? { width: slab.width, height: slab.height, surface: slab.surface, depthVox: slab.surface.c + slab.surface.a * (store.meta.shape[2] / 2) + slab.surface.b * (store.meta.shape[1] / 2) }
        : null,
      slabStatus,
      slabJob: job && slabStatus !== 'none'
        ? { id: job.id, state: job.state, progress: job.progress, message: job.message, error: job.error }
        : null,
      registration: fresh
        ? {
          edsToSlab: fresh.edsToSlab, edsToVoxel: fresh.edsToVoxel, quality: fresh.quality, landmarks: fresh.landmarks, accepted: fresh.accepted, overlayChecked: !!fresh.overlayChecked, source: fresh.source, truthError: fresh.truthError, createdAt: new Date(fresh.createdAt),
          model: fresh.model ?? null, modelChoice: fresh.modelChoice ?? null, fields: fresh.fields ?? null, residual: fresh.residual ?? null, candidates: fresh.candidates ?? null,
          pixelSize: fresh.pixelSize ?? null,
        }
        : null,
      /** the latest "Find the EDS pixel size" job of this face's volume and map (correlate-scale.ts), or null */
      pixelSizeSearch: volume && eds ? scaleSearchState(svc, input.projectId, volume.id, eds.id, input.face) : null,
      classMap: info ? projectClassMap(svc, input.projectId, info.legend, input.face) : [],
      classes: projectClasses(svc, input.projectId),
    };
  }),
  /** Start the surface-slab job (or return the one already running). */
  prepare: publicProcedure.input(z.object({ projectId, face })).mutation(({ ctx, input }) => ({ jobId: startSlabJob(ctx.svc, input.projectId, input.face).id })),
  fitLandmarks: publicProcedure
    .input(z.object({ projectId, landmarks, model, face }))
    .mutation(({ ctx, input }) => fitProjectLandmarks(ctx.svc, input.projectId, input.landmarks, input.model, input.face)),
  /** `model`: the landmark fit's; `registrationModel`: the transform's (an affine landmark fit keeps the affine) */
  autoRegister: publicProcedure
    .input(z.object({ projectId, landmarks: landmarks.optional(), model, registrationModel, fieldGrid: fieldGrid.optional(), face }))
    .mutation(({ ctx, input }) => {
      const m = input.model === 'affine' && input.registrationModel === 'auto' ? 'affine' : input.registrationModel;
      return { jobId: startAutoRegister(ctx.svc, input.projectId, input.landmarks, m, input.fieldGrid, input.face).id };
    }),
  /** "Find the EDS pixel size": the pixel-size search of the face's map on its stored slab, as a job (or the one already running). */
  findPixelSize: publicProcedure.input(z.object({ projectId, face })).mutation(async ({ ctx, input }) => ({ jobId: (await startScaleSearch(ctx.svc, input.projectId, input.face)).id })),
  /** "Register at X µm": the registration job at the size that search found, from its pose (both read from the job's stored result). */
  registerAtFoundSize: publicProcedure
    .input(z.object({ projectId, face, searchJobId: z.string().min(1).max(64).regex(/^[a-z0-9]+$/i, 'not a job id') }))
    .mutation(async ({ ctx, input }) => ({ jobId: (await registerAtFoundSize(ctx.svc, input.projectId, input.searchJobId, input.face)).id })),
  /** Switch the stored registration to one of its candidate models (similarity / affine / fields). */
  chooseModel: publicProcedure
    .input(z.object({ projectId, model: z.enum(['similarity', 'affine', 'fields']), face }))
    .mutation(({ ctx, input }) => useRegistrationModel(ctx.svc, input.projectId, input.model, input.face)),
  /**
   * `checkedOverlay`: the user checked the overlay of a doubtful registration ("I checked the overlay — use this registration");
   * `createdAt`: the registration the page showed (state's registration.createdAt): another one stored since is refused
   */
  accept: publicProcedure.input(z.object({ projectId, face, checkedOverlay: z.boolean().default(false), createdAt: z.date().optional() })).mutation(({ ctx, input }) => {
    const r = acceptRegistration(ctx.svc, input.projectId, input.face, input.checkedOverlay, input.createdAt?.getTime());
    return { accepted: r.accepted };
  }),
  setClassMap: publicProcedure
    .input(z.object({ projectId, mapping: z.array(z.object({ phaseId: z.number().int().min(0).max(65535), classCode: z.number().int().min(1).max(255).nullable() })).max(1000) }))
    .mutation(({ ctx, input }) => {
      const cur = ctx.svc.repo.artifact(input.projectId, 'classMap') ?? {};
      for (const m of input.mapping) cur[m.phaseId] = m.classCode;
      ctx.svc.repo.setArtifact(input.projectId, 'classMap', cur);
      return { ok: true };
    }),
});
