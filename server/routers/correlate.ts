import { z } from 'zod';
import { publicProcedure, router } from '../trpc';
import { projectId } from './projects';
import { mineralMap, volumeStore } from '../storage/open-stores';
import { projectClasses, projectClassMap, projectDatasets } from '../pipeline/project-inputs';
import { acceptRegistration, fitProjectLandmarks, prepareSlab, readSlab, startAutoRegister, type RegistrationRecord } from '../pipeline/correlate';

const px = z.tuple([z.number().finite(), z.number().finite()]);
const landmarks = z.array(z.object({ eds: px, slab: px })).max(200);
const model = z.enum(['similarity', 'affine']).default('similarity');

export const correlateRouter = router({
  state: publicProcedure.input(z.object({ projectId })).query(async ({ ctx, input }) => {
    const svc = ctx.svc;
    const { volume, eds } = projectDatasets(svc, input.projectId);
    const store = volume ? await volumeStore(svc, volume.id) : undefined;
    const map = eds ? await mineralMap(svc, eds.id) : undefined;
    const slab = await readSlab(svc, input.projectId);
    const reg = svc.repo.artifact<RegistrationRecord>(input.projectId, 'registration');
    const fresh = reg && volume && eds && reg.volumeId === volume.id && reg.edsId === eds.id ? reg : null;
    const info = eds?.info as { legend?: { id: number; areaFraction: number }[] } | undefined;
    const area = new Map((info?.legend ?? []).map((l) => [l.id, l.areaFraction]));
    return {
      volume: volume && store ? { id: volume.id, name: volume.name, shape: store.meta.shape, spacingUm: store.meta.spacingUm } : null,
      eds: eds && map ? { id: eds.id, name: eds.name, width: map.width, height: map.height, pixelSizeUm: map.pixelSizeUm, legend: map.legend.map((p) => ({ ...p, areaFraction: area.get(p.id) ?? 0 })) } : null,
      slab: slab && volume && slab.volumeId === volume.id
        ? { width: slab.width, height: slab.height, surface: slab.surface, depthVox: slab.surface.c + slab.surface.a * (store!.meta.shape[2] / 2) + slab.surface.b * (store!.meta.shape[1] / 2) }
        : null,
      registration: fresh
        ? { edsToSlab: fresh.edsToSlab, edsToVoxel: fresh.edsToVoxel, quality: fresh.quality, landmarks: fresh.landmarks, accepted: fresh.accepted, source: fresh.source, truthError: fresh.truthError, createdAt: new Date(fresh.createdAt) }
        : null,
      classMap: map ? projectClassMap(svc, input.projectId, map.legend) : [],
      classes: projectClasses(svc, input.projectId),
    };
  }),
  prepare: publicProcedure.input(z.object({ projectId })).mutation(async ({ ctx, input }) => {
    const s = await prepareSlab(ctx.svc, input.projectId);
    return { width: s.width, height: s.height, surface: s.surface };
  }),
  fitLandmarks: publicProcedure
    .input(z.object({ projectId, landmarks, model }))
    .mutation(({ ctx, input }) => fitProjectLandmarks(ctx.svc, input.projectId, input.landmarks, input.model)),
  autoRegister: publicProcedure
    .input(z.object({ projectId, landmarks: landmarks.optional(), model }))
    .mutation(({ ctx, input }) => ({ jobId: startAutoRegister(ctx.svc, input.projectId, input.landmarks, input.model).id })),
  accept: publicProcedure.input(z.object({ projectId })).mutation(({ ctx, input }) => {
    const r = acceptRegistration(ctx.svc, input.projectId);
    return { accepted: r.accepted };
  }),
  setClassMap: publicProcedure
    .input(z.object({ projectId, mapping: z.array(z.object({ phaseId: z.number().int().min(0).max(65535), classCode: z.number().int().min(1).max(255).nullable() })).max(1000) }))
    .mutation(({ ctx, input }) => {
      const cur = ctx.svc.repo.artifact<Record<string, number | null>>(input.projectId, 'classMap') ?? {};
      for (const m of input.mapping) cur[m.phaseId] = m.classCode;
      ctx.svc.repo.setArtifact(input.projectId, 'classMap', cur);
      return { ok: true };
    }),
});
