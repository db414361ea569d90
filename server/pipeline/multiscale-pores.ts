/**
 * Painted pore/solid corrections of an interior scan (Multi-scale step) and the classifier trained
 * on them with the same engine as the Annotate step (task lithologyTrainPredict → lib/pipeline
 * runLithology: features, MLP, whole-volume prediction). The prediction (1 = pore, 2 = solid) then
 * replaces the threshold in the measurement (lib/upscale `poreLabels`). Files, per interior:
 *   projects/<id>/multiscale/pores-<ds>/strokes.ome.zarr   painted codes (0 none, 1 pore, 2 solid)
 *   projects/<id>/multiscale/pores-<ds>/model/             the latest training's labels and model
 *   projects/<id>/multiscale/pores-<ds>/pores.json         counts, job, what was trained, in use
 * Each written under a temp name and renamed (the stores' chunks atomically). No numerical code.
 */
import { existsSync } from 'node:fs';
import { readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { invalidInput, notFound, unprocessable } from '@/lib/errors';
import { KEEP_VOXEL, mergeKept } from '@/lib/volume/slice-edit';
import { createVolume, DEFAULT_CHUNK, ZarrVolumeStore } from '@/lib/volume/zarr-store-node';
import { runTask } from '../jobs/run-task';
import type { Axis } from '../render/slice';
import type { Services } from '../services';
import { writeFileAtomic } from '../storage/atomic';
import { forgetStore, storeAt, swapInWorkFolder, volumeStore } from '../storage/open-stores';
import { sliceGeometry, withProjectLock } from './annotate';
import { projectDatasets } from './project-inputs';

export const PORE = 1, SOLID = 2;

const fileSchema = z.object({
  counts: z.record(z.string(), z.number()),
  jobId: z.string().nullable(),
  trained: z.object({ labelsRel: z.string(), heldOutAccuracy: z.number().nullable(), poreFraction: z.number().nullable(), counts: z.record(z.string(), z.number()), at: z.number() }).nullable(),
  /** measure with the trained pores (else the threshold) */
  use: z.boolean(),
});
type PoresFile = z.infer<typeof fileSchema>;
const EMPTY: PoresFile = { counts: {}, jobId: null, trained: null, use: false };

/** A job as the Multi-scale page shows it. */
export function jobOut(svc: Services, id: string | null) {
  if (!id) return null;
  const j = svc.repo.job(id);
  if (!j) return null;
  return { id: j.id, active: svc.jobs.isActive(j.id), state: j.state, progress: j.progress, message: j.message, error: j.error };
}

const relDir = (projectId: string, ds: string) => path.join('projects', projectId, 'multiscale', `pores-${ds}`);
const stateFile = (svc: Services, projectId: string, ds: string) => path.join(/*turbopackIgnore: true*/ svc.ws.abs(relDir(projectId, ds)), 'pores.json');

async function load(svc: Services, projectId: string, ds: string): Promise<PoresFile> {
  const text = await readFile(stateFile(svc, projectId, ds), 'utf8').catch(() => null);
  const r = text ? fileSchema.safeParse(JSON.parse(text)) : null;
  return r?.success ? r.data : structuredClone(EMPTY);
}
const save = (svc: Services, projectId: string, ds: string, f: PoresFile) => writeFileAtomic(stateFile(svc, projectId, ds), JSON.stringify(f));

/** The interior scan `ds` of the project (a ready volume, not the large scan). */
async function interior(svc: Services, projectId: string, ds: string) {
  if (!svc.repo.project(projectId)) throw notFound(`There is no project ${projectId}.`);
  const d = svc.repo.dataset(ds);
  if (!d || d.projectId !== projectId || d.kind !== 'volume' || d.status !== 'ready') throw notFound(`There is no interior scan ${ds} in this project.`);
  if (d.id === projectDatasets(svc, projectId).volume?.id) throw invalidInput(`"${d.name}" is the project's large scan, not an interior scan.`);
  return { d, store: await volumeStore(svc, ds) };
}

/** What the page shows about an interior's pore painting and training. */
export async function poreState(svc: Services, projectId: string, ds: string) {
  const f = await load(svc, projectId, ds);
  return { counts: f.counts, job: jobOut(svc, f.jobId), trained: f.trained, use: f.use && !!f.trained };
}

/** One painted pore/solid slice of an interior (level 0; zeros where nothing is painted). */
export async function readPoreStrokes(svc: Services, projectId: string, ds: string, axis: Axis, index: number) {
  const { store } = await interior(svc, projectId, ds);
  const g = sliceGeometry(store.meta.shape, axis, index);
  const rel = path.join(relDir(projectId, ds), 'strokes.ome.zarr');
  if (!existsSync(svc.ws.abs(rel))) return { data: new Uint8Array(g.width * g.height), width: g.width, height: g.height };
  return { data: (await (await storeAt(svc, rel)).readBlock(g.box)) as Uint8Array, width: g.width, height: g.height };
}

/** Replace one painted slice: codes 0 (none), 1 (pore), 2 (solid), checked before anything is written. */
export async function writePoreStrokes(svc: Services, projectId: string, ds: string, axis: Axis, index: number, body: Uint8Array) {
  const { d, store } = await interior(svc, projectId, ds);
  const g = sliceGeometry(store.meta.shape, axis, index);
  const what = `Painted pore/solid slice ${axis} = ${index} of "${d.name}"`;
  if (body.length !== g.width * g.height) throw invalidInput(`${what}: expected ${g.width} × ${g.height} = ${g.width * g.height} bytes, got ${body.length}. Reload the page.`);
  const bad = body.findIndex((c) => c > SOLID && c !== KEEP_VOXEL);
  if (bad >= 0) throw invalidInput(`${what}: code ${body[bad]} at column ${bad % g.width}, row ${Math.floor(bad / g.width)}; only 0 (none), 1 (pore) and 2 (solid).`);
  return withProjectLock(projectId, async () => {
    const rel = path.join(relDir(projectId, ds), 'strokes.ome.zarr');
    if (!existsSync(svc.ws.abs(rel))) {
      const tmp = `${svc.ws.abs(rel)}.tmp-${process.pid}`;
      await rm(tmp, { recursive: true, force: true });
      const chunk = store instanceof ZarrVolumeStore ? store.chunk : DEFAULT_CHUNK;
      await createVolume(tmp, { ...store.meta, dtype: 'uint8', channels: ['pore/solid strokes'] }, { chunk, levels: 1, compression: 'zstd', spacingAssumed: store.spacingAssumed });
      await rename(tmp, svc.ws.abs(rel));
      forgetStore(rel);
    }
    const s = await storeAt(svc, rel);
    const old = (await s.readBlock(g.box)) as Uint8Array;
    const f = await load(svc, projectId, ds);
    // KEEP_VOXEL voxels stay as stored (lib/volume/slice-edit.ts: the page sends only what its stroke changed)
    const { merged, changed, delta } = mergeKept(old, body);
    for (let c = 1; c < 256; c++) if (delta[c]) f.counts[c] = (f.counts[c] ?? 0) + delta[c]!;
    if (changed) {
      await s.writeBlock(g.box, merged);
      await save(svc, projectId, ds, f);
    }
    return { counts: f.counts, changed };
  });
}

/** Train the engine on the painted pore/solid strokes of an interior and predict it whole (a job). */
export async function startPoreTraining(svc: Services, projectId: string, ds: string) {
  const { d } = await interior(svc, projectId, ds);
  const f = await load(svc, projectId, ds);
  if (!((f.counts[PORE] ?? 0) > 0 && (f.counts[SOLID] ?? 0) > 0)) {
    throw unprocessable(`Paint both pore and solid on "${d.name}" before training (painted: ${f.counts[PORE] ?? 0} pore, ${f.counts[SOLID] ?? 0} solid voxels).`);
  }
  const counts = { ...f.counts };
  const job = svc.jobs.start('multiscale-pores', projectId, { datasetId: ds }, async ({ signal, onProgress, jobId }) => {
    const finalRel = path.join(relDir(projectId, ds), 'model'), workRel = `${finalRel}.tmp-${jobId}`;
    try {
      const r = await runTask('lithologyTrainPredict', {
        scanPath: svc.ws.abs(d.relPath), strokesPath: svc.ws.abs(path.join(relDir(projectId, ds), 'strokes.ome.zarr')), workDir: svc.ws.abs(workRel),
        classNames: ['pore', 'solid'], classCodes: [PORE, SOLID],
      }, { signal, onProgress });
      const labelsRel = await swapInWorkFolder(svc, workRel, finalRel, jobId, r.labelsPath);
      const cur = await load(svc, projectId, ds);
      cur.trained = { labelsRel, heldOutAccuracy: r.heldOutAccuracy, poreFraction: r.fractions[String(PORE)] ?? null, counts, at: Date.now() };
      cur.use = true;
      await save(svc, projectId, ds, cur);
      return { heldOutAccuracy: r.heldOutAccuracy, poreFraction: cur.trained.poreFraction };
    } finally {
      await rm(svc.ws.abs(workRel), { recursive: true, force: true });
    }
  });
  f.jobId = job.id;
  await save(svc, projectId, ds, f);
  return { jobId: job.id };
}

/** Measure with the trained pores (true) or the threshold (false). */
export async function usePores(svc: Services, projectId: string, ds: string, use: boolean) {
  await interior(svc, projectId, ds);
  const f = await load(svc, projectId, ds);
  if (use && !f.trained) throw unprocessable('Train on painted pore/solid strokes first.');
  f.use = use;
  await save(svc, projectId, ds, f);
  return { ok: true };
}

/** The pore labels the measurement uses for an interior, when the user trained them and kept them in use. */
export async function poreLabelsFor(svc: Services, projectId: string, ds: string) {
  const f = await load(svc, projectId, ds);
  return f.use && f.trained ? { path: svc.ws.abs(f.trained.labelsRel), poreCodes: [PORE] } : undefined;
}

/** One slice of the trained pore/solid prediction (codes 1/2), level 0. */
export async function readPorePrediction(svc: Services, projectId: string, ds: string, axis: Axis, index: number) {
  const f = await load(svc, projectId, ds);
  if (!f.trained) throw notFound('There is no trained pore/solid prediction of this interior scan yet.');
  const s = await storeAt(svc, f.trained.labelsRel);
  const g = sliceGeometry(s.meta.shape, axis, index);
  return { data: (await s.readBlock(g.box)) as Uint8Array, width: g.width, height: g.height };
}
